/**
 * The hand-written RpcHead codec against protobufjs' reading of schemas/rpc.proto: the
 * same bytes out, the same values in, for many generated heads and for edge values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { RpcHeadType, type FrameHead } from '../../../adapters/rpc/head-fields.ts';
import { prepareHead, writeHead } from '../../../adapters/rpc/head-writer.ts';
import { readHead } from '../../../adapters/rpc/head-reader.ts';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(20240501);
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
const uint64s = ['0', '1', '127', '128', '4294967295', '4294967296', '9007199254740991', '9007199254740993', '562949953421311', '562949953421312', '18446744073709551615'];
const int32s = [0, 1, -1, 1003, -2147483648, 2147483647, 300];
const uint32s = [0, 1, 127, 128, 16383, 16384, 4294967295];
const strings = ['', 'A.b', 'flight.flight_service.queryFlight', '春秋航空', 'x'.repeat(200), 'emoji 🚀 mixed'];
const randomUint64 = () => (rnd() < 0.5 ? pick(uint64s) : BigInt.asUintN(64, BigInt(Math.floor(rnd() * 2 ** 32)) * BigInt(Math.floor(rnd() * 2 ** 32)) + 1n).toString());

function randomHead(): FrameHead {
  return {
    sequence: randomUint64(), coloring: pick(uint32s), colorId: randomUint64(), flowId: randomUint64(),
    err: pick(int32s), result: pick(int32s), errMsg: pick(strings), caller: pick(strings), methodName: pick(strings),
    callerStack: Array.from({ length: Math.floor(rnd() * 3) }, () => pick(strings)), deadlineMs: pick(uint32s),
  };
}

const viaProtobufjs = (h: FrameHead) => {
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) if (v !== 0 && v !== '0' && v !== '' && !(Array.isArray(v) && v.length === 0)) m[k] = v;
  return Buffer.from(RpcHeadType.encode(m).finish());
};

const encode = (h: FrameHead) => {
  const prepared = prepareHead(h);
  const buf = Buffer.alloc(prepared.size);
  assert.equal(writeHead(buf, 0, prepared), prepared.size, 'the measured size is the written size');
  return buf;
};

const toObject = (bytes: Buffer) => RpcHeadType.toObject(RpcHeadType.decode(bytes), { longs: String, defaults: true, arrays: true }) as FrameHead;

test('500 generated heads: the same bytes as protobufjs, and they read back the same both ways', () => {
  for (let i = 0; i < 500; i++) {
    const head = randomHead();
    const ours = encode(head);
    assert.deepEqual(ours, viaProtobufjs(head), `head ${JSON.stringify(head)}`);
    assert.deepEqual(readHead(ours, 0, ours.length), head);
    assert.deepEqual(toObject(ours), head);
  }
});

test('unknown fields are skipped, repeated scalar fields keep the last value (protobuf rules)', () => {
  const w = protobuf.Writer.create();
  w.uint32((10 << 3) | 0).uint64(5);
  w.uint32((99 << 3) | 2).string('from a newer version');
  w.uint32((98 << 3) | 0).uint64('18446744073709551615');
  w.uint32((97 << 3) | 1).fixed64(1);
  w.uint32((96 << 3) | 5).fixed32(1);
  w.uint32((10 << 3) | 0).uint64(6);
  const bytes = Buffer.from(w.finish());
  assert.equal(readHead(bytes, 0, bytes.length).sequence, '6');
});

test('truncated or malformed heads are errors, not wrong values', () => {
  const good = encode({ ...randomHead(), methodName: 'p.S.M', sequence: '300' });
  assert.throws(() => readHead(good, 0, good.length - 1));
  assert.throws(() => readHead(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0, 11), /longer than 10 bytes/);
  assert.throws(() => readHead(Buffer.from([0x00, 0x01]), 0, 2), /field number 0/);
  assert.throws(() => readHead(Buffer.from([(7 << 3) | 3]), 0, 1), /wire type 3/);
});
