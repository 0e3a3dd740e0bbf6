/**
 * ZooKeeper failures as one named error with a `retriable` flag (the KafkaJS habit): callers
 * retry what a later attempt can fix (connection loss, timeout, expired session, a lost
 * compare-and-set race) and report the rest with what the user must do.
 */
import zookeeper from 'node-zookeeper-client';

const { Exception } = zookeeper;

export class ZooKeeperError extends Error {
  constructor(
    message: string,
    /** ZooKeeper's error name (NO_AUTH, CONNECTION_LOSS, …) or TIMEOUT / CLOSED. */
    readonly code: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'ZooKeeperError';
  }
}

/** The numeric code of a node-zookeeper-client exception, or undefined for anything else. */
export function zkCode(error: unknown): number | undefined {
  const e = error as { getCode?: () => number } | null;
  return typeof e?.getCode === 'function' ? e.getCode() : undefined;
}

/** Whether a raw client exception or a ZooKeeperError has ZooKeeper's error name `name`. */
export function hasCode(error: unknown, name: string): boolean {
  if (error instanceof ZooKeeperError) return error.code === name;
  return zkCode(error) !== undefined && (error as { name?: string }).name === name;
}

export const isNoNode = (error: unknown) => hasCode(error, 'NO_NODE');
export const isNodeExists = (error: unknown) => hasCode(error, 'NODE_EXISTS');
export const isNoAuth = (error: unknown) => hasCode(error, 'NO_AUTH');
/** Lost a race with another writer: re-read and try again. */
export const isRace = (error: unknown) => ['BAD_VERSION', 'NODE_EXISTS', 'NO_NODE', 'NOT_EMPTY'].some((name) => hasCode(error, name));

/** Wraps a client failure with the operation, the path and what to do about it. */
export function describeZkError(error: unknown, operation: string, path: string, server: string): ZooKeeperError {
  if (error instanceof ZooKeeperError) return error;
  const code = zkCode(error);
  const name = (error as { name?: string } | null)?.name ?? 'UNKNOWN';
  const at = `ZooKeeper ${operation} ${path} at ${server}`;
  switch (code) {
    case Exception.NO_AUTH:
      return new ZooKeeperError(`${at} was refused (NO_AUTH): the node is writable only by the control plane's digest credential; ` +
        'give this process that credential (zk://user:password@… or MSEC_ZK_AUTH=user:password)', name, false);
    case Exception.CONNECTION_LOSS:
    case Exception.SESSION_EXPIRED:
    case Exception.OPERATION_TIMEOUT:
      return new ZooKeeperError(`${at} failed (${name}): check that ZooKeeper runs and is reachable; msec retries`, name, true);
    case undefined:
      return new ZooKeeperError(`${at} failed: ${(error as Error)?.message ?? String(error)}`, 'UNKNOWN', false);
    default:
      return new ZooKeeperError(`${at} failed (${name})`, name, isRace(error));
  }
}
