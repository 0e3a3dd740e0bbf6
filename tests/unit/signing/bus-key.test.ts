/** The deployment key of msec.events: what verifies, what does not, and where a projector finds it. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BusKey, BusKeyError } from '../../../adapters/signing/bus-key.ts';
import { busKeyFileName, loadBusKey } from '../../../adapters/signing/bus-key-source.ts';
import { tempDir } from '../../contract/support.ts';

const value = Buffer.from('an envelope');

describe('BusKey', () => {
  const key = BusKey.generate();
  const signature = key.sign('41', value);

  test('a signature verifies with its key, over the same prev-position and value', () => {
    assert.match(signature, /^hmac-sha256:[0-9a-f]{12}:[A-Za-z0-9+/]{43}=$/);
    assert.equal(key.check(signature, '41', value), 'valid');
  });

  test('forged, altered and foreign signatures do not', () => {
    assert.equal(key.check(undefined, '41', value), 'unsigned');
    assert.equal(key.check('', '41', value), 'unsigned');
    assert.equal(key.check(signature, '40', value), 'bad-signature', 'prev-position changed');
    assert.equal(key.check(signature, '041', value), 'bad-signature', 'prev-position written differently');
    assert.equal(key.check(signature, '41', Buffer.from('an envelopf')), 'bad-signature', 'value changed');
    assert.equal(key.check(`hmac-sha256:${key.id}:${randomBytes(32).toString('base64')}`, '41', value), 'bad-signature', 'made up');
    assert.equal(key.check(`hmac-sha256:${key.id}:${randomBytes(31).toString('base64')}`, '41', value), 'bad-signature', 'too short');
    assert.equal(key.check(`hmac-sha256:${key.id}`, '41', value), 'bad-signature');
    assert.equal(key.check(signature.replace('hmac-sha256', 'ed25519'), '41', value), 'bad-signature');
    assert.equal(key.check('x'.repeat(100_000), '41', value), 'bad-signature');
    const other = BusKey.generate();
    assert.equal(other.check(signature, '41', value), 'wrong-key');
    assert.equal(other.check(signature.replace(key.id, other.id), '41', value), 'bad-signature', 'another key id pasted in');
  });

  test('a key read back from its base64 is the same key; short or non-base64 keys are refused with what to do', () => {
    const again = BusKey.fromBase64(`${key.toBase64()}\n`, 'the test');
    assert.equal(again.id, key.id);
    assert.equal(again.check(signature, '41', value), 'valid');
    assert.throws(() => BusKey.fromBase64(randomBytes(16).toString('base64'), 'MSEC_BUS_KEY'), /MSEC_BUS_KEY holds 16 bytes; a bus key needs at least 32 \(`openssl rand -base64 32`\)/);
    assert.throws(() => BusKey.fromBase64('not base64!', 'MSEC_BUS_KEY'), BusKeyError);
    assert.throws(() => BusKey.fromBase64('', 'MSEC_BUS_KEY'), /is not base64/);
  });
});

describe('loadBusKey', () => {
  test('MSEC_BUS_KEY wins over the home; no file is written', () => {
    const home = tempDir('msec-bus-key-');
    try {
      const shared = BusKey.generate();
      const loaded = loadBusKey(home.dir, { MSEC_BUS_KEY: shared.toBase64() });
      assert.deepEqual([loaded.key.id, loaded.source, loaded.created], [shared.id, 'MSEC_BUS_KEY', false]);
      assert.throws(() => statSync(join(home.dir, busKeyFileName)), /ENOENT/);
      assert.throws(() => loadBusKey(home.dir, { MSEC_BUS_KEY: 'c2hvcnQ=' }), /MSEC_BUS_KEY holds 5 bytes/);
    } finally {
      home.remove();
    }
  });

  test('without it, the first start creates bus.key (mode 0600) and later starts read the same key', () => {
    const home = tempDir('msec-bus-key-');
    try {
      const first = loadBusKey(home.dir, {});
      const file = join(home.dir, busKeyFileName);
      assert.deepEqual([first.source, first.created], [file, true]);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(BusKey.fromBase64(readFileSync(file, 'utf8'), file).id, first.key.id);
      const second = loadBusKey(home.dir, { MSEC_BUS_KEY: '  ' });
      assert.deepEqual([second.key.id, second.created], [first.key.id, false]);
    } finally {
      home.remove();
    }
  });

  test('a key file other users can read is refused, with the command that fixes it', () => {
    const home = tempDir('msec-bus-key-');
    try {
      const file = join(home.dir, busKeyFileName);
      writeFileSync(file, BusKey.generate().toBase64());
      chmodSync(file, 0o644);
      assert.throws(() => loadBusKey(home.dir, {}), new RegExp(`can be read by other users \\(mode 644\\): run \`chmod 600 ${file}\``));
      chmodSync(file, 0o600);
      assert.equal(loadBusKey(home.dir, {}).created, false);
    } finally {
      home.remove();
    }
  });
});
