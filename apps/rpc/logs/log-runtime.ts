/**
 * `ctx.log` and `createLogger()`: pino loggers whose records are also shipped centrally with
 * MSEC's headers (ReqID, ClientIP, ServerIP, RPCName, Caller, ServiceName, Level, Coloring)
 * and the service's custom fields, when the coloring rule keeps them
 * (domain/logs/coloring.ts).
 *
 * How: a request's logger is a pino child whose log methods go through a hook of its own
 * (pino's `logMethod` hook, set on the child alone), so any pino logger the service uses can
 * serve as the base. The child's level is the lowest that may be kept: the local level, the
 * service's level, or everything for a colored request or when rules look at custom fields;
 * below it pino's methods are no-ops and a dropped record costs nothing. The hook decides per
 * record: ship (level at or above the service's, or colored) and write locally (at or above
 * the local level, or colored: a colored request logs at every level, as before).
 */
import { format } from 'node:util';
import { networkInterfaces } from 'node:os';
import pino, { type Logger } from 'pino';
import { fieldMatches, headersMatch, type RequestHeaders } from '../../../domain/logs/coloring.ts';
import { fieldValue } from '../../../domain/logs/fields.ts';
import { levelOfPino, pinoThreshold } from '../../../domain/logs/levels.ts';
import type { LogRecord } from '../../../schemas/reports.ts';
import type { LogShipper } from './log-shipper.ts';
import type { EffectiveLogSettings, LogSettingsSource } from './log-settings-source.ts';

/** Characters of a shipped message (with what the record's object adds); longer is cut. */
export const maxMessage = 8 * 1024;
const maxHeader = 128;

export interface RequestInfo {
  requestId: string;
  clientIp: string;
  /** This server's address as the caller reached it ('0.0.0.0' and '' mean: this host). */
  serverIp: string;
  rpcName: string;
  caller: string;
  coloring: number;
  /** Called once when a rule colors the request, so the calls it makes carry coloring = 1. */
  onColored?: () => void;
}

type LogFn = (this: Logger, ...args: unknown[]) => void;
type Hook = (this: Logger, args: unknown[], method: LogFn, level: number) => void;
const hooksSym = pino.symbols.hooksSym;

export class LogRuntime {
  constructor(private readonly o: {
    service: string;
    /** Where local records go, and its level (MSEC_LOG_LEVEL): what `ctx.log` wrote before shipping existed. */
    base: Logger;
    settings: LogSettingsSource;
    /** null: records stay local. */
    shipper: LogShipper | null;
  }) {}

  get settings(): LogSettingsSource {
    return this.o.settings;
  }

  get shipper(): LogShipper | null {
    return this.o.shipper;
  }

  /**
   * Stops reading settings and ships what is buffered, waiting at most `ms` (a stopping
   * service must not hang on a bus that is away). The shipper itself stays open: the
   * process's other loggers share it.
   */
  async close(ms = 2000): Promise<void> {
    this.o.settings.close();
    if (!this.o.shipper) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((done) => {
      timer = setTimeout(done, ms);
      timer.unref();
    });
    await Promise.race([this.o.shipper.flush(), limit]);
    clearTimeout(timer);
  }

  /** The logger of one request: bound to requestId, method and caller, headers filled. */
  forRequest(info: RequestInfo): Logger {
    const settings = this.o.settings.current();
    const headers: RequestHeaders = {
      ReqID: info.requestId, ClientIP: info.clientIp, ServerIP: hostIp(info.serverIp), RPCName: info.rpcName,
      Caller: cleanHeader(info.caller), ServiceName: this.o.service,
    };
    let colored = info.coloring === 1;
    if (!colored && settings.rules.headers.size > 0 && headersMatch(settings.rules, headers)) {
      colored = true;
      info.onColored?.();
    }
    const state = { colored, onColored: info.coloring === 1 ? undefined : info.onColored };
    const child = this.o.base.child({ requestId: info.requestId, method: info.rpcName, caller: info.caller });
    return this.hooked(child, settings, headers, state);
  }

  /** A logger for code outside handlers: ServiceName and ServerIP, no request. */
  standalone(bindings: Record<string, unknown> = {}): Logger {
    const settings = this.o.settings.current();
    const headers: RequestHeaders = { ReqID: '', ClientIP: '', ServerIP: hostIp(''), RPCName: '', Caller: '', ServiceName: this.o.service };
    return this.hooked(this.o.base.child(bindings), settings, headers, { colored: false });
  }

