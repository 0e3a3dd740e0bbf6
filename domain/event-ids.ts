import { createHash, randomFillSync } from 'node:crypto';

/**
 * Event ids are UUIDv7-shaped and deterministic: a hash of (command id, index), with the
 * time part taken from the command id when it is a UUIDv7 (the console and the CLI make
 * their command ids that way). A retried command — same Idempotency-Key, at whatever time —
 * yields the same ids, so the store's idempotency by event id drops the duplicate.
 * A command id that is not a UUIDv7 gets its time part from the hash too (not time-ordered).
 */
export function eventIdFor(commandId: string, index: number): string {
  const h = createHash('sha256').update(`${commandId}\u0000${index}`).digest();
  const b = Buffer.alloc(16);
  const ms = uuidv7Time(commandId);
  if (ms === undefined) h.copy(b, 0, 10, 16);
  else b.writeUIntBE(ms, 0, 6);
  h.copy(b, 6, 0, 10);
  return formatUuid(stampV7(b));
}

/** Random bytes drawn from the system 4 KiB at a time (one system call per 256 ids, not one per id). */
const pool = Buffer.alloc(4096);
let drawn = pool.length;

function random16(): Buffer {
  if (drawn + 16 > pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  const b = Buffer.from(pool.subarray(drawn, drawn + 16));
  pool.fill(0, drawn, drawn + 16); // handed out once: never kept
  drawn += 16;
  return b;
}

/** A new random UUIDv7 (time-ordered), for command ids. */
export function uuidv7(now = Date.now()): string {
  const b = random16();
  b.writeUIntBE(Math.max(0, Math.floor(now)) % 2 ** 48, 0, 6);
  return formatUuid(stampV7(b));
}

/** The millisecond timestamp inside a UUIDv7, or undefined for any other string. */
export function uuidv7Time(id: string): number | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.exec(id);
  return m ? parseInt(m[1]! + m[2]!, 16) : undefined;
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function stampV7(b: Buffer): Buffer {
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // RFC 4122 variant
  return b;
}

function formatUuid(b: Buffer): string {
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
