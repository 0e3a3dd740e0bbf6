/**
 * Random text for the literal fuzz tests: seeded (a failure names its seed, and
 * MSEC_FUZZ_SEED=<n> replays it), biased towards what breaks SQL literals — quotes,
 * backslashes before quotes, control characters, NUL, injection attempts — mixed with
 * unicode from every plane. Always well-formed (no lone surrogates: those have no UTF-8 form
 * and sqlString refuses them).
 */

export { seededRandom } from '../support/seeded-random.ts';

export const injections = [
  "'", "\\'", "\\\\'", "''", "\\", "\\\\", "'; DROP TABLE {canary}; SELECT '", "' OR '1'='1", "') --", "'/*", '*/',
  "\\x27", "\\0", "\\'; SELECT 1; --", "{p:String}", '?', '$1', "`", '"', "\\N", 'NULL', "' FORMAT TSV\n",
  "'\u0000'", "\u0000", "\\\u0000'",
];

const pieces: ((rnd: () => number) => string)[] = [
  (rnd) => injections[Math.floor(rnd() * injections.length)]!,
  (rnd) => String.fromCharCode(Math.floor(rnd() * 32)), // C0 controls, NUL included
  () => '\u007f',
  (rnd) => String.fromCharCode(32 + Math.floor(rnd() * 95)), // printable ASCII
  (rnd) => String.fromCodePoint(0x80 + Math.floor(rnd() * (0xd800 - 0x80))), // BMP below surrogates
  (rnd) => String.fromCodePoint(0xe000 + Math.floor(rnd() * 0x2000)), // BMP above surrogates
  (rnd) => String.fromCodePoint(0x10000 + Math.floor(rnd() * 0x100000)), // astral planes
  (rnd) => ['\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', '\u0301', '🚀', 'é', '中'][Math.floor(rnd() * 9)]!,
];

/** One random well-formed string, 0–40 pieces long. */
export function randomText(rnd: () => number): string {
  const length = Math.floor(rnd() * rnd() * 41);
  let text = '';
  for (let i = 0; i < length; i++) text += pieces[Math.floor(rnd() * pieces.length)]!(rnd);
  return text;
}

/** The seed of a fuzz run: MSEC_FUZZ_SEED when set, else a fresh one (printed by the caller). */
export function fuzzSeed(): number {
  const fromEnv = Number(process.env.MSEC_FUZZ_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1 + Math.floor(Math.random() * 2 ** 31);
}
