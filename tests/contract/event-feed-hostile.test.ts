/**
 * The event feed against a hostile `msec.events` (embedded store and bus; the Kafka version
 * with the real projector is tests/e2e/hostile-bus.test.ts): forged, altered, garbled and
 * out-of-range messages are refused, counted by reason and logged without flooding; they never
 * reach the handler, never move its position past the store's head, and never stop the real
 * events behind them. A real event refused by mistake still arrives, from the store.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { busEventFeed, type EventFeedOptions } from '../../adapters/bus/event-feed.ts';
import { eventHeaders, eventMessage } from '../../adapters/bus/event-message.ts';
import type { BusMessage, MessageBus } from '../../adapters/bus/port.ts';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { SqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { BusKey } from '../../adapters/signing/bus-key.ts';
import { OutboxRelay } from '../../apps/relay/outbox-relay.ts';
import type { RecordedEvent } from '../../domain/events.ts';
import { streams } from '../../domain/streams.ts';
import { encodeEnvelope } from '../../schemas/codec.ts';
import { appendHosts, busKey, LogCounter } from './relay-support.ts';
import { command, delay, hostAdded, hostEnabled, quickFollow, tempDir, unique, waitUntil } from './support.ts';

const silent = pino({ level: 'silent' });
const topic = 'msec.events';

function capturingLogger() {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40) };
}

/** A forged event as an attacker would write it: a real envelope of a real stream, at a position of their choosing. */
function forgedEvent(type: 'HostAdded' | 'HostEnabled', position: number): RecordedEvent {
  const event = type === 'HostAdded' ? hostAdded('Relay.svc0', '6.6.6.6') : hostEnabled('Relay.svc0', '6.6.6.6');
  return { ...command([event])[0]!, stream: streams.service('Relay.svc0'), revision: 99, position } as RecordedEvent;
}

function plausibleHeaders(event: RecordedEvent, prev: number): Record<string, string> {
  return { [eventHeaders.id]: event.id, [eventHeaders.type]: event.type, [eventHeaders.position]: String(event.position), [eventHeaders.prevPosition]: String(prev) };
}

const envelopeOf = (event: RecordedEvent) => encodeEnvelope(event, event.stream, { revision: event.revision, position: event.position });

