/**
 * `serve()`: a business service is a protobuf service plus one async function per method.
 * It listens on one port for binary frames over TCP and UDP and for HTTP/JSON
 * (schemas/rpc-wire.md), and shuts down gracefully.
 *
 *   const server = await serve({
 *     proto: 'flight.proto', name: 'Flight.mod_flight',
 *     handlers: { async queryFlight(req, ctx) { return { errcode: 0, errmsg: 'success', flightsInfo: '…' }; } },
 *   });
 */
import protobuf from 'protobufjs';
import { pino, type Logger } from 'pino';
import type { CallReporter, RpcCaller } from '../contracts.ts';
import type { IniDocument } from '../../../domain/services/ini.ts';
import { maxTimerMs } from '../../../adapters/rpc/call-frames.ts';
import { findService, loadProto, methodsOf, ProtoLoadError } from '../proto.ts';
import { Admission } from './admission.ts';
import { BufferBudget } from './buffer-budget.ts';
import { Dispatcher, type MethodEntry } from './dispatcher.ts';
import type { Handler } from './handler-context.ts';
import { createHttpJsonServer } from './http-json.ts';
import { resolveSettings, type SettingsInput } from './settings.ts';
import { TcpListener } from './tcp-listener.ts';
import { UdpListener } from './udp-listener.ts';
import { flushWithin, reporterFromEnvironment } from '../reports/from-environment.ts';
import { logRuntime, type LogWiring } from '../logs/index.ts';

export interface ServeOptions extends SettingsInput {
  /** A .proto path, its text, or a loaded Root (apps/rpc/proto.ts). */
  proto: string | protobuf.Root;
  /** Full or bare service name; default the only service in the proto. */
  service?: string;
  /** By method name as in the .proto (`queryFlight`). */
  handlers: Record<string, Handler>;
  /** How long close() lets running handlers finish (default 5000 ms). */
  shutdownGraceMs?: number;
  reporter?: CallReporter;
  /** For ctx.call() from handlers. */
  client?: RpcCaller;
  logger?: Logger;
  /**
   * Business logs of ctx.log (apps/rpc/logs/): level, coloring rules and custom fields the
   * code sets (the console's and the config file's win), where records are shipped.
   */
  log?: LogWiring;
}

export interface RpcServer {
  /** Where it listens (the port is the bound one when 0 was asked for). */
  address: { host: string; port: number };
  /** The config file's sections (empty without one). */
  config: IniDocument;
  /**
   * Stops accepting connections, answers SHUTTING_DOWN to new requests, lets running
   * handlers finish (up to shutdownGraceMs), then closes every connection.
   */
  close(): Promise<void>;
}

function methodTable(options: ServeOptions, settings: ReturnType<typeof resolveSettings>): { service: string; methods: Map<string, MethodEntry> } {
  const root = typeof options.proto === 'string' ? loadProto(options.proto) : options.proto;
  const service = findService(root, options.service);
  const methods = methodsOf(service);
  const names = new Set(methods.map((m) => m.name));
  const unknown = Object.keys(options.handlers).filter((name) => !names.has(name));
  if (unknown.length) {
    throw new ProtoLoadError(`handlers ${unknown.join(', ')} match no method of ${methods[0]?.service ?? service.name}; its methods are ${[...names].join(', ') || 'none'}`);
  }
  for (const name of settings.methodTimeouts.keys()) {
    if (!names.has(name)) throw new ProtoLoadError(`a timeout is set for "${name}", which is not a method of ${service.name}; its methods are ${[...names].join(', ')}`);
  }
  const table = new Map<string, MethodEntry>();
  for (const method of methods) {
    if (service.methods[method.name]!.requestStream || service.methods[method.name]!.responseStream) {
      if (Object.hasOwn(options.handlers, method.name)) throw new ProtoLoadError(`${method.fullName} is a streaming method; msec RPC serves unary methods only`);
      continue;
    }
    const timeoutMs = Math.min(settings.methodTimeouts.get(method.name) ?? settings.defaultTimeoutMs, maxTimerMs);
    // Own properties only: an RPC named `constructor` or `toString` must not find Object's.
    const handler = Object.hasOwn(options.handlers, method.name) ? options.handlers[method.name] : undefined;
    table.set(method.fullName, { method, handler, timeoutMs });
  }
  return { service: methods[0]?.service ?? service.name, methods: table };
}

export async function serve(options: ServeOptions): Promise<RpcServer> {
  const settings = resolveSettings(options);
  const { service: protoService, methods } = methodTable(options, settings);
  const name = settings.name ?? protoService;
  const logger = options.logger ?? pino({ name, level: process.env.MSEC_LOG_LEVEL ?? 'info' });
  for (const [fullName, entry] of methods) {
    if (!entry.handler) logger.warn({ method: fullName }, 'no handler for this method: calls to it get METHOD_NOT_FOUND');
  }

  const reporter = options.reporter ?? reporterFromEnvironment();
  const logs = logRuntime(name, logger, settings.config, options.log);
  await logs.settings.ready();
  const dispatcher = new Dispatcher({
    service: name, methods, admission: new Admission(settings.maxConcurrent, settings.queueTimeoutMs),
    reporter, client: options.client, logger, logs,
  });
  const { limits } = settings;
  const budget = new BufferBudget(limits.maxBufferedBytes);
  const http = createHttpJsonServer({ dispatcher, limits, budget });
  const { tcp, udp, port } = await bind(settings.host, settings.port, settings.udp,
    (at) => new TcpListener({ host: settings.host, port: at, dispatcher, http, limits, budget, logger }),
    (at) => new UdpListener({ host: settings.host, port: at, dispatcher, maxFrameBytes: limits.maxFrameBytes, logger }));
  logger.info({ service: name, host: settings.host, port, udp: udp !== null, methods: [...methods.keys()] }, 'serving');

  let closing: Promise<void> | null = null;
  return {
    address: { host: settings.host, port },
    config: settings.config,
    close() {
      closing ??= (async () => {
        const stopped = tcp.stopAccepting();
        await dispatcher.shutDown(options.shutdownGraceMs ?? 5000);
        tcp.closeConnections();
        await Promise.all([stopped, udp?.close()]);
        await flushWithin(reporter);
        await logs.close();
        logger.info({ service: name }, 'stopped');
      })();
      return closing;
    },
  };
}

/**
 * TCP and UDP on the same port. With port 0 the TCP port is picked first and UDP may find
 * it taken: then both try again on another port.
 */
async function bind(host: string, port: number, withUdp: boolean, makeTcp: (port: number) => TcpListener, makeUdp: (port: number) => UdpListener) {
  const problem = (protocol: string, at: number, error: unknown) =>
    new Error(`cannot listen on ${host}:${at}/${protocol} (${(error as NodeJS.ErrnoException).code ?? error}); free the port or choose another with listen or MSEC_LISTEN`);
  for (let attempt = 1; ; attempt++) {
    const tcp = makeTcp(port);
    let bound: number;
    try {
      bound = await tcp.listen();
    } catch (error) {
      throw problem('tcp', port, error);
    }
    if (!withUdp) return { tcp, udp: null, port: bound };
    const udp = makeUdp(bound);
    try {
      await udp.listen();
      return { tcp, udp, port: bound };
    } catch (error) {
      await tcp.stopAccepting();
      if (port !== 0 || attempt >= 5) throw problem('udp', bound, error);
    }
  }
}
