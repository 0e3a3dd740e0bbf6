import type { DomainEvent, RecordedEvent } from '../domain/events.ts';
import { keyedList } from './sorted-list.ts';

/**
 * What the audit needs to know of the past to say what an event changed: per service, the
 * weight and enabled state of each host, the config and IDL tags in the order they were added,
 * and the log level set in the console. Small next to the catalog (no texts, no memos); the
 * audit projection folds it beside its rows (projection.ts, `context`).
 */
export interface AuditContext {
  /**
   * Services in `serviceBuckets` buckets by a hash of their name, each sorted by name; a
   * service appears once an event about it needs it. Buckets keep an update to a copy of one
   * small list (every event of a replay of a large log updates one).
   */
  buckets: ServiceFacts[][];
}

export interface ServiceFacts {
  service: string;
  /** Sorted by address ("10.0.0.1:7963"). */
  hosts: HostFacts[];
  /** Config tags, oldest first: the last one is the newest. */
  configs: string[];
  idls: string[];
  /** The level set with `msec log-level` ('' or absent: the config version's). */
  logLevel?: string;
}

export interface HostFacts {
  address: string;
  weight: number;
  enabled: boolean;
}

/** The prior value of what an event changed, as an audit row carries it. */
export interface PriorValue {
  weight?: number;
  enabled?: boolean;
  /** The newest version (config or IDL) before the event; '' when there was none. */
  version?: string;
  /** The log level before the event; '' for the config version's. */
  logLevel?: string;
}

export const serviceBuckets = 64;

export const emptyAuditContext = (): AuditContext => ({ buckets: Array.from({ length: serviceBuckets }, () => []) });

const serviceFacts = keyedList<ServiceFacts>((s) => s.service);
const hostFacts = keyedList<HostFacts>((h) => h.address);

const address = (host: { ip: string; port: number }) => `${host.ip}:${host.port}`;

/** FNV-1a of the name: the same bucket on every machine. */
function bucketOf(service: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) h = Math.imul(h ^ service.charCodeAt(i), 0x01000193);
  return (h >>> 0) % serviceBuckets;
}

function findService(context: AuditContext, service: string): ServiceFacts | undefined {
  return serviceFacts.find(context.buckets[bucketOf(service)] ?? [], service);
}

function withBucket(context: AuditContext, service: string, change: (bucket: ServiceFacts[]) => ServiceFacts[]): AuditContext {
  const at = bucketOf(service);
  const buckets = context.buckets.slice();
  buckets[at] = change(buckets[at] ?? []);
  return { buckets };
}

/** What the event is about to change, from the context before it; undefined when it changes nothing known. */
export function priorValueOf(context: AuditContext, event: DomainEvent): PriorValue | undefined {
  switch (event.type) {
    case 'HostWeightSet': {
      const host = findHost(context, event.data.service, address(event.data));
      return host && { weight: host.weight };
    }
    case 'HostEnabled':
    case 'HostDisabled': {
      const host = findHost(context, event.data.service, address(event.data));
      return host && { enabled: host.enabled };
    }
    case 'HostRemoved': {
      const host = findHost(context, event.data.service, address(event.data));
      return host && { weight: host.weight, enabled: host.enabled };
    }
    case 'ConfigVersionAdded':
      return { version: findService(context, event.data.service)?.configs.at(-1) ?? '' };
    case 'IdlVersionAdded':
      return { version: findService(context, event.data.service)?.idls.at(-1) ?? '' };
    case 'LogLevelSet':
      return { logLevel: findService(context, event.data.service)?.logLevel ?? '' };
    default:
      return undefined;
  }
}

/** The context after the event. Pure: the given context is left as it was. */
export function applyAuditContext(context: AuditContext, event: RecordedEvent): AuditContext {
  const e = event as RecordedEvent<DomainEvent>;
  switch (e.type) {
    case 'ServiceDeleted':
      return findService(context, e.data.service) ? withBucket(context, e.data.service, (bucket) => serviceFacts.without(bucket, e.data.service)) : context;
    case 'HostAdded':
      return withService(context, e.data.service, (s) => ({
        ...s, hosts: hostFacts.with(s.hosts, { address: address(e.data), weight: e.data.weight, enabled: false }),
      }));
    case 'HostEnabled':
    case 'HostDisabled': {
      const enabled = e.type === 'HostEnabled';
      return withHost(context, e.data.service, address(e.data), (h) => ({ ...h, enabled }));
    }
    case 'HostWeightSet': {
      const { weight } = e.data;
      return withHost(context, e.data.service, address(e.data), (h) => ({ ...h, weight }));
    }
    case 'HostRemoved':
      return withService(context, e.data.service, (s) => ({ ...s, hosts: hostFacts.without(s.hosts, address(e.data)) }));
    case 'ConfigVersionAdded': {
      const { tag } = e.data;
      return withService(context, e.data.service, (s) => ({ ...s, configs: [...s.configs.filter((t) => t !== tag), tag] }));
    }
    case 'ConfigVersionDeleted': {
      const { tag } = e.data;
      return withService(context, e.data.service, (s) => ({ ...s, configs: s.configs.filter((t) => t !== tag) }));
    }
    case 'IdlVersionAdded': {
      const { tag } = e.data;
      return withService(context, e.data.service, (s) => ({ ...s, idls: [...s.idls.filter((t) => t !== tag), tag] }));
    }
    case 'IdlVersionDeleted': {
      const { tag } = e.data;
      return withService(context, e.data.service, (s) => ({ ...s, idls: s.idls.filter((t) => t !== tag) }));
    }
    case 'LogLevelSet': {
      const { level } = e.data;
      return withService(context, e.data.service, (s) => ({ ...s, logLevel: level }));
    }
    default:
      return context;
  }
}

function findHost(context: AuditContext, service: string, at: string): HostFacts | undefined {
  const facts = findService(context, service);
  return facts && hostFacts.find(facts.hosts, at);
}

function withService(context: AuditContext, service: string, change: (facts: ServiceFacts) => ServiceFacts): AuditContext {
  const facts = findService(context, service) ?? { service, hosts: [], configs: [], idls: [] };
  return withBucket(context, service, (bucket) => serviceFacts.with(bucket, change(facts)));
}

/** Changes a known host; a host the context never saw added stays unknown. */
function withHost(context: AuditContext, service: string, at: string, change: (host: HostFacts) => HostFacts): AuditContext {
  const host = findHost(context, service, at);
  if (!host) return context;
  return withService(context, service, (s) => ({ ...s, hosts: hostFacts.with(s.hosts, change(host)) }));
}
