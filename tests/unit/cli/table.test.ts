import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, formatFields, formatTable, shortTime } from '../../../apps/cli/table.ts';

test('columns are aligned two spaces apart, numbers to the right, no trailing blanks', () => {
  const out = formatTable(['IP', 'PORT', 'PROTO'], [['10.0.0.1', 7963, 'tcp'], ['10.0.0.22', 80, 'udp']]);
  assert.equal(out, [
    'IP         PORT  PROTO',
    '10.0.0.1   7963  tcp',
    '10.0.0.22    80  udp',
    '',
  ].join('\n'));
});

test('empty cells show a dash; a header alone when there are no rows', () => {
  assert.equal(formatTable(['A', 'B'], [['x', null], [undefined, '']]), 'A  B\nx  -\n-  -\n');
  assert.equal(formatTable(['NAME', 'KIND'], []), 'NAME  KIND\n');
});

test('explicit alignment wins over the numeric guess', () => {
  assert.equal(formatTable(['N', 'X'], [[1, 'a'], [100, 'b']], { align: ['left', 'left'] }), 'N    X\n1    a\n100  b\n');
});

test('wide (CJK) characters count as two columns', () => {
  assert.equal(displayWidth('配置'), 4);
  assert.equal(displayWidth('abc'), 3);
  const out = formatTable(['MEMO', 'TAG'], [['配置', 'v1'], ['ab', 'v2']]);
  assert.equal(out, 'MEMO  TAG\n配置  v1\nab    v2\n');
});

test('newlines and control characters from the server cannot break a row or drive the terminal', () => {
  const out = formatTable(['MEMO'], [['line one\nline two\u001b[31m']]);
  assert.equal(out, 'MEMO\nline one line two [31m\n');
});

test('the header is bold only when colours are on', () => {
  assert.equal(formatTable(['A'], [['x']], { color: true }), '\u001b[1mA\u001b[0m\nx\n');
  assert.ok(!formatTable(['A'], [['x']]).includes('\u001b'));
});

test('shortTime drops the T and the milliseconds', () => {
  assert.equal(shortTime('2024-05-01T12:03:04.567Z'), '2024-05-01 12:03:04Z');
  assert.equal(shortTime('2024-05-01T12:03:04Z'), '2024-05-01 12:03:04Z');
  assert.equal(shortTime('yesterday'), 'yesterday');
  assert.equal(shortTime(undefined), '-');
});

test('formatFields aligns the values', () => {
  assert.equal(formatFields([['name', 'A.b'], ['revision', 4], ['lang', null]]), 'name:     A.b\nrevision: 4\nlang:     -\n');
});