describe('event feed on a hostile bus', () => {
  let temp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  let bus: SqliteMessageBus;
  let checkpoints: SqliteCheckpointStore;
  let relay: OutboxRelay;
  const closers: (() => Promise<void>)[] = [];
  const feed = (options: Partial<EventFeedOptions> = {}) =>
    busEventFeed(bus, { group: unique('feed-'), key: busKey, logger: silent, catchUpFrom: store, gapFillAfterMs: 100, ...options });

  beforeEach(async () => {
    temp = tempDir('msec-hostile-feed-');
    const file = join(temp.dir, 'msec.db');
    store = SqliteEventStore.open(file, quickFollow);
    bus = SqliteMessageBus.open(file, quickFollow);
    checkpoints = SqliteCheckpointStore.open(file);
    relay = new OutboxRelay({ store, bus, checkpoints, key: busKey, logger: silent, retryDelays: { initialMs: 10, maxMs: 100 } });
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await relay.stop();
    await bus.close();
    await store.close();
    checkpoints.close();
    temp.remove();
  });

  test('forged, altered and garbled messages are refused by reason; the real events around them arrive, each once, in order', async () => {
    let head = await appendHosts(store, 10);
    await relay.start();
    await waitUntil('relayed', () => relay.status().checkpoint === head);
    const genuine = (await store.readAll(0, 100)).map((e, i, all) => eventMessage(e, i === 0 ? 0 : all[i - 1]!.position, busKey));
    const added = forgedEvent('HostAdded', head + 1);
    const enabled = forgedEvent('HostEnabled', head + 2);
    const copied = genuine[9]!;
    const otherKey = BusKey.generate();
    const signedNext = eventMessage(added, head, busKey);
    const attack: [string, BusMessage][] = [
      ['malformed', { key: added.stream, value: envelopeOf(added) }],
      ['malformed', { key: 'x', value: randomBytes(300) }],
      ['malformed', { key: 'x', value: randomBytes(64), headers: { [eventHeaders.position]: 'NaN', [eventHeaders.prevPosition]: '1' } }],
      ['malformed', { key: added.stream, value: envelopeOf(added), headers: { ...plausibleHeaders(added, head), [eventHeaders.position]: '9007199254740993' } }],
      ['malformed', { key: added.stream, value: envelopeOf(added), headers: { ...plausibleHeaders(added, head), [eventHeaders.prevPosition]: String(head + 5) } }],
      ['unsigned', { key: added.stream, value: envelopeOf(added), headers: plausibleHeaders(added, head) }],
      ['unsigned', { key: enabled.stream, value: envelopeOf(enabled), headers: plausibleHeaders(enabled, head + 1) }],
      ['bad-signature', { key: added.stream, value: envelopeOf(added), headers: { ...plausibleHeaders(added, head), [eventHeaders.signature]: `hmac-sha256:${busKey.id}:${randomBytes(32).toString('base64')}` } }],
      // A genuine signature copied from another message, on the forged payload.
      ['bad-signature', { key: added.stream, value: envelopeOf(added), headers: { ...plausibleHeaders(added, head), [eventHeaders.signature]: copied.headers![eventHeaders.signature]! } }],
      ['bad-signature', { ...copied, headers: { ...copied.headers, [eventHeaders.prevPosition]: String(head - 2) } }],
      // Signed messages whose headers or key were changed: they disagree with the signed envelope.
      ['mismatch', { ...genuine[3]!, headers: { ...genuine[3]!.headers, [eventHeaders.position]: String(head + 1) } }],
      ['mismatch', { ...signedNext, headers: { ...signedNext.headers, [eventHeaders.type]: 'HostEnabled' } }],
      ['mismatch', { ...signedNext, headers: { ...signedNext.headers, [eventHeaders.id]: genuine[0]!.headers![eventHeaders.id]! } }],
      ['mismatch', { ...signedNext, key: 'service-Other.svc' }],
      ['wrong-key', eventMessage(added, head, otherKey)],
      // Signed with the deployment key (a key that leaked, or a store that was reset):
      // still refused when it lies past the store's head, or is not an envelope.
      ['past-head', eventMessage(added, head, busKey)],
      ['past-head', eventMessage(forgedEvent('HostEnabled', Number.MAX_SAFE_INTEGER - 1), head, busKey)],
      ['undecodable', { key: 'x', value: Buffer.from([0xff, 0xff, 0xff]), headers: { ...plausibleHeaders(added, head), [eventHeaders.signature]: busKey.sign(String(head), Buffer.from([0xff, 0xff, 0xff])) } }],
    ];
    const { logger, warnings } = capturingLogger();
    const f = feed({ logger });
    const counter = new LogCounter();
    const seen: RecordedEvent[] = [];
    const sub = f.subscribeAll(0, (events) => {
      seen.push(...events);
      counter.handler(events);
    });
    closers.push(() => sub.close());
    // Among replays of genuine messages (harmless), the attack; then more real events.
    await bus.publish(topic, [genuine[4]!, genuine[2]!, ...attack.map(([, m]) => m), genuine[9]!, { ...copied, headers: { ...copied.headers, [eventHeaders.type]: 'HostEnabled' } }]);
    await waitUntil('the attack was looked at', () => f.refusals().total === attack.length);
    head = await appendHosts(store, 10, { first: 10 });
    await waitUntil('the real events after the attack arrived', () => counter.last === head);
    await delay(300); // time for anything else to arrive, and for the sweep after the refusals
    await sub.close();

    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [20, 0, 0]);
    assert.deepEqual(seen.map((e) => e.position), (await store.readAll(0, 100)).map((e) => e.position));
    assert.ok(seen.every((e) => !JSON.stringify(e.data).includes('6.6.6.6')), 'no forged event reached the handler');
    const expected: Record<string, number> = {};
    for (const [reason] of attack) expected[reason] = (expected[reason] ?? 0) + 1;
    const refused = f.refusals();
    assert.deepEqual(refused.byReason, expected);
    assert.equal(refused.total, attack.length);
    // One log line per reason, naming what to do.
    const lines = warnings();
    assert.deepEqual(lines.map((l) => (l as { reason?: string }).reason).sort(), Object.keys(expected).sort());
    assert.match(lines.find((l) => (l as { reason?: string }).reason === 'wrong-key')!.msg, /give every projector the same MSEC_BUS_KEY/);
    console.log(`hostile feed: ${attack.length} forged messages refused ${JSON.stringify(refused.byReason)}; 20 real events delivered once, in order`);
  });

  test('a signed message at a position near 2^53 neither stalls the feed nor moves its position', async () => {
    let head = await appendHosts(store, 3);
    await relay.start();
    const f = feed();
    const counter = new LogCounter();
    const sub = f.subscribeAll(0, counter.handler);
    closers.push(() => sub.close());
    await waitUntil('the first events', () => counter.last === head);
    const huge = Number.MAX_SAFE_INTEGER - 1;
    await bus.publish(topic, [eventMessage(forgedEvent('HostAdded', huge), head, busKey)]);
    for (let i = 0; i < 5; i++) {
      head = await appendHosts(store, 2, { first: 3 + 2 * i });
      await waitUntil(`real events up to ${head} after the huge position`, () => counter.last === head);
    }
    assert.ok(counter.last <= (await store.headPosition()));
    assert.deepEqual(f.refusals().byReason, { 'past-head': 1 });
  });

  test('refusals are logged once per reason, then at most once per interval with how many more came; redeliveries are not counted again', async () => {
    await appendHosts(store, 2);
    await relay.start();
    const { logger, warnings } = capturingLogger();
    const f = feed({ logger, refusalLogEveryMs: 300, gapFillAfterMs: 1500 });
    const counter = new LogCounter();
    const sub = f.subscribeAll(0, counter.handler);
    closers.push(() => sub.close());
    await waitUntil('the real events', () => counter.unique === 2);
    const forged = (i: number): BusMessage => ({ key: 'x', value: randomBytes(40), headers: { [eventHeaders.position]: String(100 + i), [eventHeaders.prevPosition]: '2' } });
    await bus.publish(topic, Array.from({ length: 100 }, (_, i) => forged(i)));
    await waitUntil('100 counted', () => f.refusals().total === 100);
    assert.equal(warnings().length, 1);
    await delay(350);
    await bus.publish(topic, Array.from({ length: 5 }, (_, i) => forged(200 + i)));
    await waitUntil('105 counted', () => f.refusals().total === 105);
    assert.equal(warnings().length, 2);
    assert.match(warnings()[1]!.msg, /\(99 more unsigned refusals since the last line\)/);

    // A batch the feed gives back (it waits for the event before one of its events, as from
    // another partition) comes again with its forged message: counted once.
    await relay.stop();
    await appendHosts(store, 2, { first: 2 });
    const [third, fourth] = await store.readAll(2, 10);
    await bus.publish(topic, [eventMessage(fourth!, third!.position, busKey), { key: 'x', value: randomBytes(8) }]);
    await delay(500); // the embedded bus hands the batch back every few ms meanwhile
    assert.equal(f.refusals().byReason.malformed, 1, 'counted once across redeliveries');
    assert.equal(counter.unique, 2, 'the fourth event waits for the third');
    await waitUntil('the store filled in the third event, then the fourth followed', () => counter.last === fourth!.position);
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [4, 0, 0]);
    assert.equal(f.refusals().total, 106);
  });

  test('a message that breaks the checks themselves (a bus client that hands over no value) is refused as malformed; the group goes on', async () => {
    let head = await appendHosts(store, 2);
    await relay.start();
    // A bus that hands some messages over without a value, as a broken client library might.
    const broken: MessageBus = {
      publish: (t, messages) => bus.publish(t, messages),
      subscribe: (options, handler) => bus.subscribe(options, (batch) =>
        handler(batch.map((m) => (m.key === 'no-value' ? { ...m, value: undefined as unknown as Uint8Array } : m)))),
      lag: (t, group) => bus.lag(t, group),
      close: async () => {},
    };
    const f = busEventFeed(broken, { group: unique('feed-'), key: busKey, logger: silent, catchUpFrom: store });
    const counter = new LogCounter();
    const sub = f.subscribeAll(0, counter.handler);
    closers.push(() => sub.close());
    const added = forgedEvent('HostAdded', head + 1);
    await bus.publish(topic, [{ key: 'no-value', value: envelopeOf(added), headers: { ...plausibleHeaders(added, head), [eventHeaders.signature]: busKey.sign(String(head), envelopeOf(added)) } }]);
    await waitUntil('refused', () => f.refusals().total === 1);
    head = await appendHosts(store, 3, { first: 2 });
    await waitUntil('the real events after it', () => counter.last === head);
    assert.deepEqual(f.refusals().byReason, { malformed: 1 });
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [5, 0, 0]);
  });

  test('a real event refused by mistake (a projector with another key) still arrives, from the store', async () => {
    const head = await appendHosts(store, 6);
    await relay.start();
    await waitUntil('relayed', () => relay.status().checkpoint === head);
    const f = feed({ key: BusKey.generate() });
    const counter = new LogCounter();
    // Subscribed at the head: the catch-up reads nothing, so what follows comes through the bus (refused) and the store.
    const sub = f.subscribeAll(head, counter.handler);
    closers.push(() => sub.close());
    await waitUntil('the relayed messages were refused', () => f.refusals().total === 6);
    const next = await appendHosts(store, 3, { first: 6 });
    await waitUntil('the three new events arrived from the store', () => counter.last === next, 5000);
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [3, 0, 0]);
    assert.deepEqual(f.refusals().byReason, { 'wrong-key': 9 });
  });

  test('a real event read as past the head (the head read too early) is not lost: the store fills it in', async () => {
    let head = await appendHosts(store, 2);
    // A store whose head answers one read late, as a lagging replica would.
    let stale: number | undefined;
    const lagging = { readAll: store.readAll.bind(store), headPosition: async () => stale ?? store.headPosition() };
    const f = feed({ catchUpFrom: lagging });
    const counter = new LogCounter();
    const sub = f.subscribeAll(0, counter.handler);
    closers.push(() => sub.close());
    await waitUntil('the catch-up', () => counter.last === head);
    stale = head;
    head = await appendHosts(store, 1, { first: 2 });
    await relay.start();
    await waitUntil('the refusal', () => f.refusals().total >= 1);
    stale = undefined;
    await waitUntil('the refused real event arrived from the store', () => counter.last === head, 5000);
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [3, 0, 0]);
    assert.equal(f.refusals().byReason['past-head'], f.refusals().total);
  });
});
