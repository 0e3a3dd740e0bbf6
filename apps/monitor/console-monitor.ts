/**
 * Monitoring as the console runs it: curve queries on the metric views, the alarm evaluator
 * (it appends alarm events, so it runs where commands are taken: the console), the webhook
 * deliverer and its signing key. `msec up` and `msec console` start it; without ClickHouse views
 * (MSEC_VIEWS=sqlite) there are no curves and no alarms, and the routes say so.
 */
import type { Logger } from 'pino';
import type { Backends } from '../config/open-backends.ts';
import type { ConsoleReads, ProjectionControl } from '../console/reads.ts';
import type { CommandBus } from '../console/command-bus.ts';
import { allRules, openAlarms } from '../../projections/monitoring-queries.ts';
import { webhooksOf } from '../../projections/monitoring-queries.ts';
import { monitoringProjection } from '../../projections/monitoring.ts';
import { AlarmEvaluator, type EvaluatorStatus } from './alarm-evaluator.ts';
import { MetricQueries } from './metrics-queries.ts';
import type { MonitorSettings } from './settings.ts';
import { WebhookDeliverer, type DelivererStatus } from './webhook-deliverer.ts';
import { WebhookSigner } from './webhook-signing.ts';
import { WebhookTargets } from './webhook-targets.ts';

export interface ConsoleAddress {
  /** Addresses the console answers on (its listen host, or all of the machine's). */
  hosts: string[];
  port: number;
}

export interface ConsoleMonitor {
  /** Absent when the views are not in ClickHouse. */
  queries?: MetricQueries;
  signer: WebhookSigner;
  settings: MonitorSettings;
  evaluator?: AlarmEvaluator;
  deliverer: WebhookDeliverer;
  /** Addresses alarm webhooks may reach (MSEC_WEBHOOK_ALLOW). */
  targets: WebhookTargets;
  consoleAddress(): ConsoleAddress | undefined;
  setConsoleAddress(address: ConsoleAddress): void;
  status(): { evaluator?: EvaluatorStatus; webhooks: DelivererStatus; signingKey: string; views: boolean };
  stop(): Promise<void>;
}

export interface ConsoleMonitorOptions {
  backends: Pick<Backends, 'store' | 'checkpoints' | 'clickhouse' | 'home'>;
  /** Records alarms (the console's command bus). */
  commands: CommandBus;
  reads: Pick<ConsoleReads, 'monitoring' | 'hostIps'>;
  projections: Pick<ProjectionControl, 'waitFor'>;
  settings: MonitorSettings;
  logger: Logger;
  clock: () => number;
  /** Defaults: the key in the home (webhook-signing.ts), 5 s polls, the deliverer's delays. */
  signer?: WebhookSigner;
  pollMs?: number;
  retryDelaysMs?: readonly number[];
}

export async function startConsoleMonitor(options: ConsoleMonitorOptions): Promise<ConsoleMonitor> {
  const { backends, reads, logger, clock, settings } = options;
  const signer = options.signer ?? WebhookSigner.load(backends.home);
  let address: ConsoleAddress | undefined;
  const queries = backends.clickhouse ? new MetricQueries(backends.clickhouse.client, backends.clickhouse.database, (s) => reads.hostIps(s)) : undefined;
  const evaluator = queries && new AlarmEvaluator({
    commands: options.commands, queries, clock, graceMs: settings.alarmGraceMs, logger,
    rules: () => allRules(reads.monitoring()),
    openAlarms: (service) => openAlarms(reads.monitoring(), service),
    servicesWithOpenAlarms: () => reads.monitoring().services.filter((s) => s.open.length > 0).map((s) => s.service),
    hostsOf: (service) => reads.hostIps(service),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
  });
  const targets = WebhookTargets.fromEnv();
  const deliverer = new WebhookDeliverer({
    store: backends.store, checkpoints: backends.checkpoints, signer, logger, clock, targets,
    webhooks: (service) => webhooksOf(reads.monitoring(), service),
    caughtUp: (position) => options.projections.waitFor(position, 10_000, { projections: [monitoringProjection.name] }),
    consoleAddress: () => address,
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
  });
  await deliverer.start();
  evaluator?.start();
  if (!queries) logger.warn('the analytic views are not in ClickHouse (MSEC_VIEWS=sqlite): no metric curves and no alarm evaluation');
  return {
    ...(queries ? { queries } : {}),
    ...(evaluator ? { evaluator } : {}),
    signer, settings, deliverer, targets,
    consoleAddress: () => address,
    setConsoleAddress: (a) => (address = a),
    status: () => ({ ...(evaluator ? { evaluator: evaluator.status() } : {}), webhooks: deliverer.status(), signingKey: signer.keyId, views: !!queries }),
    stop: async () => {
      await evaluator?.stop();
      await deliverer.stop();
    },
  };
}
