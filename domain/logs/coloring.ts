/**
 * The coloring rule (MSEC's logsys_api.cpp): a record is kept when its level is at or above
 * the service's level, or the request is colored (coloring = 1, propagated with every call
 * it makes), or a header or custom field of the request equals one of the service's [COLOR]
 * pairs. A pair that matches colors the request from that record on, here and downstream.
 */
import { headerNamed, type ColorRule, type LogHeader } from './fields.ts';

export type RequestHeaders = Readonly<Record<LogHeader, string>>;

/** Rules by what they look at: headers once per request, custom fields per record. */
export interface CompiledRules {
  headers: ReadonlyMap<LogHeader, ReadonlySet<string>>;
  fields: ReadonlyMap<string, ReadonlySet<string>>;
}

export const noRules: CompiledRules = { headers: new Map(), fields: new Map() };

export function compileRules(rules: readonly ColorRule[]): CompiledRules {
  const headers = new Map<LogHeader, Set<string>>();
  const fields = new Map<string, Set<string>>();
  for (const { field, value } of rules) {
    const header = headerNamed(field);
    if (header) {
      const set = headers.get(header) ?? new Set<string>();
      headers.set(header, set.add(value));
    } else {
      const set = fields.get(field) ?? new Set<string>();
      fields.set(field, set.add(value));
    }
  }
  return { headers, fields };
}

/** Whether a header of the request equals a rule's value. */
export function headersMatch(rules: CompiledRules, headers: RequestHeaders): boolean {
  for (const [header, values] of rules.headers) if (values.has(headers[header])) return true;
  return false;
}

/** Whether the field `name` with `value` (as stored: decimal for ints) matches a rule. */
export function fieldMatches(rules: CompiledRules, name: string, value: string): boolean {
  return rules.fields.get(name)?.has(value) === true;
}

/** A record's fate: kept when at or above the level, or colored (by the request or a rule). */
export function keeps(level: number, threshold: number, colored: boolean): boolean {
  return colored || level >= threshold;
}
