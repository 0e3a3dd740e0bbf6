/**
 * Where a service lives under the agent's root R: its install `R/msec/<First>/<Second>/{bin,etc,log}`,
 * the record of what is installed (`etc/msec-install.json`), a plan's backup of it
 * (`R/msec/.backup/<planId>/<First>.<Second>/`) and the temporary folders of an operation
 * (beside the install, `R/msec/<First>/.<Second>.*`, same file system: swapped in by rename).
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { insideRoot } from '../executors.ts';
import { readJson, writeJsonAtomic } from './json-file.ts';
import { installPathOf, type ServiceName } from './release-payload.ts';

/** What an install holds, kept with it: shown in heartbeats, and restored with a backup. */
export interface InstallRecord {
  planId: string;
  versionsJson: string;
  artifactSha256: string;
  configSha256: string;
  /** library file name → sha256 */
  libraries: Record<string, string>;
  port: number;
  installedAtMs: number;
}

/** Marks a backup of a host where the service was not installed: rolling back to it removes the install. */
export const noPreviousInstall = 'msec-no-previous-install';

export class InstallLayout {
  /** Relative to the root, as commands name it. */
  readonly installRel: string;
  readonly backupRel: string;

  constructor(readonly root: string, readonly name: ServiceName, readonly planId: string) {
    this.installRel = installPathOf(name);
    this.backupRel = `msec/.backup/${planId}/${name.service}`;
  }

  /** The install folder; refused when it, or a folder above it, leads out of the root (a planted symlink). */
  get install(): string {
    return this.resolve(this.installRel);
  }

  get backup(): string {
    return this.resolve(this.backupRel);
  }

  /** The install folder, made (with the folders above it) when missing. */
  makeInstall(): string {
    return this.folder(this.installRel, 0o755);
  }

  /** The folder holding the install (made when missing): temporary folders go here. */
  parent(): string {
    return this.folder(`msec/${this.name.first}`, 0o755);
  }

  /** A fresh temporary path beside the install (not made). */
  temporary(kind: 'staging' | 'old' | 'restore'): string {
    return join(this.parent(), `.${this.name.second}.${kind}-${process.pid}-${Date.now().toString(36)}`);
  }

  /** Leftovers of an operation cut short (the agent was killed): removed before the next one. */
  sweepTemporaries(): void {
    const dir = join(realpathSync.native(this.root), 'msec', this.name.first);
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) if (entry.startsWith(`.${this.name.second}.`)) rmSync(join(dir, entry), { recursive: true, force: true });
  }

  /** The plan's backup folder's parent, made when missing (0700: a backup holds the config, secrets and all). */
  backupParent(): string {
    this.folder('msec/.backup', 0o700);
    return this.folder(`msec/.backup/${this.planId}`, 0o700);
  }

  isInstalled(): boolean {
    return existsSync(join(this.install, 'bin', 'start'));
  }

  /** What is installed, as recorded; none when there is no record, or it is damaged (the service can write there too). */
  readRecord(): InstallRecord | undefined {
    try {
      return readJson<InstallRecord>(join(this.install, 'etc', 'msec-install.json'));
    } catch {
      return undefined;
    }
  }

  writeRecord(record: InstallRecord): void {
    const etc = join(this.install, 'etc');
    mkdirSync(etc, { recursive: true, mode: 0o755 });
    writeJsonAtomic(join(etc, 'msec-install.json'), record, 0o644);
  }

  /** A folder under the root, made (with its parents) when missing, never through a link. */
  private folder(rel: string, mode: number): string {
    const dir = insideRoot(this.root, rel, { createParents: true });
    if (!existsSync(dir)) mkdirSync(dir, { mode });
    return dir;
  }

  private resolve(rel: string): string {
    try {
      return insideRoot(this.root, rel);
    } catch (err) {
      // Nothing there yet (no folder above it): nothing to be led out through either.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return join(realpathSync.native(this.root), rel);
      throw err;
    }
  }
}
