/**
 * What it costs to believe `msec.events` (`npm run bench -- bus`): the ways to tell the relay's
 * messages from anyone else's, each measured as events/s over the same messages in the same
 * run, beside the no-check baseline (what the event feed did before: read the position headers
 * and decode the envelope). Every variant ends with the event in hand, as the feed needs it.
 *   hmac      HMAC-SHA256 with the deployment key (what the feed does: event-message.ts)
 *   ed25519   an Ed25519 signature over the same bytes (node:crypto, OpenSSL)
 *   store     no signature: each batch of 500 looked up in the event store (the embedded SQLite
 *             store here, on local disk: the best case; EventStoreDB adds a round trip per batch)
 * and the relay's side: building the messages unsigned, with HMAC, with Ed25519.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { checkSigned, eventHeaders, eventMessage, openSigned } from '../adapters/bus/event-message.ts';
import type { BusMessage, ConsumedMessage } from '../adapters/bus/port.ts';
import { SqliteEventStore } from '../adapters/eventstore/sqlite.ts';
import { BusKey } from '../adapters/signing/bus-key.ts';
import type { RecordedEvent } from '../domain/events.ts';
import { decodeEnvelope, encodeEnvelope } from '../schemas/codec.ts';
import { fillStore } from './kafka.ts';

const silent = pino({ level: 'silent' });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const batch = 500;
const label = Buffer.from('msec.events/v1\0');

/** Best of `rounds` runs of `work` over all messages, in events/s (the machine is shared: the best run is the least disturbed). */
async function rate(count: number, rounds: number, work: () => Promise<number> | number): Promise<number> {
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    const handled = await work();
    if (handled !== count) throw new Error(`a check handled ${handled} of ${count} events: the bench is wrong`);
    best = Math.max(best, count / ((performance.now() - started) / 1000));
  }
  return best;
}

const consumed = (m: BusMessage, offset: number): ConsumedMessage => ({ ...m, topic: 'msec.events', offset, timestamp: 0 });

function unsignedMessage(event: RecordedEvent, prev: number): BusMessage {
  return {
    key: event.stream,
    value: encodeEnvelope(event, event.stream, { revision: event.revision, position: event.position }),
    headers: { [eventHeaders.id]: event.id, [eventHeaders.type]: event.type, [eventHeaders.position]: String(event.position), [eventHeaders.prevPosition]: String(prev) },
  };
}

function ed25519Message(event: RecordedEvent, prev: number, privateKey: KeyObject): BusMessage {
  const m = unsignedMessage(event, prev);
  const signature = sign(null, Buffer.concat([label, Buffer.from(`${prev}\0`), m.value]), privateKey).toString('base64');
  return { ...m, headers: { ...m.headers, [eventHeaders.signature]: `ed25519:k1:${signature}` } };
}

export async function benchBusAuthenticity(events = Number(process.env.BENCH_BUS_EVENTS ?? 20_000), rounds = 3): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-bus-'));
  const store = SqliteEventStore.open(join(dir, 'msec.db'), { logger: silent });
  try {
    await fillStore(store, events, 64, 'bench-bus');
    const log = await store.readAll(0, events);
    const prevOf = (i: number) => (i === 0 ? 0 : log[i - 1]!.position);
    const key = BusKey.generate();
    const pair = generateKeyPairSync('ed25519');
    // Verifiers would hold only the public key: give it its own object, as another process would have.
    const publicKey = createPublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const privateKey = createPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));

    // The relay's side.
    const buildUnsigned = await rate(events, rounds, () => log.map((e, i) => unsignedMessage(e, prevOf(i))).length);
    const buildHmac = await rate(events, rounds, () => log.map((e, i) => eventMessage(e, prevOf(i), key)).length);
    const buildEd = await rate(events, rounds, () => log.map((e, i) => ed25519Message(e, prevOf(i), privateKey)).length);

    // The feed's side, over the same messages.
    const plain = log.map((e, i) => consumed(unsignedMessage(e, prevOf(i)), i));
    const hmac = log.map((e, i) => consumed(eventMessage(e, prevOf(i), key), i));
    const ed = log.map((e, i) => consumed(ed25519Message(e, prevOf(i), privateKey), i));

    const noCheck = await rate(events, rounds, () => {
      let n = 0;
      for (const m of plain) {
        const position = Number(m.headers![eventHeaders.position]);
        const prev = Number(m.headers![eventHeaders.prevPosition]);
        if (Number.isSafeInteger(position) && Number.isSafeInteger(prev) && decodeEnvelope(m.value).position === position) n++;
      }
      return n;
    });
    const withHmac = await rate(events, rounds, () => {
      let n = 0;
      for (const m of hmac) {
        const s = checkSigned(m, key);
        if (s.ok && openSigned(m, s).ok) n++;
      }
      return n;
    });
    const withEd = await rate(events, rounds, () => {
      let n = 0;
      for (const m of ed) {
        const prevText = m.headers![eventHeaders.prevPosition]!;
        const position = Number(m.headers![eventHeaders.position]);
        const signature = Buffer.from(m.headers![eventHeaders.signature]!.split(':')[2]!, 'base64');
        if (!verify(null, Buffer.concat([label, Buffer.from(`${prevText}\0`), m.value]), publicKey, signature)) continue;
        const event = decodeEnvelope(m.value);
        if (event.position === position && event.id === m.headers![eventHeaders.id] && event.stream === m.key) n++;
      }
      return n;
    });
    const againstStore = await rate(events, rounds, async () => {
      let n = 0;
      for (let i = 0; i < plain.length; i += batch) {
        const messages = plain.slice(i, i + batch);
        const first = Number(messages[0]!.headers![eventHeaders.prevPosition]);
        const stored = new Map((await store.readAll(first, messages.length)).map((e) => [e.position, e]));
        for (const m of messages) {
          // The store's copy is the event; the message only says which one to take.
          const event = stored.get(Number(m.headers![eventHeaders.position]));
          if (event && event.id === m.headers![eventHeaders.id] && event.stream === m.key) n++;
        }
      }
      return n;
    });

    const line = (name: string, value: number, base: number) => `${name}=${fmt(value)} ratio=${(value / base).toFixed(3)}`;
    console.log(`bus.verify.baseline.no_check.per_s=${fmt(noCheck)}  (${events} HostAdded events: position headers + envelope decode, best of ${rounds})`);
    console.log(`bus.verify.${line('hmac_sha256.per_s', withHmac, noCheck)}  (signature, headers against the envelope: what the feed does)`);
    console.log(`bus.verify.${line('ed25519.per_s', withEd, noCheck)}`);
    console.log(`bus.verify.${line('store_lookup.per_s', againstStore, noCheck)}  (readAll per ${batch} from the embedded SQLite store, no decode of the message)`);
    console.log(`bus.sign.baseline.unsigned.per_s=${fmt(buildUnsigned)}  (the relay building messages: envelope encode + headers)`);
    console.log(`bus.sign.${line('hmac_sha256.per_s', buildHmac, buildUnsigned)}`);
    console.log(`bus.sign.${line('ed25519.per_s', buildEd, buildUnsigned)}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchBusAuthenticity();
