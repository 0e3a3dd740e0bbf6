/**
 * The client's local route cache: per called service, a watch on the route source feeding one
 * ServiceBalancer (one NLB state per service). The first call to a service waits for its
 * first table, within the call's deadline.
 */
import type { Subscription } from '../../../adapters/eventstore/port.ts';
import type { RouteSource } from '../../../adapters/registry/port.ts';
import { RpcError, RpcErrorCode } from '../contracts.ts';
import { ServiceBalancer, type BalancerDeps, type BalancerSnapshot } from './service-balancer.ts';

interface Entry {
  balancer: ServiceBalancer;
  subscription: Subscription;
  ready: Promise<void>;
  known: boolean;
}

export class RouteCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly source: () => RouteSource, private readonly deps: BalancerDeps) {}

  /** The service's balancer once its first table is known; RpcError(NO_ROUTE) when that takes past `deadline`. */
  async balancer(service: string, deadline: number): Promise<ServiceBalancer> {
    const entry = this.entries.get(service) ?? this.open(service);
    if (entry.known) return entry.balancer;
    const left = deadline - this.deps.clock();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))));
    try {
      if ((await Promise.race([entry.ready, late])) === 'late') {
        throw new RpcError(RpcErrorCode.NO_ROUTE, `no routing table for ${service} yet: the route source did not answer within the call's time`, { target: service });
      }
    } finally {
      clearTimeout(timer);
    }
    return entry.balancer;
  }

  snapshot(service: string): BalancerSnapshot | undefined {
    return this.entries.get(service)?.balancer.snapshot();
  }

  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((e) => e.subscription.close()));
  }

  private open(service: string): Entry {
    const balancer = new ServiceBalancer(service, this.deps);
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const entry: Entry = { balancer, ready, known: false, subscription: { close: async () => {} } };
    entry.subscription = this.source().watch(service, (table) => {
      balancer.update(table);
      entry.known = true;
      markReady();
    });
    this.entries.set(service, entry);
    return entry;
  }
}
