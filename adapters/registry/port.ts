import type { Subscription } from '../eventstore/port.ts';

/**
 * The name service as clients see it (msec-reference §1.2): per second-level service, the
 * ENABLED instances with their static weights, and the routing projection's version of it.
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
  /** The host's agent stopped beating (3 missed heartbeats): picked only when every instance is down. */
  down?: true;
}

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
