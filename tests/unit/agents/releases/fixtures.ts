/**
 * What the release tests share: agent roots in a temp folder, tiny real services packed as gzip
 * tars (hand-written tar headers, so hostile archives can be made too), release payloads,
 * ReleaseHosts fed from a map of blobs, and a teardown that kills every process any of them
 * started (found by MSEC_INSTALL_DIR in /proc, so even a detached host's services go).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { sha256Hex } from '../../../../adapters/signing/ed25519.ts';
import { ReleaseHost, type ReleaseHostOptions } from '../../../../apps/agent/releases/release-host.ts';
import type { ReleaseFile, ReleasePayload } from '../../../../schemas/agent.ts';
import { agentRoots } from '../host-fixtures.ts';

export { hostIp, waitFor } from '../host-fixtures.ts';
export const { base, agentRoot, removeBase } = agentRoots('msec-releases-');

// ---- tar -------------------------------------------------------------------------------

export interface TarEntry {
  name: string;
  /** '0' file (default), '5' folder, '2' symlink, '1' hard link, '3'/'4' devices, '6' fifo, 'x' pax header. */
  type?: string;
  mode?: number;
  data?: Buffer | string;
  linkName?: string;
  /** The size the header claims, when not the data's. */
  claimedSize?: number;
}

function field(header: Buffer, at: number, length: number, text: string): void {
  header.write(text, at, length, 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

export function tarEntry(e: TarEntry): Buffer {
  const data = Buffer.from(e.data ?? '');
  const header = Buffer.alloc(512);
  field(header, 0, 100, e.name);
  field(header, 100, 8, octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  field(header, 124, 12, octal(e.claimedSize ?? data.length, 12));
  field(header, 136, 12, octal(0, 12));
  field(header, 148, 8, '        ');
  field(header, 156, 1, e.type ?? '0');
  field(header, 157, 100, e.linkName ?? '');
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  let sum = 0;
  for (const b of header) sum += b;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

export function tgz(entries: TarEntry[]): Buffer {
  return gzipSync(Buffer.concat([...entries.map(tarEntry), Buffer.alloc(1024)]));
}

/** A service answering `version` on MSEC_LISTEN (and `start` as a script running it). */
export function serviceEntries(version: string, extra: TarEntry[] = []): TarEntry[] {
  const server = "const [h,p]=process.env.MSEC_LISTEN.split(':');require('net').createServer(s=>{s.on('error',()=>{});s.end(require('fs').readFileSync('version.txt','utf8'))}).listen(+p,h)";
  return [
    { name: 'start', mode: 0o755, data: `#!/bin/sh\nexec ${process.execPath} -e "${server}"\n` },
    { name: 'version.txt', data: version },
    ...extra,
  ];
}

export function serviceArchive(version: string, extra: TarEntry[] = []): Buffer {
  return tgz(serviceEntries(version, extra));
}

/** A build whose `start` writes to stderr and exits. */
export function crashingArchive(message: string): Buffer {
  return tgz([{ name: 'start', mode: 0o755, data: `#!/bin/sh\necho "${message}" >&2\necho "about to give up"\nexit 3\n` }]);
}

// ---- payloads and hosts ----------------------------------------------------------------

export class Blobs extends Map<string, Buffer> {
  file(content: Buffer | string, name = ''): ReleaseFile {
    const buf = Buffer.from(content);
    const sha256 = sha256Hex(buf);
    this.set(sha256, buf);
    return { name, sha256, size: buf.length };
  }
}

export function payload(o: Partial<ReleasePayload> & Pick<ReleasePayload, 'service'>): ReleasePayload {
  return {
    planId: 'plan-1', operation: 'install', releaseType: 'complete', artifact: null, config: null, libraries: [], port: 7100,
    healthTimeoutMs: 10_000, stopTimeoutMs: 2000, versionsJson: '{"artifact":"v1"}', ...o,
  };
}

export const command = (n: number) => ({ commandId: `0190000${n}-0000-7000-8000-000000000001`, sequence: n, action: 'release' });

const hosts: ReleaseHost[] = [];

/** A ReleaseHost on `root` whose files come from `blobs` (a blob not there is "not found"). */
export function releaseHost(root: string, ip: string, blobs: Map<string, Buffer>, o: Partial<ReleaseHostOptions> = {}): ReleaseHost {
  const host = new ReleaseHost({
    root, ip, logger: pino({ level: 'silent' }), stopTimeoutMs: 2000,
    fetchBlob: async (sha256) => {
      const blob = blobs.get(sha256);
      if (!blob) throw new Error(`GET /api/agent/blobs/${sha256}: 404 no such blob`);
      return blob;
    },
    ...o,
  });
  hosts.push(host);
  return host;
}

/** Stops every host made, then kills whatever any of them started and still runs. */
export async function teardown(): Promise<void> {
  for (const host of hosts.splice(0)) {
    host.detach();
  }
  for (const pid of servicePids()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Processes started by the tests' hosts: their MSEC_INSTALL_DIR is under the temp folder. */
export function servicePids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'utf8');
      if (env.includes(`MSEC_INSTALL_DIR=${base}`)) pids.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

// ---- looking at services ---------------------------------------------------------------

/** What the service on ip:port answers (its version), or the error code. */
export function answer(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(2000, () => socket.destroy(new Error('ETIMEDOUT')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Every file under `dir` with its content (symlinks as "-> target"), for "nothing changed" checks. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(at);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const p = join(at, name);
      const r = rel ? `${rel}/${name}` : name;
      try {
        out[r] = readFileSync(p, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EISDIR') walk(p, r);
        else out[r] = `(${(err as NodeJS.ErrnoException).code})`;
      }
    }
  };
  walk(dir, '');
  return out;
}
