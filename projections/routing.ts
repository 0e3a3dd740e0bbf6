import type { RecordedEvent } from '../domain/events.ts';
import type { ServiceEvent, ServiceEventType } from '../domain/services/events.ts';
import type { AgentEvent } from '../domain/agents/events.ts';
import { compareRouteInstances, type RouteInstance, type RouteTable } from '../schemas/route-table.ts';
import type { StateProjection } from './projection.ts';
import { compareText, keyedList, search, withSorted } from './sorted-list.ts';

/**
 * The name service's routing tables (msec-reference §1.2): per second-level service, the
 * ENABLED instances only, as the one RouteTable every reader takes (schemas/route-table.ts):
 * the registry publisher, the console's route API and, through them, the SDK and the agents.
 * A table that did not change is the same object in the next state, so a reader finds what
 * changed by identity. A new host starts disabled; enabling it ("scale out") is what routes
 * traffic to it, never a release.
 *
 * `version` is the global position of the last event that changed what a client would route
 * to, so it is the same after any replay and can serve as an ETag. What changes it:
 *  - the table appearing (ServiceCreated), an enabled host joining or leaving
 *    (HostEnabled, HostDisabled, HostRemoved of an enabled host), or the weight of an enabled
 *    host changing;
 *  - the host of an enabled instance going down or coming back up (AgentDown, AgentUp: its
 *    agent's heartbeats stopped or resumed), which marks the instance `down`;
 * what does not (the served table would be identical, so long-polling clients must not wake):
 *  - adding, removing or re-weighting a disabled host, and any event that changes nothing.
 * The weight of a disabled host is still remembered, so enabling it later routes with it.
 */
export interface RoutingState {
  /** Sorted by full second-level name. */
  services: ServiceRoutes[];
  /** Hosts whose agent missed three heartbeats (AgentDown), sorted: their instances are served marked down. */
  downHosts?: string[];
}

export interface ServiceRoutes {
  /** What clients route with: the enabled hosts, sorted by IP (numerically) then port. */
  table: RouteTable;
  /** Disabled hosts, same order: kept to know protocol and weight when they are enabled. */
  standby: RouteInstance[];
}

const handled: readonly (ServiceEventType | 'AgentDown' | 'AgentUp')[] = [
  'ServiceCreated', 'ServiceDeleted', 'HostAdded', 'HostEnabled', 'HostDisabled', 'HostRemoved', 'HostWeightSet', 'AgentDown', 'AgentUp',
];

export const routingProjection: StateProjection<RoutingState> = {
  kind: 'state',
  name: 'routing',
  version: 3,
  handles: handled,
  initialState: () => ({ services: [], downHosts: [] }),
  apply: (state, event) => (event.type === 'AgentDown' || event.type === 'AgentUp'
    ? applyHostLiveness(state, event as RecordedEvent<Extract<AgentEvent, { type: 'AgentDown' | 'AgentUp' }>>)
    : applyRoutingEvent(state, event as RecordedEvent<ServiceEvent>)),
};

/** Marks (or unmarks) every served instance on the host; tables that change get the event's position as version. */
function applyHostLiveness(state: RoutingState, event: RecordedEvent<Extract<AgentEvent, { type: 'AgentDown' | 'AgentUp' }>>): RoutingState {
  const { ip } = event.data;
  const down = event.type === 'AgentDown';
  const known = state.downHosts ?? [];
  const listed = search(known, (h) => compareText(h, ip)).found;
  if (listed === down) return state;
  const downHosts = down ? withSorted(known, ip, compareText) : known.filter((h) => h !== ip);
  const mark = (i: RouteInstance): RouteInstance => {
    if (i.ip !== ip) return i;
    const { down: _was, ...rest } = i;
    return down ? { ...rest, down: true } : rest;
  };
  const services = state.services.map((s) => (s.table.instances.some((i) => i.ip === ip)
    ? { ...s, table: { ...s.table, version: event.position, instances: s.table.instances.map(mark) } }
    : s));
  return { services, downHosts };
}

/** The service's table, or null (the state's own object: do not change it). */
export function routeFor(state: RoutingState, service: string): RouteTable | null {
  return tables.find(state.services, service)?.table ?? null;
}

/** Every service's table, by service name. */
export function allRoutes(state: RoutingState): RouteTable[] {
  return state.services.map((s) => s.table);
}

