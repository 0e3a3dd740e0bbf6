import type { HostProtocol, ServiceKind } from './events.ts';

/** Commands on a first-level service (stream "service-<First>"). */
export type FirstLevelCommand =
  | { type: 'CreateFirstLevelService'; name: string; kind: ServiceKind; system?: boolean }
  | { type: 'DeleteFirstLevelService'; name: string }
  /** Links a second-level child. Creates the first level (with `kind`) when it does not exist yet.
   *  Linking an already linked child decides nothing (so a retried creation resumes). */
  | { type: 'LinkChildService'; parent: string; child: string; kind: ServiceKind; system?: boolean }
  /** Unlinking a child that is not linked decides nothing. */
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
