import protobuf from 'protobufjs';
import { parseIdl } from '../../domain/services/idl.ts';

/**
 * What the generators need to know of an IDL: its services and methods, and every message
 * and enum as a TypeScript shape. The shapes follow what msec's runtime hands a handler:
 * field names in lowerCamelCase (protobufjs' default, also protobuf's JSON mapping), 64-bit
 * integers as decimal strings, enums by name, bytes as Uint8Array.
 */

export interface FieldModel {
  /** Property name (lowerCamelCase). */
  name: string;
  tsType: string;
  /** The field's type in the .proto (`int64`, `queryFlightRequest`…). */
  protoType: string;
  /** proto2 `required`: always present, also in an answer. */
  required: boolean;
  /** The field in the .proto, for comments: `required string name = 1`. */
  declaration: string;
  /** A member of a oneof: only one of its fields may be set, so defaults leave it out. */
  oneof: boolean;
}

export interface MessageModel {
  tsName: string;
  fullName: string;
  fields: FieldModel[];
}

export interface EnumModel {
  tsName: string;
  fullName: string;
  values: string[];
}

export interface MethodModel {
  name: string;
  /** `package.Service.Method`, the name on the wire. */
  fullName: string;
  requestType: string;
  responseType: string;
  /** Streaming RPCs have no place in msec's request/answer frames; generators skip them. */
  streaming: boolean;
}

export interface ServiceModel {
  name: string;
  /** `package.Service`. */
  fullName: string;
  methods: MethodModel[];
}

export interface IdlModel {
  package: string | null;
  messages: MessageModel[];
  enums: EnumModel[];
  services: ServiceModel[];
  /** A default value of a message, as TypeScript source (`{ errcode: 0, errmsg: '' }`). */
  defaultOf(tsName: string): string;
  /** The same default as JSON (bytes as ''), e.g. for a curl example. */
  exampleJson(tsName: string): string;
}

const scalarTypes: Record<string, string> = {
  double: 'number', float: 'number', int32: 'number', uint32: 'number', sint32: 'number', fixed32: 'number', sfixed32: 'number',
  int64: 'string', uint64: 'string', sint64: 'string', fixed64: 'string', sfixed64: 'string',
  bool: 'boolean', string: 'string', bytes: 'Uint8Array',
};

/** Words that cannot name a TypeScript interface or a function. */
const reserved = new Set([
  'any', 'boolean', 'number', 'string', 'symbol', 'object', 'never', 'unknown', 'undefined', 'void', 'null', 'bigint',
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'return', 'super', 'switch',
  'this', 'throw', 'true', 'try', 'typeof', 'var', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface',
  'package', 'private', 'protected', 'public', 'await', 'arguments', 'eval', 'type', 'Uint8Array', 'Promise', 'Record',
  'CallContext', 'CallOptions', 'Client', 'HandlerContext',
]);

/** An identifier safe as a TypeScript name (a reserved word gets a trailing `_`). */
export function safeIdentifier(name: string): string {
  return reserved.has(name) ? `${name}_` : name;
}

/** Parses the .proto text (IdlSyntaxError when unusable) and builds the model. */
export function idlModel(idlText: string): IdlModel {
  const summary = parseIdl(idlText);
  const root = protobuf.parse(idlText, { keepCase: false }).root;
  let resolved = true;
  try {
    root.resolveAll();
  } catch {
    resolved = false; // imports: types from other files stay `unknown`
  }
  const pkg = summary.package;
  const tsNameOf = (fullName: string) => {
    const bare = fullName.replace(/^\./, '');
    const local = pkg && bare.startsWith(`${pkg}.`) ? bare.slice(pkg.length + 1) : bare;
    return safeIdentifier(local.replace(/\./g, '_'));
  };

  const model: IdlModel = { package: pkg, messages: [], enums: [], services: [], defaultOf: () => '{}', exampleJson: () => '{}' };
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const item of ns.nestedArray) {
      if (item instanceof protobuf.Type) model.messages.push(messageModel(item, tsNameOf, resolved));
      else if (item instanceof protobuf.Enum) {
        model.enums.push({ tsName: tsNameOf(item.fullName), fullName: item.fullName.slice(1), values: Object.keys(item.values) });
      } else if (item instanceof protobuf.Service) model.services.push(serviceModel(item, tsNameOf));
      if (item instanceof protobuf.Namespace) visit(item);
    }
  };
  visit(root);
  fillDefaults(model);
  return model;
}

