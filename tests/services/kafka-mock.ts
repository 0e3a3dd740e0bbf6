/**
 * A Kafka-protocol broker for tests: librdkafka's mock cluster in a small C helper
 * (kafka-mock.c), compiled with gcc on first use and cached by the hash of its source.
 * Faults (broker down/up, leader moves, request errors) are lines on the helper's stdin.
 *
 *   const kafka = await startKafkaMock({ brokers: 3, topics: [{ name: 'msec.events', partitions: 4 }] });
 *   ... new KafkaBus(parseKafkaUrl(`kafka://${kafka.bootstrap}`)) ...
 *   await kafka.stop();
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { trackChild } from './processes.ts';

export interface KafkaMockOptions {
  /** Broker count; ids are 1..brokers. Default 1. */
  brokers?: number;
  topics?: { name: string; partitions: number }[];
}

/** Broker id, or 'all' for every broker. */
export type BrokerId = number | 'all';

export interface KafkaMock {
  /** bootstrap.servers, e.g. "127.0.0.1:41234,127.0.0.1:38111". */
  readonly bootstrap: string;
  readonly brokers: number;
  /** Whether the helper could set the controller id (needed by the idempotent producer). */
  readonly controllerSet: boolean;
  createTopic(name: string, partitions: number): Promise<void>;
  /** Disconnects the broker(s) and refuses connections; leaders do not move. */
  brokerDown(id: BrokerId): Promise<void>;
  brokerUp(id: BrokerId): Promise<void>;
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  /** The next `codes.length` requests of `apiKey` (0 = Produce, 1 = Fetch, ...) fail with these error codes. */
  pushErrors(apiKey: number, codes: number[]): Promise<void>;
  /** Metadata requests for `topic` answer this error code (0 clears it), e.g. 3 = UNKNOWN_TOPIC_OR_PART. */
  setTopicError(topic: string, code: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * MSEC_BUS for a bus on the mock: a session timeout the mock answers group joins for (it never
 * answers at <= 3000 ms) and short fetch waits, so closing consumers is quick.
 */
export function mockBusUrl(mock: Pick<KafkaMock, 'bootstrap'>, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({ clientId: 'msec-test', sessionTimeoutMs: '4000', maxWaitMs: '50', ...extra });
  return `kafka://${mock.bootstrap}?${query}`;
}

const run = promisify(execFile);
const source = fileURLToPath(new URL('./kafka-mock.c', import.meta.url));
const repoCache = fileURLToPath(new URL('../../node_modules/.cache/msec/', import.meta.url));
const installHint = 'install them with `bash tests/setup/install-system-deps.sh` (Debian packages gcc, libc6-dev, librdkafka-dev)';

let compiling: Promise<string> | undefined;

/** Path of the compiled helper, compiling it when its source (or librdkafka) changed. */
export function kafkaMockBinary(): Promise<string> {
  compiling ??= compile().catch((err: unknown) => {
    compiling = undefined;
    throw err;
  });
  return compiling;
}

async function compile(): Promise<string> {
  const header = '/usr/include/librdkafka/rdkafka.h';
  if (!existsSync(header)) throw new Error(`the Kafka test broker needs librdkafka's headers (${header} is missing): ${installHint}`);
  const version = /#define RD_KAFKA_VERSION\s+(\S+)/.exec(readFileSync(header, 'utf8'))?.[1] ?? 'unknown';
  const hash = createHash('sha256').update(readFileSync(source)).update(version).digest('hex').slice(0, 16);
  const dir = writableDir();
  const binary = join(dir, `kafka-mock-${hash}`);
  if (existsSync(binary)) return binary;
  // Compiled beside the target and renamed, so test processes compiling at once never run a half-written file.
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    await run('gcc', ['-O1', '-o', partial, source, '-lrdkafka'], { timeout: 60_000 });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`could not compile the Kafka test broker (${source}): ${detail}\nIf gcc or librdkafka is missing, ${installHint}`);
  }
  renameSync(partial, binary);
  // Binaries of earlier sources are of no further use (a running one survives the unlink).
  for (const name of readdirSync(dir)) {
    if (name.startsWith('kafka-mock-') && join(dir, name) !== binary && !name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
  }
  return binary;
}

function writableDir(): string {
  for (const dir of [repoCache, join(tmpdir(), 'msec-cache')]) {
    try {
      mkdirSync(dir, { recursive: true });
      return dir;
    } catch {
      // read-only checkout: try the next place
    }
  }
  throw new Error(`no writable cache folder for the Kafka test broker: make ${repoCache} or ${tmpdir()} writable`);
}


export async function startKafkaMock(options: KafkaMockOptions = {}): Promise<KafkaMock> {
  const brokers = options.brokers ?? 1;
  const binary = await kafkaMockBinary();
  const child = spawn(binary, [String(brokers)], { stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 50) stderr.shift();
  });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  let exited: string | undefined;
  const failAll = (why: string) => {
    exited = why;
    for (const w of waiting.splice(0)) w(`err ${why}`);
  };
  lines.on('line', (line) => waiting.shift()?.(line));
  child.once('exit', (code, signal) => failAll(`the Kafka test broker exited (${signal ?? code}): ${stderr.join('').trim() || 'no output'}`));
  child.once('error', (err) => failAll(`the Kafka test broker could not run: ${err.message}`));

  const nextLine = () => new Promise<string>((resolve) => (exited ? resolve(`err ${exited}`) : waiting.push(resolve)));
  const ready = await Promise.race([
    nextLine(),
    new Promise<string>((resolve) => setTimeout(() => resolve('err no "ready" line after 10 s'), 10_000).unref()),
  ]);
  const match = /^ready (\S+) controller=(\S+)$/.exec(ready);
  if (!match) {
    if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    throw new Error(`the Kafka test broker did not start: ${ready.replace(/^err /, '')}`);
  }

  // One command at a time: each command line gets exactly one answer line.
  let queue: Promise<unknown> = Promise.resolve();
  const command = (line: string): Promise<void> => {
    const result = queue.then(async () => {
      if (exited) throw new Error(exited);
      const answer = nextLine();
      child.stdin!.write(`${line}\n`);
      const reply = await answer;
      if (reply !== 'ok') throw new Error(`Kafka test broker: "${line}" failed: ${reply.replace(/^err /, '')}`);
    });
    queue = result.catch(() => {});
    return result;
  };
  const broker = (id: BrokerId) => (id === 'all' ? -1 : id);

  const mock: KafkaMock = {
    bootstrap: match[1]!,
    brokers,
    controllerSet: match[2] !== 'unset',
    createTopic: (name, partitions) => command(`topic ${name} ${partitions}`),
    brokerDown: (id) => command(`down ${broker(id)}`),
    brokerUp: (id) => command(`up ${broker(id)}`),
    setLeader: (topic, partition, brokerId) => command(`leader ${topic} ${partition} ${brokerId}`),
    pushErrors: (apiKey, codes) => command(`errors ${apiKey} ${codes.join(' ')}`),
    setTopicError: (topic, code) => command(`topicerror ${topic} ${code}`),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end('quit\n');
      const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 3_000);
      await gone;
      clearTimeout(timer);
    },
  };
  for (const t of options.topics ?? []) await mock.createTopic(t.name, t.partitions);
  return mock;
}
