/**
 * The projector's part of the agent channel: reading agents' signed reports into the live
 * hosts view and host events, marking silent agents down, and (on Kafka) dispatching the
 * signed commands to msec.commands from the event store, as the outbox relay does for events:
 * a checkpoint after the broker's ack, so nothing is lost; a replay (`msec replay`) never
 * dispatches anything again, since it rebuilds read models only.
 */
import type { Logger } from 'pino';
import { hostAgentDecider, type AgentCommand } from '../../domain/agents/index.ts';
import { streams } from '../../domain/streams.ts';
import { topics, type CheckpointStore, type MessageBus } from '../../adapters/bus/port.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import type { ViewStore } from '../../adapters/views/port.ts';
import type { AgentsState } from '../../projections/agents.ts';
import type { CommandBus } from '../console/command-bus.ts';
import { OutboxRelay, type RelayStatus } from '../relay/outbox-relay.ts';
import { AgentLiveView, LivenessMonitor } from './agent-live.ts';
import { agentReportSinks } from './agent-reports.ts';
import type { ReportSink } from './report-ingest.ts';

/** Where a projector stores the live hosts view for consoles that run elsewhere. */
export const agentsLiveKey = 'status_agents_live';

export interface AgentPlaneOptions {
  store: EventStore;
  /** Records host events (reports, liveness); the bus decides again when a console appended to the host first. */
  commands: CommandBus;
  bus: MessageBus;
  checkpoints: CheckpointStore;
  analyticViews: ViewStore;
  agents: () => AgentsState;
  logger: Logger;
  /** Dispatch commands to msec.commands (Kafka deployments). */
  dispatch: boolean;
  /** Store the live view for other consoles every this many ms (0: never). */
  publishLiveEveryMs: number;
  defaultHeartbeatMs?: number;
  clock?: () => number;
}

export interface AgentPlane {
  live: AgentLiveView;
  sinks: ReportSink<unknown>[];
  /** Starts the liveness monitor and the dispatcher (after the projections are loaded). */
  start(): Promise<void>;
  dispatcher(): RelayStatus | undefined;
  stop(): Promise<void>;
}

export function agentPlane(options: AgentPlaneOptions): AgentPlane {
  const { store, logger } = options;
  const clock = options.clock ?? Date.now;
  const live = new AgentLiveView(clock, options.defaultHeartbeatMs ?? (Number(process.env.MSEC_AGENT_HEARTBEAT_MS) || 20_000));
  const record = (ip: string, command: AgentCommand, id: string) =>
    options.commands.execute(streams.host(ip), hostAgentDecider, command, { commandId: id, actor: `agent:${ip}`, reason: '', at: clock() });
  const sinks = agentReportSinks({ agents: options.agents, live, record, clock, logger }) as ReportSink<unknown>[];
  const monitor = new LivenessMonitor(live, options.agents, {
    down: (ip, lastSeenAtMs) => record(ip, { type: 'MarkAgentDown', ip, lastSeenAtMs }, `agent-down:${ip}:${lastSeenAtMs}`),
    up: (ip) => record(ip, { type: 'MarkAgentUp', ip }, `agent-up:${ip}:${live.get(ip)?.sequence ?? 0}`),
  }, logger);
  const dispatcher = options.dispatch ? new OutboxRelay({
    store, bus: options.bus, checkpoints: options.checkpoints, logger, name: 'command-dispatcher', topic: topics.commands,
    messageOf: (event) => {
      if (event.type !== 'AgentCommandIssued') return undefined;
      // An expired command would only be refused: it is not sent.
      if (event.data.expiresAtMs < clock()) return undefined;
      return {
        key: event.data.ip, value: Buffer.from(event.data.signed, 'base64'),
        headers: { 'command-id': event.data.commandId, sequence: String(event.data.sequence) },
      };
    },
  }) : undefined;
  let timer: NodeJS.Timeout | undefined;
  const publishLive = async () => {
    try {
      await options.analyticViews.saveState(agentsLiveKey, live.snapshot(), 0);
    } catch (err) {
      logger.warn({ err }, 'could not store the live hosts view for other consoles; retrying');
    }
    if (timer !== undefined) timer = setTimeout(() => void publishLive(), options.publishLiveEveryMs).unref();
  };
  return {
    live,
    sinks,
    async start() {
      monitor.start();
      await dispatcher?.start();
      if (options.publishLiveEveryMs > 0) {
        timer = setTimeout(() => void publishLive(), options.publishLiveEveryMs).unref();
      }
    },
    dispatcher: () => dispatcher?.status(),
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await monitor.stop();
      await dispatcher?.stop();
    },
  };
}
