/**
 * Starts the control plane's roles in this process, on the backends the URLs select:
 * - `msec up`: console + projector, embedded defaults (SQLite store and bus, chdb views)
 *   under one home folder; no server needed.
 * - `msec console`: the HTTP API and web UI; its catalog/routing/users read models are folded
 *   here from the event store, the audit is read from the analytic views the projector fills.
 * - `msec projector`: the outbox relay, routing → registry, audit → analytic views.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { destination, pino, type Logger } from 'pino';
import { projectionKey, type RowFilter } from '../../adapters/views/port.ts';
import { ProjectionRunner } from '../projector/runner.ts';
import { startProjector, projectorStatusKey, type Projector } from '../projector/projector.ts';
import { defaultReportSinks } from '../projector/report-sinks.ts';
import { defaultProjections } from '../../projections/index.ts';
import { auditProjection } from '../../projections/audit.ts';
import { routingProjection } from '../../projections/routing.ts';
import { agentsProjection } from '../../projections/agents.ts';
import { backendUrls, isEmbedded, type BackendUrls } from '../config/backend-urls.ts';
import { openBackends } from '../config/open-backends.ts';
import { LoginThrottle } from './login-throttle.ts';
import { SessionKeys } from './auth.ts';
import { buildConsole } from './server.ts';
import { projectionReads } from './projection-reads.ts';
import { bootstrap } from './bootstrap.ts';
import { consoleAgentPlane } from './agents/plane.ts';
import { CommandKeys } from './agents/command-keys.ts';
import { agentsLiveKey } from '../projector/agent-plane.ts';
import type { LiveHost } from '../projector/agent-live.ts';
import type { ConsoleContext } from './context.ts';
import { ClickHouseLogStore } from '../../adapters/views/clickhouse-logs.ts';
import { logSettingsProjection, type LogSettingsView } from '../../projections/log-settings.ts';
import { startConsoleMonitor, type ConsoleMonitorOptions } from '../monitor/console-monitor.ts';
import { monitorSettings } from '../monitor/settings.ts';
import { consoleAddress } from '../monitor/console-address.ts';
import { PlanRunner } from './releases/plan-runner.ts';
import { KvTaskRunner } from './kv/task-runner.ts';
import { KvMetricsSampler } from './kv/metrics-sampler.ts';
import { createCommandBus } from './command-bus.ts';

export interface UpOptions {
  home: string;
  port?: number;
  host?: string;
  logger?: Logger;
  /** Default: both (msec up). */
  roles?: { console: boolean; projector: boolean };
  /** Default: from MSEC_EVENTSTORE, MSEC_BUS, MSEC_VIEWS, MSEC_REGISTRY, else embedded. */
  urls?: BackendUrls;
  /** The time monitoring goes by (minutes of reports, alarm evaluation); tests move it. Default Date.now. */
  clock?: () => number;
  /** Monitoring tuning for tests: how often the evaluator looks at the clock, webhook retry delays, the signing key. */
  monitoring?: Partial<Pick<ConsoleMonitorOptions, 'pollMs' | 'retryDelaysMs' | 'signer'>>;
}

export interface Running {
  /** The console's URL (absent for a projector alone). */
  url?: string;
  /** Set on the very first start only, when MSEC_ADMIN_PASSWORD was not given. */
  adminPassword?: string;
  close(): Promise<void>;
}

