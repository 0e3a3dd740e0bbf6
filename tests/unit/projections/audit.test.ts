import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../../domain/events.ts';
import { serviceEventTypes } from '../../../domain/services/events.ts';
import { userEventTypes } from '../../../domain/users/events.ts';
import { accessEventTypes } from '../../../domain/access/events.ts';
import { agentEventTypes, keyringEventTypes } from '../../../domain/agents/events.ts';
import { logSettingsEventTypes } from '../../../domain/logs/settings.ts';
import { monitoringEventTypes } from '../../../domain/monitoring/events.ts';
import { releaseEventTypes } from '../../../domain/releases/events.ts';
import { kvEventTypes } from '../../../domain/kv/events.ts';
import { auditProjection, auditRow, auditRowsOf, oneLine } from '../../../projections/audit.ts';
import { applyAuditContext, emptyAuditContext, type AuditContext } from '../../../projections/audit-context.ts';
import type { RecordedEvent } from '../../../domain/events.ts';
import * as e from './events.ts';

const svc = 'Flight.mod_flight';
const secrets = ['scrypt$SECRET-PASSWORD-HASH', 'sha256$SECRET-TOKEN-HASH', '[SECRET]\nconfig=text', 'message SecretIdl {}'];

/** One event of every type, with the summary a person reads in the audit view. */
const everyType: [DomainEvent, string][] = [
  [e.firstLevelCreated('Flight'), 'first-level service Flight created (standard)'],
  [e.firstLevelDeleted('Flight'), 'first-level service Flight deleted'],
  [e.childClaimed('Flight', 'mod_flight', { lang: 'go' }), 'mod_flight claimed under Flight for a creation (standard, go, port 7963)'],
  [e.childLinked('Flight', 'mod_flight'), 'mod_flight linked under Flight'],
  [e.childUnlinked('Flight', 'mod_flight'), 'mod_flight unlinked from Flight'],
  [e.serviceCreated(svc, { lang: 'go', port: 8000 }), 'service Flight.mod_flight created (standard, go, port 8000)'],
  [e.serviceDeleted(svc), 'service Flight.mod_flight deleted'],
  [e.hostAdded(svc, '10.0.0.1:7963', { protocol: 'udp', weight: 200 }), 'host 10.0.0.1:7963 added to Flight.mod_flight (udp, weight 200, disabled)'],
  [e.hostEnabled(svc, '10.0.0.1:7963'), 'host 10.0.0.1:7963 enabled (scale out) on Flight.mod_flight'],
  [e.hostDisabled(svc, '10.0.0.1:7963'), 'host 10.0.0.1:7963 disabled (scale in) on Flight.mod_flight'],
  [e.hostRemoved(svc, '10.0.0.1:7963'), 'host 10.0.0.1:7963 removed from Flight.mod_flight'],
  [e.hostWeightSet(svc, '10.0.0.1:7963', 300), 'host 10.0.0.1:7963 weight set to 300 on Flight.mod_flight'],
  [e.configAdded(svc, 'v2', secrets[2]!, 'log level'), 'config v2 added to Flight.mod_flight (memo: log level)'],
  [e.configDeleted(svc, 'v2'), 'config v2 deleted from Flight.mod_flight'],
  [e.idlAdded(svc, 'i1', secrets[3]!), 'IDL i1 added to Flight.mod_flight'],
  [e.idlDeleted(svc, 'i1'), 'IDL i1 deleted from Flight.mod_flight'],
  [e.userCreated('alice', secrets[0]), 'user alice created'],
  [e.passwordChanged('alice', secrets[0]!), 'password of user alice changed'],
  [e.userRemoved('alice'), 'user alice removed'],
  [e.tokenIssued('alice', 'tok-1', secrets[1]!, 'ci bot'), 'API token tok-1 "ci bot" issued to alice'],
  [e.tokenRevoked('alice', 'tok-1'), 'API token tok-1 of alice revoked'],
  [e.tokenIssued('svc', 'tok-2', secrets[1]!, 'flight', 'routes'), 'route-read API token tok-2 "flight" issued to svc'],
  [e.sessionEnded('alice', 'nonce-123456', 1), 'alice logged out'],
  [e.accessInitialized(['admin', 'bob']), 'roles introduced: existing users admin, bob keep full rights as admin'],
  [e.accessInitialized([]), 'roles introduced'],
  [e.userAccessSet('alice', [{ role: 'operator', service: 'Flight' }]), 'alice given operator of Flight'],
  [e.roleGranted('alice', 'viewer'), 'viewer granted to alice'],
  [e.roleRevoked('alice', 'operator', 'Flight'), 'operator of Flight revoked from alice'],
  [e.userAccessRemoved('alice'), 'every role of alice removed'],
  [{ type: 'AccessRefused', data: { user: 'eve', permission: 'services.write', service: 'Flight.x', method: 'DELETE', route: '/api/services/:name', suppressed: 3 } },
    'refused DELETE /api/services/:name to eve: needs services.write on Flight.x (and 3 more refusals not recorded one by one)'],
  [e.agentEv('AgentTokenIssued', { ip: '127.0.0.2', tokenId: 'tok-9', tokenHash: secrets[1]!, expiresAtMs: Date.parse('2024-05-01T09:00:00Z') }),
    'enrolment token tok-9 made for the agent of 127.0.0.2 (valid until 2024-05-01T09:00:00.000Z)'],
  [e.agentEv('AgentEnrolled', { ip: '127.0.0.2', tokenId: 'tok-9', publicKey: 'K', agentKeyId: 'ak1', hostname: 'box1', agentVersion: '0.1.0' }),
    'agent of 127.0.0.2 enrolled (key ak1, host box1, version 0.1.0)'],
  [e.agentEv('AgentRevoked', { ip: '127.0.0.2' }), 'agent of 127.0.0.2 revoked'],
  [e.agentEv('AgentCommandIssued', { ip: '127.0.0.2', commandId: 'c1', sequence: 3, action: 'exec', summary: "sh -c 'echo hi'", issuedAtMs: 1, expiresAtMs: 2, keyId: 'k1', signed: 'SIGNED-ENVELOPE' }),
    "exec #3 sent to 127.0.0.2: sh -c 'echo hi'"],
  [e.agentEv('AgentCommandCompleted', { ip: '127.0.0.2', commandId: 'c1', sequence: 3, action: 'exec', exitCode: 3, error: '', timedOut: false, durationMs: 12, output: Buffer.from(secrets[2]!).toString('base64'), outputSha256: 'x', outputKeptBytes: 3, outputBytes: 3, dataSha256: '' }),
    'exec #3 on 127.0.0.2: exit 3 in 12 ms, 3 bytes of output'],
  [e.agentEv('AgentCommandRefused', { ip: '127.0.0.2', commandId: 'c9', sequence: 9, reason: 'bad-signature', detail: 'does not verify', similar: 4, signedSha256: '' }),
    'agent of 127.0.0.2 refused a command (#9): bad-signature (does not verify), and 4 more for the same reason'],
  [e.agentEv('AgentDown', { ip: '127.0.0.2', lastSeenAtMs: Date.parse('2024-05-01T08:30:00Z') }), 'agent of 127.0.0.2 is down (no heartbeat since 2024-05-01T08:30:00.000Z)'],
  [e.agentEv('AgentUp', { ip: '127.0.0.2' }), 'agent of 127.0.0.2 is up again'],
  [e.agentEv('AgentKeyTrusted', { ip: '127.0.0.2', keyId: 'k2' }), 'agent of 127.0.0.2 now trusts command key k2'],
  [e.agentEv('SigningKeyIntroduced', { keyId: 'k2', publicKey: 'P', previousKeyId: 'k1', statement: 'S' }), 'command key k2 introduced, succeeding k1'],
  [{ type: 'LogLevelSet', data: { service: svc, level: 'DEBUG' } }, 'log level of Flight.mod_flight set to DEBUG'],
  [{ type: 'LogLevelSet', data: { service: svc, level: '' } }, "log level of Flight.mod_flight back to its config version's"],
  [{ type: 'LogColorRuleAdded', data: { service: svc, field: 'uid', value: '10086\nforged' } }, 'coloring rule uid=10086 forged added to Flight.mod_flight'],
  [{ type: 'LogColorRuleRemoved', data: { service: svc, field: 'Caller', value: 'Flight.web' } }, 'coloring rule Caller=Flight.web removed from Flight.mod_flight'],
  [{ type: 'LogFieldAdded', data: { service: svc, name: 'uid', type: 'int' } }, 'log field uid (int) added to Flight.mod_flight'],
  [{ type: 'LogFieldDeleted', data: { service: svc, name: 'uid' } }, 'log field uid deleted from Flight.mod_flight'],
  [{ type: 'AlarmRuleSet', data: { service: svc, name: 'usr.orders', max: 100, min: 0, diff: 0, diffPercent: 50, forMinutes: 3, scope: 'host' } },
    'alarm rule on Flight.mod_flight "usr.orders" set: max 100, diff 50 %, for 3 minutes, per host'],
  [{ type: 'AlarmRuleDeleted', data: { service: svc, name: 'usr.orders' } }, 'alarm rule on Flight.mod_flight "usr.orders" deleted'],
  [{ type: 'AlarmWebhookSet', data: { service: svc, url: 'https://alerts.example/msec' } }, 'alarm webhook https://alerts.example/msec added to Flight.mod_flight'],
  [{ type: 'AlarmWebhookRemoved', data: { service: svc, url: 'https://alerts.example/msec' } }, 'alarm webhook https://alerts.example/msec removed from Flight.mod_flight'],
  [{ type: 'AlarmRaised', data: { service: svc, name: 'usr.orders', alarmType: 'diff_percent', ip: '10.0.0.1', minute: Date.UTC(2024, 4, 1, 10, 3) / 1000, value: 160, threshold: 50, previous: 100, forMinutes: 1 } },
    'alarm diff_percent raised on Flight.mod_flight at 10.0.0.1: "usr.orders" = 160 at 2024-05-01 10:03Z (change ≥ 50 %, yesterday 100)'],
  [{ type: 'AlarmResolved', data: { service: svc, name: 'usr.orders', alarmType: 'max', ip: '', minute: Date.UTC(2024, 4, 1, 10, 5) / 1000, value: 3, raisedMinute: 0, reason: 'normal' } },
    'alarm max resolved on Flight.mod_flight: "usr.orders" = 3 at 2024-05-01 10:05Z (back to normal)'],
  [{ type: 'ArtifactAdded', data: { service: svc, tag: 'v1', sha256: 'a'.repeat(64), size: 4096, memo: 'seed', fileName: 'f.tgz' } }, 'artifact v1 of Flight.mod_flight added: 4096 bytes, sha256 aaaaaaaaaaaa… (memo: seed)'],
  [{ type: 'ArtifactDeleted', data: { service: svc, tag: 'v1' } }, 'artifact v1 of Flight.mod_flight deleted'],
  [{ type: 'LibraryFileAdded', data: { service: svc, name: 'libx.so', sha256: 'b'.repeat(64), size: 10, memo: '' } }, 'library file libx.so of Flight.mod_flight uploaded: 10 bytes, sha256 bbbbbbbbbbbb…'],
  [{ type: 'LibraryFileDeleted', data: { service: svc, name: 'libx.so' } }, 'library file libx.so of Flight.mod_flight deleted'],
  [{ type: 'ReleaseRunClaimed', data: { service: svc, planId: 'P' } }, 'release plan P holds Flight.mod_flight'],
  [{ type: 'ReleaseRunEnded', data: { service: svc, planId: 'P' } }, 'release plan P no longer holds Flight.mod_flight'],
  [{ type: 'ReleasePlanCreated', data: {
    planId: 'P', service: svc, releaseType: 'only_config', hosts: [{ ip: '10.0.0.1', port: 7963 }, { ip: '10.0.0.2', port: 7963 }], configTag: 'v2', configSha256: 'c'.repeat(64), configSize: 9,
    idlTag: '', artifactTag: '', artifactSha256: '', artifactSize: 0, libraries: [], canary: 0, canaryAutoSeconds: 0, batch: 0, enable: true, autoRollback: false,
    healthTimeoutMs: 30000, hostTimeoutMs: 600000, drainSeconds: 3, memo: '',
  } }, 'release plan P of Flight.mod_flight created: only config (config v2) to 10.0.0.1, 10.0.0.2'],
  [{ type: 'ReleaseStarted', data: { planId: 'P' } }, 'release plan P started'],
  [{ type: 'ReleasePaused', data: { planId: 'P', why: 'canary' } }, 'release plan P paused after a healthy canary: resume to go on'],
  [{ type: 'ReleaseResumed', data: { planId: 'P' } }, 'release plan P resumed'],
  [{ type: 'ReleaseCancelled', data: { planId: 'P' } }, 'release plan P cancelled'],
  [{ type: 'ReleaseHostDispatched', data: { planId: 'P', ip: '10.0.0.1', operation: 'install', commandId: 'c', atMs: 0 } }, 'release plan P: install sent to 10.0.0.1'],
  [{ type: 'ReleaseHostStepped', data: { planId: 'P', ip: '10.0.0.1', operation: 'install', step: 'healthy', ok: false, detail: 'no answer\nforged line', atMs: 0 } }, 'release plan P: 10.0.0.1 healthy FAILED: no answer forged line'],
  [{ type: 'ReleaseHostSucceeded', data: { planId: 'P', ip: '10.0.0.1', operation: 'rollback', atMs: 0 } }, 'release plan P: rollback done on 10.0.0.1'],
  [{ type: 'ReleaseHostFailed', data: { planId: 'P', ip: '10.0.0.1', operation: 'install', error: 'exit 3', output: 'secret-ish output', atMs: 0 } }, 'release plan P: install failed on 10.0.0.1: exit 3'],
  [{ type: 'ReleaseRollbackStarted', data: { planId: 'P', reason: '10.0.0.1 failed', ips: ['10.0.0.1'] } }, 'release plan P rolling back 10.0.0.1: 10.0.0.1 failed'],
  [{ type: 'ReleaseFinished', data: { planId: 'P', outcome: 'partially_failed', failedIps: ['10.0.0.1'], detail: 'failed on 10.0.0.1' } }, 'release plan P ended: partially failed (failed on 10.0.0.1)'],
  [{ type: 'KvClusterCreated', data: { name: 'c1', replicas: 1, memoryBytes: 64 * 1024 * 1024, maxmemoryPolicy: 'allkeys-lru', basePort: 7000, nodeTimeoutMs: 3000, appendonly: true, memo: '' } },
    'KV cluster c1 created: 1 replica(s) per set, 64mb per instance (allkeys-lru), ports from 7000, AOF on'],
  [{ type: 'KvTaskStarted', data: { name: 'c1', taskId: 'T', kind: 'expand', summary: 'expand by 1 set(s): set 4', setId: 0, instances: [], hosts: [], atMs: 0 } }, 'KV cluster c1: task expand started: expand by 1 set(s): set 4'],
  [{ type: 'KvInstancePlaced', data: { name: 'c1', taskId: 'T', setId: 4, ip: '10.0.0.1', port: 7001, role: 'replica' } }, 'KV cluster c1: replica of set 4 placed on 10.0.0.1:7001'],
  [{ type: 'KvInstanceRemoved', data: { name: 'c1', taskId: 'T', ip: '10.0.0.1', port: 7001, why: 'dead\nforged' } }, 'KV cluster c1: 10.0.0.1:7001 removed (dead forged)'],
  [{ type: 'KvTaskStepped', data: { name: 'c1', taskId: 'T', step: 'migrate', ok: true, detail: '1365 slots', atMs: 0 } }, 'KV cluster c1: migrate: 1365 slots'],
  [{ type: 'KvTaskEnded', data: { name: 'c1', taskId: 'T', outcome: 'failed', error: 'host down', atMs: 0 } }, 'KV cluster c1: task failed: host down'],
  [{ type: 'KvClusterDeleted', data: { name: 'c1', taskId: 'T' } }, 'KV cluster c1 deleted'],
];

