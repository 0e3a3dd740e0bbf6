import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  configDir, consoleKey, credentialsPath, findToken, forgetToken, readCredentials, storeToken,
} from '../../../apps/cli/credentials.ts';
import { tempDir } from './helpers.ts';

const entry = (token: string) => ({ token, tokenId: `id-${token}`, user: 'admin', createdAt: '2024-01-01T00:00:00.000Z' });

test('the file lives in $MSEC_CONFIG_DIR, else ~/.config/msec', () => {
  assert.equal(credentialsPath({ MSEC_CONFIG_DIR: '/x/y' }), '/x/y/credentials.json');
  assert.equal(configDir({ HOME: '/home/u' }), '/home/u/.config/msec');
});

test('a stored token is written with mode 0600 in a 0700 folder and read back by console URL', async () => {
  const t = await tempDir();
  try {
    const env = { MSEC_CONFIG_DIR: join(t.dir, 'nested', 'msec') };
    assert.equal(await findToken(env, 'http://127.0.0.1:8080'), undefined);
    await storeToken(env, 'http://127.0.0.1:8080/', entry('t1'));
    const path = credentialsPath(env);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(env.MSEC_CONFIG_DIR)).mode & 0o777, 0o700);
    assert.deepEqual(await findToken(env, 'http://127.0.0.1:8080'), entry('t1'));
    const onDisk = JSON.parse(await readFile(path, 'utf8'));
    assert.deepEqual(onDisk, { version: 1, consoles: { 'http://127.0.0.1:8080': entry('t1') } });
  } finally {
    await t.remove();
  }
});

test('consoles are kept apart; storing again replaces and answers the previous entry', async () => {
  const t = await tempDir();
  try {
    const env = { MSEC_CONFIG_DIR: t.dir };
    await storeToken(env, 'http://a:1', entry('a1'));
    await storeToken(env, 'http://b:2', entry('b1'));
    const previous = await storeToken(env, 'http://a:1', entry('a2'));
    assert.deepEqual(previous, entry('a1'));
    assert.equal((await findToken(env, 'http://a:1'))?.token, 'a2');
    assert.equal((await findToken(env, 'http://b:2'))?.token, 'b1');
    assert.deepEqual(await forgetToken(env, 'http://a:1'), entry('a2'));
    assert.equal(await forgetToken(env, 'http://a:1'), undefined);
    assert.deepEqual(Object.keys((await readCredentials(env)).consoles), ['http://b:2']);
  } finally {
    await t.remove();
  }
});

test('a too-open existing file is narrowed to 0600 on the next write', async () => {
  const t = await tempDir();
  try {
    const env = { MSEC_CONFIG_DIR: t.dir };
    await writeFile(credentialsPath(env), JSON.stringify({ version: 1, consoles: {} }));
    await chmod(credentialsPath(env), 0o644);
    await storeToken(env, 'http://a:1', entry('a1'));
    assert.equal((await stat(credentialsPath(env))).mode & 0o777, 0o600);
  } finally {
    await t.remove();
  }
});

test('a corrupt file is an error that says what to do', async () => {
  const t = await tempDir();
  try {
    const env = { MSEC_CONFIG_DIR: t.dir };
    await mkdir(t.dir, { recursive: true });
    await writeFile(credentialsPath(env), '{not json');
    await assert.rejects(readCredentials(env), /is not valid JSON: fix or delete it/);
  } finally {
    await t.remove();
  }
});

test('consoleKey drops trailing slashes', () => {
  assert.equal(consoleKey('http://h:1/'), 'http://h:1');
  assert.equal(consoleKey('https://h/msec//'), 'https://h/msec');
});
