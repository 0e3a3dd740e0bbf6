/** What every RouteSource adapter shares (port.ts): one listener wrapper, and reading a table once. */
import type { Logger } from 'pino';
import type { Subscription } from '../eventstore/port.ts';
import { sameRouteTable, type RouteTable } from '../../schemas/route-table.ts';
import type { RouteListener, RouteSource } from './port.ts';

/**
 * Wraps one subscription's callback: a table equal to the last one it got is not passed again,
 * and a callback that throws is logged, not allowed to break the source or other subscribers.
 * Each subscription gets its own wrapper, even when the same function is passed twice.
 */
export function routeListener(service: string, onChange: RouteListener, logger: Logger): RouteListener {
  let last: RouteTable | null | undefined;
  return (table) => {
    if (last !== undefined && sameRouteTable(last, table)) return;
    last = table;
    try {
      onChange(table);
    } catch (error) {
      logger.error({ service, err: (error as Error).message }, 'a route listener failed');
    }
  };
}

/** The first table a watch delivers (null: the service has none), then the watch is closed. */
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

/** The service's table: the local copy when there is one, else the first the source gets. */
export function routeTableOf(source: RouteSource, service: string): Promise<RouteTable | null> {
  const known = source.current(service);
  return known !== undefined ? Promise.resolve(known) : firstTable(source, service);
}
