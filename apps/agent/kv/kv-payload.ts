/**
 * What a kv command may ask for, judged before anything on disk is touched: the cluster name and
 * port become a path under the agent's root, and every value of a start goes into redis.conf —
 * so each is checked against a closed range or list here, and nothing else of the payload
 * reaches the file. The signature must bind exactly the instance's folder.
 */
import { kvMaxmemoryPolicies, kvOperations, type CommandBody, type KvPayload } from '../../../schemas/agent.ts';

const clusterPattern = /^[a-z][a-z0-9_-]{0,39}$/;
const mib = 1024 * 1024;

/** The closed ranges of a kv payload (the console shows them in its own refusals). */
export const kvLimits = {
  port: { min: 1024, max: 55_535 },
  maxmemoryBytes: { min: mib, max: 64 * 1024 * mib },
  nodeTimeoutMs: { min: 500, max: 60_000 },
  healthTimeoutMs: { min: 100, max: 300_000 },
  stopTimeoutMs: { min: 100, max: 600_000 },
} as const;

/** SIGTERM to SIGKILL when stop_timeout_ms is 0 (also when a start replaces an instance running another config). */
export const defaultKvStopTimeoutMs = 10_000;

/**
 * The instance's folder, relative to the agent's root: what a kv command's `paths` must bind,
 * and the name heartbeats show it by (`kvInstances[].service`).
 */
export function kvPathOf(p: Pick<KvPayload, 'cluster' | 'port'>): string {
  return `kv/${p.cluster}/${p.port}`;
}

function outside(value: number, range: { min: number; max: number }): boolean {
  return !Number.isInteger(value) || value < range.min || value > range.max;
}

/** Why this payload cannot be run at all, or undefined. */
export function kvPayloadProblem(p: KvPayload): string | undefined {
  if (typeof p.cluster !== 'string' || !clusterPattern.test(p.cluster)) {
    return `the cluster name ${JSON.stringify(p.cluster)} is not one: a lower-case letter, then up to 39 lower-case letters, digits, _ or -`;
  }
  if (!(kvOperations as readonly string[]).includes(p.operation)) return `unknown kv operation ${JSON.stringify(p.operation)}: ${kvOperations.join(', ')}`;
  const { port, maxmemoryBytes: mem, nodeTimeoutMs, healthTimeoutMs, stopTimeoutMs } = p;
  if (outside(port, kvLimits.port)) return `the port ${port} is not one for a Redis cluster instance (${kvLimits.port.min} to ${kvLimits.port.max}: its cluster bus is port + 10000)`;
  if (stopTimeoutMs !== 0 && outside(stopTimeoutMs, kvLimits.stopTimeoutMs)) {
    return `the stop time limit ${stopTimeoutMs} ms is not one (0 for ${defaultKvStopTimeoutMs} ms, or ${kvLimits.stopTimeoutMs.min} to ${kvLimits.stopTimeoutMs.max} ms)`;
  }
  if (p.operation !== 'start') return undefined;
  if (outside(mem, kvLimits.maxmemoryBytes)) return `maxmemory ${mem} bytes is not one (1 MiB to 64 GiB)`;
  if (!(kvMaxmemoryPolicies as readonly string[]).includes(p.maxmemoryPolicy)) {
    return `the maxmemory policy ${JSON.stringify(p.maxmemoryPolicy)} is not one of ${kvMaxmemoryPolicies.join(', ')}`;
  }
  if (outside(nodeTimeoutMs, kvLimits.nodeTimeoutMs)) return `the cluster node timeout ${nodeTimeoutMs} ms is not one (${kvLimits.nodeTimeoutMs.min} to ${kvLimits.nodeTimeoutMs.max} ms)`;
  if (outside(healthTimeoutMs, kvLimits.healthTimeoutMs)) return `the health time limit ${healthTimeoutMs} ms is not one (${kvLimits.healthTimeoutMs.min} to ${kvLimits.healthTimeoutMs.max} ms)`;
  if (typeof p.appendonly !== 'boolean' || typeof p.fresh !== 'boolean') return 'appendonly and fresh must be true or false';
  return undefined;
}

/** Why the signed body does not bind this payload (or the payload is not runnable), or undefined. */
export function kvCommandProblem(body: Pick<CommandBody, 'paths'>, p: KvPayload): string | undefined {
  const problem = kvPayloadProblem(p);
  if (problem) return `${problem}: nothing was touched`;
  const path = kvPathOf(p);
  if (body.paths.length !== 1 || body.paths[0] !== path) return `the signature binds the paths ${JSON.stringify(body.paths)}, not [${JSON.stringify(path)}]: nothing was touched`;
  return undefined;
}
