import type { EnumModel, FieldModel, MessageModel } from './idl-model.ts';
import { propertyName } from './names.ts';

/**
 * Default values of messages, for the TODO answers of generated handlers, the generated
 * client's requests and the README's curl example: '' and 0 for scalars ('0' for 64-bit),
 * the first name of an enum, [] and {} for lists and maps, a nested default for a required
 * message field. Optional message fields and oneof members are left out.
 *
 * The work is bounded whatever the IDL: a message already being expanded on the way down is
 * not expanded again (a required field of its own type has no finite value), one value holds
 * at most `fieldsPerValue` fields, and one generation emits at most `fieldsPerGeneration`.
 * Without these a 250-byte IDL (`message A { required A a = 1; required A b = 2; … }` and a
 * few RPCs) made fields^depth × methods of source and froze the console. A value that had to
 * be cut is incomplete: its TypeScript source says so with `as Type` (it still type-checks;
 * the user writes the real value in place of the TODO).
 */

export const fieldsPerValue = 2000;
export const fieldsPerGeneration = 200_000;

type DefaultValue = string | number | boolean | Uint8Array | DefaultValue[] | { [key: string]: DefaultValue };

export interface DefaultOf {
  value: { [key: string]: DefaultValue };
  /** False when a field was left out that the type requires (recursion or a budget). */
  complete: boolean;
}

export interface Defaults {
  /** The default of a message, as TypeScript source; `{ … } as T` when incomplete. */
  typeScript(tsName: string): string;
  /** The same default as JSON (bytes as ''), e.g. for a curl example. */
  json(tsName: string): string;
}

const scalarDefaults: Record<string, DefaultValue> = {
  double: 0, float: 0, int32: 0, uint32: 0, sint32: 0, fixed32: 0, sfixed32: 0,
  int64: '0', uint64: '0', sint64: '0', fixed64: '0', sfixed64: '0',
  bool: false, string: '', bytes: new Uint8Array(),
};

/** The defaults of one generation (one dev package or one set of stubs): budgets are per instance. */
export function messageDefaults(messages: readonly MessageModel[], enums: readonly EnumModel[]): Defaults {
  const enumsByName = new Map(enums.map((e) => [e.tsName, e]));
  const messagesByName = new Map(messages.map((m) => [m.tsName, m]));
  const built = new Map<string, DefaultOf & { fields: number }>();
  let generationLeft = fieldsPerGeneration;

  const build = (m: MessageModel): DefaultOf & { fields: number } => {
    const state = { left: fieldsPerValue, complete: true };
    const onPath = new Set<string>();
    const messageValue = (msg: MessageModel): { [key: string]: DefaultValue } => {
      onPath.add(msg.tsName);
      const out: { [key: string]: DefaultValue } = {};
      for (const f of msg.fields) {
        if (f.oneof) continue;
        if (state.left <= 0) {
          if (f.required) state.complete = false;
          continue;
        }
        state.left--; // taken before the nested fields, so they see what is left
        const v = fieldValue(f);
        if (v === undefined) state.left++;
        else out[f.name] = v;
      }
      onPath.delete(msg.tsName);
      return out;
    };
    const fieldValue = (f: FieldModel): DefaultValue | undefined => {
      if (f.tsType.startsWith('Record<')) return {};
      if (f.tsType.endsWith('[]') || f.tsType.startsWith('Array<')) return [];
      const scalar = scalarDefaults[f.protoType];
      if (scalar !== undefined) return scalar instanceof Uint8Array ? new Uint8Array() : scalar;
      const e = enumsByName.get(f.tsType);
      if (e) return e.values[0];
      const nested = messagesByName.get(f.tsType);
      if (nested === undefined || !f.required) return undefined;
      if (onPath.has(nested.tsName)) {
        state.complete = false;
        return undefined;
      }
      return messageValue(nested);
    };
    const value = messageValue(m);
    return { value, complete: state.complete, fields: fieldsPerValue - state.left };
  };

  const valueOf = (tsName: string): DefaultOf => {
    const m = messagesByName.get(tsName);
    if (m === undefined) return { value: {}, complete: true };
    let b = built.get(tsName);
    const empty = { value: {}, complete: !m.fields.some((f) => f.required) };
    if (b === undefined) {
      if (generationLeft <= 0) return empty;
      b = build(m);
      built.set(tsName, b);
    }
    if (b.fields > generationLeft) return empty;
    generationLeft -= b.fields;
    return b;
  };

  return {
    typeScript(tsName) {
      const { value, complete } = valueOf(tsName);
      const source = typeScriptSource(value);
      return complete ? source : `${source} as ${tsName}`;
    },
    json: (tsName) => JSON.stringify(valueOf(tsName).value, (_k, v: unknown) => (v instanceof Uint8Array ? '' : v)),
  };
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
