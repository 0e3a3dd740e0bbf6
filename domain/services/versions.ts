import { refuse } from '../decider.ts';
import { IdlSyntaxError, parseIdl } from './idl.ts';
import { IniSyntaxError, parseIni } from './ini.ts';

/** Rules for config and IDL versions: a tagged text with a memo, immutable once saved. */

/** Texts travel inside events; 1 MiB keeps one event well inside every store's limits. */
export const MAX_VERSION_TEXT_BYTES = 1024 * 1024;
/** MSEC stored the memo in varchar(140). */
export const MAX_MEMO_LENGTH = 140;

export function checkMemo(memo: string): string {
  if (typeof memo !== 'string') return refuse('invalid', 'memo must be text (it may be empty)');
  const length = [...memo].length; // characters, as MySQL counts varchar, not UTF-16 units
  if (length > MAX_MEMO_LENGTH) {
    return refuse('invalid', `memo is ${length} characters long; shorten it to at most ${MAX_MEMO_LENGTH}`);
  }
  return memo;
}

function checkSize(text: string, what: string): void {
  if (typeof text !== 'string') refuse('invalid', `${what} text is required`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_VERSION_TEXT_BYTES) {
    refuse('invalid', `${what} is ${bytes} bytes; the limit is ${MAX_VERSION_TEXT_BYTES} bytes (1 MiB), so split or shrink it`);
  }
}

export function checkConfigText(text: string): string {
  checkSize(text, 'config');
  try {
    parseIni(text);
  } catch (error) {
    if (error instanceof IniSyntaxError) {
      return refuse('invalid', `config is not valid INI: ${error.message}`);
    }
    throw error;
  }
  return text;
}

export function checkIdlText(text: string): string {
  checkSize(text, 'IDL');
  try {
    parseIdl(text);
  } catch (error) {
    if (error instanceof IdlSyntaxError) {
      return refuse('invalid', `IDL is not a valid .proto: ${error.message}`);
    }
    throw error;
  }
  return text;
}
