/**
 * The MessageBus contract: every adapter of adapters/bus/port.ts runs this suite. Each test
 * uses topics and groups of its own, so a shared broker (Kafka) works too. Every subscription
 * is awaited with `ready?.()` before the test goes on, as product code does before it relies
 * on getting messages published after subscribe() (a Kafka group join takes seconds).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { BusMessage, BusSubscription, ConsumedMessage, MessageBus } from '../../adapters/bus/port.ts';
import { delay, unique, waitUntil as waitUntilWithin } from './support.ts';

export interface BusFixture {
  bus: MessageBus;
  /** Another bus on the same broker/data, as after a restart. */
  reopen(): Promise<MessageBus>;
  /** Closes every bus the fixture opened and removes its data. */
  cleanup(): Promise<void>;
  /** How long to wait for a delivery (default 5 s); a Kafka group join alone takes ~3 s on the mock. */
  patienceMs?: number;
}

const text = (m: ConsumedMessage) => Buffer.from(m.value).toString();
const message = (key: string, body: string, headers?: Record<string, string>): BusMessage =>
  ({ key, value: Buffer.from(body), ...(headers ? { headers } : {}) });

/** Resolves once the subscription is positioned (at once for buses without ready()). */
async function ready<S extends BusSubscription>(subscription: S): Promise<S> {
  await subscription.ready?.();
  return subscription;
}

/** Subscribes and collects every delivered message; `received` grows as batches arrive. */
async function collect(bus: MessageBus, topic: string, group: string, fromBeginning = true) {
  const received: ConsumedMessage[] = [];
  const subscription = await ready(bus.subscribe({ topic, group, fromBeginning }, (batch) => void received.push(...batch)));
  return { received, subscription };
}

