/**
 * Client-side binding of values into ClickHouse SQL. ClickHouse 18.16 has no server-side
 * query parameters, so every value of every query goes through `sqlLiteral`, here and only
 * here; the `sql` template tag applies it to each interpolation, so a query written with it
 * cannot carry an unescaped value. The same text runs on 18.16 over HTTP and on chdb (26.x),
 * which also accepts several statements in one call: a broken literal there would be an
 * injection, hence the fuzz tests in tests/unit/views/.
 */

/** SQL text that is already safe (an identifier, a fragment built by `sql`): inserted as is. */
export class SqlFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type SqlValue = string | number | bigint | boolean | null | readonly SqlValue[] | SqlFragment;

/**
 * A string literal: `'…'` with `\` and `'` escaped by a backslash and every control character
 * (NUL included) as `\xHH`, which both engines read back byte for byte. Other characters go as
 * UTF-8. A string that is not well-formed Unicode (a lone surrogate) has no UTF-8 form, so it is
 * refused rather than silently changed.
 */
export function sqlString(value: string): string {
  if (!isWellFormed(value)) {
    throw new RangeError(`a text value holds a lone UTF-16 surrogate and cannot be stored as UTF-8: ${JSON.stringify(value.slice(0, 80))}`);
  }
  // eslint-disable-next-line no-control-regex
  return `'${value.replace(/[\\'\u0000-\u001f\u007f]/g, escapeChar)}'`;
}

/** Any value as a literal: strings, finite numbers, bigints, booleans (1/0), NULL, arrays of those. */
export function sqlLiteral(value: SqlValue): string {
  if (value instanceof SqlFragment) return value.text;
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string':
      return sqlString(value);
    case 'number':
      return numberLiteral(value);
    case 'bigint':
      return value < 0n ? `(${value})` : value.toString();
    case 'boolean':
      return value ? '1' : '0';
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map((item: SqlValue) => sqlLiteral(item)).join(', ')}]`;
  throw new TypeError(`cannot write a ${describe(value)} into SQL; pass a string, number, bigint, boolean, null or an array of those`);
}

/**
 * A database or table name. Only plain names are accepted (letters, digits, underscores, not
 * starting with a digit), so a name never needs quoting and means the same on every version.
 */
export function sqlIdentifier(name: string): SqlFragment {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new RangeError(`"${name}" is not a usable ClickHouse name: use letters, digits and underscores, not starting with a digit (at most 64)`);
  }
  return new SqlFragment(name);
}

/**
 * Builds a query: the template's text is trusted, every `${value}` is bound with `sqlLiteral`
 * (identifiers and nested fragments pass through as they are).
 *   sql`SELECT row FROM ${table} WHERE generation = ${generation} AND position > ${after}`
 */
export function sql(parts: TemplateStringsArray, ...values: SqlValue[]): SqlFragment {
  let text = parts[0]!;
  values.forEach((value, i) => {
    text += sqlLiteral(value) + parts[i + 1]!;
  });
  return new SqlFragment(text);
}

/** Joins fragments (e.g. WHERE conditions) with a separator. */
export function joinSql(fragments: readonly SqlFragment[], separator: string): SqlFragment {
  return new SqlFragment(fragments.map((f) => f.text).join(separator));
}

function escapeChar(char: string): string {
  if (char === '\\') return '\\\\';
  if (char === "'") return "\\'";
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

const minNormal = 2.2250738585072014e-308;

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} into SQL: only finite numbers are stored`);
  if (Object.is(value, -0)) return '0';
  if (value !== 0 && Math.abs(value) < minNormal) {
    // 18.16 cannot parse subnormal literals (a syntax error, or 0 through toFloat64): refuse rather than change the value.
    throw new RangeError(`cannot write ${value} into SQL: numbers this close to zero (below ${minNormal}) are not read back exactly by ClickHouse 18.16`);
  }
  // A negative literal in parentheses, so `x - -1` or `- -1` never turns into a `--` comment.
  const text = String(value);
  return value < 0 ? `(${text})` : text;
}

function isWellFormed(value: string): boolean {
  // String.prototype.isWellFormed exists from Node 20; the fallback keeps older runtimes honest.
  const native = (value as { isWellFormed?: () => boolean }).isWellFormed;
  if (native) return native.call(value);
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined value';
  if (typeof value === 'object') return `${(value as object).constructor?.name ?? 'object'} object`;
  return `${typeof value} value`;
}

/**
 * A text as a field of a TabSeparated insert: `\`, tab, line breaks and NUL escaped by a
 * backslash, as ClickHouse reads them back; `null` is `\N` (a Nullable column's NULL). A lone
 * UTF-16 surrogate has no UTF-8 form and becomes U+FFFD (as Buffer.from would make it): a row
 * must never be refused for it, or its projection would retry it forever.
 */
export function tsvField(value: string | null): string {
  if (value === null) return '\\N';
  const text = isWellFormed(value) ? value : value.replace(loneSurrogates, '\ufffd');
  return tsvSpecial.test(text) ? text.replace(tsvSpecialAll, (c) => tsvEscapes[c]!) : text;
}

const loneSurrogates = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// eslint-disable-next-line no-control-regex
const tsvSpecial = /[\\\t\n\r\u0000]/;
// eslint-disable-next-line no-control-regex
const tsvSpecialAll = /[\\\t\n\r\u0000]/g;
const tsvEscapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u0000': '\\0' };