export async function up(options: UpOptions): Promise<Running> {
  const home = resolve(options.home);
  keepPrivate(home);
  const roles = options.roles ?? { console: true, projector: true };
  // Logs go to stderr so stdout keeps what the user reads (the URL, the first password).
  const logger = options.logger ?? pino({ level: process.env.MSEC_LOG_LEVEL ?? 'info', redact: ['req.headers.authorization', 'req.headers.cookie'] }, destination(2));
  const urls = options.urls ?? backendUrls(process.env);
  const clock = options.clock ?? Date.now;
  const settings = monitorSettings(process.env);
  if (roles.console !== roles.projector && isEmbedded(urls.views)) {
    // The console reads the audit the projector writes: an embedded view store is one process's
    // (chdb locks its folder; SQLite files would be two different views).
    throw new Error(`msec ${roles.console ? 'console' : 'projector'} runs beside the other role, so both must use one ClickHouse server: `
      + 'set MSEC_VIEWS=http://host:8123 (or --views) for both, or run both roles in one process with `msec up`');
  }
  const backends = await openBackends({
    home, urls, logger,
    need: { registry: roles.projector },
    // A console and a projector sharing one home each fold their own read models.
    stateViewsFile: roles.console && roles.projector ? 'views.db' : roles.console ? 'console-views.db' : 'projector-views.db',
  });
  const { store } = backends;
  // One command bus for the process: the console's routes, its workflows and the projector's agent plane share its queues.
  const commands = createCommandBus({ store });

  let projector: Projector | undefined;
  let runner: ProjectionRunner | undefined;
  const stops: [what: string, stop: () => Promise<void>][] = [];
  // Each part stops in turn, the last started first; one that takes long is named in the log.
  const stopPart = async (what: string, stop: () => Promise<void>) => {
    const slow = setTimeout(() => logger.warn({ stopping: what }, `stopping: ${what} has taken more than 5 s`), 5000);
    try {
      await stop();
    } catch (err) {
      logger.warn({ err, stopping: what }, `stopping ${what} failed`);
    } finally {
      clearTimeout(slow);
    }
  };
  const closeAll = async () => {
    for (const [what, stop] of stops.splice(0).reverse()) await stopPart(what, stop);
    await stopPart('the backends', () => backends.close());
  };
  try {
    if (roles.projector) {
      projector = await startProjector({
        backends, logger, reportSinks: defaultReportSinks(backends, logger, { clock, retentionDays: settings.retentionDays }),
        projections: roles.console ? defaultProjections : [routingProjection, agentsProjection, auditProjection],
        statusEveryMs: roles.console ? 0 : 2000, commands,
      });
      stops.push(['the projector', () => projector!.stop()]);
      runner = roles.console ? projector.runner : undefined;
    }
    if (!roles.console) {
      logger.info({ home, backends: backends.describe() }, 'msec projector up');
      let closing: Promise<void> | undefined;
      return { close: () => (closing ??= closeAll()) };
    }
    if (!runner) {
      const consoleRunner = new ProjectionRunner({ store, views: backends.stateViews, logger, projections: defaultProjections.filter((p) => p.kind === 'state') });
      await consoleRunner.start();
      stops.push(['the projections', () => consoleRunner.stop()]);
      runner = consoleRunner;
    }
    await runner.waitFor(await store.headPosition(), 60_000);
  } catch (e) {
    await closeAll();
    throw e;
  }

  const source = runner;
  const auditKey = projectionKey(auditProjection.name, auditProjection.version);
  const reads = projectionReads({
    state: (name) => source.state(name),
    // Without a projector here, the audit is read where the projector writes it.
    queryRows: (name, filter: RowFilter) => (projector ? source.queryRows(name, filter) : backends.analyticViews.queryRows(auditKey, filter)),
  });
  let monitor;
  try {
    monitor = await startConsoleMonitor({ backends, commands, reads, projections: runner, settings, logger, clock, ...options.monitoring });
    stops.push(['the monitor', () => monitor!.stop()]);
  } catch (e) {
    await closeAll();
    throw e;
  }
  const ctx: ConsoleContext = {
    store, commands, reads, users: reads, projections: runner, logger,
    bus: backends.bus, monitor,
    components: async () => {
      const here = { role: roles.projector ? 'console+projector' : 'console', backends: backends.describe(), monitoring: monitor.status() };
      if (projector) return { ...here, projector: await projector.status() };
      const stored = await backends.analyticViews.loadState(projectorStatusKey).catch(() => null);
      return { ...here, projector: stored?.state ?? null };
    },
    agents: consoleAgentPlane({
      commands, agents: () => reads.agents(), keysDir: CommandKeys.dirFor(home), blobsDir: join(home, 'blobs'),
      // The live hosts view: this process's projector, or the one the projector stores for other consoles.
      live: async () => projector?.agents
        ? projector.agents.live.all()
        : ((await backends.analyticViews.loadState<{ hosts: LiveHost[] }>(agentsLiveKey).catch(() => null))?.state.hosts ?? []),
    }),
    keys: new SessionKeys(sessionSecret(home)),
    clock, throttle: new LoginThrottle(Date.now),
    secureCookies: process.env.MSEC_SECURE_COOKIES === '1',
    ...trustedProxies(process.env.MSEC_TRUST_PROXY),
    readYourWritesMs: 5000,
    ...(backends.clickhouse ? { logs: new ClickHouseLogStore(backends.clickhouse.client, backends.clickhouse.database) } : {}),
    logSettings: () => source.state<LogSettingsView>(logSettingsProjection.name),
  };
  const agentPlane = ctx.agents!;
  ctx.releases = new PlanRunner({ commands, reads, projections: runner, keys: agentPlane.keys, blobs: agentPlane.blobs, logger, clock });
  const kvAgentTimeoutMs = Number(process.env.MSEC_KV_AGENT_TIMEOUT_MS || 60_000);
  if (!Number.isInteger(kvAgentTimeoutMs) || kvAgentTimeoutMs < 1000) throw new Error(`MSEC_KV_AGENT_TIMEOUT_MS must be a whole number of ms, at least 1000 (not ${process.env.MSEC_KV_AGENT_TIMEOUT_MS})`);
  ctx.kv = new KvTaskRunner({ commands, reads, keys: agentPlane.keys, logger, clock, agentTimeoutMs: kvAgentTimeoutMs });
  const app = await buildConsole(ctx);
  const host = options.host ?? '127.0.0.1';
  stops.push(['the HTTP server', () => app.close()]);
  let adminPassword: string | undefined;
  try {
    // Listen first: a first admin password is only generated once the console can be reached.
    await app.listen({ port: options.port ?? 8080, host });
    ({ adminPassword } = await bootstrap(ctx, process.env.MSEC_ADMIN_PASSWORD || undefined));
    await ctx.agents!.keys.ensure();
    ctx.releases.start();
    stops.push(['the release runner', () => ctx.releases!.stop()]);
    ctx.kv.start();
    stops.push(['the KV task runner', () => ctx.kv!.stop()]);
    if (backends.bus) {
      const everyMs = Number(process.env.MSEC_KV_METRICS_MS || 60_000);
      if (!Number.isInteger(everyMs) || everyMs < 1000) throw new Error(`MSEC_KV_METRICS_MS must be a whole number of ms, at least 1000 (not ${process.env.MSEC_KV_METRICS_MS})`);
      const sampler = new KvMetricsSampler({ reads, redis: ctx.kv.redis, bus: backends.bus, logger, clock, everyMs });
      sampler.start();
      stops.push(['the KV metrics sampler', () => sampler.stop()]);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  if (port) monitor.setConsoleAddress(consoleAddress(host, port));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, home, backends: backends.describe() }, 'msec console up');

  let closing: Promise<void> | undefined;
  return {
    url,
    adminPassword,
    close: () => (closing ??= closeAll()),
  };
}

