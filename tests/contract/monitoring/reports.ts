/** Metrics reports as services, scripts and agents publish them, for the monitoring suites. */
import { randomUUID } from 'node:crypto';
import type { MessageBus } from '../../../adapters/bus/port.ts';
import { encodeReport, type Metric } from '../../../schemas/reports.ts';

export const FLIGHT = 'Flight.mod_flight';

export function userMetric(minute: number, attr: string, value: number, ip = '', over: Partial<Metric> = {}): Metric {
  return { service: FLIGHT, method: '', side: '', attr, minute, value, kind: 'add', ip, atMs: 0, ...over };
}

export function gauge(minute: number, attr: string, value: number, ip: string, offsetMs: number, over: Partial<Metric> = {}): Metric {
  return userMetric(minute, attr, value, ip, { kind: 'set', atMs: minute * 1000 + offsetMs, ...over });
}

export function hostMetric(minute: number, attr: string, value: number, ip: string): Metric {
  return { service: 'RESERVED.monitor', method: '', side: '', attr, minute, value, kind: 'set', ip, atMs: minute * 1000 };
}

export function reportBytes(metrics: Metric[], reportId: string = randomUUID(), reporter = 'test'): Uint8Array {
  return encodeReport('msec.reports.metrics', { reporter, metrics, droppedRecords: 0, reportId });
}

/** Publishes one report as one bus message; answers its id. */
export async function publishReport(bus: MessageBus, metrics: Metric[], reportId: string = randomUUID()): Promise<string> {
  await bus.publish('msec.reports.metrics', [{ key: metrics[0]?.service ?? FLIGHT, value: reportBytes(metrics, reportId) }]);
  return reportId;
}

export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
