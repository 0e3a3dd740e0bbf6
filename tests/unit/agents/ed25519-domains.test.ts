/**
 * Ed25519 as the agent channel uses it (adapters/signing/ed25519.ts): a signature made for one
 * purpose never verifies for another, verification answers false (never throws) on hostile
 * input, and public keys of small order — under which anything "verifies" — are refused.
 */
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { SigningKey, keyIdOf, signatureDomains, verifySignature, type SignatureDomain } from '../../../adapters/signing/ed25519.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { forgeUnderSmallOrderKey, smallOrderKeys } from './weak-keys.ts';

const key = SigningKey.generate();
const domains = Object.keys(signatureDomains) as SignatureDomain[];

describe('domain separation', () => {
  test('a signature verifies for its own domain only', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 20; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
      for (const made of domains) {
        const signature = key.sign(made, bytes);
        for (const checked of domains) {
          assert.equal(verifySignature(checked, bytes, signature, key.publicKeyRaw), made === checked, `${made} checked as ${checked}`);
        }
      }
    }
  });

  test('a report signature does not verify as a command, nor as a command over the tagged bytes', () => {
    const body = Buffer.from('the same bytes');
    const report = key.sign('report', body);
    assert.equal(verifySignature('command', body, report, key.publicKeyRaw), false);
    // moving the tag into the message does not help: the command tag is put in front again
    assert.equal(verifySignature('command', Buffer.concat([Buffer.from('msec-report-v1\0'), body]), report, key.publicKeyRaw), false);
  });

  test('a bare signature (no domain tag) verifies under no domain', () => {
    const pem = key.toPem();
    const bytes = Buffer.from('a command body');
    const bare = sign(null, bytes, pem);
    for (const d of domains) assert.equal(verifySignature(d, bytes, bare, key.publicKeyRaw), false);
  });

  test('the tags differ and end in NUL, so no tag is a prefix of another', () => {
    const tags = Object.values(signatureDomains).map((t) => `${t}\0`);
    for (const a of tags) for (const b of tags) if (a !== b) assert.equal(b.startsWith(a), false);
  });
});

describe('verifySignature on hostile input', () => {
  const bytes = Buffer.from('x');
  const good = key.sign('command', bytes);

  test('keys and signatures of the wrong length answer false', () => {
    for (const k of [new Uint8Array(0), key.publicKeyRaw.subarray(0, 31), Buffer.concat([key.publicKeyRaw, Buffer.from([0])])]) {
      assert.equal(verifySignature('command', bytes, good, k), false);
    }
    for (const s of [new Uint8Array(0), good.subarray(0, 63), Buffer.concat([good, Buffer.from([0])])]) {
      assert.equal(verifySignature('command', bytes, s, key.publicKeyRaw), false);
    }
  });

  test('random 32-byte keys never throw', () => {
    const random = seededRandom(11);
    for (let i = 0; i < 300; i++) {
      const k = Buffer.from(Array.from({ length: 32 }, () => Math.floor(random() * 256)));
      assert.doesNotThrow(() => verifySignature('command', bytes, good, k));
    }
  });

  test('the key id is 16 hex digits of the key\'s sha256', () => {
    assert.match(key.keyId, /^[0-9a-f]{16}$/);
    assert.equal(keyIdOf(key.publicKeyRaw), key.keyId);
    assert.notEqual(keyIdOf(SigningKey.generate().publicKeyRaw), key.keyId);
  });
});

describe('small-order public keys', () => {
  test('under each of them node:crypto verifies forged signatures; verifySignature refuses them all', () => {
    let forgeries = 0;
    for (const weak of smallOrderKeys) {
      for (let m = 0; m < 16; m++) {
        const bytes = Buffer.from(`forged report ${m}`);
        const forged = forgeUnderSmallOrderKey('report', bytes, weak);
        if (forged) forgeries++;
        assert.equal(verifySignature('report', bytes, forged ?? Buffer.alloc(64), weak), false, weak.toString('hex'));
      }
    }
    assert.ok(forgeries > smallOrderKeys.length, `only ${forgeries} forgeries: the attack this guards against did not reproduce`);
  });
});
