/**
 * msec RPC for TypeScript services and callers (issue 4). Wire format: schemas/rpc-wire.md.
 */
export * from './contracts.ts';

// Server runtime and IDL loading.
export { serve, type ServeOptions, type RpcServer } from './server/serve.ts';
export type { HandlerContext, Handler } from './server/handler-context.ts';
export { createMetrics, metricsFor, type Metrics, type MetricsOptions, type StandaloneMetricsOptions } from './metrics.ts';
export { ServerConfigError } from './server/settings.ts';
export {
  loadProto, findService, findMethod, methodsOf, servicesOf, ProtoLoadError,
  decodeMessage, encodeMessage, messageFromJson, messageToJson, missingRequired,
  type ProtoRoot, type RpcMethod,
} from './proto.ts';
export { createTransport, udpMaxFrameBytes, type TransportOptions } from '../../adapters/rpc/transport.ts';

// Client SDK (apps/rpc/client/): exports go below this line.
export {
  createClient, RpcClient, consoleRoutes, staticRoutes, routesFromEnvironment, routeTableOf, parallel, NoRouteSource,
  type ClientOptions, type RpcStub, type RouteSource, type StaticRouteSource, type ConsoleRoutesOptions, type Settled, type Task,
  type BalancerSnapshot, type RouteTable,
} from './client/index.ts';
export { BusCallReporter, type BusCallReporterOptions, type ReporterStats } from './reports/bus-reporter.ts';
export { nullReporter, MemoryCallReporter } from './reports/simple-reporters.ts';
export type { NlbSettings, BreakerSettings } from '../../domain/nlb/index.ts';

// Business logs (apps/rpc/logs/): ctx.log ships what the service keeps; createLogger for code outside handlers.
export { createLogger, flushLogs, LogShipper, type CreateLoggerOptions, type LogOptions, type LogWiring, type LogShipperOptions, type ShipperStats } from './logs/index.ts';
