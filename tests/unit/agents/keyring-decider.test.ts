/** The control plane's command keys (stream "keyring"): a chain in which the newest key signs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { keyringDecider, type KeyringCommand, type KeyringEvent } from '../../../domain/agents/index.ts';
import { spec, stateAfter } from '../support/given-when-then.ts';

const keyring = spec(keyringDecider);
const introduce = (keyId: string, previousKeyId = '', statement = ''): KeyringCommand =>
  ({ type: 'IntroduceSigningKey', keyId, publicKey: `pk-${keyId}`, previousKeyId, statement });
const introduced = (keyId: string, previousKeyId = '', statement = ''): KeyringEvent =>
  ({ type: 'SigningKeyIntroduced', data: { keyId, publicKey: `pk-${keyId}`, previousKeyId, statement } });

describe('keyring', () => {
  test('the first key follows nothing and needs no statement', () => {
    keyring.given([]).when(introduce('k1')).then([introduced('k1')]);
  });

  test('a first key that claims to follow another is refused', () => {
    keyring.given([]).when(introduce('k1', 'k0', 'stmt')).thenFails('conflict', /key k1 follows k0, but the current key is none: rotate again/);
  });

  test('the next key follows the current one with a statement', () => {
    keyring.given([introduced('k1')]).when(introduce('k2', 'k1', 'stmt')).then([introduced('k2', 'k1', 'stmt')]);
  });

  test('a next key without a statement is refused', () => {
    keyring.given([introduced('k1')]).when(introduce('k2', 'k1', '')).thenFails('invalid', /statement signed by the current key/);
  });

  test('a key that follows a replaced key (a rotation raced by another) is refused', () => {
    keyring.given([introduced('k1'), introduced('k2', 'k1', 's')]).when(introduce('k3', 'k1', 's')).thenFails('conflict', /follows k1, but the current key is k2/);
  });

  test('a second "first key" (two consoles starting at once) is refused', () => {
    keyring.given([introduced('k1')]).when(introduce('k9')).thenFails('conflict', /follows nothing, but the current key is k1/);
  });

  test('a key already introduced is not introduced again (a retry writes nothing)', () => {
    keyring.given([introduced('k1'), introduced('k2', 'k1', 's')]).when(introduce('k2', 'k1', 's')).thenNothing();
    keyring.given([introduced('k1'), introduced('k2', 'k1', 's')]).when(introduce('k1')).thenNothing();
  });

  test('the newest key is current, the older ones are kept in order', () => {
    const state = stateAfter(keyringDecider, [introduced('k1'), introduced('k2', 'k1', 's'), introduced('k3', 'k2', 't')]);
    assert.equal(state.current, 'k3');
    assert.deepEqual(state.keys.map((k) => k.keyId), ['k1', 'k2', 'k3']);
  });
});
