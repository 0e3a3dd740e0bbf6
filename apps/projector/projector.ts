/**
 * The projector's role (design.md): the outbox relay (store → msec.events), the projections
 * whose output leaves the process (routing → the registry, audit → the analytic views), and
 * the registry publisher. `msec projector` runs it alone; `msec up` runs it beside the console.
 */
import type { Logger } from 'pino';
import { busEventFeed } from '../../adapters/bus/event-feed.ts';
import { topics } from '../../adapters/bus/port.ts';
import { projectionKey, type ViewStore } from '../../adapters/views/port.ts';
import type { Projection } from '../../projections/projection.ts';
import type { RoutingState } from '../../projections/routing.ts';
import { isEmbedded } from '../config/backend-urls.ts';
import type { Backends } from '../config/open-backends.ts';
import { OutboxRelay, type RelayStatus } from '../relay/outbox-relay.ts';
import { RegistryPublisher, type RegistryPublisherStatus } from './registry-publisher.ts';
import { ProjectionRunner, type ProjectionStatus } from './runner.ts';

export interface ProjectorOptions {
  backends: Backends;
  logger: Logger;
  projections: readonly Projection[];
  /** Store the status for consoles on other machines every this many ms (0: never). */
  statusEveryMs?: number;
}

export interface ProjectionLag extends ProjectionStatus {
  /** Consumer group on msec.events, when the projection follows the bus. */
  group?: string;
  /** Messages of msec.events not yet consumed by the group. */
  busLag?: number;
}

export interface ProjectorStatus {
  at: string;
  backends: Record<string, string>;
  /** Head of the event store when the status was taken. */
  head: number;
  relay?: RelayStatus;
  projections: ProjectionLag[];
  registry?: RegistryPublisherStatus;
}

/** Where a projector stores its status for consoles that run elsewhere (analytic views). */
export const projectorStatusKey = 'status_projector';

export interface Projector {
  runner: ProjectionRunner;
  status(): Promise<ProjectorStatus>;
  stop(): Promise<void>;
}

export const projectorGroup = (p: Projection) => `msec.projector.${projectionKey(p.name, p.version)}`;

export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const { backends, logger } = options;
  const { store, bus, analyticViews, stateViews, registry, checkpoints } = backends;
  const followBus = !isEmbedded(backends.urls.bus);
  const relay = followBus ? new OutboxRelay({ store, bus, checkpoints, logger }) : undefined;
  const acks = (bus as { settings?: { acks?: number } }).settings?.acks;
  if (relay && acks !== undefined && acks !== -1) {
    logger.warn({ acks }, 'MSEC_BUS has acks other than all: the relay moves its checkpoint on an acknowledgement that a broker failure can still lose; use acks=all');
  }
  const publisher = registry ? new RegistryPublisher({ registry, logger, checkpoints }) : undefined;
  const viewsOf = (p: Projection): ViewStore => (p.kind === 'rows' ? analyticViews : stateViews);
  const runner = new ProjectionRunner({
    store, logger, projections: options.projections, views: viewsOf,
    ...(followBus ? { feed: (p: Projection) => busEventFeed(bus, { group: projectorGroup(p), logger, catchUpFrom: store }) } : {}),
    afterBatch: (name, state, checkpoint) => {
      if (name === 'routing' && publisher) void publisher.sync(state as RoutingState, checkpoint);
    },
  });
  if (relay) await relay.start();
  await runner.start();
  if (publisher && options.projections.some((p) => p.name === 'routing')) {
    void publisher.sync(runner.state<RoutingState>('routing'), runner.status().find((s) => s.name === 'routing')?.checkpoint);
  }

  const status = async (): Promise<ProjectorStatus> => {
    const projections: ProjectionLag[] = [];
    const statuses = new Map(runner.status().map((x) => [x.name, x]));
    for (const p of options.projections) {
      const s = statuses.get(p.name)!;
      if (!followBus) {
        projections.push(s);
        continue;
      }
      const group = projectorGroup(p);
      const lag = await bus.lag(topics.events, group).catch(() => undefined);
      projections.push({ ...s, group, ...(lag ? { busLag: Math.max(0, lag.end - Math.max(lag.committed, 0)) } : {}) });
    }
    return {
      at: new Date().toISOString(),
      backends: backends.describe(),
      head: await store.headPosition(),
      ...(relay ? { relay: relay.status() } : {}),
      projections,
      ...(publisher ? { registry: publisher.status() } : {}),
    };
  };

  let timer: NodeJS.Timeout | undefined;
  const every = options.statusEveryMs ?? 0;
  if (every > 0) {
    const save = async () => {
      try {
        await analyticViews.saveState(projectorStatusKey, await status(), 0);
      } catch (err) {
        logger.warn({ err }, 'could not store the projector status for consoles; retrying');
      }
      timer = setTimeout(() => void save(), every);
      timer.unref();
    };
    await save();
  }

  return {
    runner,
    status,
    stop: async () => {
      if (timer) clearTimeout(timer);
      await runner.stop();
      await relay?.stop();
      await publisher?.close();
    },
  };
}
