import type { HostProtocol, ServiceKind } from './events.ts';

/** Commands on a first-level service (stream "service-<First>"). */
export type FirstLevelCommand =
  | { type: 'CreateFirstLevelService'; name: string; kind: ServiceKind; system?: boolean }
  | { type: 'DeleteFirstLevelService'; name: string }
  /** Holds a child's name for a creation in progress, with the settings it creates the service
   *  with. Creates the first level (with `kind`) when it does not exist yet. Claiming a child
   *  claimed with the same settings decides nothing. */
  | { type: 'ClaimChildService'; parent: string; child: string; kind: ServiceKind; lang: string; port: number; system?: boolean }
  /** Confirms the link of a claimed child once its service exists. Linking a linked child decides nothing. */
  | { type: 'LinkChildService'; parent: string; child: string }
  /** Removes the link of a child whose service is gone. Unlinking a child that is not linked decides nothing. */
  | { type: 'UnlinkChildService'; parent: string; child: string };

/** Commands on a second-level service (stream "service-<First>.<Second>"). */
export type ServiceCommand =
  | { type: 'CreateService'; service: string; kind: ServiceKind; lang: string; port: number; system?: boolean }
  | { type: 'DeleteService'; service: string }
  | { type: 'AddHost'; service: string; ip: string; port: number; protocol: HostProtocol; weight?: number }
  | { type: 'EnableHost'; service: string; ip: string; port: number }
  | { type: 'DisableHost'; service: string; ip: string; port: number }
  | { type: 'RemoveHost'; service: string; ip: string; port: number }
  | { type: 'SetHostWeight'; service: string; ip: string; port: number; weight: number }
  | { type: 'AddConfigVersion'; service: string; tag: string; text: string; memo: string }
  | { type: 'DeleteConfigVersion'; service: string; tag: string }
  | { type: 'AddIdlVersion'; service: string; tag: string; text: string; memo: string }
  | { type: 'DeleteIdlVersion'; service: string; tag: string };