/**
 * The home holds password hashes, configs and keys: only the user running msec may read it.
 * Everything this process creates from now on is private (umask), and a home made by an
 * earlier version with open modes is closed now.
 */
function keepPrivate(home: string): void {
  process.umask(0o077);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const close = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      if ((stat.mode & 0o077) !== 0) chmodSync(path, stat.mode & 0o700);
      for (const name of readdirSync(path)) close(join(path, name));
    } else if ((stat.mode & 0o077) !== 0) {
      chmodSync(path, stat.mode & 0o700);
    }
  };
  close(home);
}

/**
 * MSEC_TRUST_PROXY: which reverse proxies' X-Forwarded-For / X-Forwarded-Proto to believe
 * (`true` for any, or addresses/CIDRs, comma-separated). Unset: none, so a client cannot
 * choose the address the password throttle counts, nor fake https for the Secure cookie.
 */
export function trustedProxies(value: string | undefined): { trustProxy?: boolean | string[] } {
  const v = value?.trim();
  if (!v || v === 'false' || v === '0') return {};
  if (v === 'true' || v === '1') return { trustProxy: true };
  return { trustProxy: v.split(',').map((x) => x.trim()).filter(Boolean) };
}

/** The key that signs session cookies; kept in the home so sessions survive a restart. */
function sessionSecret(home: string): Buffer {
  const file = join(home, 'session.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  const secret = randomBytes(32);
  // Written whole or not at all: a crash never leaves an empty key behind.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, secret.toString('base64'), { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
  return secret;
}
