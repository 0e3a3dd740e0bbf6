/** `msec reset-password`: works on the data folder directly, ends old credentials, recreates a lost user. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite.ts';
import { msecDatabaseFile } from '../../../adapters/sqlite/open.ts';
import { createCommandBus } from '../../../apps/console/command-bus.ts';
import { resetPassword } from '../../../apps/console/reset-password.ts';
import { newPasswordHash } from '../../../apps/console/routes/users.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import { userDecider } from '../../../domain/users/index.ts';
import { verifyPassword } from '../../../domain/users/password-hash.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-reset-'));
after(() => rmSync(home, { recursive: true, force: true }));
const meta = () => ({ commandId: uuidv7(), actor: 'admin', reason: '', at: Date.now() });
const open = () => SqliteEventStore.open(msecDatabaseFile(home), { logger: pino({ level: 'silent' }) });

test('given a user with an API token, a reset sets the new password and revokes the token', async () => {
  const store = open();
  const commands = createCommandBus({ store });
  await commands.execute('user-ops', userDecider, { type: 'CreateUser', name: 'ops', passwordHash: newPasswordHash('old-password-1') }, meta());
  await commands.execute('user-ops', userDecider, { type: 'IssueApiToken', name: 'ops', tokenId: 't1', tokenHash: 'h1', label: 'cli' }, meta());
  await store.close();

  const { password } = await resetPassword(home, 'ops', 'new-password-1');
  assert.equal(password, 'new-password-1');

  const check = open();
  const events = await check.readStream('user-ops');
  await check.close();
  assert.deepEqual(events.map((e) => e.type), ['UserCreated', 'ApiTokenIssued', 'PasswordChanged', 'ApiTokenRevoked']);
  assert.ok(events.slice(2).every((e) => e.actor === 'system'));
  assert.ok(verifyPassword('new-password-1', (events[2]!.data as { passwordHash: string }).passwordHash));
});

test('a user that does not exist (every user removed, say) is created', async () => {
  const { password } = await resetPassword(home, 'rescue');
  assert.ok(password.length >= 12, 'a generated password');
  const check = open();
  const events = await check.readStream('user-rescue');
  await check.close();
  assert.deepEqual(events.map((e) => [e.type, e.actor]), [['UserCreated', 'system']]);
});

test('a weak password or a missing data folder is refused with what to do', async () => {
  await assert.rejects(resetPassword(home, 'ops', 'short'), /8/);
  await assert.rejects(resetPassword(join(home, 'nothing-here'), 'ops'), /--home/);
});
