/** ConsoleReads over the projection runner's in-memory read models and the audit view. */
import { configVersion, configVersions, idlVersion, idlVersions, listServiceTree, serviceDetail, type CatalogState } from '../../projections/catalog.ts';
import { allRoutes, routeFor, type RoutingState } from '../../projections/routing.ts';
import type { MonitoringState } from '../../projections/monitoring.ts';
import { serviceList } from '../../projections/catalog-state.ts';
import { findTokenByHash, findUser, grantsOf, isSessionEnded, listUsers, userCount, type UsersState } from '../../projections/users.ts';
import type { UserDirectory } from './auth.ts';
import type { AgentsState } from '../../projections/agents.ts';
import type { ReleasesState } from '../../projections/releases.ts';
import type { KvState } from '../../projections/kv.ts';
import type { AuditFilter, ConsoleReads } from './reads.ts';

export interface ReadModelSource {
  state<S>(projection: string): S;
  queryRows(projection: string, filter: AuditFilter): Promise<unknown[]>;
}

export function projectionReads(source: ReadModelSource): ConsoleReads & UserDirectory {
  const catalog = () => source.state<CatalogState>('catalog');
  const routing = () => source.state<RoutingState>('routing');
  const users = () => source.state<UsersState>('users');
  const orUndefined = <T>(v: T | null): T | undefined => v ?? undefined;
  return {
    serviceTree: () => listServiceTree(catalog()),
    service: (name) => orUndefined(serviceDetail(catalog(), name)),
    versions: (kind, service) => orUndefined(kind === 'config' ? configVersions(catalog(), service) : idlVersions(catalog(), service)),
    version: (kind, service, tag) => orUndefined(kind === 'config' ? configVersion(catalog(), service, tag) : idlVersion(catalog(), service, tag)),
    route: (service) => orUndefined(routeFor(routing(), service)),
    routes: () => allRoutes(routing()),
    audit: (filter) => source.queryRows('audit', filter),
    monitoring: () => source.state<MonitoringState>('monitoring'),
    hostIps: (service) => [...new Set((serviceList.find(catalog().services, service)?.hosts ?? []).map((h) => h.ip))],
    users: () => listUsers(users()),
    agents: () => source.state<AgentsState>('agents'),
    releases: () => source.state<ReleasesState>('releases'),
    kv: () => source.state<KvState>('kv'),
    userCount: () => userCount(users()),
    findUser: (name) => orUndefined(findUser(users(), name)),
    findByTokenHash: (hash) => {
      const found = findTokenByHash(users(), hash);
      return found ? { name: found.user.name, tokenId: found.token.tokenId, scope: found.token.scope ?? '' } : undefined;
    },
    grantsOf: (name) => grantsOf(users(), name),
    isSessionEnded: (nonce) => isSessionEnded(users(), nonce),
  };
}
