/**
 * A report delivered twice counts once, with the projector's ingestion killed (SIGKILL, a real
 * child process) after it stored a batch in ClickHouse and before the bus offset was committed:
 * the restarted ingestion gets the batch again and its receipts skip it. On ClickHouse 18.16 with
 * the Kafka protocol (librdkafka's mock cluster), and on chdb with the embedded SQLite bus.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { MessageBus } from '../../adapters/bus/port.ts';
import { clickHouseServerUnavailable, startClickHouse } from '../services/clickhouse.ts';
import { mockBusUrl, startKafkaMock } from '../services/kafka-mock.ts';
import { encodeReport } from '../../schemas/reports.ts';
import { exited } from './support.ts';

const child = fileURLToPath(new URL('./metrics-ingest-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msec-redelivery-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const minute = Math.floor(Date.now() / 60_000) * 60 - 120;

function start(env: Record<string, string>): { proc: ChildProcess; line: (what: RegExp) => Promise<string>; output: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, CHILD_MINUTE: String(minute), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const line = async (what: RegExp) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const m = out.split('\n').find((l) => what.test(l));
      if (m) return m;
      if (proc.exitCode !== null && !what.test(out)) throw new Error(`the ingestion child exited ${proc.exitCode} before printing ${what}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`no ${what} from the ingestion child within 60 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { proc, line, output: () => out };
}

const report = (id: string, value: number) => ({
  key: 'Flight.mod_flight',
  value: encodeReport('msec.reports.metrics', {
    reporter: 'Flight.mod_flight', reportId: id, droppedRecords: 0,
    metrics: [{ service: 'Flight.mod_flight', method: '', side: '', attr: 'usr.orders', minute, value, kind: 'add', ip: '10.0.0.1', atMs: 0 }],
  }),
});

async function killBetweenStoreAndCommit(bus: MessageBus, env: Record<string, string>) {
  await bus.publish('msec.reports.metrics', [report('a', 1), report('b', 2), report('c', 4)]);
  const first = start({ ...env, CHILD_PAUSE: '1' });
  await first.line(/^stored-and-paused$/);
  first.proc.kill('SIGKILL');
  await exited(first.proc);
  assert.equal(first.proc.signalCode, 'SIGKILL');
  await bus.publish('msec.reports.metrics', [report('d', 8)]);
  const second = start({ ...env, CHILD_RESULT_AFTER: '4' });
  const result = JSON.parse((await second.line(/^result /)).slice('result '.length)) as { service: number[]; ip: number[]; redelivered: number };
  await exited(second.proc);
  assert.deepEqual(result.service, [15, null], `1 + 2 + 4 + 8: the stored batch delivered again counts once\n${second.output()}`);
  assert.deepEqual(result.ip, [15, null]);
  assert.ok(result.redelivered >= 1, 'the restarted ingestion found the receipts of what it had stored');
}

const why = clickHouseServerUnavailable();
test('ClickHouse 18.16 + Kafka: the ingestion killed between insert and commit stores the batch once', { skip: why ?? false, timeout: 180_000 }, async () => {
  const [ch, mock] = await Promise.all([startClickHouse(), startKafkaMock({ brokers: 1, topics: [{ name: 'msec.reports.metrics', partitions: 1 }] })]);
  const { KafkaBus } = await import('../../adapters/bus/kafka.ts');
  const url = mockBusUrl(mock);
  const bus = KafkaBus.fromUrl(url, { logger: pino({ level: 'silent' }) });
  try {
    await killBetweenStoreAndCommit(bus, { CHILD_BUS: url, CHILD_VIEWS: ch.url });
  } finally {
    await bus.close();
    await Promise.allSettled([ch.stop(), mock.stop()]);
  }
});

test('chdb + the embedded bus: the ingestion killed between insert and commit stores the batch once', { timeout: 180_000 }, async () => {
  const { SqliteMessageBus } = await import('../../adapters/bus/sqlite.ts');
  const file = join(dir, 'msec.db');
  const bus = SqliteMessageBus.open(file);
  try {
    await killBetweenStoreAndCommit(bus, { CHILD_BUS: file, CHILD_VIEWS: join(dir, 'views.chdb') });
  } finally {
    await bus.close();
  }
});
