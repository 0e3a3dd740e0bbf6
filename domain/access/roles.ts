/**
 * Roles and what they allow (pure). MSEC had no roles: every console user could do
 * everything. Here a user holds grants; a grant is a role, either on every service or scoped
 * to one first-level service ("alice is operator of Flight").
 *
 * - viewer:   read the service tree, versions, routes, audit and views.
 * - operator: viewer + change services, hosts, config/IDL versions, run commands on hosts
 *             (exec only when not scoped: a host may serve several first levels).
 * - admin:    operator + users, roles, keys, agents, replays. Never scoped.
 * A route-read token (for services and agents that look up routes) allows `routes.read` only.
 */
import { refuse } from '../decider.ts';

export const roles = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

export type Permission =
  /** Read routing tables (RPC clients, agents). */
  | 'routes.read'
  /** Read everything but users and secrets. */
  | 'read'
  /** Change services, hosts, versions; run operations on them. */
  | 'services.write'
  /** Users, roles and API tokens of others. */
  | 'users.admin'
  /** Run commands on hosts through their agents (exec, files, process lists). */
  | 'agents.exec'
  /** Enrol and revoke agents, rotate the command keys. */
  | 'agents.admin'
  /** Rebuild projections, read the component status. */
  | 'system.admin';

export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ['routes.read', 'read'],
  operator: ['routes.read', 'read', 'services.write', 'agents.exec'],
  admin: ['routes.read', 'read', 'services.write', 'agents.exec', 'users.admin', 'agents.admin', 'system.admin'],
};

/** Permissions that only an unscoped grant gives (they concern no single service, or every host). */
const globalOnly: ReadonlySet<Permission> = new Set(['users.admin', 'agents.admin', 'agents.exec', 'system.admin']);

/** A role on every service (`service` = '') or on one first-level service and its children. */
export interface Grant {
  role: Role;
  service: string;
}

export function checkRole(role: string): Role {
  if (!(roles as readonly string[]).includes(role)) {
    return refuse('invalid', `unknown role "${role}": use one of ${roles.join(', ')}`);
  }
  return role as Role;
}

/** The first level of a service name ("Flight.mod_flight" → "Flight"), '' for none. */
export function firstLevelOf(service: string | undefined): string {
  if (!service) return '';
  const dot = service.indexOf('.');
  return dot < 0 ? service : service.slice(0, dot);
}

/**
 * Whether `grants` allow `permission`, on the service `target` when the request concerns one.
 * A scoped grant counts only for a request about a service under its first level; a request
 * about no particular service needs an unscoped grant.
 */
export function allows(grants: readonly Grant[], permission: Permission, target?: string): boolean {
  const first = firstLevelOf(target);
  return grants.some((g) => rolePermissions[g.role].includes(permission)
    && (g.service === '' || (!globalOnly.has(permission) && first !== '' && g.service === first)));
}

/** First-level services on which `grants` allow `permission` through a scoped grant only. */
export function scopesAllowing(grants: readonly Grant[], permission: Permission): { all: boolean; services: string[] } {
  const matching = grants.filter((g) => rolePermissions[g.role].includes(permission));
  return { all: matching.some((g) => g.service === ''), services: [...new Set(matching.map((g) => g.service).filter(Boolean))].sort() };
}

export function describeGrant(g: Grant): string {
  return g.service ? `${g.role} of ${g.service}` : g.role;
}

export const sameGrant = (a: Grant, b: Grant) => a.role === b.role && a.service === b.service;
