import type { DomainEventType } from '../domain/events.ts';

/**
 * Every domain event type. A Record keyed by the union makes the compiler refuse this file
 * when a new event type is added to domain/events.ts and not listed here, so a projection
 * that reads "all events" (audit) cannot silently miss one.
 */
const everyType: Record<DomainEventType, true> = {
  FirstLevelServiceCreated: true,
  FirstLevelServiceDeleted: true,
  ChildServiceClaimed: true,
  ChildServiceLinked: true,
  ChildServiceUnlinked: true,
  ServiceCreated: true,
  ServiceDeleted: true,
  HostAdded: true,
  HostEnabled: true,
  HostDisabled: true,
  HostRemoved: true,
  HostWeightSet: true,
  ConfigVersionAdded: true,
  ConfigVersionDeleted: true,
  IdlVersionAdded: true,
  IdlVersionDeleted: true,
  UserCreated: true,
  PasswordChanged: true,
  UserRemoved: true,
  ApiTokenIssued: true,
  ApiTokenRevoked: true,
  SessionEnded: true,
  AccessInitialized: true,
  UserAccessSet: true,
  RoleGranted: true,
  RoleRevoked: true,
  UserAccessRemoved: true,
  AccessRefused: true,
  AlarmRuleSet: true,
  AlarmRuleDeleted: true,
  AlarmWebhookSet: true,
  AlarmWebhookRemoved: true,
  AlarmRaised: true,
  AlarmResolved: true,
};

export const allDomainEventTypes: readonly DomainEventType[] = Object.keys(everyType) as DomainEventType[];
