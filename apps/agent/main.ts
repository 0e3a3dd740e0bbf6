/** Starts `msec agent` in this process: logging to stderr, Kafka when MSEC_BUS names it. */
import { mkdirSync } from 'node:fs';
import { destination, pino } from 'pino';
import type { MessageBus } from '../../adapters/bus/port.ts';
import { isEmbedded } from '../config/backend-urls.ts';
import { Agent } from './agent.ts';

export interface AgentProcessOptions {
  ip: string;
  root: string;
  consoleUrl: string;
  token?: string;
  busUrl?: string;
  heartbeatMs: number;
  routePort: number;
}

export interface RunningAgent {
  keyId: string;
  trustedKeyId: string;
  routePort?: number;
  stop(): Promise<void>;
}

export async function startAgentProcess(options: AgentProcessOptions): Promise<RunningAgent> {
  const logger = pino({ level: process.env.MSEC_LOG_LEVEL ?? 'info', base: { agent: options.ip } }, destination(2));
  mkdirSync(options.root, { recursive: true, mode: 0o755 });
  let bus: MessageBus | undefined;
  if (options.busUrl && !isEmbedded(options.busUrl)) {
    const { KafkaBus } = await import('../../adapters/bus/kafka.ts');
    bus = KafkaBus.fromUrl(options.busUrl, { logger });
  }
  try {
    const agent = await Agent.start({
      ip: options.ip, root: options.root, consoleUrl: options.consoleUrl, logger, heartbeatMs: options.heartbeatMs, routePort: options.routePort,
      // Refusals reported one by one per reason and minute before they are only counted (a flood of forgeries must not flood the bus).
      ...(process.env.MSEC_AGENT_REFUSALS_PER_MINUTE ? { refusalsPerMinute: Number(process.env.MSEC_AGENT_REFUSALS_PER_MINUTE) } : {}),
      // MSEC's host metrics come once a minute; tests ask for them sooner.
      ...(process.env.MSEC_AGENT_METRICS_MS ? { metricsEveryMs: Number(process.env.MSEC_AGENT_METRICS_MS) } : {}),
      ...(options.token ? { token: options.token } : {}), ...(bus ? { bus } : {}),
    });
    return {
      keyId: agent.keyId, trustedKeyId: agent.trustedKeyId, ...(agent.routePort ? { routePort: agent.routePort } : {}),
      stop: async () => {
        await agent.stop();
        await bus?.close();
      },
    };
  } catch (err) {
    await bus?.close();
    throw err;
  }
}
