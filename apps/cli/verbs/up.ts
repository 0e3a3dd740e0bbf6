import { resolve } from 'node:path';
import { integerArg, strOpt, usageLine } from '../args.ts';
import type { Command, Ctx, RunLine, UpOptions } from '../context.ts';
import { CliError } from '../errors.ts';
import { BackendUrlError, backendUrls } from '../../config/backend-urls.ts';

/**
 * `msec up` (everything in one process), `msec console` and `msec projector` (the two roles
 * as separate processes, on the backends the URLs select: design.md, Configuration).
 */

export const defaultPort = 8080;
export const defaultHost = '127.0.0.1';
export const defaultHome = './.msec';

const homeOption = { home: { type: 'string', value: 'DIR', help: `data folder (env MSEC_HOME, default ${defaultHome})` } } as const;
const httpOptions = {
  port: { type: 'string', value: 'N', help: `HTTP port (env MSEC_PORT, default ${defaultPort})` },
  host: { type: 'string', value: 'H', help: `address to listen on (default ${defaultHost}; 0.0.0.0 for every interface)` },
} as const;
const backendOptions = {
  eventstore: { type: 'string', value: 'URL', help: 'embedded | esdb://host:2113?tls=false (env MSEC_EVENTSTORE)' },
  bus: { type: 'string', value: 'URL', help: 'embedded | kafka://host:9092 (env MSEC_BUS)' },
  views: { type: 'string', value: 'URL', help: 'embedded (chdb) | sqlite | http://host:8123 (env MSEC_VIEWS)' },
  registry: { type: 'string', value: 'URL', help: 'embedded | zk://[user:password@]host:2181 (env MSEC_REGISTRY)' },
} as const;

type Role = 'up' | 'console' | 'projector';

async function runRole(role: Role, command: Command, ctx: Ctx, line: RunLine): Promise<void> {
  const home = resolve(strOpt(line.opts, 'home') ?? ctx.env.MSEC_HOME ?? defaultHome);
  const portText = strOpt(line.opts, 'port') ?? ctx.env.MSEC_PORT;
  const port = integerArg(portText, strOpt(line.opts, 'port') !== undefined ? '--port' : 'MSEC_PORT', usageLine(command)) ?? defaultPort;
  const host = strOpt(line.opts, 'host') ?? defaultHost;
  let urls: UpOptions['urls'];
  try {
    urls = backendUrls(ctx.env, {
      eventstore: strOpt(line.opts, 'eventstore'), bus: strOpt(line.opts, 'bus'),
      views: strOpt(line.opts, 'views'), registry: strOpt(line.opts, 'registry'),
    });
  } catch (e) {
    if (e instanceof BackendUrlError) throw new CliError(e.message);
    throw e;
  }
  const roles = { console: role !== 'projector', projector: role !== 'console' };
  const what = role === 'projector' ? 'projector' : 'console';
  const stop = ctx.stopSignal(); // before starting: a Ctrl-C during start-up must still close
  const start = await ctx.loadUp();
  let running;
  try {
    running = await start({ home, port, host, roles, urls });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${port} on ${host} is in use: is msec already running? pass --port N (or MSEC_PORT)`);
    if (code === 'EACCES') throw new CliError(`no permission to listen on ${host}:${port}: pick a port above 1023 with --port`);
    throw new CliError(`cannot start the ${what}: ${(e as Error).message}`);
  }
  if (running.url) ctx.out(`msec console: ${running.url}\n`);
  else ctx.out(`msec projector: running (home ${home})\n`);
  if (running.adminPassword) {
    ctx.out(`admin password (shown once): ${running.adminPassword}\n`);
    ctx.out(`log in as user admin with it: msec login --console ${running.url} --user admin\n`);
  }
  if (!stop.aborted) await new Promise<void>((done) => stop.addEventListener('abort', () => done(), { once: true }));
  ctx.stderr.write(`msec: stopping the ${what}…\n`);
  await running.close();
  ctx.stderr.write(`msec: ${what} stopped\n`);
}

const up: Command = {
  path: ['up'],
  summary: 'run the whole control plane here (embedded store, bus and views under --home)',
  kind: 'local',
  positionals: [],
  options: { ...homeOption, ...httpOptions, ...backendOptions },
  notes: [
    'On the very first start without MSEC_ADMIN_PASSWORD, the password of user admin is printed once.',
    'Ctrl-C (SIGINT) or SIGTERM stops the console cleanly.',
  ],
  run(ctx, line) {
    return runRole('up', this, ctx, line);
  },
};

const consoleRole: Command = {
  path: ['console'],
  summary: 'run the console alone (API + web UI); a projector fills the registry and the audit view',
  kind: 'local',
  positionals: [],
  options: { ...homeOption, ...httpOptions, ...backendOptions },
  notes: ['Distributed mode: point every process at the same MSEC_EVENTSTORE, MSEC_BUS, MSEC_VIEWS, MSEC_REGISTRY.'],
  run(ctx, line) {
    return runRole('console', this, ctx, line);
  },
};

const projectorRole: Command = {
  path: ['projector'],
  summary: 'run the projector alone: outbox relay, routing → registry, audit → views',
  kind: 'local',
  positionals: [],
  options: { ...homeOption, ...backendOptions },
  notes: ['Run one projector per deployment; it keeps its relay checkpoint under --home.'],
  run(ctx, line) {
    return runRole('projector', this, ctx, line);
  },
};

export const upCommands: Command[] = [up, consoleRole, projectorRole];
