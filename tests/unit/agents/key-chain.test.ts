/**
 * Following the chain of control-plane command keys (adapters/signing/key-chain.ts) when the
 * console, or whoever sits between it and the agent, serves a doctored chain: an agent only
 * ever moves to a key a valid signature of the key it trusts leads to.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SigningKey, keyIdOf } from '../../../adapters/signing/ed25519.ts';
import { followKeyChain, keyChainOf, pinnedKey, type PublicCommandKey } from '../../../adapters/signing/key-chain.ts';
import { decodeKeyChain, encodeKeyChain, encodeKeySuccession, type KeyStatement } from '../../../schemas/agent.ts';

const [k1, k2, k3, mallory] = [SigningKey.generate(), SigningKey.generate(), SigningKey.generate(), SigningKey.generate()];
const pub = (k: SigningKey): PublicCommandKey => ({ keyId: k.keyId, publicKey: k.publicKeyRaw });

/** The statement introducing `next` after `previous`, signed by `signer` (default: previous). */
function statement(previous: SigningKey | null, next: SigningKey, o: { signer?: SigningKey | null; keyId?: string; publicKey?: Uint8Array } = {}): KeyStatement {
  const succession = encodeKeySuccession({ previousKeyId: previous?.keyId ?? '', keyId: o.keyId ?? next.keyId, publicKey: o.publicKey ?? next.publicKeyRaw, atMs: 1 });
  const signer = o.signer === undefined ? previous : o.signer;
  return { succession, signature: signer ? signer.sign('keySuccession', succession) : new Uint8Array(0) };
}

const genuine = [statement(null, k1), statement(k1, k2), statement(k2, k3)];
const ids = (keys: PublicCommandKey[]) => keys.map((k) => k.keyId);

describe('followKeyChain', () => {
  test('a genuine chain leads from the first key to the newest', () => {
    assert.deepEqual(ids(followKeyChain(genuine, pub(k1))), [k1.keyId, k2.keyId, k3.keyId]);
    assert.deepEqual(ids(followKeyChain(genuine, pub(k2))), [k2.keyId, k3.keyId]);
    assert.deepEqual(ids(followKeyChain(genuine, pub(k3))), [k3.keyId]);
  });

  test('a forged statement (mallory signs her own key in) is skipped', () => {
    const forged = [statement(null, k1), statement(k1, mallory, { signer: mallory })];
    assert.deepEqual(ids(followKeyChain(forged, pub(k1))), [k1.keyId]);
    // ...and does not stop the genuine statements after it
    assert.deepEqual(ids(followKeyChain([forged[1]!, ...genuine], pub(k1))), [k1.keyId, k2.keyId, k3.keyId]);
  });

  test('a statement signed by the wrong key (an older one, or the new key itself) is skipped', () => {
    assert.deepEqual(ids(followKeyChain([statement(k1, k2), statement(k2, k3, { signer: k1 })], pub(k1))), [k1.keyId, k2.keyId]);
    assert.deepEqual(ids(followKeyChain([statement(k1, k2, { signer: k2 })], pub(k1))), [k1.keyId]);
    assert.deepEqual(ids(followKeyChain([statement(k1, k2, { signer: null })], pub(k1))), [k1.keyId], 'unsigned');
  });

  test('a chain that leaves out a key stops before the gap', () => {
    assert.deepEqual(ids(followKeyChain([statement(null, k1), statement(k2, k3)], pub(k1))), [k1.keyId]);
  });

  test('reordered statements never lead to a key that no valid signature leads to', () => {
    const reached = ids(followKeyChain([genuine[2]!, genuine[1]!, genuine[0]!], pub(k1)));
    assert.deepEqual(reached, [k1.keyId, k2.keyId]);
  });

  test('a statement whose public key does not hash to its key id is skipped, even signed by the trusted key', () => {
    const swapped = statement(k1, k2, { publicKey: mallory.publicKeyRaw });
    assert.deepEqual(ids(followKeyChain([swapped], pub(k1))), [k1.keyId]);
    const renamed = statement(k1, mallory, { keyId: k2.keyId });
    assert.deepEqual(ids(followKeyChain([renamed], pub(k1))), [k1.keyId]);
  });

  test('a statement signed for another purpose (a command signature) is skipped', () => {
    const succession = encodeKeySuccession({ previousKeyId: k1.keyId, keyId: k2.keyId, publicKey: k2.publicKeyRaw, atMs: 1 });
    assert.deepEqual(ids(followKeyChain([{ succession, signature: k1.sign('command', succession) }], pub(k1))), [k1.keyId]);
  });

  test('a chain never leads back to a key it already went past (no rollback to a retired key)', () => {
    const back = statement(k2, k1); // k2 signs k1 in again
    assert.deepEqual(ids(followKeyChain([statement(k1, k2), back], pub(k1))), [k1.keyId, k2.keyId]);
    // an agent that trusts k2 knows k1 as retired (its state file): it does not go back to it either
    assert.deepEqual(ids(followKeyChain([statement(k1, k2), back], pub(k2), [k1.keyId])), [k2.keyId]);
  });

  test('garbage statements are skipped without throwing', () => {
    const garbage: KeyStatement[] = [
      { succession: Buffer.from([0xff, 0xff, 0xff]), signature: new Uint8Array(64) },
      { succession: new Uint8Array(0), signature: new Uint8Array(0) },
      { succession: Buffer.alloc(100_000, 0x0a), signature: Buffer.alloc(64, 1) },
    ];
    assert.deepEqual(ids(followKeyChain([...garbage, ...genuine], pub(k1))), [k1.keyId, k2.keyId, k3.keyId]);
  });
});

