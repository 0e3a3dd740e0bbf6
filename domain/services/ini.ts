/**
 * A small, strict INI parser for config versions. MSEC services read their config with
 * SRPC's INI reader (`[LOG] Level=…`, `[COLOR] FieldName1=…`), and a typo there only shows
 * up when the service starts on a business host. Refusing anything ambiguous at save time
 * moves that failure to the console, with the line to fix.
 *
 * Accepted lines: blank, comments starting with ";" or "#", `[SECTION]`, `key=value`.
 * Values are kept verbatim after trimming (a "#" inside a value is part of the value).
 */

export type IniSection = ReadonlyMap<string, string>;
export type IniDocument = ReadonlyMap<string, IniSection>;

/** A line of the text that is not INI. `line` is 1-based. */
export class IniSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, problem: string) {
    super(`line ${line}: ${problem}`);
    this.name = 'IniSyntaxError';
    this.line = line;
  }
}

const sectionPattern = /^\[([^\]]*)\]$/;
const namePattern = /^[A-Za-z0-9_.-]+$/;

export function parseIni(text: string): IniDocument {
  const sections = new Map<string, Map<string, string>>();
  const sectionLines = new Map<string, number>();
  const keyLines = new Map<string, number>();
  let current: { name: string; entries: Map<string, string> } | null = null;

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;

    const section = sectionPattern.exec(line);
    if (section) {
      const name = section[1]!.trim();
      if (!namePattern.test(name)) {
        throw new IniSyntaxError(lineNumber, `section name "${name}" must be letters, digits, "_", "." or "-", e.g. [LOG]`);
      }
      const earlier = sectionLines.get(name);
      if (earlier !== undefined) {
        throw new IniSyntaxError(lineNumber, `section [${name}] already starts on line ${earlier}; merge the two sections`);
      }
      sectionLines.set(name, lineNumber);
      current = { name, entries: new Map() };
      sections.set(name, current.entries);
      continue;
    }

    const equals = line.indexOf('=');
    if (equals < 0) {
      throw new IniSyntaxError(lineNumber, `"${line}" is neither [SECTION], key=value nor a comment (start comments with ";" or "#")`);
    }
    const key = line.slice(0, equals).trim();
    if (!namePattern.test(key)) {
      throw new IniSyntaxError(lineNumber, key === ''
        ? 'the key before "=" is missing; write key=value'
        : `key "${key}" must be letters, digits, "_", "." or "-"`);
    }
    if (current === null) {
      throw new IniSyntaxError(lineNumber, `"${key}" comes before any section; put a section header such as [SRPC] above it`);
    }
    const { name, entries } = current;
    const earlier = keyLines.get(`${name}\u0000${key}`);
    if (earlier !== undefined) {
      throw new IniSyntaxError(lineNumber, `key "${key}" is already set in [${name}] on line ${earlier}; keep one of them`);
    }
    keyLines.set(`${name}\u0000${key}`, lineNumber);
    entries.set(key, line.slice(equals + 1).trim());
  }

  return sections;
}
