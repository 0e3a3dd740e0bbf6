import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IniSyntaxError, parseIni } from '../../../domain/services/index.ts';

/** MSEC's config template, as the console shows it for a new standard service. */
const msecTemplate = [
  '[SRPC]',
  'listen=7963/udp 7963/tcp',
  '',
  '; log level: TRACE DEBUG INFO ERROR FATAL NONE',
  '[LOG]',
  'Level = ERROR',
  '',
  '# coloring',
  '[COLOR]',
  'FieldName1=uin',
  'FieldValue1=10000',
].join('\n');

function syntaxErrorOf(text: string): IniSyntaxError {
  try {
    parseIni(text);
  } catch (error) {
    if (error instanceof IniSyntaxError) return error;
    throw error;
  }
  return assert.fail('expected an IniSyntaxError');
}

describe('INI parser', () => {
  test('MSEC\'s config template parses into sections and keys', () => {
    const ini = parseIni(msecTemplate);
    assert.deepEqual([...ini.keys()], ['SRPC', 'LOG', 'COLOR']);
  });

  test('keys and values are trimmed', () => {
    assert.equal(parseIni(msecTemplate).get('LOG')?.get('Level'), 'ERROR');
  });

  test('a value keeps its inner spaces and "=" signs', () => {
    assert.equal(parseIni('[A]\nexpr = a=b c\n').get('A')?.get('expr'), 'a=b c');
  });

  test('a "#" inside a value is part of the value', () => {
    assert.equal(parseIni('[A]\ncolor=#ff0000\n').get('A')?.get('color'), '#ff0000');
  });

  test('an empty text is an empty config', () => {
    assert.equal(parseIni('').size, 0);
  });

  test('Windows line endings and a BOM are accepted', () => {
    assert.equal(parseIni('\uFEFF[A]\r\nk=v\r\n').get('A')?.get('k'), 'v');
  });

  test('a line that is none of the accepted forms is refused with its line number', () => {
    const error = syntaxErrorOf('[LOG]\nLevel=ERROR\nthis is not ini\n');
    assert.equal(error.line, 3);
  });

  test('the error message starts with the line and says what is accepted', () => {
    assert.match(syntaxErrorOf('[LOG]\n\nbroken\n').message, /^line 3: "broken" is neither \[SECTION\], key=value nor a comment/);
  });

  test('an unclosed section header is refused', () => {
    assert.equal(syntaxErrorOf('[LOG\nLevel=ERROR\n').line, 1);
  });

  test('an empty section name is refused', () => {
    assert.match(syntaxErrorOf('[]\n').message, /line 1: section name "" must be/);
  });

  test('a key without a section is refused', () => {
    assert.match(syntaxErrorOf('; first line\nLevel=ERROR\n').message, /line 2: "Level" comes before any section; put a section header/);
  });

  test('a missing key is refused', () => {
    assert.match(syntaxErrorOf('[LOG]\n=ERROR\n').message, /line 2: the key before "=" is missing/);
  });

  test('a key set twice in one section is refused, naming the first line', () => {
    assert.match(syntaxErrorOf('[LOG]\nLevel=ERROR\nLevel=INFO\n').message, /line 3: key "Level" is already set in \[LOG\] on line 2/);
  });

  test('the same key in two sections is fine', () => {
    assert.equal(parseIni('[A]\nk=1\n[B]\nk=2\n').get('B')?.get('k'), '2');
  });

  test('a section started twice is refused, naming the first line', () => {
    assert.match(syntaxErrorOf('[LOG]\nLevel=ERROR\n[LOG]\n').message, /line 3: section \[LOG\] already starts on line 1/);
  });
});
