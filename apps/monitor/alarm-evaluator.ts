/**
 * Judges alarm rules once per completed minute (MSEC's judge thread, which woke at second 35 of
 * the next minute): when the injected clock has passed a minute's end plus the grace (reports
 * flushed every 10 s have arrived), it reads every rule's series from the views in a few
 * queries, judges each check (domain/monitoring/alarm-judge.ts), and sends each service that
 * has something to raise or resolve its verdict as a command on `alarms-<service>`. The event
 * ids come from (service, minute), so a minute judged twice — a retry, another console —
 * writes nothing twice. Minutes missed while stopped are judged on start, at most
 * `maxCatchUpMinutes` back.
 */
import type { Logger } from 'pino';
import { judgeRule } from '../../domain/monitoring/alarm-judge.ts';
import { alarmsDecider } from '../../domain/monitoring/alarms.ts';
import type { AlarmCommand, AlarmKey } from '../../domain/monitoring/commands.ts';
import type { AlarmRuleData } from '../../domain/monitoring/events.ts';
import { streams } from '../../domain/streams.ts';
import type { CommandBus } from '../console/command-bus.ts';
import type { MetricQueries } from './metrics-queries.ts';

export interface AlarmEvaluatorOptions {
  commands: CommandBus;
  queries: Pick<MetricQueries, 'valuesAt'>;
  /** Every rule now (the monitoring read model). */
  rules: () => readonly AlarmRuleData[];
  /** Open alarms of a service, and the services that have some. */
  openAlarms: (service: string) => readonly AlarmKey[];
  servicesWithOpenAlarms: () => readonly string[];
  /** Hosts of a service in the catalog (a host that reports nothing is judged as 0 by per-host rules). */
  hostsOf: (service: string) => readonly string[];
  clock: () => number;
  graceMs: number;
  logger: Logger;
  /** How often the clock is looked at (default 5 s). */
  pollMs?: number;
  maxCatchUpMinutes?: number;
}

export interface EvaluationResult {
  minute: number;
  rules: number;
  checks: number;
  services: number;
  events: number;
  ms: number;
}

export interface EvaluatorStatus {
  lastMinute?: number;
  last?: EvaluationResult;
  lastError?: string;
}

/** Ips outside a service's hosts a per-host rule judges at most. */
const maxOtherIps = 100;

