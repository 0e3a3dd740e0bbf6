import type { HostProtocol, ServiceKind } from '../domain/services/events.ts';
import { keyedList } from './sorted-list.ts';

/**
 * The catalog read model: MSEC's two-level service tree with everything the standard-service
 * page shows. One JSON document; the runner stores it with its checkpoint.
 */
export interface CatalogState {
  /** Sorted by name ("Flight"). */
  firstLevels: FirstLevelService[];
  /** Sorted by full second-level name ("Flight.mod_flight"). */
  services: SecondLevelService[];
}

export interface FirstLevelService {
  name: string;
  kind: ServiceKind;
  /** Revision of stream `service-<First>`, for If-Match on a delete. */
  revision: number;
  createdAt: string;
  /** Second-level names ("mod_flight") linked under it, sorted. */
  children: string[];
}

export interface SecondLevelService {
  fullName: string;
  /** First level ("Flight") and second level ("mod_flight") of `fullName`. */
  parent: string;
  name: string;
  kind: ServiceKind;
  lang: string;
  port: number;
  /** Revision of stream `service-<First>.<Second>`, for If-Match. */
  revision: number;
  createdAt: string;
  /** In the order they were added. */
  hosts: CatalogHost[];
  configs: VersionRecord[];
  idls: VersionRecord[];
}

export interface CatalogHost {
  ip: string;
  port: number;
  protocol: HostProtocol;
  weight: number;
  /** New hosts start disabled (MSEC); enabling is "scale out". */
  enabled: boolean;
  addedAt: string;
}

/** A config (INI) or IDL (.proto) version: the text as saved, tagged. */
export interface VersionRecord {
  tag: string;
  memo: string;
  text: string;
  /** UTF-8 bytes of `text`. */
  size: number;
  addedAt: string;
  actor: string;
}

export type VersionSummary = Omit<VersionRecord, 'text'>;

export const emptyCatalog = (): CatalogState => ({ firstLevels: [], services: [] });

export const firstLevelList = keyedList<FirstLevelService>((first) => first.name);
export const serviceList = keyedList<SecondLevelService>((service) => service.fullName);
