/**
 * Random mutations of real signed commands (seeded: a failure names its seed): none is ever
 * accepted as anything but the very command it came from, and after that command ran, none
 * at all. Counts by reason are printed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyCommand, type Verdict } from '../../../apps/agent/verify-command.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { execPayload, fixedKey, issuedAt, meaningOf, signedCommand, trusting } from './command-fixtures.ts';

const key = fixedKey(42);
const now = issuedAt + 1000;
const rounds = Number(process.env.MSEC_FUZZ_ROUNDS) || 4000;

const reals = [
  signedCommand(key, { body: { sequence: 5 } }),
  signedCommand(key, { body: { sequence: 6, commandId: '01900000-0000-7000-8000-000000000006', paths: ['etc/app.conf'] }, action: 'pull_file', payload: { path: 'etc/app.conf', maxBytes: 4096 } }),
  signedCommand(key, { body: { sequence: 7, commandId: '01900000-0000-7000-8000-000000000007' }, action: 'ps', payload: {} }),
  signedCommand(key, { body: { sequence: 8, commandId: '01900000-0000-7000-8000-000000000008', paths: ['bin/run'], fileSha256: ['ab'.repeat(32)] }, action: 'push_file', payload: { path: 'bin/run', sha256: 'ab'.repeat(32), size: 10, mode: 0o755 } }),
  signedCommand(key, { body: { sequence: 9, commandId: '01900000-0000-7000-8000-000000000009' }, payload: { ...execPayload, argv: ['id'] } }),
];

function mutate(random: () => number, source: Uint8Array): Buffer {
  let bytes = Buffer.from(source);
  const pick = (n: number) => Math.floor(random() * n);
  const steps = 1 + pick(4);
  for (let s = 0; s < steps; s++) {
    const at = pick(Math.max(1, bytes.length));
    switch (pick(7)) {
      case 0: // flip a bit
        if (bytes.length) bytes[at]! ^= 1 << pick(8);
        break;
      case 1: // a random byte
        if (bytes.length) bytes[at] = pick(256);
        break;
      case 2: // insert bytes
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(4) }, () => pick(256))), bytes.subarray(at)]);
        break;
      case 3: // delete bytes
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + pick(4))]);
        break;
      case 4: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 5: { // paste a slice of another real command
        const other = reals[pick(reals.length)]!;
        const from = pick(other.length);
        bytes = Buffer.concat([bytes.subarray(0, at), other.subarray(from, from + 1 + pick(64)), bytes.subarray(at + pick(64))]);
        break;
      }
      default: // duplicate a slice (protobuf: repeated fields, last one wins)
        bytes = Buffer.concat([bytes, bytes.subarray(at, at + 1 + pick(80))]);
    }
  }
  return bytes;
}

test(`${rounds} random mutations of real commands: none accepted as another command, none at all after the real ones ran`, (t) => {
  const seed = Number(process.env.MSEC_FUZZ_SEED) || 20240501;
  const random = seededRandom(seed);
  const before = trusting(key, { lastSequence: 4 });
  const after = trusting(key, { lastSequence: 9, seenIds: ['01900000-0000-7000-8000-000000000001', ...[6, 7, 8, 9].map((n) => `01900000-0000-7000-8000-00000000000${n}`)] });
  const byReason = new Map<string, number>();
  let sameCommand = 0;
  for (let i = 0; i < rounds; i++) {
    const source = reals[i % reals.length]!;
    const mutated = mutate(random, source);
    let first: Verdict | undefined;
    let second: Verdict | undefined;
    assert.doesNotThrow(() => {
      first = verifyCommand(mutated, before, now);
      second = verifyCommand(mutated, after, now);
    }, `seed ${seed}, round ${i}`);
    if (first!.ok) {
      // Only bytes that decode to exactly one of the real commands may pass: the same command,
      // spelled differently (an unknown field added, say). It still runs once: see `second`.
      assert.ok(reals.some((r) => meaningOf(r) === meaningOf(mutated)), `seed ${seed}, round ${i}: a mutation was accepted as a new command: ${mutated.toString('hex')}`);
      sameCommand++;
    } else {
      byReason.set(first!.reason, (byReason.get(first!.reason) ?? 0) + 1);
    }
    assert.equal(second!.ok, false, `seed ${seed}, round ${i}: accepted after the real commands ran`);
  }
  t.diagnostic(`seed ${seed}: ${rounds} mutations, ${sameCommand} decode to a real command unchanged (refused once it ran), refused: ${JSON.stringify(Object.fromEntries([...byReason].sort()))}`);
  assert.equal([...byReason.values()].reduce((a, b) => a + b, 0) + sameCommand, rounds);
});
