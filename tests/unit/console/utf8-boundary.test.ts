import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wholeCharacters } from '../../../apps/console/agents/utf8-boundary.ts';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const cut = (s: string) => wholeCharacters(hex(s)).toString('hex');

test('a character cut by the end of a chunk waits for the next one', () => {
  assert.equal(cut('68 69 e4 bd'), '6869', '你 (e4 bd a0) missing its last byte');
  assert.equal(cut('68 e4'), '68');
  assert.equal(cut('f0 9f 98'), '', 'a 4-byte emoji missing one byte');
  assert.equal(cut('c3'), '');
});

test('whole characters and plain ASCII pass as they are', () => {
  assert.equal(cut('68 69 0a'), '68690a');
  assert.equal(cut('e4 bd a0'), 'e4bda0');
  assert.equal(cut('f0 9f 98 80'), 'f09f9880');
  assert.equal(cut('c3 a9'), 'c3a9');
  assert.equal(cut(''), '');
});

test('invalid bytes are not held back (binary output still streams)', () => {
  assert.equal(cut('80 80 80 80'), '80808080', 'continuation bytes with no lead');
  assert.equal(cut('61 ff'), '61ff');
  assert.equal(cut('e4 bd a0 80'), 'e4bda080', 'a stray continuation after a whole character');
});
