/** The port between the RPC client and wherever its routing tables come from (route-sources.ts). */
import type { Subscription } from '../../../adapters/eventstore/port.ts';
import type { RouteTable } from '../../../adapters/registry/port.ts';

export type RouteListener = (table: RouteTable | null) => void;

export interface RouteSource {
  /** The service's table, waiting for the first answer when none is known yet (null: the service has none). */
  get(service: string): Promise<RouteTable | null>;
  /** Calls `onChange` with the current table as soon as it is known, then on every change. */
  watch(service: string, onChange: RouteListener): Subscription;
  close(): Promise<void>;
}

/** The first value a watch delivers, then the watch is closed. */
export function firstTable(source: Pick<RouteSource, 'watch'>, service: string): Promise<RouteTable | null> {
  return new Promise((resolve) => {
    let done = false;
    let sub: Subscription | undefined = undefined;
    const closeOnce = () => void sub?.close();
    sub = source.watch(service, (table) => {
      if (done) return;
      done = true;
      resolve(table);
      closeOnce();
    });
    if (done) closeOnce();
  });
}
