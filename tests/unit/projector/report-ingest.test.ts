/** Report ingestion over a bus: refuses what a sink will not take without stalling, stores at least once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryBroker, MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import { ReportIngest, ReportRefused, type Accepted, type ReportSink } from '../../../apps/projector/report-ingest.ts';

const logger = pino({ level: 'silent' });
const eventually = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`not reached: ${what}`);
};

function numbersSink(stored: Map<string, number>, failStores = 0): ReportSink<number> {
  let failures = failStores;
  return {
    name: 'numbers', topic: 'msec.reports.test', advice: { 'not-a-number': 'send decimal numbers' },
    accept(m) {
      const text = Buffer.from(m.value).toString('utf8');
      if (text === 'boom') throw new Error('a bug in the sink');
      const n = Number(text);
      if (!Number.isFinite(n)) throw new ReportRefused('not-a-number', `"${text.slice(0, 20)}" is not a number`);
      return [n, n * 10];
    },
    async store(items: Accepted<number>[]) {
      if (failures-- > 0) throw new Error('view store down');
      for (const { id, item } of items) stored.set(id, item);
    },
  };
}

test('garbage is refused and counted by reason; good messages around it are stored; nothing stalls', async () => {
  const bus = new MemoryMessageBus({ retryDelays: { initialMs: 5, maxMs: 20 } });
  const stored = new Map<string, number>();
  const ingest = new ReportIngest({ bus, sinks: [numbersSink(stored) as ReportSink<unknown>], logger });
  ingest.start();
  const send = (...values: string[]) => bus.publish('msec.reports.test', values.map((v) => ({ key: 'k', value: Buffer.from(v) })));
  await send('1', 'x', '2', 'boom', '3');
  await eventually('three good messages stored', () => stored.size === 6);
  assert.deepEqual([...stored.values()].sort((a, b) => a - b), [1, 2, 3, 10, 20, 30]);
  const [status] = ingest.status();
  assert.deepEqual(status!.refused.byReason, { 'not-a-number': 1, malformed: 1 });
  await send('4');
  await eventually('later messages still flow', () => stored.size === 8);
  await ingest.stop();
});

test('a store that fails has the batch delivered again; ids are the same each time (idempotent stores count once)', async () => {
  const broker = new MemoryBroker();
  const bus = new MemoryMessageBus({ broker, retryDelays: { initialMs: 5, maxMs: 20 } });
  const stored = new Map<string, number>();
  const ingest = new ReportIngest({ bus, sinks: [numbersSink(stored, 2) as ReportSink<unknown>], logger });
  ingest.start();
  await bus.publish('msec.reports.test', [{ key: 'k', value: Buffer.from('7') }, { key: 'k', value: Buffer.from('nope') }]);
  await eventually('stored after two failed attempts', () => stored.size === 2);
  assert.deepEqual([...stored.keys()], ['0-0-0', '0-0-1']);
  assert.equal(ingest.status()[0]!.refused.total, 1, 'the refusal is counted once, not once per redelivery');
  assert.equal(ingest.status()[0]!.error, undefined);
  await ingest.stop();
  // A restart (same broker, committed offsets) stores nothing again.
  const again = new ReportIngest({ bus: new MemoryMessageBus({ broker }), sinks: [numbersSink(stored) as ReportSink<unknown>], logger });
  again.start();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(again.status()[0]!.stored, 0);
  await again.stop();
});
