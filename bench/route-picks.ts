/**
 * Route picks per second: MSEC's NLB selection (weighted random over cumulative weights,
 * binary search; domain/nlb) for a service of 100 instances with mixed weights, one of them
 * dead, feeding every outcome back as the client does.
 * Baseline: a plain uniform `Math.random()` index into the same instance list, same run.
 */
import { addOutcome, nlbStateFor, pickServer, resolveNlbSettings, shapeWindow, type NlbState } from '../domain/nlb/index.ts';
import type { Tally } from '../domain/nlb/tally.ts';

export function benchRoutePicks(picks = 2_000_000): { picksPerSecond: number; uniformPerSecond: number } {
  const instances = Array.from({ length: 100 }, (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}`, port: 7963, protocol: 'tcp' as const, weight: 50 + (i % 10) * 50 }));
  let state: NlbState = nlbStateFor('Bench.picks', instances, resolveNlbSettings().settings);
  // One window in which instance 0 failed every call: it is dead, with the probe share.
  const tallies = new Map<string, Tally>();
  for (const s of state.servers) for (let k = 0; k < 20; k++) tallies.set(s.key, addOutcome(tallies.get(s.key), s.key === state.servers[0]!.key, 1));
  state = shapeWindow(state, tallies, Date.now()).state;

  const lookup = () => undefined;
  let sink = 0;
  let started = performance.now();
  for (let i = 0; i < picks; i++) {
    const p = pickServer(state, Math.random, lookup);
    if (p) {
      state = p.state;
      sink += p.server.port;
    }
  }
  const picksPerSecond = picks / ((performance.now() - started) / 1000);
  started = performance.now();
  for (let i = 0; i < picks; i++) sink += instances[Math.floor(Math.random() * instances.length)]!.port;
  const uniformPerSecond = picks / ((performance.now() - started) / 1000);
  if (sink === 0) throw new Error('unreachable: keeps the loops from being optimised away');
  return { picksPerSecond, uniformPerSecond };
}
