/** Events and commands of release plans for the specs: a plan of three hosts unless told otherwise. */
import type { ReleaseEvent, ReleasePlanCreatedData } from '../../../../domain/releases/index.ts';

export const planId = '20261206120000_abc123';
export const service = 'Flight.mod_flight';
export const sha = (c: string) => c.repeat(64);

export function planData(o: Partial<ReleasePlanCreatedData> = {}): ReleasePlanCreatedData {
  return {
    planId, service, releaseType: 'complete',
    hosts: [{ ip: '127.0.0.2', port: 7963 }, { ip: '127.0.0.3', port: 7963 }, { ip: '127.0.0.4', port: 7963 }],
    configTag: 'v1', configSha256: sha('c'), configSize: 40, idlTag: 'v1', artifactTag: 'a1', artifactSha256: sha('a'), artifactSize: 1000,
    libraries: [], canary: 0, canaryAutoSeconds: 0, batch: 0, enable: false, autoRollback: false,
    healthTimeoutMs: 30_000, hostTimeoutMs: 600_000, drainSeconds: 3, memo: '', ...o,
  };
}

export const created = (o: Partial<ReleasePlanCreatedData> = {}): ReleaseEvent => ({ type: 'ReleasePlanCreated', data: planData(o) });
export const started: ReleaseEvent = { type: 'ReleaseStarted', data: { planId } };
export const dispatched = (ip: string, commandId = `cmd-${ip}`, operation: 'install' | 'rollback' = 'install', atMs = 1000): ReleaseEvent =>
  ({ type: 'ReleaseHostDispatched', data: { planId, ip, operation, commandId, atMs } });
export const succeeded = (ip: string, operation: 'install' | 'rollback' = 'install', atMs = 2000): ReleaseEvent =>
  ({ type: 'ReleaseHostSucceeded', data: { planId, ip, operation, atMs } });
export const failed = (ip: string, error = 'healthy: port 7963 did not answer', operation: 'install' | 'rollback' = 'install'): ReleaseEvent =>
  ({ type: 'ReleaseHostFailed', data: { planId, ip, operation, error, output: 'boom', atMs: 2000 } });
