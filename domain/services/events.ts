/** Events of the service tree. Payload shapes mirror schemas/events/services.proto. */
export type ServiceKind = 'standard' | 'odd';
export type HostProtocol = 'udp' | 'tcp' | 'both';

export type ServiceEvent =
  | { type: 'FirstLevelServiceCreated'; data: { name: string; kind: ServiceKind } }
  | { type: 'FirstLevelServiceDeleted'; data: { name: string } }
  /** A creation in progress holds the child's name (with the settings it creates it with) until
   *  the service exists and the link is confirmed by ChildServiceLinked. */
  | { type: 'ChildServiceClaimed'; data: { parent: string; child: string; kind: ServiceKind; lang: string; port: number } }
  | { type: 'ChildServiceLinked'; data: { parent: string; child: string } }
  | { type: 'ChildServiceUnlinked'; data: { parent: string; child: string } }
  | { type: 'ServiceCreated'; data: { service: string; kind: ServiceKind; lang: string; port: number } }
  | { type: 'ServiceDeleted'; data: { service: string } }
  | { type: 'HostAdded'; data: { service: string; ip: string; port: number; protocol: HostProtocol; weight: number } }
  | { type: 'HostEnabled'; data: { service: string; ip: string; port: number } }
  | { type: 'HostDisabled'; data: { service: string; ip: string; port: number } }
  | { type: 'HostRemoved'; data: { service: string; ip: string; port: number } }
  | { type: 'HostWeightSet'; data: { service: string; ip: string; port: number; weight: number } }
  | { type: 'ConfigVersionAdded'; data: { service: string; tag: string; text: string; memo: string } }
  | { type: 'ConfigVersionDeleted'; data: { service: string; tag: string } }
  | { type: 'IdlVersionAdded'; data: { service: string; tag: string; text: string; memo: string } }
  | { type: 'IdlVersionDeleted'; data: { service: string; tag: string } };

export type ServiceEventType = ServiceEvent['type'];

export const serviceEventTypes: readonly ServiceEventType[] = [
  'FirstLevelServiceCreated', 'FirstLevelServiceDeleted', 'ChildServiceClaimed', 'ChildServiceLinked', 'ChildServiceUnlinked',
  'ServiceCreated', 'ServiceDeleted', 'HostAdded', 'HostEnabled', 'HostDisabled', 'HostRemoved',
  'HostWeightSet', 'ConfigVersionAdded', 'ConfigVersionDeleted', 'IdlVersionAdded', 'IdlVersionDeleted',
];
