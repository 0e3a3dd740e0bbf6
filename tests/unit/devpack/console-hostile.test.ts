import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { consoleHarness, type Harness } from '../console/harness.ts';
import { devPackageRoutes } from '../../../apps/console/routes/devpack.ts';
import { GenerationError, IsolatedGenerator } from '../../../apps/devpack/isolated.ts';
import { recursiveIdl, wideIdl } from './hostile-idls.ts';
import { eventIdFor, uuidv7 } from '../../../domain/event-ids.ts';
import { streams } from '../../../domain/streams.ts';

/**
 * Hostile IDLs through the console's real pipeline (inject): a download never holds the
 * console's event loop. /healthz is asked every 20 ms while a download is generated; the
 * longest wait for an answer is printed and must stay far below what a blocked loop gives (seconds).
 */

let h: Harness;
const shortLimit = '/short-deadline';
before(async () => {
  h = await consoleHarness();
  // The same routes once more with a 1 s deadline, under a prefix (the console's own keep 10 s).
  await h.app.register(devPackageRoutes(h.ctx, { timeoutMs: 1000 }), { prefix: shortLimit });
  assert.equal((await h.call({ method: 'POST', url: '/api/services', payload: { name: 'Evil.idl' } })).statusCode, 201);
});
after(() => h.close());

async function putIdl(tag: string, text: string): Promise<void> {
  const r = await h.call({ method: 'PUT', url: `/api/services/Evil.idl/idls/${tag}`, payload: { text } });
  assert.equal(r.statusCode, 201, r.body);
}

/**
 * An IDL version stored by an msec from before the size caps on IDLs (domain/services/idl.ts):
 * written as the event itself, as the console no longer takes such a text. Stored data is
 * never rewritten, so the generator must still survive it.
 */
async function storeIdlFromBeforeTheCaps(tag: string, text: string): Promise<void> {
  const commandId = uuidv7();
  const r = await h.store.append(streams.service('Evil.idl'), 'any', [{
    type: 'IdlVersionAdded', data: { service: 'Evil.idl', tag, text, memo: '' },
    id: eventIdFor(commandId, 0), occurredAt: new Date().toISOString(), actor: 'admin', reason: '', correlationId: commandId, causationId: commandId,
  }]);
  assert.ok(await h.ctx.projections.waitFor(r.position, 5000));
}

/**
 * Runs `work` while /healthz is asked every 20 ms; answers its result and the longest the
 * console went without answering one (from the start, between answers, to the end of work).
 */
async function whileProbing<T>(work: () => Promise<T>): Promise<{ result: T; slowestMs: number; probes: number }> {
  let done = false;
  let slowestMs = 0;
  let probes = 0;
  let last = performance.now();
  const answered = () => {
    const now = performance.now();
    slowestMs = Math.max(slowestMs, now - last);
    last = now;
  };
  const probing = (async () => {
    while (!done) {
      const r = await h.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(r.statusCode, 200);
      answered();
      probes++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const result = await work();
    answered();
    return { result, slowestMs, probes };
  } finally {
    done = true;
    await probing;
  }
}

test('a tiny recursive IDL: the dev package comes quickly and small; /healthz answers all along', async () => {
  const idl = recursiveIdl(5, 6);
  await putIdl('recursive', idl);
  const started = performance.now();
  const { result: r, slowestMs, probes } = await whileProbing(() => h.call({ method: 'GET', url: '/api/services/Evil.idl/dev-package?idl=recursive' }));
  console.log(`recursive IDL (${idl.length} bytes): dev package in ${(performance.now() - started).toFixed(0)} ms, ${r.rawPayload.length} bytes; ${probes} /healthz, longest wait ${slowestMs.toFixed(0)} ms`);
  assert.equal(r.statusCode, 200, r.body);
  assert.ok(gunzipSync(r.rawPayload).length < 100_000, 'the archive is small');
  assert.ok(slowestMs < 1000, `/healthz went ${slowestMs} ms without an answer`);
  const after = await h.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(after.statusCode, 200);
});

test('an IDL too slow to generate from: stopped at the deadline with a 503 that says what to do; /healthz answers all along', async () => {
  // protobufjs parses a message in time quadratic in its fields: seconds for this one. The
  // console refuses to store it now; one stored before that cap is still met here.
  await storeIdlFromBeforeTheCaps('wide', wideIdl(5000));
  const started = performance.now();
  const { result: r, slowestMs, probes } = await whileProbing(() => h.call({ method: 'GET', url: `${shortLimit}/api/services/Evil.idl/dev-package?idl=wide` }));
  const tookMs = performance.now() - started;
  console.log(`wide IDL: answered ${r.statusCode} after ${tookMs.toFixed(0)} ms (deadline 1000 ms); ${probes} /healthz, longest wait ${slowestMs.toFixed(0)} ms`);
  assert.equal(r.statusCode, 503, r.body);
  assert.match(String(r.headers['content-type']), /application\/problem\+json/);
  const detail = (r.json() as { detail: string }).detail;
  assert.match(detail, /IDL wide of Evil\.idl took longer than 1 s and was stopped/);
  assert.match(detail, /split it into smaller messages/);
  assert.ok(slowestMs < 1000, `/healthz went ${slowestMs} ms without an answer`);
  // The stubs of the same IDL meet the same deadline.
  const stubs = await h.call({ method: 'GET', url: `${shortLimit}/api/services/Evil.idl/stubs?idl=wide` });
  assert.equal(stubs.statusCode, 503, stubs.body);
});

const spinner = new URL('./spin-worker.mjs', import.meta.url);

test('the generator stops a job that never ends at its deadline, and the event loop ran meanwhile', async () => {
  const generator = new IsolatedGenerator({ timeoutMs: 300, entry: spinner });
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const started = performance.now();
  try {
    await assert.rejects(generator.generate({ kind: 'stubs', service: 'Evil.idl', idlTag: 'spin', idlText: '' }), (error: unknown) => {
      assert.ok(error instanceof GenerationError);
      assert.equal(error.status, 503);
      assert.equal(error.code, 'generation-timeout');
      return true;
    });
  } finally {
    clearInterval(ticker);
  }
  const tookMs = performance.now() - started;
  console.log(`a spinning job was stopped after ${tookMs.toFixed(0)} ms (deadline 300 ms); the loop ticked ${ticks} times meanwhile`);
  assert.ok(ticks >= 5, `the loop ticked ${ticks} times`);
});

test('past maxRunning generations at once, the next is refused busy (503, retry later) and runs once one ends', async () => {
  const generator = new IsolatedGenerator({ timeoutMs: 500, maxRunning: 1, entry: spinner });
  const first = generator.generate({ kind: 'stubs', service: 'Evil.idl', idlTag: 'a', idlText: '' });
  await assert.rejects(generator.generate({ kind: 'stubs', service: 'Evil.idl', idlTag: 'b', idlText: '' }), (error: unknown) => {
    assert.ok(error instanceof GenerationError);
    assert.equal(error.status, 503);
    assert.equal(error.code, 'generator-busy');
    assert.equal(error.retryAfterS, 5);
    return true;
  });
  await assert.rejects(first, /took longer than 0\.5 s/);
  await assert.rejects(generator.generate({ kind: 'stubs', service: 'Evil.idl', idlTag: 'c', idlText: '' }), /took longer/);
  await generator.close();
});
