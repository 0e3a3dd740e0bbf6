/**
 * What a config version says about business logs (MSEC's config template):
 *   [LOG]
 *   Level = DEBUG
 *   [COLOR]
 *   FieldName1 = Caller        ; a header (ReqID, ClientIP, ServerIP, RPCName, Caller, ServiceName)
 *   FieldValue1 = Shop.front   ; or a custom field of the service
 */
import type { IniDocument } from '../services/ini.ts';
import { headerNamed, type ColorRule } from './fields.ts';
import { parseLevel, type LogLevel } from './levels.ts';

/** [LOG] Level and [COLOR] pairs of a config file; problems are given back for a warning. */
export function configLogSettings(config: IniDocument): { level?: LogLevel; rules: ColorRule[]; problems: string[] } {
  const problems: string[] = [];
  const section = (name: string) => [...config].find(([n]) => n.toUpperCase() === name)?.[1];
  const log = section('LOG');
  let level: LogLevel | undefined;
  const levelText = log && [...log].find(([k]) => k.toLowerCase() === 'level')?.[1];
  if (levelText !== undefined) {
    level = parseLevel(levelText);
    if (!level) problems.push(`[LOG] Level = ${levelText} is not one of TRACE, DEBUG, INFO, ERROR, FATAL; using the default`);
  }
  const rules: ColorRule[] = [];
  const color = section('COLOR');
  if (color) {
    const entries = new Map([...color].map(([k, v]) => [k.toLowerCase(), v]));
    for (const [key, field] of entries) {
      const n = /^fieldname(\d+)$/.exec(key)?.[1];
      if (n === undefined) continue;
      const value = entries.get(`fieldvalue${n}`);
      if (value === undefined) {
        problems.push(`[COLOR] FieldName${n} = ${field} has no FieldValue${n}; the pair is ignored`);
        continue;
      }
      rules.push({ field: headerNamed(field) ?? field, value });
    }
  }
  return { level, rules, problems };
}
