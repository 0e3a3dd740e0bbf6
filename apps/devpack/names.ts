/**
 * Names in generated TypeScript. IDL names are free to be JavaScript words (`rpc delete`),
 * names the generated code declares itself (`rpc handlers` once made the handler module
 * declare `handlers` twice, and the project did not start) or names every object inherits
 * (`constructor`, `toString`, `__proto__`). Every name a generator writes goes through here.
 */

/** Words that cannot name a TypeScript interface or a function, or that generated modules declare. */
const reserved = new Set([
  'any', 'boolean', 'number', 'string', 'symbol', 'object', 'never', 'unknown', 'undefined', 'void', 'null', 'bigint',
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'return', 'super', 'switch',
  'this', 'throw', 'true', 'try', 'typeof', 'var', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface',
  'package', 'private', 'protected', 'public', 'await', 'arguments', 'eval', 'type', 'Uint8Array', 'Promise', 'Record',
  'CallContext', 'CallOptions', 'Client', 'HandlerContext', 'handlers',
]);

/** Names every object has through Object.prototype: as keys they need care, as functions they shadow. */
const inherited = new Set(Object.getOwnPropertyNames(Object.prototype));

const identifier = /^[A-Za-z_$][\w$]*$/;

/** Globals a module-level function must not shadow. */
const globals = new Set(['NaN', 'Infinity', 'globalThis', 'Object', 'Array', 'Error', 'JSON', 'Symbol', 'process', 'console']);

/** An identifier safe as a TypeScript type or function name (a reserved word gets a trailing `_`). */
export function safeIdentifier(name: string): string {
  return reserved.has(name) ? `${name}_` : name;
}

/**
 * Names for the functions of one module, by RPC name: never a reserved word, a global, an
 * inherited member, a name in `taken` (imports, declarations of the module) or another
 * function's name. `delete` → `delete_`, `handlers` → `handlers_`, and `foo` beside an RPC
 * `foo_`… gets `foo__`.
 */
export function functionNames(rpcNames: readonly string[], taken: Iterable<string>): Map<string, string> {
  const declared = new Set(taken);
  const fits = (name: string) => identifier.test(name) && !reserved.has(name) && !inherited.has(name) && !globals.has(name);
  // An RPC keeps its own name when it can; the renamed ones must not take another RPC's.
  const used = new Set([...declared, ...rpcNames]);
  const names = new Map<string, string>();
  for (const rpc of rpcNames) {
    if (fits(rpc) && !declared.has(rpc)) {
      names.set(rpc, rpc);
      continue;
    }
    let name = identifier.test(rpc) ? `${rpc}_` : `rpc_${rpc.replace(/[^\w$]/g, '_')}`;
    while (used.has(name) || !fits(name)) name += '_';
    used.add(name);
    names.set(rpc, name);
  }
  return names;
}

/** A property key as TypeScript source (quoted when it is not a plain identifier). */
export function propertyName(name: string): string {
  return identifier.test(name) ? name : `'${name}'`;
}

/**
 * A key in an object literal that makes an own property whatever the name: `'__proto__': x`
 * would set the object's prototype instead, a computed key does not.
 */
export function literalKey(name: string): string {
  return name === '__proto__' ? `['__proto__']` : propertyName(name);
}

/** A key of an interface member: inherited names quoted, so none reads as a special member. */
export function memberKey(name: string): string {
  return inherited.has(name) ? `'${name}'` : propertyName(name);
}

/** `object.name`, or `object['name']` when the name is not a plain identifier. */
export function memberAccess(object: string, name: string): string {
  return identifier.test(name) ? `${object}.${name}` : `${object}['${name}']`;
}
