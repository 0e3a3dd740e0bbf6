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

export function parseIdl(text: string): IdlSummary {
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
