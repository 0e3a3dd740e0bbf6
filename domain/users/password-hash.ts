import { createHash, scryptSync, timingSafeEqual } from 'node:crypto';

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

/** False for a wrong password and for anything that is not a hash this module wrote. */
export function verifyPassword(password: string, stored: string): boolean {
  const parts = typeof stored === 'string' ? stored.split('$') : [];
  if (parts.length !== 6 || parts[0] !== SCHEME) return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every(Number.isSafeInteger) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    return false;
  }
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || expected.length === 0 || expected.length > 64) return false;
  const actual = derive(password, salt, n, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

/** API tokens are long random strings, so a fast hash suffices; only the hash is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number, keyLength: number): Buffer {
  // scrypt needs 128*N*r bytes; lift node's 32 MiB default only as far as needed.
  const maxmem = Math.max(32 * 1024 * 1024, 128 * n * r * 2);
  return scryptSync(password.normalize('NFC'), salt, keyLength, { N: n, r, p, maxmem });
}
