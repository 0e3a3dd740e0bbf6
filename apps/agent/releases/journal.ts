/**
 * The release journal (`R/agent/release-journal.json`): written before a release operation
 * starts and at each of its steps, cleared when it ends. Finding one when the agent starts means
 * the agent died in the middle; the command is not run again (it was recorded as taken), so the
 * host is put back on the plan's previous install and the command reported failed.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReleaseOperation, ReleaseStepName } from '../../../schemas/agent.ts';
import { readJson, removeFile, writeJsonAtomic } from './json-file.ts';

export interface JournalEntry {
  commandId: string;
  sequence: number;
  action: string;
  planId: string;
  service: string;
  operation: ReleaseOperation;
  /** The step under way ('' before the first). */
  step: ReleaseStepName | '';
  /** Something of the install was changed (the service stopped, files moved): recovery restores the backup. */
  touched: boolean;
  startedAtMs: number;
}

export class ReleaseJournal {
  constructor(private readonly file: string) {}

  read(): JournalEntry | undefined {
    return readJson<JournalEntry>(this.file);
  }

  write(entry: JournalEntry): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeJsonAtomic(this.file, entry);
  }

  clear(): void {
    removeFile(this.file);
  }
}
