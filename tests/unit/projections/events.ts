/**
 * Test events made by hand: payload builders plus `recorded`, which gives them the envelope
 * a store would (ids, positions from 1, per-stream revisions from 0, one minute apart,
 * actor "admin"). Also `foldState`, which deep-freezes every state so a projection that
 * mutates its input fails loudly.
 */
import type { DomainEvent, NewEvent, RecordedEvent } from '../../../domain/events.ts';
import type { HostProtocol, ServiceEvent, ServiceKind } from '../../../domain/services/events.ts';
import type { UserEvent } from '../../../domain/users/events.ts';
import type { AgentEvent, KeyringEvent } from '../../../domain/agents/events.ts';
import { streams } from '../../../domain/streams.ts';
import type { StateProjection } from '../../../projections/projection.ts';

type Data<T extends DomainEvent['type']> = Extract<DomainEvent, { type: T }>['data'];
const ev = <T extends DomainEvent['type']>(type: T, data: Data<T>) => ({ type, data }) as Extract<DomainEvent, { type: T }>;

export const firstLevelCreated = (name: string, kind: ServiceKind = 'standard') => ev('FirstLevelServiceCreated', { name, kind });
export const firstLevelDeleted = (name: string) => ev('FirstLevelServiceDeleted', { name });
export const childClaimed = (parent: string, child: string, o: { kind?: ServiceKind; lang?: string; port?: number } = {}) =>
  ev('ChildServiceClaimed', { parent, child, kind: o.kind ?? 'standard', lang: o.lang ?? 'cpp', port: o.port ?? 7963 });
export const childLinked = (parent: string, child: string) => ev('ChildServiceLinked', { parent, child });
export const childUnlinked = (parent: string, child: string) => ev('ChildServiceUnlinked', { parent, child });
export const serviceCreated = (service: string, o: { kind?: ServiceKind; lang?: string; port?: number } = {}) =>
  ev('ServiceCreated', { service, kind: o.kind ?? 'standard', lang: o.lang ?? 'cpp', port: o.port ?? 7963 });
export const serviceDeleted = (service: string) => ev('ServiceDeleted', { service });
export const hostAdded = (service: string, address: string, o: { protocol?: HostProtocol; weight?: number } = {}) =>
  ev('HostAdded', { service, ...addr(address), protocol: o.protocol ?? 'tcp', weight: o.weight ?? 100 });
export const hostEnabled = (service: string, address: string) => ev('HostEnabled', { service, ...addr(address) });
export const hostDisabled = (service: string, address: string) => ev('HostDisabled', { service, ...addr(address) });
export const hostRemoved = (service: string, address: string) => ev('HostRemoved', { service, ...addr(address) });
export const hostWeightSet = (service: string, address: string, weight: number) => ev('HostWeightSet', { service, ...addr(address), weight });
export const configAdded = (service: string, tag: string, text: string, memo = '') => ev('ConfigVersionAdded', { service, tag, text, memo });
export const configDeleted = (service: string, tag: string) => ev('ConfigVersionDeleted', { service, tag });
export const idlAdded = (service: string, tag: string, text: string, memo = '') => ev('IdlVersionAdded', { service, tag, text, memo });
export const idlDeleted = (service: string, tag: string) => ev('IdlVersionDeleted', { service, tag });