export function busContract(name: string, makeBus: () => Promise<BusFixture>): void {
  describe(`MessageBus contract: ${name}`, () => {
    let fixture: BusFixture;
    let bus: MessageBus;
    const waitUntil = (what: string, probe: () => boolean | Promise<boolean>) => waitUntilWithin(what, probe, fixture.patienceMs);
    beforeEach(async () => {
      fixture = await makeBus();
      bus = fixture.bus;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    test('a consumer gets every message with its key, value, headers and topic; one key stays in order', async () => {
      const topic = unique('msec.test.order.');
      await bus.publish(topic, [message('agent-a', 'a0', { 'command-id': 'c1' }), message('agent-b', 'b0'), message('agent-a', 'a1')]);
      await bus.publish(topic, [message('agent-b', 'b1'), message('agent-a', 'a2', { 'content-type': 'application/x-protobuf' })]);
      const { received, subscription } = await collect(bus, topic, unique('g-'));
      await waitUntil('all five messages arrived', () => received.length >= 5);
      await subscription.close();

      assert.equal(received.length, 5);
      const byKey = (key: string) => received.filter((m) => m.key === key).map(text);
      assert.deepEqual(byKey('agent-a'), ['a0', 'a1', 'a2']);
      assert.deepEqual(byKey('agent-b'), ['b0', 'b1']);
      for (const m of received) {
        assert.equal(m.topic, topic);
        assert.ok(Number.isSafeInteger(m.offset) && m.offset >= 0);
        assert.ok(Math.abs(m.timestamp - Date.now()) < 60_000, 'timestamp is the publish time in ms');
      }
      assert.equal(received.find((m) => text(m) === 'a0')!.headers?.['command-id'], 'c1');
      assert.equal(received.find((m) => text(m) === 'a2')!.headers?.['content-type'], 'application/x-protobuf');
    });

    test('binary values arrive byte for byte', async () => {
      const topic = unique('msec.test.binary.');
      const bytes = Uint8Array.from([0, 255, 1, 254, 0, 10, 13, 128]);
      await bus.publish(topic, [{ key: 'k', value: bytes }]);
      const { received, subscription } = await collect(bus, topic, unique('g-'));
      await waitUntil('the message arrived', () => received.length >= 1);
      await subscription.close();
      assert.deepEqual([...received[0]!.value], [...bytes]);
    });

    test('consumer groups are independent: each gets every message and commits its own offset', async () => {
      const topic = unique('msec.test.groups.');
      const [g1, g2] = [unique('routing-'), unique('audit-')];
      await bus.publish(topic, [message('k', 'm0'), message('k', 'm1'), message('k', 'm2')]);
      const one = await collect(bus, topic, g1);
      await waitUntil('group one got everything', () => one.received.length >= 3);
      await one.subscription.close();
      const afterOne = await bus.lag(topic, g2);
      assert.equal(afterOne.committed, -1, 'group two has not committed anything yet');

      const two = await collect(bus, topic, g2);
      await waitUntil('group two got everything', () => two.received.length >= 3);
      await two.subscription.close();
      assert.deepEqual(one.received.map(text), ['m0', 'm1', 'm2']);
      assert.deepEqual(two.received.map(text), ['m0', 'm1', 'm2']);
    });

    test('a handler that throws gets the batch again (at-least-once); nothing is lost or reordered', async () => {
      const topic = unique('msec.test.retry.');
      await bus.publish(topic, [message('agent-1', 'x0'), message('agent-1', 'x1')]);
      const deliveries: { texts: string[]; failed: boolean }[] = [];
      const subscription = await ready(bus.subscribe({ topic, group: unique('g-'), fromBeginning: true }, (batch) => {
        const failed = deliveries.filter((d) => d.failed).length < 2;
        deliveries.push({ texts: batch.map(text), failed });
        if (failed) throw new Error('agent dispatch failed');
      }));
      const handled = () => deliveries.filter((d) => !d.failed).flatMap((d) => d.texts);
      try {
        await waitUntil('both messages were handled after two failures', () => handled().length >= 2);
        await bus.publish(topic, [message('agent-1', 'x2')]);
        await waitUntil('the next message was handled', () => handled().includes('x2'));
      } finally {
        await subscription.close();
      }
      assert.deepEqual(deliveries.slice(0, 2).map((d) => [d.failed, d.texts[0]]), [[true, 'x0'], [true, 'x0']]);
      assert.deepEqual(handled(), ['x0', 'x1', 'x2']);
    });

    test('a batch whose handler never succeeded is not committed: the next consumer of the group gets it', async () => {
      const topic = unique('msec.test.uncommitted.');
      const group = unique('g-');
      await bus.publish(topic, [message('agent-1', 'u0')]);
      let attempts = 0;
      const failing = await ready(bus.subscribe({ topic, group, fromBeginning: true }, () => {
        attempts += 1;
        throw new Error('agent dispatch failed');
      }));
      await waitUntil('the handler was tried', () => attempts >= 1);
      await failing.close();
      assert.equal((await bus.lag(topic, group)).committed, -1);

      const { received, subscription } = await collect(bus, topic, group);
      await waitUntil('the message was delivered again', () => received.length >= 1);
      await subscription.close();
      assert.deepEqual(received.map(text), ['u0']);
      assert.equal((await bus.lag(topic, group)).committed, 1);
    });

    test('a group resumes at its committed offset after its subscription is closed', async () => {
      const topic = unique('msec.test.resume.');
      const group = unique('g-');
      await bus.publish(topic, [message('k', 'r0'), message('k', 'r1')]);
      const first = await collect(bus, topic, group);
      await waitUntil('the first two arrived', () => first.received.length >= 2);
      await first.subscription.close();

      await bus.publish(topic, [message('k', 'r2'), message('k', 'r3')]);
      const second = await collect(bus, topic, group);
      await waitUntil('the next two arrived', () => second.received.length >= 2);
      await delay(30);
      await second.subscription.close();
      assert.deepEqual(second.received.map(text), ['r2', 'r3']);
    });

    test('after a restart, a group resumes at its committed offset', async () => {
      const topic = unique('msec.test.restart.');
      const group = unique('g-');
      await bus.publish(topic, [message('k', 's0')]);
      const first = await collect(bus, topic, group);
      await waitUntil('the first message arrived', () => first.received.length >= 1);
      await first.subscription.close();
      await bus.close();

      const reopened = await fixture.reopen();
      await reopened.publish(topic, [message('k', 's1')]);
      const second = await collect(reopened, topic, group);
      await waitUntil('the message published after the restart arrived', () => second.received.length >= 1);
      await delay(30);
      await second.subscription.close();
      assert.deepEqual(second.received.map(text), ['s1']);
    });

    test('a new group without fromBeginning starts at the end of the topic', async () => {
      const topic = unique('msec.test.latest.');
      await bus.publish(topic, [message('k', 'old')]);
      const { received, subscription } = await collect(bus, topic, unique('g-'), false);
      await delay(30);
      await bus.publish(topic, [message('k', 'new')]);
      await waitUntil('the new message arrived', () => received.length >= 1);
      await delay(30);
      await subscription.close();
      assert.deepEqual(received.map(text), ['new']);
    });

    test('lag reports the committed offset (-1 before any commit) and the end of the topic', async () => {
      const topic = unique('msec.test.lag.');
      const group = unique('g-');
      assert.deepEqual(await bus.lag(topic, group), { committed: -1, end: 0 });
      await bus.publish(topic, [message('k', 'l0'), message('k', 'l1'), message('k', 'l2')]);
      assert.deepEqual(await bus.lag(topic, group), { committed: -1, end: 3 });

      const { received, subscription } = await collect(bus, topic, group);
      await waitUntil('all three arrived', () => received.length >= 3);
      await waitUntil('the group committed the end', async () => (await bus.lag(topic, group)).committed === 3);
      await subscription.close();
      await bus.publish(topic, [message('k', 'l3')]);
      assert.deepEqual(await bus.lag(topic, group), { committed: 3, end: 4 });
    });

    test('close() waits for the running handler, and nothing is delivered after it', async () => {
      const topic = unique('msec.test.close.');
      await bus.publish(topic, [message('k', 'c0')]);
      let calls = 0;
      let handlerRunning = false;
      const subscription = await ready(bus.subscribe({ topic, group: unique('g-'), fromBeginning: true }, async () => {
        calls += 1;
        handlerRunning = true;
        await delay(80);
        handlerRunning = false;
      }));
      await waitUntil('the handler started', () => handlerRunning);
      await subscription.close();
      assert.equal(handlerRunning, false, 'close() resolved while the handler was still running');
      await bus.publish(topic, [message('k', 'c1')]);
      await delay(100);
      assert.equal(calls, 1);
    });
  });
}
