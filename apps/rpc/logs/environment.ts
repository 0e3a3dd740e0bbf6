/**
 * The log shipper a service or program uses when its code gives none: records go to the bus
 * msec runs on, found the way the call reporter finds it (apps/rpc/reports/report-bus.ts)
 *   MSEC_BUS=kafka://…  the Kafka cluster,
 *   MSEC_HOME=DIR       the embedded bus in DIR/msec.db (a service on the `msec up` machine),
 *   neither, or MSEC_LOGS=off / MSEC_REPORTS=off: records stay local (pino only).
 * One shipper per process. The bus adapter is loaded on the first flush.
 * MSEC_LOG_FLUSH_MS changes the flush period (default 1000).
 */
import { flushWithin, reportBusFromEnvironment } from '../reports/report-bus.ts';
import { LogShipper } from './log-shipper.ts';

let shared: LogShipper | null | undefined;

export function logShipperFromEnvironment(reporter?: string, env: NodeJS.ProcessEnv = process.env): LogShipper | null {
  if (shared === undefined) shared = makeShipper(reporter, env);
  return shared;
}

/** Ships what the process's shared shipper holds, waiting at most `ms` (a stopping process). */
export async function flushLogs(ms = 2000): Promise<void> {
  const shipper = shared;
  if (shipper) await flushWithin(() => shipper.flush(), ms);
}

function makeShipper(reporter: string | undefined, env: NodeJS.ProcessEnv): LogShipper | null {
  if (env.MSEC_LOGS === 'off' || env.MSEC_REPORTS === 'off') return null;
  const bus = reportBusFromEnvironment(env);
  if (!bus) return null;
  const flushEveryMs = Number(env.MSEC_LOG_FLUSH_MS) || undefined;
  return new LogShipper({ bus, reporter: env.MSEC_SERVICE ?? reporter, ...(flushEveryMs ? { flushEveryMs } : {}) });
}
