import protobuf from 'protobufjs';

/**
 * Checks an IDL version (.proto text) before it is stored: MSEC generates caller stubs and
 * dev packages from a stored IDL tag, so a broken file would only fail later, far from the
 * person who saved it. proto2 files without a `syntax` line (like MSEC's own examples) are
 * accepted; message-only files are accepted too (a service may share types with callers).
 */

export interface IdlSummary {
  package: string | null;
  messages: string[];
  enums: string[];
  services: string[];
}

/** The .proto text is not usable. The message keeps protobufjs' own words (with its line). */
export class IdlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdlSyntaxError';
  }
}

/**
 * protobufjs checks every new field against the message's others, so parsing costs the
 * square of a message's field count (20 000 fields took 56 s, frozen); definitions are linear
 * but not free. These caps keep one parse under ~0.1 s, far beyond any real IDL.
 */
export const MAX_FIELDS_PER_MESSAGE = 1000;
export const MAX_DEFINITIONS = 2000;

export function parseIdl(text: string): IdlSummary {
  checkIdlShape(text);
  let parsed: protobuf.IParserResult;
  try {
    parsed = protobuf.parse(text, { keepCase: true });
  } catch (error) {
    throw new IdlSyntaxError(`${messageOf(error)}; fix the .proto and save again`);
  }

  // With imports the referenced types live in files we do not have, so only a
  // self-contained IDL can be checked for misspelt type names.
  if (!parsed.imports?.length) {
    try {
      parsed.root.resolveAll();
    } catch (error) {
      throw new IdlSyntaxError(`${messageOf(error)}; define that type in this file or fix its name`);
    }
  }

  const summary: IdlSummary = { package: parsed.package ?? null, messages: [], enums: [], services: [] };
  collect(parsed.root, summary);
  if (summary.messages.length + summary.enums.length + summary.services.length === 0) {
    throw new IdlSyntaxError('the IDL defines no message, enum or service; add at least one definition');
  }
  return summary;
}

/**
 * A quick count before the real parse: statements per message body (fields, including those
 * of its oneofs) and definitions (message, enum, service blocks). Comments and string
 * literals are skipped so they cannot hide or fake braces.
 */
function checkIdlShape(text: string): void {
  const blocks: { kind: string; name: string; statements: number }[] = [];
  let definitions = 0;
  let word = '';
  let previous = '';
  let beforePrevious = '';
  const endWord = () => {
    if (!word) return;
    beforePrevious = previous;
    previous = word;
    word = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      endWord();
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      endWord();
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    if (c === '"' || c === "'") {
      endWord();
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (/[A-Za-z0-9_.]/.test(c)) {
      word += c;
      continue;
    }
    endWord();
    if (c === '{') {
      const kind = beforePrevious;
      blocks.push({ kind, name: previous, statements: 0 });
      if (kind === 'message' || kind === 'enum' || kind === 'service') {
        if (++definitions > MAX_DEFINITIONS) {
          throw new IdlSyntaxError(`the IDL has more than ${MAX_DEFINITIONS} messages, enums and services; split it into several IDLs`);
        }
      }
    } else if (c === '}') {
      blocks.pop();
    } else if (c === ';') {
      // A oneof's fields belong to its message.
      const owner = [...blocks].reverse().find((b) => b.kind !== 'oneof');
      if (owner?.kind === 'message' && ++owner.statements > MAX_FIELDS_PER_MESSAGE) {
        throw new IdlSyntaxError(`message ${owner.name} has more than ${MAX_FIELDS_PER_MESSAGE} fields; split it into smaller messages`);
      }
    }
  }
}

function collect(namespace: protobuf.NamespaceBase, summary: IdlSummary): void {
  for (const item of namespace.nestedArray) {
    const name = item.fullName.replace(/^\./, '');
    if (item instanceof protobuf.Type) summary.messages.push(name);
    else if (item instanceof protobuf.Enum) summary.enums.push(name);
    else if (item instanceof protobuf.Service) summary.services.push(name);
    if (item instanceof protobuf.Namespace) collect(item, summary); // packages and nested types (Type is a Namespace)
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
