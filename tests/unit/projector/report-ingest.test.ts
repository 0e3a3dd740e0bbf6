/** Report ingestion over a bus: refuses what a sink will not take without stalling, stores at least once, several partitions' batches in one store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryBroker, MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import type { ConsumedMessage, MessageBus } from '../../../adapters/bus/port.ts';
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

/** A bus that hands the test its handler, to deliver batches of several partitions at once as Kafka does. */
function handBus(): { bus: MessageBus; deliver: (partition: number, values: string[]) => Promise<void> } {
  let handler: ((batch: ConsumedMessage[]) => Promise<void> | void) | undefined;
  const bus = {
    publish: async () => {},
    subscribe: (_options: unknown, h: typeof handler) => {
      handler = h;
      return { close: async () => {} };
    },
    lag: async () => ({ committed: 0, end: 0 }),
    close: async () => {},
  } as unknown as MessageBus;
  const deliver = async (partition: number, values: string[]) => handler!(values.map((v, offset) => ({
    topic: 'msec.reports.test', partition, offset, key: 'k', value: Buffer.from(v), headers: {}, timestamp: 0,
  })));
  return { bus, deliver };
}

test('given a store under way, when other partitions hand over batches, then they are stored together in the next call', async () => {
  const { bus, deliver } = handBus();
  const calls: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let failWith: (ids: number[]) => boolean = () => false;
  const sink: ReportSink<number> = {
    name: 'numbers', topic: 'msec.reports.test', advice: {},
    accept: (m) => [Number(Buffer.from(m.value).toString())],
    async store(items) {
      calls.push(items.map((i) => i.id));
      if (calls.length === 1) await gate;
      if (failWith(items.map((i) => i.item))) throw new Error('view store down');
    },
  };
  const ingest = new ReportIngest({ bus, sinks: [sink as ReportSink<unknown>], logger });
  ingest.start();
  const first = deliver(0, ['1']);
  await eventually('the first store runs', () => calls.length === 1);
  const second = deliver(1, ['2', '3']);
  const third = deliver(2, ['4']);
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.length, 1, 'nothing else is stored while the first store runs');
  release();
  await Promise.all([first, second, third]);
  // (no order across partitions; each batch's items keep theirs)
  assert.deepEqual(calls.map((c) => [...c].sort()), [['0-0-0'], ['1-0-0', '1-1-0', '2-0-0']]);
  assert.ok(calls[1]!.indexOf('1-0-0') < calls[1]!.indexOf('1-1-0'));
  assert.equal(ingest.status()[0]!.stored, 4);

  // When the store of batches taken together fails, each is stored alone: the one the store
  // cannot take fails (and is delivered again), the other is stored.
  failWith = (items) => items.includes(6);
  const before = calls.length;
  const results = await Promise.allSettled([deliver(3, ['5']), deliver(4, ['6'])]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected']);
  assert.deepEqual(calls.slice(before).map((c) => [...c].sort()), [['3-0-0', '4-0-0'], ['3-0-0'], ['4-0-0']]);
  assert.equal(ingest.status()[0]!.stored, 5);
  assert.equal(ingest.status()[0]!.error, 'view store down');

  // A store that throws something other than an Error still fails its batch, and the next flows.
  failWith = (items) => (items.includes(7) ? (() => { throw undefined; })() : false);
  await assert.rejects(deliver(5, ['7']));
  await deliver(6, ['8']);
  assert.equal(ingest.status()[0]!.stored, 6);
  assert.equal(ingest.status()[0]!.error, undefined);
  await ingest.stop();
});
