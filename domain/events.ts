import type { ServiceEvent } from './services/events.ts';
import type { UserEvent } from './users/events.ts';
import type { AccessEvent } from './access/events.ts';
import type { AgentEvent, KeyringEvent } from './agents/events.ts';
import type { LogSettingsEvent } from './logs/settings.ts';
import type { MonitoringEvent } from './monitoring/events.ts';
import type { ReleaseEvent } from './releases/events.ts';
import type { KvEvent } from './kv/events.ts';

/** Every domain event the control plane knows, as a discriminated union on `type`. */
export type DomainEvent = ServiceEvent | UserEvent | AccessEvent | AgentEvent | KeyringEvent | LogSettingsEvent | MonitoringEvent | ReleaseEvent | KvEvent;
export type DomainEventType = DomainEvent['type'];

/** An event as read back from the store: the envelope's metadata plus the typed payload. */
export type RecordedEvent<E extends DomainEvent = DomainEvent> = E & {
  id: string;
  stream: string;
  revision: number;
  position: number;
  occurredAt: string; // ISO-8601, UTC
  actor: string;
  reason: string;
  correlationId: string;
  causationId: string;
  schemaVersion: number;
};

/** An event about to be appended: payload plus the metadata the writer decides. */
export type NewEvent<E extends DomainEvent = DomainEvent> = E & {
  id: string;
  occurredAt: string;
  actor: string;
  reason: string;
  correlationId: string;
  causationId: string;
  schemaVersion?: number;
};
