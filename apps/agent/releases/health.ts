/**
 * Is a freshly started service healthy: its process still lives and its port takes a TCP
 * connection within the time given. When not, the last of its logs say why — they go into the
 * step's detail, so the console shows the crash without anyone logging in to the host.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { waitForAnswer } from '../wait-for-answer.ts';

export interface HealthCheck {
  ip: string;
  port: number;
  timeoutMs: number;
  /** The process started is still the one running. */
  alive(): boolean;
  /** Why it is not, when it is not (e.g. "exited with code 1"). */
  howItEnded(): string;
  installDir: string;
  signal?: AbortSignal;
}

const tailBytes = 2048;

/** Resolves with the detail of a healthy service; throws with the reason and the logs' tails otherwise. */
export async function checkHealth(h: HealthCheck): Promise<string> {
  const ms = await waitForAnswer({
    timeoutMs: h.timeoutMs,
    alive: () => h.alive(),
    probe: (timeoutMs) => tryConnect(h.ip, h.port, timeoutMs),
    retryPauseMs: 100,
    endedBefore: () => `the service ${h.howItEnded() || 'ended'} before its port ${h.ip}:${h.port} answered${logTails(h.installDir)}`,
    noAnswer: (lastError) => `the port ${h.ip}:${h.port} did not answer within ${h.timeoutMs} ms (${lastError})${logTails(h.installDir)}`,
    signal: h.signal,
  });
  return `${h.ip}:${h.port} answers (after ${ms} ms)`;
}

/** undefined when a connection was made, else why not. */
function tryConnect(ip: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer in ${Math.round(timeoutMs)} ms`);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      // Closed politely (what the service sends is read, then FIN): dropping the connection
      // with unread bytes would reset it, and a service may log, or even die of, that.
      socket.resume();
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(err.code ?? err.message);
    });
  });
}

/** The last ~2 KB of log/stderr.log and log/stdout.log, as detail lines. */
export function logTails(installDir: string): string {
  return ['stderr', 'stdout'].map((name) => {
    const tail = readTail(join(installDir, 'log', `${name}.log`), tailBytes);
    return `\n--- last of log/${name}.log ---\n${tail === undefined ? '(no such file)' : tail || '(empty)'}`;
  }).join('');
}

function readTail(file: string, max: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, max);
    const buf = Buffer.alloc(length);
    const read = readSync(fd, buf, 0, length, size - length);
    return buf.subarray(0, read).toString('utf8').trimEnd();
  } finally {
    closeSync(fd);
  }
}
