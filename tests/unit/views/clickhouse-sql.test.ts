import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinSql, sql, sqlIdentifier, sqlLiteral, sqlString, tsvField } from '../../../adapters/views/clickhouse-sql.ts';
import { readLiteral } from './literal-model.ts';
import { fuzzSeed, injections, randomText, seededRandom } from './random-text.ts';

describe('ClickHouse string literals', () => {
  it('escape backslash and quote with a backslash, control characters as \\xHH', () => {
    assert.equal(sqlString("it's"), "'it\\'s'");
    assert.equal(sqlString('a\\b'), "'a\\\\b'");
    assert.equal(sqlString('\u0000\n\t\r\u001f\u007f'), "'\\x00\\x0a\\x09\\x0d\\x1f\\x7f'");
    assert.equal(sqlString("\\'"), "'\\\\\\''");
  });

  it('leave other characters as they are (sent as UTF-8)', () => {
    assert.equal(sqlString('é中🚀 "x" ?{a:String} $1 -- /* */ \u2028\ufeff'), "'é中🚀 \"x\" ?{a:String} $1 -- /* */ \u2028\ufeff'");
    assert.equal(sqlString(''), "''");
  });

  it('refuse a string that has no UTF-8 form (a lone surrogate), naming the problem', () => {
    assert.throws(() => sqlString('a\ud800b'), /lone UTF-16 surrogate/);
    assert.throws(() => sqlString('\udc00'), RangeError);
    assert.equal(sqlString('\ud83d\ude80'), "'🚀'");
  });

  it('end exactly where they should and read back as the original, for random and hostile text', (t) => {
    // A model of the engines' lexer; the round trips on real engines are in tests/contract/clickhouse-literals.test.ts.
    const seed = fuzzSeed();
    t.diagnostic(`seed ${seed} (replay with MSEC_FUZZ_SEED=${seed})`);
    const rnd = seededRandom(seed);
    const texts = [...injections, ...Array.from({ length: 5000 }, () => randomText(rnd))];
    for (const text of texts) {
      const literal = sqlString(text);
      const read = readLiteral(`${literal} AS tail`);
      assert.equal(read.end, literal.length, `literal of ${JSON.stringify(text)} ends early (seed ${seed})`);
      assert.equal(read.value, text, `literal of ${JSON.stringify(text)} reads back differently (seed ${seed})`);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(literal, /[\u0000-\u001f\u007f]/, 'no raw control character reaches the engine');
    }
  });
});

describe('ClickHouse literals of other values', () => {
  it('write numbers plainly, negatives in parentheses (never a -- comment)', () => {
    assert.equal(sqlLiteral(42), '42');
    assert.equal(sqlLiteral(1.5), '1.5');
    assert.equal(sqlLiteral(-3), '(-3)');
    assert.equal(sqlLiteral(-0), '0');
    assert.equal(sql`SELECT 1 -${-1}`.text, 'SELECT 1 -(-1)');
  });

  it('refuse NaN, infinities and subnormal numbers (18.16 cannot read them back)', () => {
    assert.throws(() => sqlLiteral(Number.NaN), /only finite numbers/);
    assert.throws(() => sqlLiteral(Infinity), RangeError);
    assert.throws(() => sqlLiteral(5e-324), /this close to zero/);
    assert.equal(sqlLiteral(2.2250738585072014e-308), '2.2250738585072014e-308');
  });

  it('write bigints, booleans, NULL and nested arrays', () => {
    assert.equal(sqlLiteral(18446744073709551615n), '18446744073709551615');
    assert.equal(sqlLiteral(-9223372036854775808n), '(-9223372036854775808)');
    assert.equal(sqlLiteral(true), '1');
    assert.equal(sqlLiteral(false), '0');
    assert.equal(sqlLiteral(null), 'NULL');
    assert.equal(sqlLiteral(['a', ["b'"], []]), "['a', ['b\\''], []]");
  });

  it('refuse what has no literal, saying what to pass instead', () => {
    assert.throws(() => sqlLiteral(undefined as never), /undefined value.*pass a string/);
    assert.throws(() => sqlLiteral({ a: 1 } as never), /Object object/);
    assert.throws(() => sqlLiteral(new Date() as never), /Date object/);
  });
});

describe('the sql template tag', () => {
  it('binds every interpolation as a literal and passes fragments through', () => {
    const table = sqlIdentifier('view_rows');
    const where = joinSql([sql`a = ${"x'"}`, sql`b < ${3}`], ' AND ');
    assert.equal(sql`SELECT * FROM ${table} WHERE ${where} LIMIT ${10}`.text, "SELECT * FROM view_rows WHERE a = 'x\\'' AND b < 3 LIMIT 10");
  });

  it('accepts only plain identifiers', () => {
    assert.equal(sqlIdentifier('msec_test_1').text, 'msec_test_1');
    for (const bad of ['', '1abc', 'a-b', 'a.b', 'a b', 'a`b', "a'b", 'x'.repeat(65), 'é']) {
      assert.throws(() => sqlIdentifier(bad), /not a usable ClickHouse name/, bad);
    }
  });
});

/** ClickHouse's TabSeparated reading of one field: the escapes it knows, everything else as is. */
function readTsvField(field: string): string | null {
  if (field === '\\N') return null;
  const escapes: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', '0': '\u0000', b: '\b', f: '\f', "'": "'" };
  return field.replace(/\\(.)/g, (_, c: string) => escapes[c] ?? `\\${c}`);
}

describe('TabSeparated fields', () => {
  it('escapes what would end a field or a line, and nothing else', () => {
    assert.equal(tsvField('plain é 中 🚀'), 'plain é 中 🚀');
    assert.equal(tsvField('a\tb\nc\rd\\e\u0000f'), 'a\\tb\\nc\\rd\\\\e\\0f');
    assert.equal(tsvField('\\N'), '\\\\N');
    assert.equal(tsvField(null), '\\N');
  });

  it('reads back every fuzzed text exactly, on one line and in one field', () => {
    const rnd = seededRandom(fuzzSeed());
    for (const text of [...injections, ...Array.from({ length: 2000 }, () => randomText(rnd))]) {
      const field = tsvField(text);
      assert.doesNotMatch(field, /[\t\n]/);
      // A lone surrogate has no UTF-8 form: it is stored as U+FFFD, as Buffer.from would write it.
      const expected = Buffer.from(text).toString();
      assert.equal(readTsvField(field), expected, JSON.stringify(text));
    }
  });
});
