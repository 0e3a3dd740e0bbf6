/**
 * The runner stores state projections as JSON snapshots and, after a restart, folds on from
 * the last one. So for every state projection: folding a history in one go must equal
 * folding it with a JSON round trip at any point. Histories come from the real deciders
 * driven by a seeded random walk, so every event sequence is one the console could write.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent } from '../../../domain/events.ts';
import { firstLevelDecider, serviceDecider } from '../../../domain/services/index.ts';
import type { FirstLevelCommand, ServiceCommand } from '../../../domain/services/commands.ts';
import { userDecider } from '../../../domain/users/index.ts';
import type { UserCommand } from '../../../domain/users/commands.ts';
import { DomainError, type Decider } from '../../../domain/decider.ts';
import { catalogProjection, configVersions, listServiceTree, serviceDetail } from '../../../projections/catalog.ts';
import { allRoutes, routingProjection } from '../../../projections/routing.ts';
import { usersProjection } from '../../../projections/users.ts';
import type { StateProjection } from '../../../projections/projection.ts';
import { foldState, recorded } from './events.ts';
import { seededRandom } from '../support/seeded-random.ts';


/** Applies commands through a decider per stream, keeping only what the rules accept. */
function history(seed: number, steps: number): DomainEvent[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const states = new Map<string, unknown>();
  const out: DomainEvent[] = [];
  const run = <C, S>(stream: string, decider: Decider<C, DomainEvent, S>, command: C) => {
    const state = (states.get(stream) as S | undefined) ?? decider.initialState();
    try {
      const events = decider.decide(command, state);
      states.set(stream, events.reduce(decider.evolve, state));
      out.push(...events);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
    }
  };
  const services = ['Flight.mod_flight', 'Flight.mod_price', 'Hotel.mod_room'];
  const hosts = ['10.0.0.1:7963', '10.0.0.2:7963', '10.0.1.1:8000'];
  for (let i = 0; i < steps; i++) {
    const full = pick(services);
    const [first, second] = full.split('.') as [string, string];
    const [ip, port] = pick(hosts).split(':') as [string, string];
    const host = { service: full, ip, port: Number(port) };
    const serviceCommands: ServiceCommand[] = [
      { type: 'CreateService', service: full, kind: 'standard', lang: 'c++', port: 7963 },
      { type: 'DeleteService', service: full },
      { type: 'AddHost', ...host, protocol: pick(['udp', 'tcp', 'both'] as const), weight: pick([50, 100, 300]) },
      { type: 'EnableHost', ...host }, { type: 'EnableHost', ...host },
      { type: 'DisableHost', ...host },
      { type: 'RemoveHost', ...host },
      { type: 'SetHostWeight', ...host, weight: pick([10, 100, 500]) },
      { type: 'AddConfigVersion', service: full, tag: pick(['v1', 'v2']), text: '[LOG]\nLevel=INFO\n', memo: 'm' },
      { type: 'DeleteConfigVersion', service: full, tag: pick(['v1', 'v2']) },
    ];
    const treeCommands: FirstLevelCommand[] = [
      { type: 'ClaimChildService', parent: first, child: second, kind: 'standard', lang: 'c++', port: 7963 },
      { type: 'LinkChildService', parent: first, child: second },
      { type: 'UnlinkChildService', parent: first, child: second },
      { type: 'DeleteFirstLevelService', name: first },
    ];
    const userCommands: UserCommand[] = [
      { type: 'CreateUser', name: pick(['ann', 'bob']), passwordHash: `scrypt$${i}` },
      { type: 'ChangePassword', name: pick(['ann', 'bob']), passwordHash: `scrypt$${i}` },
      { type: 'IssueApiToken', name: pick(['ann', 'bob']), tokenId: `t${i}`, tokenHash: `h${i}`, label: 'cli' },
      { type: 'RemoveUser', name: pick(['ann', 'bob']), actor: 'admin' },
    ];
    const r = rnd();
    if (r < 0.7) run(`service-${full}`, serviceDecider, pick(serviceCommands));
    else if (r < 0.85) run(`service-${first}`, firstLevelDecider, pick(treeCommands));
    else {
      const command = pick(userCommands);
      run(`user-${command.name}`, userDecider, command);
    }
  }
  return out;
}

const projections = [catalogProjection, routingProjection, usersProjection] as StateProjection<unknown>[];

describe('state projections: a JSON snapshot at any point changes nothing', () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    it(`seed ${seed}: full fold = fold, snapshot, fold on (every projection, snapshots at random points)`, () => {
      const events = recorded(history(seed, 400));
      assert.ok(events.length > 100, `the walk produced ${events.length} events`);
      const rnd = seededRandom(seed * 7919);
      for (const projection of projections) {
        const whole = foldState(projection, events);
        let state = projection.initialState();
        let at = 0;
        while (at < events.length) {
          const next = Math.min(events.length, at + 1 + Math.floor(rnd() * 60));
          state = JSON.parse(JSON.stringify(foldState(projection, events.slice(at, next), state)));
          at = next;
        }
        assert.deepEqual(state, JSON.parse(JSON.stringify(whole)), `${projection.name} after snapshots`);
      }
    });

    it(`seed ${seed}: routing serves exactly the catalog's enabled hosts, for every live service`, () => {
      const events = recorded(history(seed, 400));
      const catalog = foldState(catalogProjection, events);
      const routing = foldState(routingProjection, events);
      const live = listServiceTree(catalog).flatMap((f) => f.children.filter((c) => c.exists).map((c) => c.fullName));
      for (const route of allRoutes(routing)) {
        const detail = serviceDetail(catalog, route.service) as { hosts: { ip: string; port: number; protocol: string; weight: number; enabled: boolean }[] } | null;
        assert.ok(detail, `route for ${route.service} has a catalog entry`);
        const enabled = detail.hosts.filter((h) => h.enabled).map(({ ip, port, protocol, weight }) => ({ ip, port, protocol, weight }));
        const sortKey = (h: { ip: string; port: number }) => `${h.ip}:${h.port}`;
        assert.deepEqual([...route.instances].sort((x, y) => sortKey(x).localeCompare(sortKey(y))), enabled.sort((x, y) => sortKey(x).localeCompare(sortKey(y))));
        assert.ok(configVersions(catalog, route.service) !== null);
      }
      for (const name of live) assert.ok(allRoutes(routing).some((r) => r.service === name), `${name} has a routing table`);
    });
  }
});
