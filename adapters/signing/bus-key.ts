/**
 * The deployment key that authenticates `msec.events`: the outbox relay signs every message
 * with HMAC-SHA256, and the projector's event feed takes from the bus only what verifies.
 *
 * Why a shared secret and not Ed25519 (bench/bus-authenticity.ts measures both, and checking
 * each batch against the event store): every process that reads `msec.events` today is a
 * projector, and every projector runs the relay, so each verifier holds the signing key anyway
 * and a key pair would buy nothing, while it checks 5-8k events/s against HMAC's 70-90k on the
 * 2-core build machine, and each projection of a projector checks every event. Asking the store
 * instead needs no key but turns every bus batch into a read of the same events from the store
 * (a network round trip with EventStoreDB), which is the load the bus is there to take off it.
 *
 * What is signed: a label, the `prev-position` header (the only header not inside the
 * envelope) and the envelope bytes (id, type, stream, position, payload, …). The feed then
 * checks that the other headers and the message key agree with the envelope.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Outcome of checking a message's `signature` header. */
export type SignatureCheck = 'valid' | 'unsigned' | 'wrong-key' | 'bad-signature';

const scheme = 'hmac-sha256';
const label = Buffer.from('msec.events/v1\0');
const macBytes = 32;
/** Shortest key accepted: HMAC-SHA256's own block of strength. */
export const minKeyBytes = 32;

export class BusKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusKeyError';
  }
}

export class BusKey {
  /** A short public name of the key (not secret): tells which key signed a message, so a mismatch between projectors shows. */
  readonly id: string;

  private constructor(private readonly secret: Buffer) {
    this.id = createHash('sha256').update('msec bus key id\0').update(secret).digest('hex').slice(0, 12);
  }

  static generate(): BusKey {
    return new BusKey(randomBytes(minKeyBytes));
  }

  /** A key written as base64 (`openssl rand -base64 32`); `source` names where it came from, for the error. */
  static fromBase64(text: string, source: string): BusKey {
    const trimmed = text.trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
      throw new BusKeyError(`${source} is not base64: write ${minKeyBytes} random bytes as base64, e.g. the output of \`openssl rand -base64 ${minKeyBytes}\``);
    }
    const secret = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (secret.length < minKeyBytes) {
      throw new BusKeyError(`${source} holds ${secret.length} bytes; a bus key needs at least ${minKeyBytes} (\`openssl rand -base64 ${minKeyBytes}\`)`);
    }
    return new BusKey(secret);
  }

  /** The key as base64, for the key file. */
  toBase64(): string {
    return this.secret.toString('base64');
  }

  /** The `signature` header of a message with this prev-position header and value. */
  sign(prevPosition: string, value: Uint8Array): string {
    return `${scheme}:${this.id}:${this.mac(prevPosition, value).toString('base64')}`;
  }

  check(signature: string | undefined, prevPosition: string, value: Uint8Array): SignatureCheck {
    if (signature === undefined || signature === '') return 'unsigned';
    const parts = signature.split(':');
    if (parts.length !== 3 || parts[0] !== scheme) return 'bad-signature';
    if (parts[1] !== this.id) return 'wrong-key';
    const given = Buffer.from(parts[2]!, 'base64');
    if (given.length !== macBytes) return 'bad-signature';
    return timingSafeEqual(given, this.mac(prevPosition, value)) ? 'valid' : 'bad-signature';
  }

  private mac(prevPosition: string, value: Uint8Array): Buffer {
    return createHmac('sha256', this.secret).update(label).update(prevPosition).update('\0').update(value).digest();
  }
}
