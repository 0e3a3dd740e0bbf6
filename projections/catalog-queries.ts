import type { ServiceKind } from '../domain/services/events.ts';
import {
  firstLevelList, serviceList, type CatalogState, type FirstLevelService, type SecondLevelService,
  type VersionRecord, type VersionSummary,
} from './catalog-state.ts';
import { compareText } from './sorted-list.ts';

/** What the console serves from the catalog (apps/console/API.md, /api/services…). */

export interface ServiceTreeNode {
  name: string;
  kind: ServiceKind;
  revision: number;
  children: ServiceTreeChild[];
}

export interface ServiceTreeChild {
  name: string;
  fullName: string;
  kind: ServiceKind;
  lang: string;
  port: number;
  /** Number of hosts, and how many of them are enabled (in the routing table). */
  hosts: number;
  enabledHosts: number;
  /**
   * False for a child linked under its first level whose ServiceCreated is not there (a
   * creation that stopped half way). It is listed because it still blocks deleting the
   * first level, and the user needs to see why.
   */
  exists: boolean;
}

export interface FirstLevelDetail extends ServiceTreeNode {
  level: 'first';
}

/** A second-level service as stored, with version summaries (no texts) instead of versions. */
export interface SecondLevelDetail extends Omit<SecondLevelService, 'name' | 'configs' | 'idls'> {
  level: 'second';
  /** The full name ("Flight.mod_flight"), as the user typed it in the URL. */
  name: string;
  configs: VersionSummary[];
  idls: VersionSummary[];
}

export type ServiceDetail = FirstLevelDetail | SecondLevelDetail;

/** Every first level (by name) with its children (by name). */
export function listServiceTree(state: CatalogState): ServiceTreeNode[] {
  const byParent = new Map<string, SecondLevelService[]>();
  for (const service of state.services) {
    const siblings = byParent.get(service.parent);
    if (siblings) siblings.push(service);
    else byParent.set(service.parent, [service]);
  }
  return state.firstLevels.map((first) => treeNode(state, first, byParent.get(first.name) ?? []));
}

/** `name` is "First" (a first level) or "First.Second" (a second level); null when unknown. */
export function serviceDetail(state: CatalogState, name: string): ServiceDetail | null {
  if (!name.includes('.')) {
    const first = firstLevelList.find(state.firstLevels, name);
    if (!first) return null;
    return { level: 'first', ...treeNode(state, first, state.services.filter((s) => s.parent === first.name)) };
  }
  const service = findService(state, name);
  if (!service) return null;
  const { fullName, parent, kind, lang, port, revision, createdAt, hosts, configs, idls } = service;
  return {
    level: 'second', name: fullName, fullName, parent, kind, lang, port, revision, createdAt,
    hosts, configs: configs.map(summary), idls: idls.map(summary),
  };
}

export function findService(state: CatalogState, fullName: string): SecondLevelService | null {
  return serviceList.find(state.services, fullName) ?? null;
}

/** Version lists without their text, oldest first; null when the service is unknown. */
export function configVersions(state: CatalogState, service: string): VersionSummary[] | null {
  return findService(state, service)?.configs.map(summary) ?? null;
}

export function idlVersions(state: CatalogState, service: string): VersionSummary[] | null {
  return findService(state, service)?.idls.map(summary) ?? null;
}

/** One version with its text; null when the service or the tag is unknown. */
export function configVersion(state: CatalogState, service: string, tag: string): VersionRecord | null {
  return findService(state, service)?.configs.find((v) => v.tag === tag) ?? null;
}

export function idlVersion(state: CatalogState, service: string, tag: string): VersionRecord | null {
  return findService(state, service)?.idls.find((v) => v.tag === tag) ?? null;
}

function treeNode(state: CatalogState, first: FirstLevelService, created: SecondLevelService[]): ServiceTreeNode {
  // Linked children, plus services of this first level whose link is not written yet.
  const names = new Set([...first.children, ...created.map((service) => service.name)]);
  const children = [...names].sort(compareText).map((child): ServiceTreeChild => {
    const fullName = `${first.name}.${child}`;
    const service = findService(state, fullName);
    if (!service) {
      return { name: child, fullName, kind: first.kind, lang: '', port: 0, hosts: 0, enabledHosts: 0, exists: false };
    }
    return {
      name: child, fullName, kind: service.kind, lang: service.lang, port: service.port,
      hosts: service.hosts.length, enabledHosts: service.hosts.filter((h) => h.enabled).length, exists: true,
    };
  });
  return { name: first.name, kind: first.kind, revision: first.revision, children };
}

function summary({ tag, memo, size, addedAt, actor }: VersionRecord): VersionSummary {
  return { tag, memo, size, addedAt, actor };
}