export const userCreated = (name: string, passwordHash = `scrypt$${name}-hash`) => ev('UserCreated', { name, passwordHash });
export const passwordChanged = (name: string, passwordHash: string) => ev('PasswordChanged', { name, passwordHash });
export const userRemoved = (name: string) => ev('UserRemoved', { name });
export const tokenIssued = (name: string, tokenId: string, tokenHash: string, label = 'cli', scope: '' | 'routes' = '') => ev('ApiTokenIssued', { name, tokenId, tokenHash, label, scope });
export const sessionEnded = (name: string, nonce: string, expiresAtMs: number) => ev('SessionEnded', { name, nonce, expiresAtMs });
export const accessInitialized = (admins: string[]) => ev('AccessInitialized', { admins });
export const userAccessSet = (user: string, grants: { role: 'admin' | 'operator' | 'viewer'; service: string }[]) => ev('UserAccessSet', { user, grants });
export const roleGranted = (user: string, role: 'admin' | 'operator' | 'viewer', service = '') => ev('RoleGranted', { user, role, service });
export const roleRevoked = (user: string, role: 'admin' | 'operator' | 'viewer', service = '') => ev('RoleRevoked', { user, role, service });
export const userAccessRemoved = (user: string) => ev('UserAccessRemoved', { user });
export const tokenRevoked = (name: string, tokenId: string) => ev('ApiTokenRevoked', { name, tokenId });
/** Any agent or keyring event, by type and payload. */
export const agentEv = <T extends (AgentEvent | KeyringEvent)['type']>(type: T, data: Data<T>) => ev(type, data);

function addr(address: string): { ip: string; port: number } {
  const [ip, port] = address.split(':');
  return { ip: ip!, port: Number(port) };
}

/** The stream an event belongs to, as the deciders write it. */
export function streamOf(event: DomainEvent): string {
  const data = event.data as Record<string, string>;
  if (isUserEvent(event)) return streams.user(data.name!);
  if (event.type === 'AccessRefused') return streams.accessRefusals;
  if (event.type === 'SigningKeyIntroduced') return streams.keyring;
  if (event.type.startsWith('Agent') && 'ip' in data) return streams.host(data.ip!);
  if ('user' in data || event.type === 'AccessInitialized') return streams.access;
  if (event.type.startsWith('Log')) return streams.logs(data.service!);
  return streams.service(data.service ?? data.parent ?? data.name!);
}

function isUserEvent(event: DomainEvent): event is UserEvent {
  return ['UserCreated', 'PasswordChanged', 'UserRemoved', 'ApiTokenIssued', 'ApiTokenRevoked', 'SessionEnded'].includes(event.type);
}

export const startTime = Date.parse('2024-05-01T08:00:00.000Z');

/** Position n gets the id "…-0000000000n" and the time startTime + n minutes. */
export function eventId(position: number): string {
  return `01900000-0000-7000-8000-${String(position).padStart(12, '0')}`;
}

export interface RecordOptions {
  /** Position of the event before the first one (default 0). */
  after?: number;
  /** Last revision of each stream so far, when continuing an earlier `recorded` call. */
  revisions?: Map<string, number>;
  actor?: string;
  reason?: string;
}

/** Gives payloads the envelope of a store, in order. */
export function recorded(events: DomainEvent[], options: RecordOptions = {}): RecordedEvent[] {
  const revisions = options.revisions ?? new Map<string, number>();
  return events.map((event, i) => {
    const position = (options.after ?? 0) + i + 1;
    const stream = streamOf(event);
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    return {
      ...event, id: eventId(position), stream, revision, position,
      occurredAt: new Date(startTime + position * 60_000).toISOString(),
      actor: options.actor ?? 'admin', reason: options.reason ?? '',
      correlationId: eventId(position), causationId: eventId(position), schemaVersion: 1,
    } as RecordedEvent;
  });
}

/** The same payloads as events to append (for the event store), ids from `eventId`. */
export function toAppend(events: ServiceEvent[] | UserEvent[] | DomainEvent[], firstPosition: number): NewEvent[] {
  return events.map((event, i) => ({
    ...event, id: eventId(firstPosition + i),
    occurredAt: new Date(startTime + (firstPosition + i) * 60_000).toISOString(),
    actor: 'admin', reason: '', correlationId: eventId(firstPosition + i), causationId: eventId(firstPosition + i),
  }) as NewEvent);
}

/** Folds events the way the runner does (only handled types), freezing every state on the way. */
export function foldState<S>(projection: StateProjection<S>, events: RecordedEvent[], from?: S): S {
  let state = deepFreeze(from ?? projection.initialState());
  for (const event of events) {
    if (projection.handles.includes(event.type)) state = deepFreeze(projection.apply(state, event));
  }
  return state;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
