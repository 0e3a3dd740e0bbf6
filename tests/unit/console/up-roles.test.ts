import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { up } from '../../../apps/console/up.ts';

const embedded = { eventstore: 'embedded', bus: 'embedded', views: 'embedded', registry: 'embedded' };

test('a console or projector alone refuses embedded views, saying what to set', async () => {
  const home = mkdtempSync(join(tmpdir(), 'msec-roles-'));
  try {
    for (const roles of [{ console: true, projector: false }, { console: false, projector: true }]) {
      for (const views of ['embedded', 'sqlite']) {
        await assert.rejects(up({ home, roles, urls: { ...embedded, views }, logger: pino({ level: 'silent' }) }),
          /both must use one ClickHouse server: set MSEC_VIEWS=http:\/\/host:8123 .*msec up/);
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
