/**
 * A service's IDL at run time: load a .proto (proto2 or proto3, a path or the text), find
 * its services and methods by full name (`flight.flight_service.queryFlight`), and turn
 * messages into bytes and back, refusing proto2 messages that lack a `required` field.
 *
 * Objects handed to handlers and callers are plain: field names in lowerCamelCase (as
 * protobufjs and protobuf's JSON mapping name them), every field present with its default,
 * 64-bit integers as decimal strings, enums as names, bytes as Buffers.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { RpcError, RpcErrorCode } from './contracts.ts';

export type ProtoRoot = protobuf.Root;

/** The .proto cannot be used; the message says which file and what to fix. */
export class ProtoLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoLoadError';
  }
}

export interface RpcMethod {
  /** `package.Service.Method` */
  fullName: string;
  /** `Method`, as written in the .proto */
  name: string;
  /** `package.Service` */
  service: string;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const stripDot = (name: string) => (name.startsWith('.') ? name.slice(1) : name);

/** `source` is a file path, or the .proto text itself (anything with a newline or a brace). */
export function loadProto(source: string): ProtoRoot {
  const isText = /[\n{]/.test(source);
  const where = isText ? 'the .proto text' : source;
  const root = new protobuf.Root();
  try {
    if (isText) {
      const parsed = protobuf.parse(source, root, { keepCase: false });
      const imports = (parsed.imports ?? []).filter((file) => !file.startsWith('google/protobuf/'));
      if (imports.length) {
        throw new Error(`it imports ${imports.join(', ')}, which text alone cannot resolve; pass the file's path instead`);
      }
    } else {
      readFileSync(source); // a clearer message than protobufjs' for a missing file
      root.loadSync(source, { keepCase: false });
    }
    root.resolveAll();
  } catch (error) {
    throw new ProtoLoadError(`cannot load ${where}: ${messageOf(error)}; fix the .proto and start again`);
  }
  return root;
}

export function servicesOf(root: ProtoRoot): protobuf.Service[] {
  const found: protobuf.Service[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Service) found.push(nested);
      if (nested instanceof protobuf.Namespace) walk(nested);
    }
  };
  walk(root);
  return found;
}

/** By full name (`flight.flight_service`) or bare name; without a name, the only service. */
export function findService(root: ProtoRoot, name?: string): protobuf.Service {
  const all = servicesOf(root);
  const names = all.map((s) => stripDot(s.fullName));
  if (name === undefined) {
    if (all.length === 1) return all[0]!;
    throw new ProtoLoadError(all.length === 0
      ? 'the .proto defines no service; add a `service { rpc ... }` block'
      : `the .proto defines ${all.length} services (${names.join(', ')}); say which one with the service option`);
  }
  const wanted = stripDot(name);
  const matches = all.filter((s) => stripDot(s.fullName) === wanted || (!wanted.includes('.') && s.name === wanted));
  if (matches.length === 1) return matches[0]!;
  throw new ProtoLoadError(matches.length === 0
    ? `the .proto has no service "${name}"; it has ${names.join(', ') || 'none'}`
    : `"${name}" matches ${matches.map((s) => stripDot(s.fullName)).join(', ')}; use the full name`);
}

export function methodsOf(service: protobuf.Service): RpcMethod[] {
  const serviceName = stripDot(service.fullName);
  return service.methodsArray.map((m) => {
    m.resolve();
    return {
      fullName: `${serviceName}.${m.name}`,
      name: m.name,
      service: serviceName,
      requestType: m.resolvedRequestType!,
      responseType: m.resolvedResponseType!,
    };
  });
}

/** `package.Service.Method`; throws ProtoLoadError naming what the .proto does have. */
export function findMethod(root: ProtoRoot, fullName: string): RpcMethod {
  const name = stripDot(fullName);
  const dot = name.lastIndexOf('.');
  const service = findService(root, dot > 0 ? name.slice(0, dot) : undefined);
  const method = methodsOf(service).find((m) => m.name === name.slice(dot + 1));
  if (method) return method;
  throw new ProtoLoadError(`${stripDot(service.fullName)} has no method "${name.slice(dot + 1)}"; it has ${service.methodsArray.map((m) => m.name).join(', ')}`);
}

// ---- messages ----

const hasRequiredCache = new WeakMap<protobuf.Type, boolean>();

/** Whether the type or any message type inside it has `required` fields. */
function hasRequired(type: protobuf.Type): boolean {
  let result = hasRequiredCache.get(type);
  if (result === undefined) {
    const seen = new Set<protobuf.Type>();
    const scan = (t: protobuf.Type): boolean => {
      if (seen.has(t)) return false;
      seen.add(t);
      return t.fieldsArray.some((f) => f.required || (f.resolvedType instanceof protobuf.Type && scan(f.resolvedType)));
    };
    result = scan(type);
    hasRequiredCache.set(type, result);
  }
  return result;
}

/** The path (`leg.origin`) of the first `required` field missing in a message, or null. */
export function missingRequired(type: protobuf.Type, message: Record<string, unknown>, prefix = ''): string | null {
  if (!hasRequired(type)) return null;
  for (const field of type.fieldsArray) {
    const value = Object.prototype.hasOwnProperty.call(message, field.name) ? message[field.name] : undefined;
    if (field.required && value == null) return `${prefix}${field.name}`;
    if (value == null || !(field.resolvedType instanceof protobuf.Type)) continue;
    const inner = field.resolvedType;
    const items = field.repeated ? (value as Record<string, unknown>[]) : field.map ? Object.values(value as object) : [value];
    for (const [i, item] of items.entries()) {
      const at = field.repeated ? `${prefix}${field.name}[${i}].` : `${prefix}${field.name}.`;
      const missing = missingRequired(inner, item as Record<string, unknown>, at);
      if (missing) return missing;
    }
  }
  return null;
}

