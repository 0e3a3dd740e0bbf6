/**
 * Where instances go (pure). MSEC placed instances by machine capacity; here: never two
 * instances of one set on one host when there are hosts enough, masters spread over hosts
 * (fewest masters first), then the least loaded host, then the order the operator gave.
 */
import { refuse } from '../decider.ts';
import type { KvRole } from './events.ts';
import { MAX_INSTANCE_PORTS } from './rules.ts';

export interface Placed { setId: number; ip: string; role: KvRole }
export interface PlacedWithPort extends Placed { port: number }

interface Load { instances: number; masters: number; order: number }

function loads(hosts: readonly string[], existing: readonly Placed[]): Map<string, Load> {
  const m = new Map<string, Load>(hosts.map((ip, order) => [ip, { instances: 0, masters: 0, order }]));
  for (const p of existing) {
    const l = m.get(p.ip) ?? { instances: 0, masters: 0, order: m.size };
    l.instances++;
    if (p.role === 'master') l.masters++;
    m.set(p.ip, l);
  }
  return m;
}

function pick(candidates: readonly string[], load: Map<string, Load>, byMasters: boolean): string {
  return [...candidates].sort((a, b) => {
    const x = load.get(a)!, y = load.get(b)!;
    // A replica, between hosts equally loaded, goes where a master is already: a host without one
    // takes the next set's master, and would otherwise end up with both (3 sets on 3 hosts: 3/2/1 instances).
    return byMasters
      ? x.masters - y.masters || x.instances - y.instances || x.order - y.order
      : x.instances - y.instances || y.masters - x.masters || x.order - y.order;
  })[0]!;
}

/** New sets `firstSetId`, `firstSetId + 1`, …, each a master and `replicas` replicas, on `hosts` (minus `avoid`). */
export function placeSets(input: { hosts: readonly string[]; existing: readonly Placed[]; sets: number; replicas: number; firstSetId: number; avoid?: readonly string[] }): Placed[] {
  const usable = input.hosts.filter((ip) => !(input.avoid ?? []).includes(ip));
  if (usable.length === 0) return refuse('invalid', 'no host to place instances on: give hosts with --hosts whose agents are up');
  const load = loads(input.hosts, input.existing);
  const out: Placed[] = [];
  const take = (p: Placed) => {
    out.push(p);
    const l = load.get(p.ip)!;
    l.instances++;
    if (p.role === 'master') l.masters++;
  };
  for (let i = 0; i < input.sets; i++) {
    const setId = input.firstSetId + i;
    const master = pick(usable, load, true);
    take({ setId, ip: master, role: 'master' });
    const inSet = new Set([master]);
    for (let r = 0; r < input.replicas; r++) {
      const apart = usable.filter((ip) => !inSet.has(ip));
      const ip = pick(apart.length ? apart : usable, load, false);
      inSet.add(ip);
      take({ setId, ip, role: 'replica' });
    }
  }
  return out;
}

/** A replica to replace a lost one of `setId`: on a host holding no member of the set when one is left. */
export function placeReplacement(input: { hosts: readonly string[]; existing: readonly Placed[]; setId: number; avoid: readonly string[] }): string {
  const usable = input.hosts.filter((ip) => !input.avoid.includes(ip));
  if (usable.length === 0) return refuse('conflict', `no live host is left to place a replica of set ${input.setId} on: add hosts (msec kv expand --hosts) or bring an agent back`);
  const inSet = new Set(input.existing.filter((p) => p.setId === input.setId).map((p) => p.ip));
  const apart = usable.filter((ip) => !inSet.has(ip));
  return pick(apart.length ? apart : usable, loads(input.hosts, input.existing), false);
}

/** The lowest port of [basePort, basePort + 99] not taken on the host. */
export function freePort(basePort: number, taken: ReadonlySet<number>): number {
  for (let p = basePort; p < basePort + MAX_INSTANCE_PORTS; p++) if (!taken.has(p)) return p;
  return refuse('conflict', `every port from ${basePort} to ${basePort + MAX_INSTANCE_PORTS - 1} is taken on this host by the cluster: shrink it or place on other hosts`);
}

/** Ports for `placed`, given the instances each host holds already. */
export function withPorts(basePort: number, existing: readonly { ip: string; port: number }[], placed: readonly Placed[]): PlacedWithPort[] {
  const taken = new Map<string, Set<number>>();
  for (const e of existing) (taken.get(e.ip) ?? taken.set(e.ip, new Set()).get(e.ip)!).add(e.port);
  return placed.map((p) => {
    const onHost = taken.get(p.ip) ?? taken.set(p.ip, new Set()).get(p.ip)!;
    const port = freePort(basePort, onHost);
    onHost.add(port);
    return { ...p, port };
  });
}
