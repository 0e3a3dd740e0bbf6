import protobuf from 'protobufjs';
import { IdlSyntaxError } from '../../domain/services/idl.ts';
import { messageDefaults } from './defaults.ts';
import { safeIdentifier } from './names.ts';

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
  /**
   * A default value of a message, as TypeScript source (`{ errcode: 0, errmsg: '' }`); one that
   * cannot be complete (a recursive required message) is cast: `{ … } as T` (defaults.ts).
   */
  defaultOf(tsName: string): string;
  /** The same default as JSON (bytes as ''), e.g. for a curl example. */
  exampleJson(tsName: string): string;
}

const scalarTypes: Record<string, string> = {
  double: 'number', float: 'number', int32: 'number', uint32: 'number', sint32: 'number', fixed32: 'number', sfixed32: 'number',
  int64: 'string', uint64: 'string', sint64: 'string', fixed64: 'string', sfixed64: 'string',
  bool: 'boolean', string: 'string', bytes: 'Uint8Array',
};

/**
 * Parses the .proto text (IdlSyntaxError when unusable, as when it was stored) and builds the
 * model. It is parsed once: protobufjs takes time quadratic in the fields of a message.
 */
export function idlModel(idlText: string): IdlModel {
  let parsed: protobuf.IParserResult;
  try {
    parsed = protobuf.parse(idlText, { keepCase: false });
  } catch (error) {
    throw new IdlSyntaxError(`${(error as Error).message}; fix the .proto and save it again`);
  }
  const { root } = parsed;
  let resolved = true;
  try {
    root.resolveAll();
  } catch (error) {
    // With imports, types from other files stay `unknown`; without, a type name is misspelt.
    if (!parsed.imports?.length) throw new IdlSyntaxError(`${(error as Error).message}; define that type in this file or fix its name`);
    resolved = false;
  }
  const pkg = parsed.package ?? null;
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
  const defaults = messageDefaults(model.messages, model.enums);
  model.defaultOf = defaults.typeScript;
  model.exampleJson = defaults.json;
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
