/** Everything a route needs, handed to each route plugin. */
import { uuidPattern, uuidv7 } from '../../domain/event-ids.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import type { MessageBus } from '../../adapters/bus/port.ts';
import type { CommandBus, CommandMeta, CommandOutcome } from './command-bus.ts';
import type { ConsoleReads, ProjectionControl } from './reads.ts';
import type { SessionKeys, UserDirectory } from './auth.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { RefusalLog } from './authorize.ts';
import type { ConsoleAgentPlane } from './agents/plane.ts';
import type { ClickHouseLogStore } from '../../adapters/views/clickhouse-logs.ts';
import type { LogSettingsView } from '../../projections/log-settings.ts';
import { HttpProblem } from './problems.ts';
import type { ConsoleMonitor } from '../monitor/console-monitor.ts';
import type { PlanRunner } from './releases/plan-runner.ts';
import type { KvTaskRunner } from './kv/task-runner.ts';

export interface ConsoleContext {
  store: EventStore;
  /** Runs commands on `store`: this process's one bus (its cache, idempotency records and per-stream queues). */
  commands: CommandBus;
  reads: ConsoleReads;
  projections: ProjectionControl;
  users: UserDirectory;
  keys: SessionKeys;
  throttle: LoginThrottle;
  logger: Logger;
  clock: () => number;
  /** Always mark the session cookie Secure (it is also Secure on any request that came over https). */
  secureCookies: boolean;
  /** Fastify's trustProxy: which proxies' X-Forwarded-For/-Proto to believe (MSEC_TRUST_PROXY). */
  trustProxy?: boolean | string | string[];
  /** Records refused requests in the audit (made by buildConsole when absent). */
  refusals?: RefusalLog;
  /** Host agents: command keys, the agent channel, streamed output, blobs (absent: no agent routes). */
  agents?: ConsoleAgentPlane;
  /** How long a command's answer waits for the console's own projections (ms). */
  readYourWritesMs: number;
  /** How long a stopping console lets requests under way finish before it cuts their connections (default 10 s). */
  drainMs?: number;
  /** The bus, for tailing report topics (absent in tests that do not need it). */
  bus?: MessageBus;
  /** Metric views, alarm evaluation and webhooks (absent in tests that do not need them). */
  monitor?: ConsoleMonitor;
  /** Which backend each port uses and the projector's status, for `msec status`. */
  components?: () => Promise<Record<string, unknown>>;
  /** Business logs and call edges (absent when the views are in SQLite: the routes answer 503). */
  logs?: ClickHouseLogStore;
  /** Carries out release plans (absent: plans are created and shown, and carried out by another console). */
  releases?: PlanRunner;
  /** Carries out the KV's tasks (absent: tasks are recorded and carried out by another console). */
  kv?: KvTaskRunner;
  /** The log-settings projection (level, coloring rules, custom fields per service). */
  logSettings?: () => LogSettingsView;
}


/** Command metadata from a request: caller, reason, idempotency key, If-Match revision. */
export function commandMeta(ctx: ConsoleContext, request: FastifyRequest): CommandMeta {
  const body = (request.body ?? {}) as { reason?: unknown };
  const headerReason = request.headers['x-msec-reason'];
  const reason = typeof body.reason === 'string' ? body.reason : typeof headerReason === 'string' ? headerReason : '';
  if (reason.length > 500) throw new HttpProblem(400, 'invalid', 'reason is limited to 500 characters');
  const key = request.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !uuidPattern.test(key.toLowerCase()))) {
    throw new HttpProblem(400, 'invalid', 'Idempotency-Key must be a UUID');
  }
  const meta: CommandMeta = {
    commandId: typeof key === 'string' ? key.toLowerCase() : uuidv7(ctx.clock()),
    actor: request.caller!.user,
    reason,
    at: ctx.clock(),
  };
  const ifMatch = request.headers['if-match'];
  if (typeof ifMatch === 'string') {
    const m = /^(?:W\/)?"?(-?\d+)"?$/.exec(ifMatch.trim());
    if (!m) throw new HttpProblem(400, 'invalid', 'If-Match must be a stream revision, e.g. "3"');
    meta.expectedRevision = Number(m[1]);
  }
  return meta;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The projections a command route's callers read next (read-your-writes): its answer waits
     * until they hold its events. Default: every state projection. Never the audit: its rows
     * are stored in the analytic views, a round trip per batch, and an audit read waits for it itself.
     */
    readModels?: readonly string[];
  }
}

/** Answers a command once the read models its route names (default: every state projection) include its events. */
export async function commandAnswer(ctx: ConsoleContext, reply: FastifyReply, outcome: CommandOutcome, status = 200, extra: object = {}) {
  const projections = reply.request.routeOptions.config.readModels ?? 'state';
  if (outcome.position > 0) await ctx.projections.waitFor(outcome.position, ctx.readYourWritesMs, { projections });
  return reply.code(status).send({
    ok: true, stream: outcome.stream, revision: outcome.revision, position: outcome.position,
    events: outcome.eventTypes, ...extra,
  });
}

/** Whether the session cookie of this answer must be Secure: always when told, and on https. */
export function secureCookie(ctx: ConsoleContext, request: FastifyRequest): boolean {
  return ctx.secureCookies || request.protocol === 'https';
}

/** Shared JSON-schema pieces. */
export const schemas = {
  reason: { type: 'string', maxLength: 500, description: 'Why: recorded with the events' },
  serviceName: { type: 'string', minLength: 1, maxLength: 64, description: '`First` or `First.Second`' },
  address: { type: 'string', pattern: '^[^:]+:[0-9]+$', description: '`ip:port`' },
  tag: { type: 'string', minLength: 1, maxLength: 64 },
} as const;
