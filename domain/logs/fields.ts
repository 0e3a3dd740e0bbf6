/**
 * What a business-log record carries besides its message (MSEC's rpc/srpc_log.cpp): the
 * headers every record has, filled by the runtime, and the custom fields a service declares
 * (MSEC's getFieldsReq / modifyFieldsReq), typed int or string. Names and values are checked
 * here, for the console, the SDK and the ingestion alike.
 */
import { refuse } from '../decider.ts';

/** MSEC's header names, as [COLOR] FieldNameN and `msec log color` write them. */
export const logHeaders = ['ReqID', 'ClientIP', 'ServerIP', 'RPCName', 'Caller', 'ServiceName'] as const;
export type LogHeader = (typeof logHeaders)[number];

/** Other spellings of the headers (the JSON names of records, any case). */
const headerAliases: Readonly<Record<string, LogHeader>> = {
  reqid: 'ReqID', requestid: 'ReqID', request_id: 'ReqID',
  clientip: 'ClientIP', client_ip: 'ClientIP',
  serverip: 'ServerIP', server_ip: 'ServerIP',
  rpcname: 'RPCName', rpc_name: 'RPCName', rpc: 'RPCName',
  caller: 'Caller',
  servicename: 'ServiceName', service: 'ServiceName',
};

/** The header a name means (any case, MSEC's or the JSON spelling), or undefined. */
export function headerNamed(name: string): LogHeader | undefined {
  return typeof name === 'string' ? headerAliases[name.toLowerCase()] : undefined;
}

export const fieldTypes = ['int', 'string'] as const;
export type FieldType = (typeof fieldTypes)[number];

export interface FieldDeclaration {
  name: string;
  type: FieldType;
}

export interface ColorRule {
  /** A header (canonical MSEC name) or a custom field name. */
  field: string;
  value: string;
}

export const MAX_FIELDS = 32;
export const MAX_COLOR_RULES = 32;
/** Characters of a field or rule value; longer record values are cut by the SDK. */
export const MAX_FIELD_VALUE = 1024;
/** Letters, digits, `_`; not `__…` (no `__proto__` among the keys of a record's fields). */
export const fieldNamePattern = /^(?!__)[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Keys pino and the runtime put in records themselves: never custom fields. */
const reservedKeys = new Set(['msg', 'level', 'time', 'pid', 'hostname', 'name', 'err', 'error', 'method', 'v']);

export function isFieldName(name: string): boolean {
  return typeof name === 'string' && fieldNamePattern.test(name) && !reservedKeys.has(name.toLowerCase()) && headerNamed(name) === undefined;
}

export function checkFieldName(name: string): string {
  if (typeof name !== 'string' || !fieldNamePattern.test(name)) {
    return refuse('invalid', `field name "${String(name).slice(0, 80)}" is not valid: use 1-64 letters, digits and "_", not starting with a digit nor "__" (e.g. orderId)`);
  }
  if (headerNamed(name) !== undefined) {
    return refuse('invalid', `"${name}" is a header every record has (${headerNamed(name)}); a custom field needs another name`);
  }
  if (reservedKeys.has(name.toLowerCase())) {
    return refuse('invalid', `"${name}" is a key pino writes itself; choose another field name`);
  }
  return name;
}

export function checkFieldType(type: string): FieldType {
  if (!(fieldTypes as readonly string[]).includes(type)) {
    return refuse('invalid', `field type "${String(type).slice(0, 20)}" is not known: use int or string`);
  }
  return type as FieldType;
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** An int field's value as canonical decimal text, or undefined when it is not a 64-bit integer. */
export function intValue(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return value >= int64Min && value <= int64Max ? value.toString() : undefined;
  if (typeof value === 'string' && /^-?\d{1,19}$/.test(value.trim())) {
    const n = BigInt(value.trim());
    return n >= int64Min && n <= int64Max ? n.toString() : undefined;
  }
  return undefined;
}

/**
 * A record value of a field as stored: int → canonical decimal (undefined when not an
 * integer); string → the text of a string, number or boolean, cut to MAX_FIELD_VALUE.
 */
export function fieldValue(type: FieldType, value: unknown): string | undefined {
  if (type === 'int') return intValue(value);
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else return undefined;
  return text.length > MAX_FIELD_VALUE ? `${text.slice(0, MAX_FIELD_VALUE - 1)}…` : text;
}

// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A rule's or filter's value: no control characters, at most MAX_FIELD_VALUE characters. */
export function checkMatchValue(value: string, what: string): string {
  if (typeof value !== 'string') return refuse('invalid', `${what} needs a value`);
  if (value.length > MAX_FIELD_VALUE) return refuse('invalid', `${what}: the value is ${value.length} characters long; at most ${MAX_FIELD_VALUE}`);
  if (controls.test(value)) return refuse('invalid', `${what}: the value holds control characters; records never match them`);
  if (loneSurrogate.test(value)) return refuse('invalid', `${what}: the value is not well-formed Unicode`);
  return value;
}