export class AlarmEvaluator {
  private timer: NodeJS.Timeout | undefined;
  private lastMinute: number | undefined;
  private running: Promise<void> | undefined;
  private last: EvaluationResult | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: AlarmEvaluatorOptions) {}

  /** The latest minute (epoch seconds) that may be judged at `now`. */
  dueMinute(now = this.options.clock()): number {
    return Math.floor((now - this.options.graceMs) / 60_000) * 60 - 60;
  }

  start(): void {
    const every = this.options.pollMs ?? 5_000;
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.tick().finally(() => {
          if (this.timer) loop();
        });
      }, every);
      this.timer.unref();
    };
    loop();
  }

  async stop(): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    clearTimeout(timer);
    await this.running;
  }

  status(): EvaluatorStatus {
    return { ...(this.lastMinute !== undefined ? { lastMinute: this.lastMinute } : {}), ...(this.last ? { last: this.last } : {}), ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Judges every minute that became due since the last tick; one tick at a time. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    const run = (async () => {
      await Promise.resolve(); // so `running` is set before the body can finish and clear it
      try {
        const due = this.dueMinute();
        const first = Math.max(this.lastMinute === undefined ? due : this.lastMinute + 60, due - 60 * (this.options.maxCatchUpMinutes ?? 10));
        for (let minute = first; minute <= due; minute += 60) {
          this.last = await this.evaluate(minute);
          this.lastMinute = minute;
          this.lastError = undefined;
        }
      } catch (err) {
        if (this.lastError === undefined) this.options.logger.warn({ err }, `alarm evaluation failed: ${(err as Error).message}; trying again`);
        this.lastError = (err as Error).message;
      } finally {
        this.running = undefined;
      }
    })();
    this.running = run;
    return run;
  }

  /** Judges one completed minute (epoch seconds) for every rule. */
  async evaluate(minute: number): Promise<EvaluationResult> {
    const started = performance.now();
    const rules = this.options.rules();
    const span = Math.max(1, ...rules.map((r) => r.forMinutes));
    const ranges: [number, number][] = [[minute - (span - 1) * 60, minute]];
    if (rules.some((r) => r.diff !== 0 || r.diffPercent !== 0)) ranges.push([minute - 86_400 - (span - 1) * 60, minute - 86_400]);
    const values = await this.options.queries.valuesAt(rules.map((r) => ({ service: r.service, name: r.name, perHost: r.scope === 'host' })), ranges);
    const ipsWithData = new Map<string, Set<string>>();
    for (const key of values.keys()) {
      const [service, name, ip] = key.split('\u0000');
      if (!ip) continue;
      const k = `${service}\u0000${name}`;
      (ipsWithData.get(k) ?? ipsWithData.set(k, new Set()).get(k)!).add(ip);
    }

    const commands = new Map<string, AlarmCommand>();
    const command = (service: string) => {
      let c = commands.get(service);
      if (!c) commands.set(service, (c = { type: 'JudgeMinute', service, minute, findings: [], judged: [], active: [] }));
      return c;
    };
    let checks = 0;
    for (const rule of rules) {
      const c = command(rule.service);
      // The service's hosts, and (at most maxOtherIps) other ips that reported the name: anyone
      // who can write to the bus can name ips, so they cannot make a rule judge without end.
      const hosts = this.options.hostsOf(rule.service);
      const others = [...(ipsWithData.get(`${rule.service}\u0000${rule.name}`) ?? [])].filter((ip) => !hosts.includes(ip)).sort().slice(0, maxOtherIps);
      const ips = rule.scope === 'service' ? [''] : [...new Set([
        ...hosts,
        ...others,
        ...this.options.openAlarms(rule.service).filter((a) => a.name === rule.name && a.ip).map((a) => a.ip),
      ])];
      for (const ip of ips) {
        const at = (m: number) => values.get(`${rule.service}\u0000${rule.name}\u0000${ip}\u0000${m}`) ?? null;
        const window = Array.from({ length: rule.forMinutes }, (_, i) => minute - (rule.forMinutes - 1 - i) * 60);
        for (const v of judgeRule(rule, { recent: window.map(at), yesterday: window.map((m) => at(m - 86_400)) })) {
          checks++;
          c.judged.push({ name: rule.name, alarmType: v.alarmType, ip, value: v.value });
          if (v.firing) c.findings.push({ name: rule.name, alarmType: v.alarmType, ip, value: v.value, threshold: v.threshold, previous: v.previous, forMinutes: rule.forMinutes });
        }
      }
      for (const type of (['max', 'min', 'diff', 'diff_percent'] as const)) {
        if ((type === 'max' ? rule.max : type === 'min' ? rule.min : type === 'diff' ? rule.diff : rule.diffPercent) !== 0) c.active.push({ name: rule.name, alarmType: type });
      }
    }
    for (const service of this.options.servicesWithOpenAlarms()) command(service);

    let events = 0;
    let services = 0;
    const failed: { service: string; err: unknown }[] = [];
    for (const [service, c] of commands) {
      // Nothing can change for a service with nothing firing and nothing open.
      if (c.findings.length === 0 && this.options.openAlarms(service).length === 0) continue;
      services++;
      try {
        const outcome = await this.options.commands.execute(streams.alarms(service), alarmsDecider, c, {
          commandId: `alarms:${service}:${minute}`, actor: 'alarm-evaluator', reason: '', at: this.options.clock(),
        });
        events += outcome.eventTypes.length;
      } catch (err) {
        failed.push({ service, err });
      }
    }
    // One service's failure does not hold back the others; when every one failed (the store is
    // away, say) the minute is judged again (idempotent per service and minute).
    if (failed.length > 0 && failed.length === services) throw failed[0]!.err;
    for (const { service, err } of failed) {
      this.options.logger.error({ err, service, minute }, `the alarms of ${service} for minute ${minute} could not be recorded: ${(err as Error)?.message ?? String(err)}; the other services' were`);
    }
    return { minute, rules: rules.length, checks, services, events, ms: performance.now() - started };
  }
}