describe('audit projection', () => {
  it('covers every domain event type', () => {
    const all = new Set([...serviceEventTypes, ...userEventTypes, ...accessEventTypes, ...agentEventTypes, ...keyringEventTypes, ...logSettingsEventTypes, ...monitoringEventTypes, ...releaseEventTypes, ...kvEventTypes]);
    assert.deepEqual(new Set(everyType.map(([event]) => event.type)), all);
    assert.deepEqual(new Set(auditProjection.handles), all);
  });

  it('writes one row per event: who, when, why, which stream, and a summary', () => {
    const [event] = e.recorded([e.hostEnabled(svc, '10.0.0.1:7963')], { after: 41, actor: 'alice', reason: 'peak traffic' });
    assert.deepEqual(auditProjection.rows(event!, emptyAuditContext()), [{
      eventId: e.eventId(42), position: 42, time: '2024-05-01T08:42:00.000Z', actor: 'alice', reason: 'peak traffic',
      stream: 'service-Flight.mod_flight', type: 'HostEnabled', revision: 0,
      summary: 'host 10.0.0.1:7963 enabled (scale out) on Flight.mod_flight',
    }]);
  });

  for (const [event, summary] of everyType) {
    it(`summarises ${event.type}`, () => {
      assert.equal(auditRow(e.recorded([event])[0]!).summary, summary);
    });
  }

  it('never puts a password hash, token hash, config or IDL text in a row', () => {
    const rows = auditRowsOf(e.recorded(everyType.map(([event]) => event)));
    const text = JSON.stringify(rows);
    for (const secret of secrets) assert.ok(!text.includes(JSON.stringify(secret).slice(1, -1)), `row leaks ${secret}`);
    assert.doesNotMatch(text, /SECRET/);
  });

  it('folds a memo or label to one short line', () => {
    const [event] = e.recorded([e.configAdded(svc, 'v3', 'x', `two\nlines\t and ${'long '.repeat(40)}`)]);
    const summary = auditRow(event!).summary;
    assert.doesNotMatch(summary, /[\n\t]/);
    assert.match(summary, /^config v3 added to Flight\.mod_flight \(memo: two lines and long long .*…\)$/);
    assert.ok(summary.length < 200);
    assert.equal(oneLine('  a\u2028b  ', 10), 'a b');
  });

  it('keeps the reason as given', () => {
    const [event] = e.recorded([e.userRemoved('bob')], { reason: 'left the team\nticket #12' });
    assert.equal(auditRow(event!).reason, 'left the team\nticket #12');
  });
});

