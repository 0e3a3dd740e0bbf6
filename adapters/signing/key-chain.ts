/**
 * The chain of control-plane command keys that agents follow (schemas/agent.proto,
 * KeyStatement): one statement per key, oldest first. The first key's statement is unsigned
 * (an agent pins it by the key id in its enrolment token); each later one is signed by the key
 * before it. Following a chain from a trusted key reaches the newest key that a valid
 * signature leads to; the keys before it are retired.
 */
import { decodeKeyChain, decodeKeySuccession, encodeKeyChain, encodeKeySuccession, type KeyStatement } from '../../schemas/agent.ts';
import { keyIdOf, verifySignature } from './ed25519.ts';

export interface PublicCommandKey {
  keyId: string;
  publicKey: Uint8Array;
}

/** The chain from the keyring's events (statement: base64 KeyChain of one statement, '' for the first key). */
export function keyChainOf(keys: readonly { keyId: string; publicKey: string; statement: string; introducedAt: string }[]): Uint8Array {
  const statements: KeyStatement[] = keys.map((k) => {
    if (k.statement) return decodeKeyChain(Buffer.from(k.statement, 'base64'))[0]!;
    const succession = encodeKeySuccession({ previousKeyId: '', keyId: k.keyId, publicKey: Buffer.from(k.publicKey, 'base64'), atMs: Date.parse(k.introducedAt) });
    return { succession, signature: new Uint8Array(0) };
  });
  return encodeKeyChain(statements);
}

/** The first key of a chain, when its id is `pinnedKeyId` (from the enrolment token) and matches its public key. */
export function pinnedKey(chain: readonly KeyStatement[], pinnedKeyId: string): PublicCommandKey | undefined {
  for (const statement of chain) {
    try {
      const s = decodeKeySuccession(statement.succession);
      if (s.keyId === pinnedKeyId && keyIdOf(s.publicKey) === pinnedKeyId) return { keyId: s.keyId, publicKey: Buffer.from(s.publicKey) };
    } catch {
      // not a statement: skip it
    }
  }
  return undefined;
}

/**
 * The keys a chain leads to from `trusted`, in order (the trusted one first). A statement that
 * does not verify is skipped, and so is one that leads back to a key already gone past or
 * `retired` (a rotation never rolls back to a key the agent stopped trusting).
 */
export function followKeyChain(chain: readonly KeyStatement[], trusted: PublicCommandKey, retired: readonly string[] = []): PublicCommandKey[] {
  const reached = [trusted];
  const behind = new Set([...retired, trusted.keyId]);
  let head = trusted;
  for (const statement of chain) {
    let s;
    try {
      s = decodeKeySuccession(statement.succession);
    } catch {
      continue;
    }
    if (s.previousKeyId !== head.keyId || keyIdOf(s.publicKey) !== s.keyId || behind.has(s.keyId)) continue;
    if (!verifySignature('keySuccession', statement.succession, statement.signature, head.publicKey)) continue;
    head = { keyId: s.keyId, publicKey: Buffer.from(s.publicKey) };
    behind.add(head.keyId);
    reached.push(head);
  }
  return reached;
}
