/** The hosts view's line per agent: the KV instances its heartbeat reports (API and CLI column). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentView } from '../../../apps/console/routes/agents.ts';
import { kvColumn } from '../../../apps/cli/verbs/agents.ts';
import type { AgentRecord } from '../../../projections/agents.ts';
import type { Heartbeat, InstalledService } from '../../../schemas/agent.ts';

const now = Date.parse('2026-12-06T12:00:00Z');
const agent = (o: Partial<AgentRecord> = {}) => ({
  ip: '10.0.0.5', hostname: 'h5', agentVersion: '0.1.0', agentKeyId: 'k1', trustedKeyId: 'c1', enrolledAt: '2026-12-01T00:00:00Z',
  revoked: false, down: false, pending: [], ...o,
}) as unknown as AgentRecord;
const redis = (service: string, state: InstalledService['state'], o: Partial<InstalledService> = {}): InstalledService => ({
  service, planId: '', versionsJson: '', artifactSha256: '', configSha256: '', state, pid: 4242, restarts: 0, port: 0, sinceMs: now - 60_000, ...o,
});
const beat = (kvInstances: InstalledService[]): Heartbeat => ({
  agentVersion: '0.1.0', intervalMs: 1000, cpuPercent: 1, cpus: 2, memTotalBytes: 100, memFreeBytes: 50, diskTotalBytes: 10, diskFreeBytes: 5,
  load1: 0, load5: 0, load15: 0, processes: 9, hostname: 'h5', services: [], kvInstances,
}) as unknown as Heartbeat;

test('given a heartbeat with two Redis instances, when the hosts view is made, then each shows its cluster, port and process state', () => {
  const live = { ip: '10.0.0.5', lastSeenAtMs: now - 1000, sequence: 3, heartbeat: beat([redis('kv/cache/7000', 'running'), redis('kv/cache/7001', 'backoff', { restarts: 3, pid: 0 })]) };
  const view = agentView(agent(), live, now);
  assert.deepEqual(view.kvInstances, [
    { cluster: 'cache', port: 7000, state: 'running', pid: 4242, restarts: 0, since: '2026-12-06T11:59:00.000Z' },
    { cluster: 'cache', port: 7001, state: 'backoff', pid: 0, restarts: 3, since: '2026-12-06T11:59:00.000Z' },
  ]);
  assert.equal(kvColumn(view.kvInstances), '2 (1 backoff)');
  assert.equal(kvColumn([{ state: 'running' }, { state: 'running' }]), '2');
});

test('given no heartbeat, an older agent without the field, or a revoked agent, when the hosts view is made, then it lists no instance', () => {
  assert.deepEqual(agentView(agent(), undefined, now).kvInstances, []);
  const old = beat([]);
  delete (old as { kvInstances?: unknown }).kvInstances;
  assert.deepEqual(agentView(agent(), { ip: '10.0.0.5', lastSeenAtMs: now, sequence: 1, heartbeat: old }, now).kvInstances, []);
  const live = { ip: '10.0.0.5', lastSeenAtMs: now, sequence: 1, heartbeat: beat([redis('kv/cache/7000', 'running')]) };
  assert.deepEqual(agentView(agent({ revoked: true }), live, now).kvInstances, [], 'a revoked agent\'s last heartbeat says nothing any more');
  assert.equal(kvColumn([]), '');
});

test('given an instance name that is not kv/<cluster>/<port>, when the hosts view is made, then it keeps the reported port and no cluster', () => {
  const live = { ip: '10.0.0.5', lastSeenAtMs: now, sequence: 1, heartbeat: beat([redis('kv/../x', 'stopped', { port: 7100, sinceMs: 0 })]) };
  assert.deepEqual(agentView(agent(), live, now).kvInstances, [{ cluster: '', port: 7100, state: 'stopped', pid: 4242, restarts: 0, since: null }]);
});
