/**
 * Someone who can write to the command channel (msec.commands on Kafka, or the console's
 * hand-over, as a man in the middle) and read what passes on it, but does not hold the control
 * plane's current key. It copies real commands and makes forgeries from them, each labelled
 * with the reason an agent must refuse it for. A few variants are signed with the control
 * plane's real key but are still invalid (expired, not yet valid, for another host): they
 * stand for genuine commands delayed, sent early or misdelivered.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { SigningKey, sha256Hex } from '../../adapters/signing/ed25519.ts';
import {
  decodeSignedCommand, encodeCommandBody, encodePayload, encodeSignedCommand, decodeCommandBody, type CommandBody,
} from '../../schemas/agent.ts';

export type ForgeryKind =
  | 'unsigned' | 'foreign-key' | 'foreign-key-claiming-ours' | 'bit-flip-body' | 'bit-flip-signature' | 'payload-swap'
  | 'truncated' | 'garbage' | 'expired' | 'not-yet-valid' | 'wrong-target' | 'replayed';

/** The reason each kind must be refused for; undefined: any refusal (a flipped or cut byte lands anywhere). */
export const expectedReason: Record<ForgeryKind, string | undefined> = {
  unsigned: 'unsigned', 'foreign-key': 'unknown-key', 'foreign-key-claiming-ours': 'bad-signature', 'bit-flip-body': undefined,
  'bit-flip-signature': 'bad-signature', 'payload-swap': 'digest-mismatch', truncated: undefined, garbage: 'malformed',
  expired: 'expired', 'not-yet-valid': 'not-yet-valid', 'wrong-target': 'wrong-target', replayed: 'replayed',
};

export const forgeryKinds = Object.keys(expectedReason) as ForgeryKind[];

/** argv that leaves a mark in the agent root's executed.log if it ever runs. */
export const markArgv = (mark: string) => ['sh', '-c', `echo ${mark} >> executed.log`];

export class CommandForger {
  private readonly attackerKey = SigningKey.generate();

  constructor(private readonly controlKey: SigningKey, private readonly target: string) {}

  /** A forgery of `kind`, made from the real commands seen so far (`real`: SignedCommand bytes for this target). */
  forge(kind: ForgeryKind, real: Uint8Array[], mark: string): Uint8Array {
    const now = Date.now();
    const payload = encodePayload('exec', { argv: markArgv(mark), timeoutMs: 10_000, maxOutputBytes: 1024, cwd: '' });
    const body = (over: Partial<CommandBody> = {}): CommandBody => ({
      commandId: randomUUID(), target: this.target, sequence: 1_000_000 + randomInt(1_000_000), issuedAtMs: now, expiresAtMs: now + 300_000,
      keyId: this.controlKey.keyId, action: 'exec', payloadSha256: sha256Hex(payload), paths: [], fileSha256: [], actor: 'attacker', ...over,
    });
    const signed = (b: CommandBody, key: SigningKey) => {
      const bytes = encodeCommandBody(b);
      return encodeSignedCommand({ body: bytes, signature: key.sign('command', bytes), payload });
    };
    const someReal = () => {
      if (real.length === 0) throw new Error('no real command seen yet');
      return Buffer.from(real[randomInt(real.length)]!);
    };
    switch (kind) {
      case 'unsigned':
        return encodeSignedCommand({ body: encodeCommandBody(body()), signature: new Uint8Array(0), payload });
      case 'foreign-key':
        return signed(body({ keyId: this.attackerKey.keyId }), this.attackerKey);
      case 'foreign-key-claiming-ours':
        return signed(body(), this.attackerKey);
      case 'bit-flip-body': {
        const c = decodeSignedCommand(someReal());
        const flipped = Buffer.from(c.body);
        flipped[randomInt(flipped.length)]! ^= 1 << randomInt(8);
        return encodeSignedCommand({ body: flipped, signature: c.signature, payload: c.payload });
      }
      case 'bit-flip-signature': {
        const c = decodeSignedCommand(someReal());
        const sig = Buffer.from(c.signature);
        sig[randomInt(sig.length)]! ^= 1 << randomInt(8);
        return encodeSignedCommand({ body: c.body, signature: sig, payload: c.payload });
      }
      case 'payload-swap': {
        const c = decodeSignedCommand(someReal());
        return encodeSignedCommand({ body: c.body, signature: c.signature, payload });
      }
      case 'truncated': {
        const bytes = someReal();
        return bytes.subarray(0, randomInt(1, bytes.length));
      }
      case 'garbage':
        return Buffer.from(`\u00ff\u00ff${mark}`.repeat(3), 'latin1');
      case 'expired':
        return signed(body({ issuedAtMs: now - 3_600_000, expiresAtMs: now - 600_000 }), this.controlKey);
      case 'not-yet-valid':
        return signed(body({ issuedAtMs: now + 600_000, expiresAtMs: now + 900_000 }), this.controlKey);
      case 'wrong-target':
        return signed(body({ target: '127.0.0.99' }), this.controlKey);
      case 'replayed':
        return someReal();
    }
  }
}

/** The target a signed command is meant for (to sort copies by agent). */
export function targetOf(bytes: Uint8Array): string {
  return decodeCommandBody(decodeSignedCommand(bytes).body).target;
}
