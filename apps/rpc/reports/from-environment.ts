/**
 * The reporter a service or client uses when its code gives none: call records go to the bus
 * msec runs on (report-bus.ts), or nowhere with MSEC_REPORTS=off. One reporter per process,
 * shared by the server runtime and the client SDK.
 */
import type { CallReporter } from '../contracts.ts';
import { BusCallReporter } from './bus-reporter.ts';
import { flushWithin as flushAtMost, reportBusFromEnvironment } from './report-bus.ts';
import { nullReporter } from './simple-reporters.ts';

let shared: CallReporter | undefined;

/** Flushes what is buffered, but waits at most `ms` (see report-bus.ts). */
export function flushWithin(reporter: CallReporter, ms = 2000): Promise<void> {
  return flushAtMost(() => reporter.flush(), ms);
}

export function reporterFromEnvironment(env: NodeJS.ProcessEnv = process.env): CallReporter {
  shared ??= makeReporter(env);
  return shared;
}

function makeReporter(env: NodeJS.ProcessEnv): CallReporter {
  if (env.MSEC_REPORTS === 'off') return nullReporter;
  const bus = reportBusFromEnvironment(env);
  if (!bus) return nullReporter;
  const flushEveryMs = Number(env.MSEC_REPORT_FLUSH_MS) || undefined;
  return new BusCallReporter({ bus, ...(flushEveryMs ? { flushEveryMs } : {}) });
}
