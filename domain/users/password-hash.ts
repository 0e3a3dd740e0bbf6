import { createHash, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Password and token hashing. MSEC stored md5(md5(pwd)+salt), which doubled as the login
 * key and so was password-equivalent; scrypt makes a leaked table expensive to use. The
 * salt is an argument (the caller draws it at random) so this module stays deterministic.
 */

const SCHEME = 'scrypt';
const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
/** Refuse absurd cost parameters read back from storage instead of burning CPU on them. */
const MAX_N = 1 << 20;

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/** Why a new password is not acceptable, or null when it is. */
export function passwordProblem(password: string): string | null {
  if (typeof password !== 'string') return 'a password is required';
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must be at least ${MIN_PASSWORD_LENGTH} characters long`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password must be at most ${MAX_PASSWORD_LENGTH} characters long`;
  return null;
}

/** `scrypt$N$r$p$saltB64$hashB64` */
export function hashPassword(password: string, salt: Buffer): string {
  const key = derive(password, salt, N, R, P, KEY_LENGTH);
  return [SCHEME, N, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

interface StoredHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  expected: Buffer;
}

/** The parts of a stored hash, or null for anything this module did not write (or absurd costs). */
function parseStored(stored: string): StoredHash | null {
  const parts = typeof stored === 'string' ? stored.split('$') : [];
  if (parts.length !== 6 || parts[0] !== SCHEME) return null;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every(Number.isSafeInteger) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    return null;
  }
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || expected.length === 0 || expected.length > 64) return null;
  return { n, r, p, salt, expected };
}

/** False for a wrong password and for anything that is not a hash this module wrote. */
export function verifyPassword(password: string, stored: string): boolean {
  const h = parseStored(stored);
  return h !== null && timingSafeEqual(derive(password, h.salt, h.n, h.r, h.p, h.expected.length), h.expected);
}

/** verifyPassword off the calling thread (libuv's pool), for servers that must keep answering. */
export async function verifyPasswordAsync(password: string, stored: string): Promise<boolean> {
  const h = parseStored(stored);
  if (h === null) return false;
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFC'), h.salt, h.expected.length, { N: h.n, r: h.r, p: h.p, maxmem: maxmemFor(h.n, h.r) }, (err, key) => (err ? reject(err) : resolve(key))));
  return timingSafeEqual(actual, h.expected);
}

/** API tokens are long random strings, so a fast hash suffices; only the hash is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number, keyLength: number): Buffer {
  return scryptSync(password.normalize('NFC'), salt, keyLength, { N: n, r, p, maxmem: maxmemFor(n, r) });
}

/** scrypt needs 128*N*r bytes; lift node's 32 MiB default only as far as needed. */
function maxmemFor(n: number, r: number): number {
  return Math.max(32 * 1024 * 1024, 128 * n * r * 2);
}
