/**
 * Is a freshly started redis-server up: it answers PING (+PONG, or -LOADING while it reads its
 * AOF: it is up, just busy) within the time given, and the redis answering is the process the
 * agent started (INFO's process_id) — not another one that holds the port while ours died on
 * "address in use". When not, the last of its log (redis logs to log/stdout.log) says why.
 */
import { connect } from 'node:net';
import { logTails } from '../releases/health.ts';
import { waitForAnswer } from '../wait-for-answer.ts';

export interface RedisHealthCheck {
  ip: string;
  port: number;
  timeoutMs: number;
  /** The pid the supervisor started (bin/start execs redis-server, so it is redis's own). */
  pid: number;
  alive(): boolean;
  howItEnded(): string;
  installDir: string;
  signal?: AbortSignal;
}

export type PingAnswer =
  | { ok: true; loading: boolean; processId: number | undefined }
  | { ok: false; why: string };

const maxAnswerBytes = 64 * 1024;

/** Resolves with the ms it took to answer; throws with the reason and redis's last log lines otherwise. */
export function waitForRedis(h: RedisHealthCheck): Promise<number> {
  return waitForAnswer({
    timeoutMs: h.timeoutMs,
    alive: () => h.alive(),
    probe: async (timeoutMs) => {
      const answer = await pingRedis(h.ip, h.port, timeoutMs);
      if (!answer.ok) return answer.why;
      if (answer.processId !== undefined && answer.processId !== h.pid) {
        throw new Error(`another redis-server (pid ${answer.processId}) answers on ${h.ip}:${h.port}, not the one started (pid ${h.pid})${logTails(h.installDir)}`);
      }
      return undefined;
    },
    retryPauseMs: 50,
    endedBefore: () => `redis-server ${h.howItEnded() || 'ended'} before ${h.ip}:${h.port} answered PING${logTails(h.installDir)}`,
    noAnswer: (lastError) => `${h.ip}:${h.port} did not answer PING within ${h.timeoutMs} ms (${lastError})${logTails(h.installDir)}`,
    signal: h.signal,
  });
}

/** One PING (and INFO server, for the pid) on a connection of its own. */
export function pingRedis(ip: string, port: number, timeoutMs: number): Promise<PingAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (answer: PingAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ ok: false, why: `no answer in ${Math.round(timeoutMs)} ms` }), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const answer = readAnswer(buffer);
      if (answer) finish(answer);
      else if (buffer.length > maxAnswerBytes) finish({ ok: false, why: 'the answer is not redis\'s' });
    });
    socket.once('end', () => finish({ ok: false, why: 'the connection was closed without an answer' }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, why: err.code ?? err.message }));
  });
}

/** The answer once the PING reply and the INFO reply are complete, else undefined (more to read). */
export function readAnswer(buffer: Buffer): PingAnswer | undefined {
  const text = buffer.toString('latin1');
  const firstEnd = text.indexOf('\r\n');
  if (firstEnd < 0) return undefined;
  const first = text.slice(0, firstEnd);
  const loading = first.startsWith('-LOADING');
  if (first !== '+PONG' && !loading) return { ok: false, why: `PING was answered ${JSON.stringify(first.slice(0, 200))}` };
  const rest = text.slice(firstEnd + 2);
  const headerEnd = rest.indexOf('\r\n');
  if (headerEnd < 0) return undefined;
  const header = rest.slice(0, headerEnd);
  // INFO refused (a redis that does not allow it now): PING alone says it is up.
  if (!header.startsWith('$')) return { ok: true, loading, processId: undefined };
  const length = Number(header.slice(1));
  if (!Number.isInteger(length) || length < 0) return { ok: true, loading, processId: undefined };
  const body = rest.slice(headerEnd + 2);
  if (body.length < length) return undefined;
  const m = /^process_id:(\d+)\r?$/m.exec(body.slice(0, length));
  return { ok: true, loading, processId: m ? Number(m[1]) : undefined };
}

/** Whether something takes TCP connections on ip:port (a redis of another's, or anything); no answer at all counts as free. */
export function portTaken(ip: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
  });
}
