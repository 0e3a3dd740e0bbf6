/** Ed25519 public keys of small order, and signatures anyone can make under them. */
import { createPublicKey, verify } from 'node:crypto';
import { signatureDomains, type SignatureDomain } from '../../../adapters/signing/ed25519.ts';

/** Encodings of the points of small order (libsodium's list), with the sign bit clear and set. */
export const smallOrderKeys = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].flatMap((hex) => {
  const clear = Buffer.from(hex, 'hex');
  const set = Buffer.from(clear);
  set[31]! |= 0x80;
  return [clear, set];
});

/** A signature anyone can make for `bytes` under a small-order key: R of small order, S = 0, tried until it verifies. */
export function forgeUnderSmallOrderKey(domain: SignatureDomain, bytes: Uint8Array, weak: Uint8Array): Buffer | undefined {
  const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), weak]), format: 'der', type: 'spki' });
  const tagged = Buffer.concat([Buffer.from(`${signatureDomains[domain]}\0`), bytes]);
  for (const r of smallOrderKeys) {
    const signature = Buffer.concat([r, Buffer.alloc(32)]);
    if (verify(null, tagged, spki, signature)) return signature;
  }
  return undefined;
}
