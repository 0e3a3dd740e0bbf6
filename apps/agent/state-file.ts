/**
 * What an agent keeps in its root (`<root>/agent/`, mode 0700): its own key (`key.pem`, 0600,
 * made at enrolment and never sent anywhere) and its state (`state.json`, 0600): the host it
 * is, the control-plane keys it trusts, and what it has seen of commands — the highest
 * sequence and recent command ids, written before a command runs, so a replay is refused
 * across restarts too.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface TrustedKey {
  keyId: string;
  /** base64 raw Ed25519 */
  publicKey: string;
}

export interface AgentStateData {
  ip: string;
  consoleUrl: string;
  enrolledAt: string;
  /** The control-plane key that signs now. */
  current: TrustedKey;
  /** Keys the chain has replaced: commands they sign are refused. */
  retired: string[];
  /** Highest command sequence accepted. */
  lastSequence: number;
  /** Ids of the latest accepted commands (a replayed id is refused even with a new sequence). */
  seenIds: string[];
  /**
   * sha256 (first 32 hex digits) of the bytes of the latest accepted commands: those exact bytes
   * again are a replay whatever else is wrong with them by now (expired, a retired key), and are
   * reported so; a report of any other reason would close a command that ran or runs.
   */
  seenDigests?: string[];
  /** Sequence of the last report sent (reports are numbered for the projector's replay check). */
  reportSequence: number;
}

export const keptIds = 5000;
export const keptDigests = 1000;

export class AgentStateFile {
  readonly dir: string;
  readonly keyFile: string;
  private readonly file: string;

  constructor(root: string) {
    this.dir = join(root, 'agent');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.keyFile = join(this.dir, 'key.pem');
    this.file = join(this.dir, 'state.json');
  }

  load(): AgentStateData | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const data = JSON.parse(text) as AgentStateData;
    if (typeof data.ip !== 'string' || typeof data.lastSequence !== 'number' || !data.current?.keyId) {
      throw new Error(`${this.file} is damaged: move it away and enrol the agent again with a new token`);
    }
    return data;
  }

  /** Written whole and flushed to disk before it replaces the old state. */
  save(data: AgentStateData): void {
    const temp = `${this.file}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }
}