describe('pinnedKey', () => {
  test('the first key is found by the id in the token, when its public key hashes to that id', () => {
    const found = pinnedKey(genuine, k1.keyId);
    assert.equal(found?.keyId, k1.keyId);
    assert.deepEqual(Buffer.from(found!.publicKey), k1.publicKeyRaw);
  });

  test('a statement naming the pinned id with another public key is not the pinned key', () => {
    assert.equal(pinnedKey([statement(null, mallory, { keyId: k1.keyId })], k1.keyId), undefined);
    // with the impostor first and the genuine one after it, the genuine one is found
    assert.deepEqual(Buffer.from(pinnedKey([statement(null, mallory, { keyId: k1.keyId }), ...genuine], k1.keyId)!.publicKey), k1.publicKeyRaw);
  });

  test('a chain without the pinned key gives nothing', () => {
    assert.equal(pinnedKey([statement(null, mallory)], k1.keyId), undefined);
    assert.equal(pinnedKey([], k1.keyId), undefined);
    assert.equal(pinnedKey([{ succession: Buffer.from([0xff]), signature: new Uint8Array(0) }], k1.keyId), undefined);
  });
});

describe('keyChainOf', () => {
  test('the chain made from keyring events is followed to the newest key', () => {
    const stmt = (s: KeyStatement) => Buffer.from(encodeKeyChain([s])).toString('base64');
    const records = [
      { keyId: k1.keyId, publicKey: k1.publicKeyRaw.toString('base64'), statement: '', introducedAt: '2024-05-01T08:00:00.000Z' },
      { keyId: k2.keyId, publicKey: k2.publicKeyRaw.toString('base64'), statement: stmt(statement(k1, k2)), introducedAt: '2024-05-01T09:00:00.000Z' },
    ];
    const chain = decodeKeyChain(keyChainOf(records));
    const first = pinnedKey(chain, k1.keyId)!;
    assert.equal(keyIdOf(first.publicKey), k1.keyId);
    assert.deepEqual(ids(followKeyChain(chain, first)), [k1.keyId, k2.keyId]);
  });
});
