/**
 * Ed25519 signing (node:crypto, no other dependency) for the agent channel: the control
 * plane's command keys and each agent's own key. Every signature is over a domain tag plus
 * the bytes, so a signature made for one purpose (a report) can never pass for another (a
 * command). Verification never throws on hostile input: it answers false.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { createSecretFile, readSecretFile } from './secret-file.ts';

export const signatureDomains = {
  command: 'msec-command-v1',
  keySuccession: 'msec-key-succession-v1',
  report: 'msec-report-v1',
  agentRequest: 'msec-agent-request-v1',
} as const;
export type SignatureDomain = keyof typeof signatureDomains;

const tags = Object.fromEntries(Object.entries(signatureDomains).map(([k, v]) => [k, Buffer.from(`${v}\0`)])) as Record<SignatureDomain, Buffer>;
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** Identifies a public key: hex of the first 8 bytes of its sha256. */
export function keyIdOf(publicKeyRaw: Uint8Array): string {
  return createHash('sha256').update(publicKeyRaw).digest('hex').slice(0, 16);
}

export class SigningKey {
  readonly keyId: string;

  private constructor(private readonly privateKey: KeyObject, readonly publicKeyRaw: Buffer) {
    this.keyId = keyIdOf(publicKeyRaw);
  }

  static generate(): SigningKey {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return new SigningKey(privateKey, rawOf(publicKey));
  }

  static fromPem(pem: string): SigningKey {
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`the key is ${privateKey.asymmetricKeyType}, not ed25519`);
    return new SigningKey(privateKey, rawOf(createPublicKey(privateKey)));
  }

  /**
   * The key kept in `file` (PKCS#8 PEM, mode 0600), created there when missing. A file others
   * can read is refused.
   */
  static inFile(file: string): { key: SigningKey; created: boolean } {
    const existing = readSecretFile(file);
    if (existing !== undefined) return { key: SigningKey.fromPem(existing), created: false };
    const made = createSecretFile(file, SigningKey.generate().toPem());
    return { key: SigningKey.fromPem(made.text), created: made.created };
  }

  /** The key in `file`, which must exist. */
  static fromFile(file: string): SigningKey {
    const text = readSecretFile(file);
    if (text === undefined) throw new Error(`no key file at ${file}`);
    return SigningKey.fromPem(text);
  }

  toPem(): string {
    return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  sign(domain: SignatureDomain, bytes: Uint8Array): Buffer {
    return sign(null, Buffer.concat([tags[domain], bytes]), this.privateKey);
  }
}

const publicKeys = new Map<string, KeyObject>();

/**
 * Encodings of the Ed25519 points of small order (libsodium's list; the sign bit is ignored).
 * Under such a "public key" node:crypto verifies signatures anyone can make, so none is ever
 * taken as a key: an agent enrolling with one would let everybody speak for its host.
 */
const smallOrderPoints = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Buffer.from(hex, 'hex'));

/** Whether 32 bytes are a public key of small order (see smallOrderPoints): never a usable key. */
export function isSmallOrderKey(publicKeyRaw: Uint8Array): boolean {
  if (publicKeyRaw.length !== 32) return false;
  return smallOrderPoints.some((p) => p.subarray(0, 31).equals(publicKeyRaw.subarray(0, 31)) && p[31] === (publicKeyRaw[31]! & 0x7f));
}

/** Whether `signature` is the signature of `bytes` for `domain` by the raw public key. */
export function verifySignature(domain: SignatureDomain, bytes: Uint8Array, signature: Uint8Array, publicKeyRaw: Uint8Array): boolean {
  if (publicKeyRaw.length !== 32 || signature.length !== 64 || isSmallOrderKey(publicKeyRaw)) return false;
  const id = Buffer.from(publicKeyRaw).toString('base64');
  let key = publicKeys.get(id);
  if (!key) {
    try {
      key = createPublicKey({ key: Buffer.concat([spkiPrefix, publicKeyRaw]), format: 'der', type: 'spki' });
    } catch {
      return false;
    }
    if (publicKeys.size > 10_000) publicKeys.clear();
    publicKeys.set(id, key);
  }
  try {
    return verify(null, Buffer.concat([tags[domain], bytes]), key, signature);
  } catch {
    return false;
  }
}

function rawOf(publicKey: KeyObject): Buffer {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.from(der.subarray(der.length - 32));
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
