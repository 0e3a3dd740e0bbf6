import type { Subscription } from '../eventstore/port.ts';

/**
 * The name service as clients see it (msec-reference §1.2): per second-level service, the
 * ENABLED instances with their static weights, and a version that only grows.
 * Published by the control plane (the routing projection), read and watched by RPC clients.
 */
export interface RouteTable {
  /** `First.Second` */
  service: string;
  /** MSEC's route policy: `standard` (heartbeat checks) or `odd`. */
  policy: 'standard' | 'odd';
  /** The routing projection's version of this table (global position of its last change). */
  version: number;
  instances: RouteTableInstance[];
  /** Optional NLB tuning keys of MSEC (shaping_request_min, success_ratio_base, …). */
  tuning?: Record<string, number>;
}

export interface RouteTableInstance {
  ip: string;
  port: number;
  protocol: 'udp' | 'tcp' | 'both';
  /** Static weight. */
  weight: number;
}

/** The control plane's side: writes tables. Only the control plane holds write credentials. */
export interface RouteRegistry {
  /**
   * Writes the table atomically unless the stored version is the same or newer
   * (so a replay or a late writer never goes back in time). Idempotent.
   */
  publish(table: RouteTable): Promise<'written' | 'unchanged'>;
  /** Removes a deleted service's table (no error when absent). */
  remove(service: string): Promise<void>;
  read(service: string): Promise<RouteTable | null>;
  /** Every published service name, sorted. */
  list(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The client's side: a local copy of the tables it asked for, kept fresh by watches.
 * While the registry is unreachable the last copy keeps being served (MSEC's behaviour,
 * msec_faq Q11); after a reconnect or a session expiry every watched table is re-read.
 */
export interface RouteWatcher {
  /**
   * Calls `onChange` with the current table (null while the service has none) as soon as it
   * is known, then on every change. Closing the subscription stops the calls.
   */
  watch(service: string, onChange: (table: RouteTable | null) => void): Subscription;
  /** The local copy (possibly stale), undefined when never read. */
  current(service: string): RouteTable | null | undefined;
  close(): Promise<void>;
}
