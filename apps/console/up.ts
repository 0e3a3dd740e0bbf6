/**
 * `msec up`: the whole control plane in one process on embedded defaults — the SQLite event
 * store, the projection runner and the console — under one home folder.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { destination, pino, type Logger } from 'pino';
import { msecDatabaseFile } from '../../adapters/sqlite/open.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { SqliteViewStore } from '../../adapters/views/sqlite.ts';
import { ProjectionRunner } from '../projector/runner.ts';
import { defaultProjections } from '../../projections/index.ts';
import { LoginThrottle } from './login-throttle.ts';
import { SessionKeys } from './auth.ts';
import { buildConsole } from './server.ts';
import { projectionReads } from './projection-reads.ts';
import { bootstrap } from './bootstrap.ts';
import type { ConsoleContext } from './context.ts';

export interface UpOptions {
  home: string;
  port: number;
  host?: string;
  logger?: Logger;
}

export interface Running {
  url: string;
  /** Set on the very first start only, when MSEC_ADMIN_PASSWORD was not given. */
  adminPassword?: string;
  close(): Promise<void>;
}

export async function up(options: UpOptions): Promise<Running> {
  const home = resolve(options.home);
  mkdirSync(home, { recursive: true });
  // Logs go to stderr so stdout keeps what the user reads (the URL, the first password).
  const logger = options.logger ?? pino({ level: process.env.MSEC_LOG_LEVEL ?? 'info', redact: ['req.headers.authorization', 'req.headers.cookie'] }, destination(2));
  const store = SqliteEventStore.open(msecDatabaseFile(home), { logger });
  const views = SqliteViewStore.open(join(home, 'views.db'));
  const runner = new ProjectionRunner({ store, views, projections: defaultProjections, logger });
  await runner.start();
  await runner.waitFor(await store.headPosition(), 60_000);

  const reads = projectionReads(runner);
  const ctx: ConsoleContext = {
    store, reads, users: reads, projections: runner, logger,
    keys: new SessionKeys(sessionSecret(home)),
    clock: Date.now, throttle: new LoginThrottle(Date.now),
    secureCookies: process.env.MSEC_SECURE_COOKIES === '1',
    readYourWritesMs: 5000,
  };
  const app = await buildConsole(ctx);
  const host = options.host ?? '127.0.0.1';
  const closeAll = async () => {
    await app.close();
    await runner.stop();
    await views.close();
    await store.close();
  };
  let adminPassword: string | undefined;
  try {
    // Listen first: a first admin password is only generated once the console can be reached.
    await app.listen({ port: options.port, host });
    ({ adminPassword } = await bootstrap(ctx, process.env.MSEC_ADMIN_PASSWORD || undefined));
  } catch (e) {
    await closeAll();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, home }, 'msec console up');

  let closing: Promise<void> | undefined;
  return {
    url,
    adminPassword,
    close: () => (closing ??= closeAll()),
  };
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
