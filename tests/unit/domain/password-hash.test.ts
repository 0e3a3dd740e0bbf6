import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword, hashToken, passwordProblem, verifyPassword, verifyPasswordAsync } from '../../../domain/users/index.ts';

const salt = Buffer.from('0123456789abcdef');
const stored = hashPassword('correct horse', salt);

describe('password hashing', () => {
  test('the hash has the form scrypt$N$r$p$salt$hash', () => {
    assert.match(stored, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{44}$/);
  });

  test('the salt is stored in base64', () => {
    assert.equal(stored.split('$')[4], salt.toString('base64'));
  });

  test('the same password and salt give the same hash', () => {
    assert.equal(hashPassword('correct horse', salt), stored);
  });

  test('another salt gives another hash', () => {
    assert.notEqual(hashPassword('correct horse', Buffer.from('fedcba9876543210')), stored);
  });

  test('the right password verifies', () => {
    assert.equal(verifyPassword('correct horse', stored), true);
  });

  test('a wrong password does not verify', () => {
    assert.equal(verifyPassword('correct horsf', stored), false);
  });

  test('a stored value of another scheme does not verify', () => {
    assert.equal(verifyPassword('correct horse', 'md5$abc'), false);
  });

  test('a hash with absurd cost parameters is refused without computing', () => {
    assert.equal(verifyPassword('correct horse', stored.replace('$16384$', '$1073741824$')), false);
  });
});

describe('password rules', () => {
  test('8 characters is long enough', () => {
    assert.equal(passwordProblem('12345678'), null);
  });

  test('7 characters is too short, and the reason says the minimum', () => {
    assert.match(passwordProblem('1234567') ?? '', /at least 8 characters/);
  });

  test('256 characters is accepted', () => {
    assert.equal(passwordProblem('p'.repeat(256)), null);
  });

  test('257 characters is too long', () => {
    assert.match(passwordProblem('p'.repeat(257)) ?? '', /at most 256 characters/);
  });
});

describe('token hashing', () => {
  test('a token hashes to its sha256 in hex', () => {
    assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

test('the async check agrees with the sync one: right, wrong, and foreign hashes', async () => {
  const stored = hashPassword('correct horse', Buffer.alloc(16, 3));
  assert.equal(await verifyPasswordAsync('correct horse', stored), true);
  assert.equal(await verifyPasswordAsync('wrong horse', stored), false);
  assert.equal(await verifyPasswordAsync('correct horse', 'md5$abc'), false);
});
