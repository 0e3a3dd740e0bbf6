/** The RPC client SDK: createClient, route sources, parallel, and the NLB view. */
export { createClient, RpcClient, type ClientOptions, type RpcStub } from './client.ts';
export {
  consoleRoutes, staticRoutes, deferredRoutes, routesFromEnvironment, firstTable, routeTableOf, NoRouteSource,
  type RouteSource, type RouteListener, type StaticRouteSource, type ConsoleRoutesOptions,
} from './route-sources.ts';
export type { RouteTable, RouteInstance, RoutePolicy, RouteProtocol } from '../../../schemas/route-table.ts';
export { parallel, type Settled, type Task } from './parallel.ts';
export { parseTarget, BadTarget, type Target } from './targets.ts';
export { chooseProtocol, failsInstance, mayRetryElsewhere } from './policy.ts';
export { newRequestId, planCall, defaultTimeoutMs } from './call-plan.ts';
export type { BalancerSnapshot } from './service-balancer.ts';
