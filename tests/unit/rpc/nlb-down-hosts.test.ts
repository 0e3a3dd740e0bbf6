/**
 * Hosts marked down in the routing table (their agent missed three heartbeats): the NLB does
 * not pick them, not even as probes, unless every instance is down; back up, one restarts at
 * resumeWeightRatio (MSEC: 10 %) and climbs by shaping.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { nlbStateFor, pickServer, shapeWindow, type NlbInstance } from '../../../domain/nlb/index.ts';
import { instances, keyOf, nameOf, ok, seeded, settings, tallies } from './nlb-spec.ts';

const withDown = (weights: Record<string, number>, down: string[]): NlbInstance[] =>
  instances(weights).map((i) => (down.some((d) => keyOf(d) === `${i.ip}:${i.port}`) ? { ...i, down: true } : i));

function picks(state: ReturnType<typeof nlbStateFor>, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  let s = state;
  const random = seeded(7);
  for (let i = 0; i < n; i++) {
    const p = pickServer(s, random, () => undefined)!;
    counts[nameOf(p.server.key)] = (counts[nameOf(p.server.key)] ?? 0) + 1;
    s = p.state;
  }
  return counts;
}

test('given b is down, 10 000 picks never choose b, not even as a probe', () => {
  const state = nlbStateFor('A.b', withDown({ a: 100, b: 100, c: 100 }, ['b']), settings());
  const counts = picks(state, 10_000);
  assert.equal(counts.b, undefined);
  assert.equal((counts.a ?? 0) + (counts.c ?? 0), 10_000);
  assert.deepEqual(state.dead, [], 'a down host is not a dead server with a probe slice');
});

test('given every instance is down, they are picked as if none were', () => {
  const counts = picks(nlbStateFor('A.b', withDown({ a: 100, b: 100 }, ['a', 'b']), settings()), 2000);
  assert.ok((counts.a ?? 0) > 800 && (counts.b ?? 0) > 800, JSON.stringify(counts));
});

test('back up, b restarts at 10 % of its weight, then climbs 5 % per healthy window', () => {
  const s = settings();
  const wasDown = nlbStateFor('A.b', withDown({ a: 100, b: 100 }, ['b']), s);
  const back = nlbStateFor('A.b', withDown({ a: 100, b: 100 }, []), s, wasDown);
  const b = back.servers.find((x) => x.key === keyOf('b'))!;
  assert.equal(b.weight, Math.floor(b.staticWeight * 0.1));
  assert.equal(b.down, false);
  const shaped = shapeWindow(back, tallies({ a: ok(100), b: ok(100) }), 10_000).state;
  assert.equal(shaped.servers.find((x) => x.key === keyOf('b'))!.weight, Math.floor(b.staticWeight * 0.15));
});
