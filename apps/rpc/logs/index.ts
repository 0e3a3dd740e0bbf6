/**
 * Business logs of msec services (MSEC's NGLOG_*): `ctx.log` in handlers (serve() makes it)
 * and `createLogger()` for code outside handlers both write through pino as before and ship
 * the records the service keeps to msec.reports.logs, where the projector stores them for
 * `msec logs`, the console's Logs page and call graphs.
 *
 *   import { createLogger } from 'msec/rpc';
 *   const log = createLogger({ service: 'Shop.jobs' });
 *   log.info({ orderId: 42 }, 'nightly export started');   // orderId: a declared custom field
 */
import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { parseIni, type IniDocument } from '../../../domain/services/ini.ts';
import { parseSecondLevelName } from '../../../domain/services/names.ts';
import { LogRuntime } from './log-runtime.ts';
import { LogSettingsSource, consoleSourceFromEnvironment, type ConsoleSource, type LogOptions } from './log-settings-source.ts';
import type { LogShipper } from './log-shipper.ts';
import { logShipperFromEnvironment } from './environment.ts';

export { LogShipper, type LogShipperOptions, type ShipperStats } from './log-shipper.ts';
export { flushLogs } from './environment.ts';
export type { LogOptions, ConsoleSource } from './log-settings-source.ts';

/** What serve({ log }) and createLogger() take besides LogOptions. */
export interface LogWiring extends LogOptions {
  /** Where kept records go (default: the process's shipper from MSEC_BUS / MSEC_HOME; null: nowhere). */
  shipper?: LogShipper | null;
  /** Where the console's settings are read (default MSEC_CONSOLE_URL + MSEC_TOKEN; null: not read). */
  console?: ConsoleSource | null;
}

/**
 * The runtime serve() gives its handlers' contexts. A service whose name is not `First.Second`
 * (serve() without a name falls back to the proto's service) logs locally only: the views
 * file records by service.
 */
export function logRuntime(service: string, base: Logger, config: IniDocument, wiring: LogWiring = {}): LogRuntime {
  const named = serviceName.test(service);
  const wanted = wiring.shipper === undefined ? logShipperFromEnvironment(service) : wiring.shipper;
  if (!named && wanted) {
    base.warn({ service }, `ctx.log records are not shipped: "${service}" is not a First.Second service name (set MSEC_SERVICE or serve({ name }))`);
  }
  const shipper = named ? wanted : null;
  const settings = new LogSettingsSource({
    service, options: wiring, config, logger: base,
    console: !named ? null : wiring.console === undefined ? consoleSourceFromEnvironment() : wiring.console,
  });
  return new LogRuntime({ service, base, settings, shipper });
}

const serviceName = /^[A-Za-z][A-Za-z0-9_]{0,23}\.[A-Za-z][A-Za-z0-9_]{0,23}$/;

export interface CreateLoggerOptions extends LogWiring {
  /** `First.Second` (default env MSEC_SERVICE). */
  service?: string;
  /** Local output and its level (default: pino on stdout at MSEC_LOG_LEVEL, else info). */
  logger?: Logger;
  /** A config file with [LOG] and [COLOR] (default env MSEC_CONFIG). */
  configFile?: string;
}

/** A logger for code outside handlers: ServiceName and ServerIP filled, no request id. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const name = options.service ?? process.env.MSEC_SERVICE;
  if (!name) throw new Error('createLogger needs the service it logs for: pass { service: "First.Second" } or set MSEC_SERVICE');
  const service = parseSecondLevelName(name).full;
  const base = options.logger ?? pino({ name: service, level: process.env.MSEC_LOG_LEVEL ?? 'info' });
  const file = options.configFile ?? process.env.MSEC_CONFIG;
  const config = file ? parseIni(readFileSync(file, 'utf8')) : new Map();
  return logRuntime(service, base, config, options).standalone();
}