  private hooked(child: Logger, settings: EffectiveLogSettings, headers: RequestHeaders, state: { colored: boolean; onColored?: () => void }): Logger {
    const base = this.o.base;
    const localLevel = base.levelVal;
    const shipper = this.o.shipper;
    const parentHook = (base as unknown as Record<symbol, { logMethod?: Hook }>)[hooksSym]?.logMethod;
    const service = this.o.service;
    const hook: Hook = function (args, method, pinoLevel) {
      const first = args[0];
      const object = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : undefined;
      // Bindings a handler added with ctx.log.child({ orderId }) count like the record's own.
      const extra = this !== child ? (this.bindings() as Record<string, unknown>) : undefined;
      if (!state.colored && settings.fieldRules && (colors(settings, object) || colors(settings, extra))) {
        state.colored = true;
        state.onColored?.();
      }
      const level = levelOfPino(pinoLevel);
      if (shipper && (state.colored || level >= settings.level)) {
        let built: LogRecord | undefined;
        try {
          built = record(service, headers, state.colored, level, settings, args, object, extra);
        } catch {
          // An object pino cannot write either (a throwing getter): pino reports it below; shipping adds no failure of its own.
        }
        if (built) shipper.ship(built);
      }
      if (state.colored || pinoLevel >= localLevel) {
        if (parentHook) parentHook.call(this, args, method, pinoLevel);
        else method.apply(this, args);
      }
    };
    (child as unknown as Record<symbol, unknown>)[hooksSym] = { ...(child as unknown as Record<symbol, object>)[hooksSym], logMethod: hook };
    const lowest = state.colored || settings.fieldRules ? 10 : Math.min(localLevel, pino.levels.values[pinoThreshold(settings.level)]!);
    // Setting the level rebuilds the log methods, now through the hook.
    child.level = pino.levels.labels[lowest] ?? 'trace';
    return child;
  }
}

function colors(settings: EffectiveLogSettings, values: Record<string, unknown> | undefined): boolean {
  if (!values) return false;
  for (const name of settings.rules.fields.keys()) {
    if (!Object.hasOwn(values, name)) continue;
    const value = fieldValue(settings.fields.get(name) ?? 'string', values[name]);
    if (value !== undefined && fieldMatches(settings.rules, name, value)) return true;
  }
  return false;
}

/** Keys of a record's object that are never custom fields nor extras. */
const skipped = new Set(['msg', 'err', 'requestId', 'method', 'caller']);

function record(service: string, h: RequestHeaders, colored: boolean, level: number, settings: EffectiveLogSettings, args: unknown[],
  object: Record<string, unknown> | undefined, extra: Record<string, unknown> | undefined): LogRecord {
  const fieldNames: string[] = [];
  const fieldValues: string[] = [];
  let rest: Record<string, unknown> | undefined;
  let error: Error | undefined;
  const take = (values: Record<string, unknown>) => {
    for (const key of Object.keys(values)) {
      if (skipped.has(key) || fieldNames.includes(key)) continue;
      const type = settings.fields.get(key);
      const value = type ? fieldValue(type, values[key]) : undefined;
      if (value !== undefined) {
        fieldNames.push(key);
        fieldValues.push(value);
      } else {
        (rest ??= {})[key] = values[key];
      }
    }
  };
  let message: string;
  if (object) {
    if (object instanceof Error) error = object;
    else {
      take(object);
      if (object.err instanceof Error) error = object.err;
    }
    if (extra) take(extra);
    message = text(args[1], args.slice(2)) || (error?.message ?? (typeof object.msg === 'string' ? object.msg : ''));
  } else {
    if (extra) take(extra);
    message = text(first(args), args.slice(1));
  }
  if (rest) message += ` ${json(rest)}`;
  if (error?.stack) message += `\n${error.stack}`;
  return {
    timeMs: Date.now(), level, service, requestId: h.ReqID, clientIp: h.ClientIP, serverIp: h.ServerIP, rpcName: h.RPCName,
    caller: h.Caller, coloring: colored ? 1 : 0, message: message.length > maxMessage ? `${message.slice(0, maxMessage - 1)}…` : message,
    fieldNames, fieldValues,
  };
}

function first(args: unknown[]): unknown {
  return args[0];
}

/** pino's message: a printf-style format and its arguments. */
function text(msg: unknown, params: unknown[]): string {
  if (msg === undefined || msg === null) return '';
  if (params.length === 0) return typeof msg === 'string' ? msg : String(msg);
  return format(msg, ...params);
}

function json(value: Record<string, unknown>): string {
  try {
    const s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return s.length > maxMessage ? s.slice(0, maxMessage) : s;
  } catch {
    return '{"(unserialisable)":true}';
  }
}

// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A header from a request head (the caller is whatever the client sent): no controls, bounded. */
function cleanHeader(value: string): string {
  const cut = value.length > maxHeader ? value.slice(0, maxHeader) : value;
  return cut.replace(controls, '\uFFFD');
}

let hostAddress: string | undefined;

/** The address records name as ServerIP: the one the caller reached, or this host's first. */
export function hostIp(ip: string): string {
  const bare = ip.replace(/^::ffff:/, '');
  if (bare && bare !== '0.0.0.0' && bare !== '::') return bare;
  hostAddress ??= Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
  return hostAddress;
}