function messageModel(type: protobuf.Type, tsNameOf: (n: string) => string, resolved: boolean): MessageModel {
  const fields = type.fieldsArray.map((f): FieldModel => {
    let base: string;
    if (f.type in scalarTypes) base = scalarTypes[f.type]!;
    else if (resolved && f.resolvedType) base = tsNameOf(f.resolvedType.fullName);
    else base = 'unknown';
    const tsType = f.map ? `Record<string, ${base}>` : f.repeated ? `${arrayOf(base)}` : base;
    const label = f instanceof protobuf.MapField ? `map<${f.keyType}, ${f.type}>` : `${f.required ? 'required ' : f.repeated ? 'repeated ' : ''}${f.type}`;
    // proto3 `optional` makes a synthetic oneof named `_field`: not a real choice.
    const oneof = f.partOf !== null && f.partOf !== undefined && !f.partOf.name.startsWith('_');
    return { name: f.name, tsType, protoType: f.type, required: f.required, declaration: `${label} ${f.name} = ${f.id}`, oneof };
  });
  return { tsName: tsNameOf(type.fullName), fullName: type.fullName.slice(1), fields };
}

function arrayOf(base: string): string {
  return /^[A-Za-z0-9_]+$/.test(base) ? `${base}[]` : `Array<${base}>`;
}

function serviceModel(service: protobuf.Service, tsNameOf: (n: string) => string): ServiceModel {
  const fullName = service.fullName.slice(1);
  return {
    name: service.name,
    fullName,
    methods: service.methodsArray.map((m) => ({
      name: m.name,
      fullName: `${fullName}.${m.name}`,
      requestType: m.resolvedRequestType ? tsNameOf(m.resolvedRequestType.fullName) : 'Record<string, unknown>',
      responseType: m.resolvedResponseType ? tsNameOf(m.resolvedResponseType.fullName) : 'Record<string, unknown>',
      streaming: m.requestStream === true || m.responseStream === true,
    })),
  };
}

type DefaultValue = string | number | boolean | Uint8Array | DefaultValue[] | { [key: string]: DefaultValue };

/**
 * Default values: '' and 0 for scalars ('0' for 64-bit), the first name of an enum, [] and
 * {} for lists and maps, a nested default for a required message field. Optional message
 * fields and oneof members are left out.
 */
function fillDefaults(model: IdlModel): void {
  const enums = new Map(model.enums.map((e) => [e.tsName, e]));
  const messages = new Map(model.messages.map((m) => [m.tsName, m]));
  const messageDefault = (m: MessageModel, depth: number): { [key: string]: DefaultValue } => {
    const out: { [key: string]: DefaultValue } = {};
    for (const f of m.fields) {
      if (f.oneof) continue;
      const v = fieldDefault(f, depth);
      if (v !== undefined) out[f.name] = v;
    }
    return out;
  };
  const fieldDefault = (f: FieldModel, depth: number): DefaultValue | undefined => {
    if (f.tsType.startsWith('Record<')) return {};
    if (f.tsType.endsWith('[]') || f.tsType.startsWith('Array<')) return [];
    if (f.protoType in scalarTypes) {
      if (/64$/.test(f.protoType)) return '0';
      return ({ number: 0, string: '', boolean: false, Uint8Array: new Uint8Array() } as const)[f.tsType as 'number'];
    }
    const e = enums.get(f.tsType);
    if (e) return e.values[0];
    const nested = messages.get(f.tsType);
    if (nested && f.required && depth < 8) return messageDefault(nested, depth + 1);
    return undefined;
  };
  const valueOf = (tsName: string) => {
    const m = messages.get(tsName);
    return m ? messageDefault(m, 0) : {};
  };
  model.defaultOf = (tsName) => typeScriptSource(valueOf(tsName));
  model.exampleJson = (tsName) => JSON.stringify(valueOf(tsName), (_k, v: unknown) => (v instanceof Uint8Array ? '' : v));
}

/** A default value as TypeScript source: `{ errcode: 0, errmsg: '' }`. */
function typeScriptSource(value: DefaultValue): string {
  if (value instanceof Uint8Array) return 'new Uint8Array()';
  if (Array.isArray(value)) return `[${value.map(typeScriptSource).join(', ')}]`;
  if (typeof value === 'object') {
    const parts = Object.entries(value).map(([k, v]) => `${propertyName(k)}: ${typeScriptSource(v)}`);
    return parts.length ? `{ ${parts.join(', ')} }` : '{}';
  }
  return typeof value === 'string' ? `'${value.replace(/[\\']/g, '\\$&')}'` : String(value);
}

/** A property key as TypeScript source (quoted when it is not a plain identifier). */
export function propertyName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : `'${name}'`;
}
