/**
 * The projector's role (design.md): the outbox relay (store → msec.events), the projections
 * whose output leaves the process (routing → the registry, audit → the analytic views), and
 * the registry publisher. `msec projector` runs it alone; `msec up` runs it beside the console.
 *
 * On a real bus the relay signs what it publishes with the deployment key (MSEC_BUS_KEY, else
 * `bus.key` in the home) and every projection's feed takes from `msec.events` only what
 * verifies with it; what it refuses is counted by reason in the status.
 */
import type { Logger } from 'pino';
import { busEventFeed, type BusEventFeed } from '../../adapters/bus/event-feed.ts';
import type { RefusalCounts } from '../../adapters/bus/refusals.ts';
import { topics } from '../../adapters/bus/port.ts';
import { loadBusKey } from '../../adapters/signing/bus-key-source.ts';
import { projectionKey, type ViewStore } from '../../adapters/views/port.ts';
import type { Projection } from '../../projections/projection.ts';
import type { RoutingState } from '../../projections/routing.ts';
import { isEmbedded } from '../config/backend-urls.ts';
import type { Backends } from '../config/open-backends.ts';
import { OutboxRelay, type RelayStatus } from '../relay/outbox-relay.ts';
import { RegistryPublisher, type RegistryPublisherStatus } from './registry-publisher.ts';
import { ProjectionRunner, type ProjectionStatus } from './runner.ts';
import { ReportIngest, type IngestStatus, type ReportSink } from './report-ingest.ts';
import { agentPlane, type AgentPlane } from './agent-plane.ts';
import { createCommandBus, type CommandBus } from '../console/command-bus.ts';
import type { AgentsState } from '../../projections/agents.ts';

export interface ProjectorOptions {
  backends: Backends;
  logger: Logger;
  projections: readonly Projection[];
  /** Store the status for consoles on other machines every this many ms (0: never). */
  statusEveryMs?: number;
  /** What reads the report topics (msec.reports.*) into views: see report-ingest.ts. */
  reportSinks?: readonly ReportSink<unknown>[];
  /** Records host events from agents' reports (default: a bus of its own; `msec up` shares the console's). */
  commands?: CommandBus;
}

export interface ProjectionLag extends ProjectionStatus {
  /** Consumer group on msec.events, when the projection follows the bus. */
  group?: string;
  /** Messages of msec.events not yet consumed by the group. */
  busLag?: number;
  /** Messages of msec.events the group refused since the projector started (forged, garbled, past the store's head). */
  refused?: RefusalCounts;
}

export interface ProjectorStatus {
  at: string;
  backends: Record<string, string>;
  /** Head of the event store when the status was taken. */
  head: number;
  relay?: RelayStatus;
  /** The agent command dispatcher (store → msec.commands), on Kafka. */
  commandDispatcher?: RelayStatus;
  /** Report ingestion per sink: stored items, refusals by reason, a failing store. */
  ingest?: IngestStatus[];
  /** The key that signs and checks msec.events: its public id (compare it across projectors) and where it came from. */
  busKey?: { id: string; source: string };
  projections: ProjectionLag[];
  registry?: RegistryPublisherStatus;
}

/** Where a projector stores its status for consoles that run elsewhere (analytic views). */
export const projectorStatusKey = 'status_projector';

export interface Projector {
  runner: ProjectionRunner;
  /** Agents' reports, the live hosts view and the liveness monitor (when the agents projection runs here). */
  agents?: AgentPlane;
  status(): Promise<ProjectorStatus>;
  stop(): Promise<void>;
}

export const projectorGroup = (p: Projection) => `msec.projector.${projectionKey(p.name, p.version)}`;

export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const { backends, logger } = options;
  const { store, bus, analyticViews, stateViews, registry, checkpoints } = backends;
  const followBus = !isEmbedded(backends.urls.bus);
  const busKey = followBus ? loadBusKey(backends.home) : undefined;
  if (busKey) {
    logger.info({ busKey: busKey.key.id, source: busKey.source },
      `msec.events is signed and checked with bus key ${busKey.key.id} from ${busKey.source}${busKey.created ? ' (created now)' : ''}; every projector of this deployment needs the same key`);
  }
  const relay = busKey ? new OutboxRelay({ store, bus, checkpoints, logger, key: busKey.key }) : undefined;
  const acks = (bus as { settings?: { acks?: number } }).settings?.acks;
  if (relay && acks !== undefined && acks !== -1) {
    logger.warn({ acks }, 'MSEC_BUS has acks other than all: the relay moves its checkpoint on an acknowledgement that a broker failure can still lose; use acks=all');
  }
  const publisher = registry ? new RegistryPublisher({ registry, logger, checkpoints }) : undefined;
  const viewsOf = (p: Projection): ViewStore => (p.kind === 'rows' ? analyticViews : stateViews);
  const feeds = new Map<string, BusEventFeed>();
  const feedOf = (p: Projection) => {
    const feed = busEventFeed(bus, { group: projectorGroup(p), key: busKey!.key, logger, catchUpFrom: store });
    feeds.set(p.name, feed);
    return feed;
  };
  const runner = new ProjectionRunner({
    store, logger, projections: options.projections, views: viewsOf,
    ...(busKey ? { feed: feedOf } : {}),
    afterBatch: (name, state, checkpoint) => {
      if (name === 'routing' && publisher) void publisher.sync(state as RoutingState, checkpoint);
    },
  });
  if (relay) await relay.start();
  const agents = options.projections.some((p) => p.name === 'agents') ? agentPlane({
    store, commands: options.commands ?? createCommandBus({ store }), bus, checkpoints, analyticViews, logger, dispatch: followBus,
    agents: () => runner.state<AgentsState>('agents'), publishLiveEveryMs: options.statusEveryMs ?? 0,
  }) : undefined;
  await runner.start();
  const sinks = [...(options.reportSinks ?? []), ...(agents?.sinks ?? [])];
  const ingest = sinks.length ? new ReportIngest({ bus, sinks, logger }) : undefined;
  ingest?.start();
  await agents?.start();
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
      const refused = feeds.get(p.name)?.refusals();
      projections.push({ ...s, group, ...(lag ? { busLag: Math.max(0, lag.end - Math.max(lag.committed, 0)) } : {}), ...(refused ? { refused } : {}) });
    }
    return {
      at: new Date().toISOString(),
      backends: backends.describe(),
      head: await store.headPosition(),
      ...(relay ? { relay: relay.status() } : {}),
      ...(agents?.dispatcher() ? { commandDispatcher: agents.dispatcher() } : {}),
      ...(ingest ? { ingest: ingest.status() } : {}),
      ...(busKey ? { busKey: { id: busKey.key.id, source: busKey.source } } : {}),
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
    ...(agents ? { agents } : {}),
    status,
    stop: async () => {
      if (timer) clearTimeout(timer);
      await runner.stop();
      await relay?.stop();
      await agents?.stop();
      await ingest?.stop();
      await publisher?.close();
    },
  };
}
