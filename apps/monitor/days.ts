/**
 * Days as users name them (`--day 20240501`, MSEC's yyyymmdd), in a fixed offset from UTC given
 * in minutes east (`tz=480` for UTC+8; the CLI and the browser send their own). A day is 1440
 * minutes from its local midnight (a daylight-saving switch is not followed inside one day).
 */

export const minutesPerDay = 1440;

/** Epoch seconds of the local midnight starting `day` (YYYYMMDD) at `tz` minutes east of UTC. */
export function dayStart(day: string, tz: number): number {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(day);
  if (!m) throw new RangeError(`day "${day}" is not YYYYMMDD, e.g. 20240501`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  const back = new Date(utc);
  if (y < 2000 || y > 2200 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new RangeError(`day "${day}" is not a date between 2000 and 2200`);
  }
  checkTz(tz);
  return utc / 1000 - tz * 60;
}

/** The day (YYYYMMDD) holding epoch ms `at` at `tz` minutes east of UTC. */
export function dayOf(at: number, tz: number): string {
  checkTz(tz);
  return new Date(at + tz * 60_000).toISOString().slice(0, 10).replaceAll('-', '');
}

/** The day `n` days after (or before, n < 0) `day`. */
export function addDays(day: string, n: number): string {
  return dayOf((dayStart(day, 0) + n * 86_400) * 1000, 0);
}

export function checkTz(tz: number): number {
  if (!Number.isInteger(tz) || tz < -720 || tz > 840) throw new RangeError(`tz ${tz} is not an offset in minutes east of UTC from -720 to 840 (480 for UTC+8)`);
  return tz;
}

/** This machine's offset from UTC at `at`, in minutes east. */
export function localTz(at = Date.now()): number {
  return -new Date(at).getTimezoneOffset() || 0;
}
