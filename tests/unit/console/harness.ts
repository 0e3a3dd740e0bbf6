/** A console wired on in-memory adapters, driven through fastify's inject (no port, real pipeline). */
import { pino } from 'pino';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import { ProjectionRunner } from '../../../apps/projector/runner.ts';
import { defaultProjections } from '../../../projections/index.ts';
import { LoginThrottle } from '../../../apps/console/login-throttle.ts';
import { SessionKeys } from '../../../apps/console/auth.ts';
import { buildConsole } from '../../../apps/console/server.ts';
import { projectionReads } from '../../../apps/console/projection-reads.ts';
import { bootstrap } from '../../../apps/console/bootstrap.ts';
import type { ConsoleContext } from '../../../apps/console/context.ts';
import { createCommandBus } from '../../../apps/console/command-bus.ts';
import type { ViewStore } from '../../../adapters/views/port.ts';
import type { Projection } from '../../../projections/projection.ts';

export const adminPassword = 'correct horse battery';
export const basicAdmin = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;

export interface Harness {
  app: FastifyInstance;
  store: MemoryEventStore;
  ctx: ConsoleContext;
  /** inject with admin's Basic auth unless headers say otherwise. */
  call(o: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Routes added after the console's own (a test of what happens to an undeclared route). */
  extraRoutes?: (app: FastifyInstance) => unknown;
  /** Another console on the same store (a second process, or this one restarted). */
  store?: MemoryEventStore;
  trustProxy?: ConsoleContext['trustProxy'];
  /** Where the projections write (default: one memory view store for all). */
  views?: (projection: Projection) => ViewStore;
  /** Adds to the context before the console is built (a bus, monitoring), with the runner that folds its read models. */
  extend?: (ctx: ConsoleContext, runner: ProjectionRunner) => Promise<void> | void;
}

export async function consoleHarness(options: HarnessOptions = {}): Promise<Harness> {
  const logger = pino({ level: 'silent' });
  const store = options.store ?? new MemoryEventStore();
  const views = options.views ?? new MemoryViewStore();
  const runner = new ProjectionRunner({ store, views, projections: defaultProjections, logger });
  await runner.start();
  const reads = projectionReads(runner);
  const ctx: ConsoleContext = {
    store, commands: createCommandBus({ store }), reads, users: reads, projections: runner, logger, keys: new SessionKeys(Buffer.alloc(32, 7)),
    clock: Date.now, throttle: new LoginThrottle(Date.now), secureCookies: false, readYourWritesMs: 5000,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
  };
  await bootstrap(ctx, adminPassword);
  await options.extend?.(ctx, runner);
  const app = await buildConsole(ctx);
  options.extraRoutes?.(app);
  return {
    app, store, ctx,
    call: (o) => app.inject({ ...o, headers: { authorization: basicAdmin, ...(o.headers ?? {}) } }),
    close: async () => {
      await app.close();
      await runner.stop();
      if (!options.store) await store.close();
    },
  };
}
