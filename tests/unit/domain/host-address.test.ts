import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHostAddress, validTag } from '../../../domain/services/index.ts';
import { assertRefused } from '../support/given-when-then.ts';

describe('host addresses (ip:port)', () => {
  test('ip:port parses into ip and numeric port', () => {
    assert.deepEqual(parseHostAddress('10.0.0.12:7963'), { ip: '10.0.0.12', port: 7963 });
  });

  test('octets 0 and 255 and port 1 are accepted', () => {
    assert.deepEqual(parseHostAddress('0.0.0.255:1'), { ip: '0.0.0.255', port: 1 });
  });

  test('port 65535 is accepted', () => {
    assert.deepEqual(parseHostAddress('10.0.0.12:65535'), { ip: '10.0.0.12', port: 65535 });
  });

  test('a leading zero in the port is refused', () => {
    assertRefused(() => parseHostAddress('10.0.0.12:07963'), 'invalid', /leading zero; write 7963/);
  });

  test('an octet above 255 is refused', () => {
    assertRefused(() => parseHostAddress('10.0.0.256:7963'), 'invalid', /part 256, above 255/);
  });

  test('a leading zero in an octet is refused', () => {
    assertRefused(() => parseHostAddress('10.0.0.012:7963'), 'invalid', /leading zero in "012"; write 12/);
  });

  test('three octets are not an IPv4 address', () => {
    assertRefused(() => parseHostAddress('10.0.0:7963'), 'invalid', /not an IPv4 address/);
  });

  test('a missing port is refused', () => {
    assertRefused(() => parseHostAddress('10.0.0.12'), 'invalid', /write ip:port/);
  });

  test('port 0 is refused', () => {
    assertRefused(() => parseHostAddress('10.0.0.12:0'), 'invalid', /port 0 is out of range; use a whole number from 1 to 65535/);
  });

  test('port 65536 is refused', () => {
    assertRefused(() => parseHostAddress('10.0.0.12:65536'), 'invalid', /out of range/);
  });

  test('a non-numeric port is refused', () => {
    assertRefused(() => parseHostAddress('10.0.0.12:http'), 'invalid', /not a number/);
  });

  test('a host name is refused', () => {
    assertRefused(() => parseHostAddress('example.com:80'), 'invalid', /not an IPv4 address/);
  });
});

describe('version tags', () => {
  test('typical tags are valid', () => {
    for (const tag of ['v1', '1.0.2', 'release_2016-05', 'A']) assert.equal(validTag(tag), true, tag);
  });

  test('a tag of 64 characters is valid', () => {
    assert.equal(validTag('a'.repeat(64)), true);
  });

  test('a tag of 65 characters is invalid', () => {
    assert.equal(validTag('a'.repeat(65)), false);
  });

  test('an empty tag is invalid', () => {
    assert.equal(validTag(''), false);
  });

  test('a tag must start with a letter or digit', () => {
    for (const tag of ['.hidden', '-v1', '_v1']) assert.equal(validTag(tag), false, tag);
  });

  test('slashes and spaces are invalid (tags become file names)', () => {
    for (const tag of ['v1/2', 'v 1', '..\\x']) assert.equal(validTag(tag), false, tag);
  });
});
