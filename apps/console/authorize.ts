/**
 * Who may do what: every /api route declares the permission it needs (route config
 * `permission`), and the service it concerns is read from the request (`serviceOf`, default:
 * the `:name` parameter). A route that declares nothing is refused to everyone (fail closed).
 * A refusal is 403 with the missing permission named, and recorded in the audit
 * (AccessRefused on stream "access-refusals", at most a few per user and minute, the rest
 * counted).
 */
import { PerMinuteBudget } from '../../domain/per-minute-budget.ts';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { allows, type Permission } from '../../domain/access/roles.ts';
import { eventIdFor, uuidv7 } from '../../domain/event-ids.ts';
import { streams } from '../../domain/streams.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import type { Caller } from './auth.ts';
import { HttpProblem } from './problems.ts';

/**
 * What a route needs: a permission; `authenticated` for what any user may do for themselves
 * (their session, their own tokens and password); `agent` for the agent channel (a host's
 * enrolled agent, speaking for itself only).
 */
export type RouteAccess = Permission | 'authenticated' | 'agent';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RouteAccess;
    /** The service a request concerns, for permissions scoped to a first-level service. */
    serviceOf?: (request: FastifyRequest) => string | undefined;
  }
}

/** Whether the caller may use `permission` (on `service`). Route-read tokens only read routes. */
export function callerMay(caller: Caller, permission: RouteAccess, service?: string): boolean {
  if (caller.via === 'agent') return permission === 'agent' || permission === 'routes.read';
  if (permission === 'agent') return false;
  if (caller.tokenScope === 'routes') return permission === 'routes.read';
  if (permission === 'authenticated') return true;
  return allows(caller.grants, permission, service);
}

export class RefusalLog {
  private readonly budget: PerMinuteBudget;

  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
    private readonly clock: () => number,
    /** Refusals recorded one by one per user and minute; the rest are counted into the next one. */
    perMinute = 10,
  ) {
    this.budget = new PerMinuteBudget(perMinute);
  }

  async record(caller: Caller, permission: string, service: string, method: string, route: string): Promise<void> {
    const now = this.clock();
    this.logger.warn({ user: caller.user, permission, service, method, route }, 'request refused: missing permission');
    const suppressed = this.budget.take(caller.user, now);
    if (suppressed === undefined) return;
    const commandId = uuidv7(now);
    try {
      await this.store.append(streams.accessRefusals, 'any', [{
        type: 'AccessRefused',
        data: { user: caller.user, permission, service, method, route, suppressed },
        id: eventIdFor(commandId, 0), occurredAt: new Date(now).toISOString(), actor: caller.user, reason: '',
        correlationId: commandId, causationId: commandId,
      }]);
    } catch (err) {
      this.budget.hold(caller.user, suppressed + 1, now);
      this.logger.error({ err }, 'could not record a refused request in the audit');
    }
  }
}

/** Throws 403 (and records it) unless the caller may use `permission` on `service`. */
export async function demand(request: FastifyRequest, refusals: RefusalLog, permission: RouteAccess, service?: string): Promise<void> {
  const caller = request.caller!;
  if (callerMay(caller, permission, service)) return;
  const route = request.routeOptions.url ?? request.url.split('?')[0]!;
  await refusals.record(caller, permission, service ?? '', request.method, route);
  const scope = service ? ` on ${service}` : '';
  const how = caller.via === 'agent'
    ? 'an agent may use the agent channel and read routes only'
    : permission === 'agent'
      ? 'only a host\'s enrolled agent may use the agent channel'
      : caller.tokenScope === 'routes'
    ? 'this is a route-read token: it reads routing tables only'
    : `ask an admin: msec user grant ${caller.user} ${suggestedRole(permission)}${service && (permission === 'services.write' || permission === 'read') ? ` --service ${service.split('.')[0]}` : ''}`;
  throw new HttpProblem(403, 'forbidden', `${caller.user} lacks permission ${permission}${scope}: ${how}`);
}

function suggestedRole(permission: RouteAccess): string {
  switch (permission) {
    case 'routes.read':
    case 'read':
      return 'viewer';
    case 'services.write':
    case 'agents.exec':
      return 'operator';
    default:
      return 'admin';
  }
}

/** The service named by the `:name` route parameter, the default for scoped permissions. */
export function serviceParam(request: FastifyRequest): string | undefined {
  const name = (request.params as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
