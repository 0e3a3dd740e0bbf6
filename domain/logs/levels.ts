/**
 * MSEC's business-log levels, TRACE < DEBUG < INFO < ERROR < FATAL (numbered 1..5 on the
 * wire and in the views), and how pino's levels map onto them. MSEC has no WARN: pino's
 * `warn` counts as ERROR, so a warning is never lost at level ERROR.
 */
import { refuse } from '../decider.ts';

export const logLevels = ['TRACE', 'DEBUG', 'INFO', 'ERROR', 'FATAL'] as const;
export type LogLevel = (typeof logLevels)[number];

/** The level a service keeps when neither its config version nor the console says one. */
export const defaultLogLevel: LogLevel = 'INFO';

export const levelNumber: Readonly<Record<LogLevel, number>> = { TRACE: 1, DEBUG: 2, INFO: 3, ERROR: 4, FATAL: 5 };

/** 1..5 → name; anything else is not a level. */
export function levelName(n: number): LogLevel | undefined {
  return Number.isInteger(n) && n >= 1 && n <= 5 ? logLevels[n - 1] : undefined;
}

/** A level written by a person or a config file (any case), or undefined. */
export function parseLevel(text: string): LogLevel | undefined {
  if (typeof text !== 'string') return undefined;
  const upper = text.trim().toUpperCase();
  return (logLevels as readonly string[]).includes(upper) ? (upper as LogLevel) : undefined;
}

/** parseLevel, refusing anything else with the list of levels. */
export function checkLevel(text: string, what = 'level'): LogLevel {
  const level = parseLevel(text);
  if (!level) return refuse('invalid', `${what} "${String(text).slice(0, 40)}" is not a log level: use one of ${logLevels.join(', ')}`);
  return level;
}

/** pino's numeric level (trace 10 … fatal 60) as MSEC's 1..5. */
export function levelOfPino(pinoLevel: number): number {
  if (pinoLevel <= 10) return 1;
  if (pinoLevel <= 20) return 2;
  if (pinoLevel <= 30) return 3;
  if (pinoLevel <= 50) return 4;
  return 5;
}

/** The lowest pino level that maps to MSEC level `n` (ERROR starts at pino's warn). */
export function pinoThreshold(n: number): 'trace' | 'debug' | 'info' | 'warn' | 'fatal' {
  return n <= 1 ? 'trace' : n === 2 ? 'debug' : n === 3 ? 'info' : n === 4 ? 'warn' : 'fatal';
}