/**
 * Prior values as specifications: given these past events, when this event, then its row
 * says what it changed from. `was` folds the past through the audit's own context, each
 * context deep-frozen so a fold that changed its input would fail.
 */
describe('audit projection: what each event changed from', () => {
  const host = '10.0.0.1:7963';
  const given = (...past: DomainEvent[]) => ({
    when(event: DomainEvent) {
      const events = e.recorded([...past, event]);
      let context: AuditContext = e.deepFreeze(emptyAuditContext());
      for (const earlier of events.slice(0, -1)) context = e.deepFreeze(applyAuditContext(context, earlier as RecordedEvent));
      const row = auditRow(events.at(-1)!, context);
      return {
        then(summary: string, was?: object) {
          assert.equal(row.summary, summary);
          assert.deepEqual(row.was, was);
        },
      };
    },
  });

  it('a weight set says the weight before', () =>
    given(e.hostAdded(svc, host, { weight: 100 })).when(e.hostWeightSet(svc, host, 200))
      .then('host 10.0.0.1:7963 weight set to 200 (was 100) on Flight.mod_flight', { weight: 100 }));

  it('a second weight set says the first one', () =>
    given(e.hostAdded(svc, host), e.hostWeightSet(svc, host, 200)).when(e.hostWeightSet(svc, host, 50))
      .then('host 10.0.0.1:7963 weight set to 50 (was 200) on Flight.mod_flight', { weight: 200 }));

  it('an enable says the host was disabled (hosts start disabled)', () =>
    given(e.hostAdded(svc, host)).when(e.hostEnabled(svc, host))
      .then('host 10.0.0.1:7963 enabled (scale out; was disabled) on Flight.mod_flight', { enabled: false }));

  it('an enable of an enabled host says so', () =>
    given(e.hostAdded(svc, host), e.hostEnabled(svc, host)).when(e.hostEnabled(svc, host))
      .then('host 10.0.0.1:7963 enabled (scale out; was enabled) on Flight.mod_flight', { enabled: true }));

  it('a disable says the host was enabled', () =>
    given(e.hostAdded(svc, host), e.hostEnabled(svc, host)).when(e.hostDisabled(svc, host))
      .then('host 10.0.0.1:7963 disabled (scale in; was enabled) on Flight.mod_flight', { enabled: true }));

  it('a removal says what the host was', () =>
    given(e.hostAdded(svc, host), e.hostEnabled(svc, host), e.hostWeightSet(svc, host, 300)).when(e.hostRemoved(svc, host))
      .then('host 10.0.0.1:7963 removed from Flight.mod_flight (was enabled, weight 300)', { weight: 300, enabled: true }));

  it('a host added again after its removal starts over', () =>
    given(e.hostAdded(svc, host, { weight: 5 }), e.hostEnabled(svc, host), e.hostRemoved(svc, host), e.hostAdded(svc, host, { weight: 7 }))
      .when(e.hostEnabled(svc, host))
      .then('host 10.0.0.1:7963 enabled (scale out; was disabled) on Flight.mod_flight', { enabled: false }));

  it('a host of another service, or one never added, has no prior value', () => {
    given(e.hostAdded('Flight.other', host, { weight: 9 })).when(e.hostWeightSet(svc, host, 200))
      .then('host 10.0.0.1:7963 weight set to 200 on Flight.mod_flight');
    given().when(e.hostRemoved(svc, host)).then('host 10.0.0.1:7963 removed from Flight.mod_flight');
  });

  it('a deleted service forgets its hosts and versions', () =>
    given(e.hostAdded(svc, host), e.configAdded(svc, 'v1', 'x'), e.serviceDeleted(svc), e.serviceCreated(svc)).when(e.configAdded(svc, 'v1', 'y'))
      .then('config v1 added to Flight.mod_flight (the first)', { version: '' }));

  it('a config version names the newest one before it', () => {
    given().when(e.configAdded(svc, 'v1', 'x', 'seed'))
      .then('config v1 added to Flight.mod_flight (the first) (memo: seed)', { version: '' });
    given(e.configAdded(svc, 'v1', 'x')).when(e.configAdded(svc, 'v2', 'y'))
      .then('config v2 added to Flight.mod_flight (previous: v1)', { version: 'v1' });
  });

  it('after a delete, the newest remaining version is the previous one', () =>
    given(e.configAdded(svc, 'v1', 'x'), e.configAdded(svc, 'v2', 'y'), e.configDeleted(svc, 'v2')).when(e.configAdded(svc, 'v3', 'z'))
      .then('config v3 added to Flight.mod_flight (previous: v1)', { version: 'v1' }));

  it('IDL versions are followed apart from configs', () =>
    given(e.configAdded(svc, 'c1', 'x'), e.idlAdded(svc, 'i1', 'x')).when(e.idlAdded(svc, 'i2', 'y'))
      .then('IDL i2 added to Flight.mod_flight (previous: i1)', { version: 'i1' }));

  it('a log level says the level before, or the config version\'s', () => {
    given().when({ type: 'LogLevelSet', data: { service: svc, level: 'DEBUG' } })
      .then("log level of Flight.mod_flight set to DEBUG (was its config version's)", { logLevel: '' });
    given({ type: 'LogLevelSet', data: { service: svc, level: 'DEBUG' } }).when({ type: 'LogLevelSet', data: { service: svc, level: '' } })
      .then("log level of Flight.mod_flight back to its config version's (was DEBUG)", { logLevel: 'DEBUG' });
  });

  it('events that change nothing the audit follows carry no prior value', () =>
    given(e.hostAdded(svc, host)).when(e.userCreated('alice')).then('user alice created'));
});