const toObjectOptions: protobuf.IConversionOptions = { longs: String, enums: String, bytes: Buffer, defaults: true, arrays: true, objects: true };
const toJsonOptions: protobuf.IConversionOptions = { ...toObjectOptions, bytes: String, json: true };

const badRequest = (type: protobuf.Type, problem: string) =>
  new RpcError(RpcErrorCode.BAD_REQUEST, `${problem} in ${stripDot(type.fullName)}; fix the request`);

/** Protobuf bytes as a plain object; RpcError(BAD_REQUEST) names a missing required field. */
export function decodeMessage<T = Record<string, unknown>>(type: protobuf.Type, bytes: Uint8Array): T {
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (error) {
    const missing = /^missing required '(.*)'$/.exec(messageOf(error));
    throw badRequest(type, missing ? `the required field "${missing[1]}" is missing` : `the bytes do not decode (${messageOf(error)})`);
  }
  return type.toObject(message, toObjectOptions) as T;
}

/** A plain object as protobuf bytes; throws a TypeError naming a missing required field. */
export function encodeMessage(type: protobuf.Type, object: object): Uint8Array {
  const message = object instanceof type.ctor ? (object as protobuf.Message) : type.fromObject(object);
  const missing = missingRequired(type, message as unknown as Record<string, unknown>);
  if (missing) throw new TypeError(`the required field "${missing}" of ${stripDot(type.fullName)} is not set`);
  return type.encode(message).finish();
}

/** Accepts field names as written in the .proto or in lowerCamelCase; unknown names are refused. */
function normalizeJson(type: protobuf.Type, json: unknown, path: string): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw badRequest(type, `${path || 'the body'} must be a JSON object`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key] ?? type.fields[protobuf.util.camelCase(key)];
    if (!field) throw badRequest(type, `unknown field "${path}${key}"`);
    const inner = field.resolvedType;
    if (value != null && !(inner instanceof protobuf.Type)) {
      const items = field.repeated ? (Array.isArray(value) ? value : [Symbol('not a list')]) : [value];
      items.forEach((item, i) => checkScalarJson(type, field, item, `${path}${key}${field.repeated ? `[${i}]` : ''}`));
    }
    if (!(inner instanceof protobuf.Type) || value == null) {
      out[field.name] = value;
    } else if (field.repeated && Array.isArray(value)) {
      out[field.name] = value.map((item, i) => normalizeJson(inner, item, `${path}${key}[${i}].`));
    } else if (field.map && typeof value === 'object') {
      out[field.name] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeJson(inner, v, `${path}${key}.${k}.`)]));
    } else {
      out[field.name] = normalizeJson(inner, value, `${path}${key}.`);
    }
  }
  return out;
}

const integerTypes = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/**
 * protobuf's JSON mapping is strict where protobufjs's fromObject converts: "no" is not a
 * bool, "abc" not a number, an object not a string. Integers may be JSON numbers or decimal
 * strings, floats numbers or NaN/Infinity strings, bytes base64 strings, enums names or numbers.
 */
function checkScalarJson(type: protobuf.Type, field: protobuf.Field, value: unknown, where: string): void {
  const kind = field.resolvedType instanceof protobuf.Enum ? 'enum' : field.type;
  const ok = (() => {
    if (kind === 'string' || kind === 'bytes') return typeof value === 'string';
    if (kind === 'bool') return typeof value === 'boolean';
    if (kind === 'enum') return typeof value === 'string' ? value in (field.resolvedType as protobuf.Enum).values : Number.isInteger(value);
    if (integerTypes.has(kind)) return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));
    if (kind === 'double' || kind === 'float') return typeof value === 'number' || (typeof value === 'string' && /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|NaN|-?Infinity)$/.test(value));
    return true;
  })();
  const wanted = kind === 'enum' ? 'one of the enum\'s names or numbers'
    : integerTypes.has(kind) ? 'an integer (a JSON number or a decimal string)'
      : kind === 'bool' ? 'a JSON boolean' : kind === 'string' || kind === 'bytes' ? 'a JSON string' : 'a JSON number';
  if (!ok) throw badRequest(type, `field "${where}" must be ${wanted}, not ${JSON.stringify(value) ?? typeof value}`);
}

/** A parsed JSON body (protobuf's JSON mapping) as a plain object; RpcError(BAD_REQUEST) on mismatch. */
export function messageFromJson<T = Record<string, unknown>>(type: protobuf.Type, json: unknown): T {
  let message: protobuf.Message;
  try {
    message = type.fromObject(normalizeJson(type, json, '') as Record<string, unknown>);
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw badRequest(type, `the JSON does not match (${messageOf(error)})`);
  }
  const missing = missingRequired(type, message as unknown as Record<string, unknown>);
  if (missing) throw badRequest(type, `the required field "${missing}" is missing`);
  return type.toObject(message, toObjectOptions) as T;
}

/** A plain object in protobuf's JSON mapping (64-bit integers as strings, bytes as base64). */
export function messageToJson(type: protobuf.Type, object: object): Record<string, unknown> {
  const message = object instanceof type.ctor ? (object as protobuf.Message) : type.fromObject(object);
  const missing = missingRequired(type, message as unknown as Record<string, unknown>);
  if (missing) throw new TypeError(`the required field "${missing}" of ${stripDot(type.fullName)} is not set`);
  return type.toObject(message, toJsonOptions);
}
