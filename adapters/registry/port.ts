import type { Subscription } from '../eventstore/port.ts';
import type { RouteTable } from '../../schemas/route-table.ts';

/**
 * The name service (msec-reference §1.2): per second-level service, its routing table
 * (schemas/route-table.ts, the one shape every layer uses). Published by the control plane
 * (the projector's registry publisher, from the routing projection), read and watched by RPC
 * clients and agents through a RouteSource.
 */
/**
 * The control plane's side: writes tables. Only the control plane holds write credentials,
 * and it has ONE writer: the projector's registry publisher, which orders its writes (it
 * skips a state older than the last one it published, by its checkpoint). The registry does
 * not order writes by the tables' versions: the routing projection is the truth, and a stored
 * table that differs from it is replaced whatever version it claims (a version written by
 * someone else must not pin a route).
 */
export interface RouteRegistry {
  /**
   * Makes the stored table equal to `table`, atomically: 'unchanged' when it already is, else
   * 'written' — whatever the stored version, higher ones included. Idempotent.
   */
  publish(table: RouteTable): Promise<'written' | 'unchanged'>;
  /** Removes a deleted service's table (no error when absent). */
  remove(service: string): Promise<void>;
  read(service: string): Promise<RouteTable | null>;
  /** Every published service name, sorted. */
  list(): Promise<string[]>;
  /**
   * Checks that every node of the name service is protected as it must be (only the control
   * plane writes, everyone reads), repairing what it can; says what it could not.
   */
  checkAccess(): Promise<RegistryAccessReport>;
  /**
   * Calls `onChange(service)` when a stored table may have changed, whoever changed it (this
   * registry included: the caller compares), and `onChange(null)` when any may have changed
   * unseen (a new ZooKeeper session). Lets the publisher restore a table changed behind its back.
   */
  watchStored(onChange: (service: string | null) => void): Subscription;
  close(): Promise<void>;
}

export interface RegistryAccessReport {
  /** Nodes looked at. */
  checked: number;
  /** Nodes whose protection was wrong (open, or someone else's) and was set right. */
  repaired: string[];
  /** Nodes the control plane could not repair and deleted instead, to be written again. */
  recreated: string[];
  /** Nodes it can neither repair nor delete: each message says what the operator must do. */
  problems: string[];
}

export type RouteListener = (table: RouteTable | null) => void;

/**
 * The reader's side, whatever the tables come from: ZooKeeper watches
 * (zookeeper-watcher.ts), the embedded registry (memory.ts), the console's long poll
 * (apps/rpc/client/console-routes.ts) or fixed tables (staticRoutes). A local copy of the
 * tables asked for, kept fresh; while the origin is unreachable the last copy keeps being
 * served (MSEC's behaviour, msec_faq Q11). Tables handed out are canonical, frozen and shared.
 * Every adapter runs tests/contract/registry.contract.ts.
 */
export interface RouteSource {
  /**
   * Calls `onChange` with the current table (null while the service has none) as soon as it
   * is known, then on every change, never twice with the same table, never inline (always
   * from a later tick). A listener that throws is logged, not allowed to break the others.
   * Closing the subscription stops the calls.
   */
  watch(service: string, onChange: RouteListener): Subscription;
  /** The local copy (possibly stale), undefined when not known yet. */
  current(service: string): RouteTable | null | undefined;
  /** Stops every watch (a source made by someone else is theirs to close). */
  close(): Promise<void>;
}
