/** `msec status` on a console whose projector refused messages of msec.events: counts by reason, and the bus key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, withConsole } from './helpers.ts';

test('status: the projector table shows what each projection refused on the bus, by reason, and the bus key id', async () => {
  const projector = {
    at: '2024-05-01T10:00:00.000Z', head: 42,
    relay: { checkpoint: 42 },
    busKey: { id: '5d28c0321c8c', source: 'MSEC_BUS_KEY' },
    projections: [
      { name: 'routing', version: 1, checkpoint: 42, busLag: 0, refused: { total: 7, byReason: { unsigned: 3, 'bad-signature': 4 } } },
      { name: 'audit', version: 1, checkpoint: 42, busLag: 0, refused: { total: 0, byReason: {} } },
    ],
  };
  await withConsole({
    'GET /healthz': { body: { ok: true } },
    'GET /api/projections': { body: { projections: [], components: { role: 'console', backends: {}, projector } } },
  }, async (_c, env) => {
    const r = await runCli(['status'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bus key: +5d28c0321c8c \(from MSEC_BUS_KEY\)/);
    assert.match(r.stdout, /PROJECTOR +VERSION +CHECKPOINT +HEAD +BUS LAG +REFUSED +ERROR/);
    assert.match(r.stdout, /routing +1 +42 +42 +0 +7 \(unsigned 3, bad-signature 4\)/);
    assert.match(r.stdout, /audit +1 +42 +42 +0 +0\b/);
    const json = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    assert.deepEqual(json.components.projector.projections[0].refused.byReason, { unsigned: 3, 'bad-signature': 4 });
  });
});
