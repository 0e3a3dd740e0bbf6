import { createHash } from 'node:crypto';

/**
 * Event ids are UUIDv7-shaped and deterministic: the time part is the command's time, the
 * rest is a hash of (command id, index). A retried command yields the same ids, so the
 * store's idempotency by event id drops the duplicate.
 */
export function eventIdFor(commandId: string, index: number, commandTimeMs: number): string {
  const h = createHash('sha256').update(`${commandId}\u0000${index}`).digest();
  const b = Buffer.alloc(16);
  b.writeUIntBE(Math.max(0, Math.floor(commandTimeMs)) % 2 ** 48, 0, 6);
  h.copy(b, 6, 0, 10);
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // RFC 4122 variant
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
