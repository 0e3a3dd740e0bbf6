/**
 * Route picks per second for a service of 100 instances with mixed weights, one of them dead
 * (shaped out after a window in which it failed every call):
 *   nlb   MSEC's NLB selection alone (domain/nlb: weighted random over cumulative weights,
 *         binary search, the dead servers' probe slice, the success-ratio rule);
 *   sdk   what the client SDK does per call (apps/rpc/client/service-balancer.ts): the window
 *         clock, the pick, and the outcome fed back into the window's tallies.
 * Baseline: a plain uniform `Math.random()` index into the same instance list, same run.
 * Run as `node --import tsx bench/route-picks.ts` (add `--cpu-prof` for a profile), or through
 * `npm run bench -- rpc`.
 */
import { pino } from 'pino';
import { addOutcome, nlbStateFor, pickServer, resolveNlbSettings, shapeWindow, type NlbState, type Tally } from '../domain/nlb/index.ts';
import { InstanceBreakers } from '../apps/rpc/client/breakers.ts';
import { ServiceBalancer } from '../apps/rpc/client/service-balancer.ts';

export interface RoutePickRates {
  /** domain/nlb pickServer alone. */
  nlbPerSecond: number;
  /** The SDK's ServiceBalancer: pick + outcome. */
  sdkPerSecond: number;
  /** A bare uniform random index. */
  uniformPerSecond: number;
}

const service = 'Bench.picks';
const instances = Array.from({ length: 100 }, (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}`, port: 7963, protocol: 'tcp' as const, weight: 50 + (i % 10) * 50 }));

function nlbState(): NlbState {
  let state = nlbStateFor(service, instances, resolveNlbSettings().settings);
  // One window in which instance 0 failed every call: it is dead, with the probe share.
  const tallies = new Map<string, Tally>();
  for (const s of state.servers) for (let k = 0; k < 20; k++) tallies.set(s.key, addOutcome(tallies.get(s.key), s.key === state.servers[0]!.key, 1));
  state = shapeWindow(state, tallies, Date.now()).state;
  return state;
}

function balancer(): ServiceBalancer {
  let now = 0;
  const b = new ServiceBalancer(service, {
    settings: {}, random: Math.random, clock: () => now, breakers: new InstanceBreakers({}, () => now), logger: pino({ level: 'silent' }),
  });
  b.update({ service, policy: 'standard', version: 1, instances });
  const none = new Set<string>();
  const dead = `${instances[0]!.ip}:${instances[0]!.port}`;
  for (let i = 0; i < 2000; i++) {
    const p = b.pick(none);
    if (p.kind === 'picked') b.feedback(p.server.key, p.server.key === dead, 1);
  }
  now += 5000; // the window ends: instance 0 is shaped out
  return b;
}

export function benchRoutePicks(picks = 2_000_000): RoutePickRates {
  let sink = 0;
  let state = nlbState();
  const lookup = () => undefined;
  let started = performance.now();
  for (let i = 0; i < picks; i++) {
    const p = pickServer(state, Math.random, lookup);
    if (p) {
      state = p.state;
      sink += p.server.port;
    }
  }
  const nlbPerSecond = picks / ((performance.now() - started) / 1000);

  const b = balancer();
  const none = new Set<string>();
  started = performance.now();
  for (let i = 0; i < picks; i++) {
    const p = b.pick(none);
    if (p.kind === 'picked') {
      b.feedback(p.server.key, false, 1);
      sink += p.server.port;
    }
  }
  const sdkPerSecond = picks / ((performance.now() - started) / 1000);

  started = performance.now();
  for (let i = 0; i < picks; i++) sink += instances[Math.floor(Math.random() * instances.length)]!.port;
  const uniformPerSecond = picks / ((performance.now() - started) / 1000);
  if (sink === 0) throw new Error('unreachable: keeps the loops from being optimised away');
  return { nlbPerSecond, sdkPerSecond, uniformPerSecond };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  for (let run = 0; run < 3; run++) {
    const r = benchRoutePicks();
    console.log(`sdk ${fmt(r.sdkPerSecond)}/s  nlb ${fmt(r.nlbPerSecond)}/s  uniform ${fmt(r.uniformPerSecond)}/s`);
  }
}
