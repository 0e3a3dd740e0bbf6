/** What both watchers (embedded and ZooKeeper) hand a subscriber: each change once, never a throw back. */
import type { Logger } from 'pino';
import type { RouteTable } from './port.ts';
import { sameRouteTable } from './route-json.ts';

export type RouteListener = (table: RouteTable | null) => void;

/**
 * Wraps one subscription's callback: a table equal to the last one it got is not passed again,
 * and a callback that throws is logged, not allowed to break the watcher or other subscribers.
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
