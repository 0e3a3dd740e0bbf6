import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RESERVED, parseChildName, parseFirstLevelName, parseSecondLevelName, parseServiceName,
} from '../../../domain/services/index.ts';
import { assertRefused } from '../support/given-when-then.ts';

const a = (n: number) => 'A'.repeat(n);

describe('service names', () => {
  test('a first level alone parses', () => {
    assert.deepEqual(parseServiceName('Flight'), { first: 'Flight', full: 'Flight' });
  });

  test('First.Second parses into both levels', () => {
    assert.deepEqual(parseServiceName('Flight.mod_flight'), { first: 'Flight', second: 'mod_flight', full: 'Flight.mod_flight' });
  });

  test('a level of 24 characters is accepted', () => {
    assert.equal(parseServiceName(`${a(24)}.${a(24)}`).full, `${a(24)}.${a(24)}`);
  });

  test('a first level of 25 characters is refused with its length', () => {
    assertRefused(() => parseServiceName(a(25)), 'invalid', /25 characters long; shorten it to at most 24/);
  });

  test('a second level of 25 characters is refused', () => {
    assertRefused(() => parseServiceName(`Flight.${a(25)}`), 'invalid', /second level .* at most 24/);
  });

  test('two dots are refused: services have two levels', () => {
    assertRefused(() => parseServiceName('A.b.c'), 'invalid', /2 dots; .*First\.Second/);
  });

  test('an empty second level ("Flight.") is refused', () => {
    assertRefused(() => parseServiceName('Flight.'), 'invalid', /empty second level/);
  });

  test('an empty first level (".mod") is refused', () => {
    assertRefused(() => parseServiceName('.mod'), 'invalid', /empty first level/);
  });

  test('an empty name is refused', () => {
    assertRefused(() => parseServiceName(''), 'invalid', /service name is required/);
  });

  test('a leading digit is refused', () => {
    assertRefused(() => parseServiceName('1Flight'), 'invalid', /must start with a letter/);
  });

  test('a leading underscore is refused', () => {
    assertRefused(() => parseServiceName('Flight._mod'), 'invalid', /must start with a letter/);
  });

  test('a hyphen is refused', () => {
    assertRefused(() => parseServiceName('Flight.mod-flight'), 'invalid', /only letters, digits and "_"/);
  });

  test('digits and underscores after the first letter are fine', () => {
    assert.equal(parseServiceName('F1.mod_2').second, 'mod_2');
  });

  test('the reserved first level is RESERVED', () => {
    assert.equal(RESERVED, 'RESERVED');
  });

  test('a first-level name must not have a dot', () => {
    assertRefused(() => parseFirstLevelName('Flight.mod'), 'invalid', /first-level name has no dot/);
  });

  test('a second-level service name needs both levels', () => {
    assertRefused(() => parseSecondLevelName('Flight'), 'invalid', /only a first level; name the service First\.Second/);
  });

  test('a child is the second level alone', () => {
    assertRefused(() => parseChildName('Flight.mod_flight'), 'invalid', /second-level name only/);
  });
});
