/**
 * The files of a Redis cluster instance, written by the agent from a checked payload only: no
 * text of the console's reaches redis.conf but numbers in range and names from a closed list
 * (a policy like "noeviction\nslaveof …" never gets here: kv-payload.ts refuses it, and so does
 * redisConfig itself). The paths are the agent's own, quoted the way redis reads them.
 */
import type { KvPayload } from '../../../schemas/agent.ts';
import { kvPayloadProblem } from './kv-payload.ts';

/** bin/start: the supervisor runs `./start` in bin/, so the config is one folder up. */
export const redisStartScript = '#!/bin/sh\nexec redis-server ../etc/redis.conf\n';

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** etc/redis.conf for `p` (a start), listening on `ip`, keeping its data and nodes.conf in `dataDir` (absolute). */
export function redisConfig(ip: string, dataDir: string, p: KvPayload): string {
  const problem = kvPayloadProblem(p);
  if (problem) throw new Error(problem);
  if (p.operation !== 'start') throw new Error(`a ${p.operation} has no redis.conf`);
  if (!ipv4.test(ip)) throw new Error(`the agent's address ${JSON.stringify(ip)} is not an IPv4 address: redis cannot bind it`);
  if (!dataDir.startsWith('/')) throw new Error(`the data folder ${dataDir} is not absolute`);
  return [
    '# Written by the msec agent from a signed kv command; it is written again at every start: edits here are lost.',
    `bind ${ip}`,
    // The host's address, not the machine's default route, is what the others see: outgoing
    // connections come from it, and the cluster and replicas announce it.
    `bind-source-addr ${ip}`,
    `cluster-announce-ip ${ip}`,
    `replica-announce-ip ${ip}`,
    `port ${p.port}`,
    'protected-mode no',
    'daemonize no',
    'logfile ""',
    'cluster-enabled yes',
    `cluster-config-file ${configArgument(`${dataDir}/nodes.conf`)}`,
    `cluster-node-timeout ${p.nodeTimeoutMs}`,
    // Replicas stay where the console put them; a shard without its master refuses writes
    // rather than the cluster serving part of the keys.
    'cluster-allow-replica-migration no',
    'cluster-require-full-coverage yes',
    `dir ${configArgument(dataDir)}`,
    `appendonly ${p.appendonly ? 'yes' : 'no'}`,
    'appendfsync everysec',
    'save ""',
    `maxmemory ${p.maxmemoryBytes}`,
    `maxmemory-policy ${p.maxmemoryPolicy}`,
    '',
  ].join('\n');
}

/** A path as one redis.conf argument: bare when plain, else double-quoted with \\ and " escaped. */
export function configArgument(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`${JSON.stringify(value)} holds control characters: it cannot go into redis.conf`);
  if (/^[A-Za-z0-9/._+-]+$/.test(value)) return value;
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
