/**
 * A command answers once the read models its callers read next hold its events: the state
 * projections, not the audit (stored in the analytic views, a round trip per batch). An audit
 * read waits itself until the audit holds everything written before the read began.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleHarness } from './harness.ts';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import { HeldRows } from '../projector/fixtures.ts';

test('a command answers while the audit is held; the next read of the audit waits for it', async () => {
  const states = new MemoryViewStore();
  const held = new HeldRows(new MemoryViewStore());
  const h = await consoleHarness({ views: (p) => (p.kind === 'rows' ? held : states) });
  try {
    const created = await h.call({ method: 'POST', url: '/api/services', payload: { name: 'Held.svc' } });
    assert.equal(created.statusCode, 201, created.body);
    const started = Date.now();
    const host = await h.call({ method: 'POST', url: '/api/services/Held.svc/hosts', payload: { ip: '10.0.0.1', port: 80 } });
    assert.equal(host.statusCode, 201, host.body);
    // Had it waited for the audit, it would have answered after readYourWritesMs (5 s), having given up.
    assert.ok(Date.now() - started < h.ctx.readYourWritesMs / 2, `answered in ${Date.now() - started} ms`);
    const shown = await h.call({ method: 'GET', url: '/api/services/Held.svc' });
    assert.equal((shown.json() as { hosts: unknown[] }).hosts.length, 1, 'read-your-writes on the catalog');
    assert.equal((await h.call({ method: 'GET', url: '/api/routes/Held.svc' })).statusCode, 200);

    let answered = false;
    const reading = h.call({ method: 'GET', url: '/api/audit?stream=service-Held.svc' }).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(answered, false, 'the audit read waits for the audit to hold the writes made before it');
    held.release();
    const entries = ((await reading).json() as { entries: { type: string }[] }).entries.map((e) => e.type);
    assert.deepEqual(entries, ['HostAdded', 'ServiceCreated']);
  } finally {
    held.release();
    await h.close();
  }
});
