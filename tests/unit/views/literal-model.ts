/**
 * How ClickHouse's lexer reads a quoted string literal (both 18.16 and 26.x): from the opening
 * quote to the first quote that is not escaped, a backslash escaping the character after it
 * (`\xHH` is two hex digits; `\n`, `\t`… are letters). Used to check, without an engine, that
 * a literal ends exactly where sqlString meant it to and reads back as the original text.
 */
export function readLiteral(sqlText: string): { value: string; end: number } {
  if (sqlText[0] !== "'") throw new Error('a literal starts with a quote');
  let value = '';
  for (let i = 1; i < sqlText.length; i++) {
    const c = sqlText[i]!;
    if (c === "'") {
      if (sqlText[i + 1] === "'") throw new Error('doubled quotes are not what sqlString writes');
      return { value, end: i + 1 };
    }
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = sqlText[++i];
    if (next === undefined) throw new Error('a backslash at the end of the text');
    if (next === 'x') {
      value += String.fromCharCode(parseInt(sqlText.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      value += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', a: '\u0007', v: '\v' } as Record<string, string>)[next] ?? next;
    }
  }
  throw new Error('the literal is never closed');
}
