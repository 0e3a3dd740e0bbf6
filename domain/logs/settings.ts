/**
 * The business-log settings of a second-level service, stream `logs-<First>.<Second>`: its
 * level, its coloring rules and its custom fields, as changed in the console or with
 * `msec log …` (MSEC's SetBusinessLog page), without a new config version. A config
 * version's [LOG] Level and [COLOR] pairs still apply where these say nothing (level) or
 * beside them (rules). The console checks that the service exists before it asks.
 */
import { isIpAddress } from './ip.ts';
import { refuse, type Decider } from '../decider.ts';
import { parseSecondLevelName } from '../services/names.ts';
import {
  MAX_COLOR_RULES, MAX_FIELDS, checkFieldName, checkFieldType, checkMatchValue, headerNamed, intValue,
  type ColorRule, type FieldDeclaration, type FieldType,
} from './fields.ts';
import { checkLevel, type LogLevel } from './levels.ts';

export type LogSettingsCommand =
  /** `level` '' goes back to the config version's level. */
  | { type: 'SetLogLevel'; service: string; level: string }
  | { type: 'AddColorRule'; service: string; field: string; value: string }
  | { type: 'RemoveColorRule'; service: string; field: string; value: string }
  | { type: 'AddLogField'; service: string; name: string; fieldType: string }
  | { type: 'DeleteLogField'; service: string; name: string };

export type LogSettingsEvent =
  | { type: 'LogLevelSet'; data: { service: string; level: string } }
  | { type: 'LogColorRuleAdded'; data: { service: string; field: string; value: string } }
  | { type: 'LogColorRuleRemoved'; data: { service: string; field: string; value: string } }
  | { type: 'LogFieldAdded'; data: { service: string; name: string; type: string } }
  | { type: 'LogFieldDeleted'; data: { service: string; name: string } };

export const logSettingsEventTypes = ['LogLevelSet', 'LogColorRuleAdded', 'LogColorRuleRemoved', 'LogFieldAdded', 'LogFieldDeleted'] as const;

export interface LogSettingsState {
  /** null: the config version's level. */
  level: LogLevel | null;
  colorRules: readonly ColorRule[];
  fields: readonly FieldDeclaration[];
}

export const emptyLogSettings: LogSettingsState = { level: null, colorRules: [], fields: [] };

export function evolveLogSettings(state: LogSettingsState, event: LogSettingsEvent): LogSettingsState {
  switch (event.type) {
    case 'LogLevelSet':
      return { ...state, level: (event.data.level || null) as LogLevel | null };
    case 'LogColorRuleAdded':
      return { ...state, colorRules: [...state.colorRules.filter((r) => !sameRule(r, event.data)), { field: event.data.field, value: event.data.value }] };
    case 'LogColorRuleRemoved':
      return { ...state, colorRules: state.colorRules.filter((r) => !sameRule(r, event.data)) };
    case 'LogFieldAdded':
      return { ...state, fields: [...state.fields.filter((f) => f.name !== event.data.name), { name: event.data.name, type: event.data.type as FieldType }] };
    case 'LogFieldDeleted':
      return { ...state, fields: state.fields.filter((f) => f.name !== event.data.name) };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export const logSettingsDecider: Decider<LogSettingsCommand, LogSettingsEvent, LogSettingsState> = {
  initialState: () => emptyLogSettings,
  evolve: evolveLogSettings,
  decide,
};

function decide(command: LogSettingsCommand, state: LogSettingsState): LogSettingsEvent[] {
  const service = parseSecondLevelName(command.service).full;
  switch (command.type) {
    case 'SetLogLevel': {
      const level = command.level === '' ? '' : checkLevel(command.level);
      return (state.level ?? '') === level ? [] : [{ type: 'LogLevelSet', data: { service, level } }];
    }
    case 'AddColorRule': {
      const rule = checkRule(state, service, command.field, command.value);
      if (state.colorRules.some((r) => sameRule(r, rule))) return [];
      if (state.colorRules.length >= MAX_COLOR_RULES) {
        return refuse('conflict', `${service} has ${MAX_COLOR_RULES} coloring rules already; remove one first`);
      }
      return [{ type: 'LogColorRuleAdded', data: { service, ...rule } }];
    }
    case 'RemoveColorRule': {
      const field = headerNamed(command.field) ?? command.field;
      const declared = state.fields.find((f) => f.name === field);
      const value = declared?.type === 'int' ? (intValue(command.value) ?? command.value) : command.value;
      if (!state.colorRules.some((r) => sameRule(r, { field, value }))) {
        return refuse('not_found', `${service} has no coloring rule ${field}=${value.slice(0, 80)}; see its rules with msec log settings ${service}`);
      }
      return [{ type: 'LogColorRuleRemoved', data: { service, field, value } }];
    }
    case 'AddLogField': {
      const name = checkFieldName(command.name);
      const type = checkFieldType(command.fieldType);
      const known = state.fields.find((f) => f.name === name);
      if (known?.type === type) return [];
      if (known) return refuse('conflict', `${service} already has the field ${name} as ${known.type}; delete it first to declare it as ${type}`);
      if (state.fields.length >= MAX_FIELDS) return refuse('conflict', `${service} has ${MAX_FIELDS} custom fields already; delete one first`);
      return [{ type: 'LogFieldAdded', data: { service, name, type } }];
    }
    case 'DeleteLogField': {
      if (!state.fields.some((f) => f.name === command.name)) {
        return refuse('not_found', `${service} has no custom field ${String(command.name).slice(0, 80)}`);
      }
      const rule = state.colorRules.find((r) => r.field === command.name);
      if (rule) {
        return refuse('conflict', `the coloring rule ${rule.field}=${rule.value} uses ${command.name}; remove it first: msec log color ${service} ${rule.field}=${rule.value} --remove`);
      }
      return [{ type: 'LogFieldDeleted', data: { service, name: command.name } }];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

/** A rule on a header (any spelling, stored as MSEC's name) or on a declared field, its value checked. */
function checkRule(state: LogSettingsState, service: string, fieldText: string, valueText: string): ColorRule {
  const header = headerNamed(fieldText);
  const what = `the coloring rule ${String(fieldText).slice(0, 64)}=…`;
  const value = checkMatchValue(valueText, what);
  if (header) {
    if (value === '') return refuse('invalid', `${what}: a header rule needs a value`);
    if (header === 'ReqID' && !/^[0-9]{1,20}$/.test(value)) return refuse('invalid', `${what}: ReqID is a decimal request id`);
    if ((header === 'ClientIP' || header === 'ServerIP') && !isIpAddress(value)) return refuse('invalid', `${what}: ${header} must be an IP address`);
    return { field: header, value };
  }
  const declared = state.fields.find((f) => f.name === fieldText);
  if (!declared) {
    const known = state.fields.map((f) => f.name);
    return refuse('invalid', `"${String(fieldText).slice(0, 64)}" is neither a header (${['ReqID', 'ClientIP', 'ServerIP', 'RPCName', 'Caller', 'ServiceName'].join(', ')}) nor a custom field of ${service}`
      + `${known.length ? ` (its fields: ${known.join(', ')})` : ''}; declare it first: msec log field add ${service} ${String(fieldText).slice(0, 64)} --type string`);
  }
  if (declared.type === 'int') {
    const n = intValue(value);
    if (n === undefined) return refuse('invalid', `${what}: ${declared.name} is an int field; give a whole number`);
    return { field: declared.name, value: n };
  }
  return { field: declared.name, value };
}

function sameRule(a: ColorRule, b: ColorRule): boolean {
  return a.field === b.field && a.value === b.value;
}