function applyRoutingEvent(state: RoutingState, event: RecordedEvent<ServiceEvent>): RoutingState {
  switch (event.type) {
    case 'ServiceCreated': {
      const { service, kind } = event.data;
      const routes: ServiceRoutes = { table: { service, policy: kind, version: event.position, instances: [] }, standby: [] };
      return { ...state, services: tables.with(state.services, routes) };
    }
    case 'ServiceDeleted':
      return { ...state, services: tables.without(state.services, event.data.service) };
    case 'HostAdded': {
      const { ip, port, protocol, weight } = event.data;
      return change(state, event, (t) => ({
        instances: without(t.instances, event.data),
        standby: withSorted(t.standby, { ip, port, protocol, weight }, compareHosts),
      }));
    }
    case 'HostEnabled':
      return change(state, event, (t) => {
        const host = find(t.standby, event.data);
        if (!host) return t;
        const served = search(state.downHosts ?? [], (h) => compareText(h, host.ip)).found ? { ...host, down: true as const } : host;
        return { instances: withSorted(t.instances, served, compareHosts), standby: without(t.standby, host) };
      });
    case 'HostDisabled':
      return change(state, event, (t) => {
        const host = find(t.instances, event.data);
        if (!host) return t;
        const { down: _down, ...kept } = host;
        return { instances: without(t.instances, host), standby: withSorted(t.standby, kept, compareHosts) };
      });
    case 'HostRemoved':
      return change(state, event, (t) => ({ instances: without(t.instances, event.data), standby: without(t.standby, event.data) }));
    case 'HostWeightSet': {
      const { weight } = event.data;
      const stale = (h: RouteInstance) => same(h, event.data) && h.weight !== weight;
      const reweigh = (hosts: RouteInstance[]) => (hosts.some(stale) ? hosts.map((h) => (stale(h) ? { ...h, weight } : h)) : hosts);
      return change(state, event, (t) => ({ instances: reweigh(t.instances), standby: reweigh(t.standby) }));
    }
    case 'FirstLevelServiceCreated':
    case 'FirstLevelServiceDeleted':
    case 'ChildServiceClaimed':
    case 'ChildServiceLinked':
    case 'ChildServiceUnlinked':
    case 'ConfigVersionAdded':
    case 'ConfigVersionDeleted':
    case 'IdlVersionAdded':
    case 'IdlVersionDeleted':
      return state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

interface HostLists {
  instances: RouteInstance[];
  standby: RouteInstance[];
}

/** Applies a host change; bumps `version` only when the served instance list changed. */
function change(
  state: RoutingState,
  event: RecordedEvent<Extract<ServiceEvent, { data: { service: string } }>>,
  update: (table: HostLists) => HostLists,
): RoutingState {
  const routes = tables.find(state.services, event.data.service);
  if (!routes) return state;
  const { table } = routes;
  const { instances, standby } = update({ instances: table.instances, standby: routes.standby });
  if (instances === table.instances && standby === routes.standby) return state;
  // The served table keeps its identity (and version) when only the standby list moved.
  const served = sameInstances(instances, table.instances);
  return { ...state, services: tables.with(state.services, { table: served ? table : { ...table, version: event.position, instances }, standby }) };
}

function same(a: { ip: string; port: number }, b: { ip: string; port: number }): boolean {
  return a.ip === b.ip && a.port === b.port;
}

const tables = keyedList<ServiceRoutes>((routes) => routes.table.service);

function find(hosts: RouteInstance[], at: { ip: string; port: number }): RouteInstance | undefined {
  const { found, at: i } = search(hosts, (h) => compareHosts(h, at));
  return found ? hosts[i] : undefined;
}

function without(hosts: RouteInstance[], at: { ip: string; port: number }): RouteInstance[] {
  const { found, at: i } = search(hosts, (h) => compareHosts(h, at));
  return found ? [...hosts.slice(0, i), ...hosts.slice(i + 1)] : hosts;
}

function sameInstances(a: RouteInstance[], b: RouteInstance[]): boolean {
  return a.length === b.length && a.every((h, i) => {
    const o = b[i]!;
    return same(h, o) && h.protocol === o.protocol && h.weight === o.weight && h.down === o.down;
  });
}

/** The order instances are served in (the canonical one): by IP, numerically, then port. */
const compareHosts = compareRouteInstances;
