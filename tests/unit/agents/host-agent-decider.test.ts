/**
 * The host agent's rules (stream "host-<ip>"), as specifications: enrolment with a one-time
 * token (one answer for every way a token can be wrong), revocation, commands only with the
 * next sequence and only for an active agent, results recorded once, down/up, the trusted key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostAgentDecider, type AgentCommand, type AgentEvent } from '../../../domain/agents/index.ts';
import { spec, stateAfter } from '../support/given-when-then.ts';

const ip = '10.0.0.7';
const host = spec(hostAgentDecider);
const hashA = 'a'.repeat(64);
const hashB = 'b'.repeat(64);
const publicKey = `${'K'.repeat(43)}=`;
const otherKey = `${'L'.repeat(43)}=`;
const now = 1_700_000_000_000;

const tokenIssued = (tokenId = 't1', tokenHash = hashA, expiresAtMs = now + 3600_000): AgentEvent =>
  ({ type: 'AgentTokenIssued', data: { ip, tokenId, tokenHash, expiresAtMs } });
const enrolled = (tokenId = 't1', key = publicKey): AgentEvent =>
  ({ type: 'AgentEnrolled', data: { ip, tokenId, publicKey: key, agentKeyId: 'ak1', hostname: 'box', agentVersion: '0.1.0' } });
const revoked: AgentEvent = { type: 'AgentRevoked', data: { ip } };
const issued = (sequence: number, commandId = `c${sequence}`): AgentEvent => ({ type: 'AgentCommandIssued', data: {
  ip, commandId, sequence, action: 'exec', summary: 'true', issuedAtMs: now, expiresAtMs: now + 300_000, keyId: 'k1', signed: 'SIGNED',
} });
const resultOf = (commandId: string, sequence: number) => ({
  ip, commandId, sequence, action: 'exec', exitCode: 0, error: '', timedOut: false, durationMs: 3,
  output: Buffer.from('hi\n').toString('base64'), outputSha256: 'x', outputKeptBytes: 3, outputBytes: 3, dataSha256: '',
});

const issueToken = (tokenId = 't2', tokenHash = hashB, expiresAtMs = now + 3600_000): AgentCommand =>
  ({ type: 'IssueAgentToken', ip, tokenId, tokenHash, expiresAtMs });
const enrol = (tokenHash = hashA, o: { nowMs?: number; key?: string; hostname?: string; agentVersion?: string } = {}): AgentCommand => ({
  type: 'EnrolAgent', ip, tokenHash, publicKey: o.key ?? publicKey, agentKeyId: 'ak1',
  hostname: o.hostname ?? 'box', agentVersion: o.agentVersion ?? '0.1.0', nowMs: o.nowMs ?? now,
});
const issue = (sequence: number, commandId = `c${sequence}`): AgentCommand => ({
  type: 'IssueAgentCommand', ip, commandId, sequence, action: 'exec', summary: 'true', issuedAtMs: now, expiresAtMs: now + 300_000, keyId: 'k1', signed: 'SIGNED',
});

const tokenRefusal = /the enrolment token for 10\.0\.0\.7 is unknown, used or expired: make a new one \(msec agent token --ip 10\.0\.0\.7\)/;

describe('host agent: tokens', () => {
  test('a token is issued for a host with no agent; only its hash is kept', () => {
    host.given([]).when(issueToken('t1', hashA)).then([tokenIssued('t1', hashA)]);
  });

  test('a token is refused while an agent is enrolled: revoke it first', () => {
    host.given([tokenIssued(), enrolled()]).when(issueToken()).thenFails('conflict', /revoke it first \(msec agent revoke 10\.0\.0\.7\)/);
  });

  test('a token hash that is not a sha256 is refused', () => {
    host.given([]).when(issueToken('t1', 'secret-in-clear')).thenFails('invalid', /sha256/);
    host.given([]).when(issueToken('t1', 'A'.repeat(64))).thenFails('invalid', /sha256/);
  });

  test('a malformed ip is refused', () => {
    host.given([]).when({ type: 'IssueAgentToken', ip: '10.0.0.256', tokenId: 't1', tokenHash: hashA, expiresAtMs: now }).thenFails('invalid', /above 255/);
  });
});

describe('host agent: enrolment', () => {
  test('an agent enrols with a valid token and its own public key', () => {
    host.given([tokenIssued()]).when(enrol()).then([enrolled()]);
  });

  test('an unknown, a used and an expired token get the same answer', () => {
    host.given([tokenIssued()]).when(enrol(hashB)).thenFails('forbidden', tokenRefusal);
    host.given([]).when(enrol()).thenFails('forbidden', tokenRefusal);
    host.given([tokenIssued(), enrolled(), revoked]).when(enrol()).thenFails('forbidden', tokenRefusal);
    host.given([tokenIssued('t1', hashA, now)]).when(enrol(hashA, { nowMs: now })).thenFails('forbidden', tokenRefusal);
    host.given([tokenIssued('t1', hashA, now)]).when(enrol(hashA, { nowMs: now + 1 })).thenFails('forbidden', tokenRefusal);
  });

  test('a token one millisecond before its expiry still enrols', () => {
    host.given([tokenIssued('t1', hashA, now + 1)]).when(enrol(hashA, { nowMs: now })).then([enrolled()]);
  });

  test('a public key that is not 32 bytes of base64 is refused, and the token stays usable', () => {
    for (const key of ['', 'AAAA', `${'K'.repeat(44)}`, `${'K'.repeat(42)}==`, `${'K'.repeat(43)}= `, `${'-'.repeat(43)}=`, `${'K'.repeat(86)}==`]) {
      host.given([tokenIssued()]).when(enrol(hashA, { key })).thenFails('invalid', /raw Ed25519 key \(32 bytes, base64\)/);
    }
    host.given([tokenIssued()]).when(enrol()).then([enrolled()]);
  });

  test('hostname and version are cut to their limits', () => {
    const [event] = hostAgentDecider.decide(enrol(hashA, { hostname: 'h'.repeat(1000), agentVersion: 'v'.repeat(1000) }), stateAfter(hostAgentDecider, [tokenIssued()]));
    assert.equal(event?.type, 'AgentEnrolled');
    const data = (event as Extract<AgentEvent, { type: 'AgentEnrolled' }>).data;
    assert.equal(data.hostname.length, 255);
    assert.equal(data.agentVersion.length, 64);
  });

  test('the token is used once: a second enrolment with it is refused even after a revoke', () => {
    host.given([tokenIssued(), enrolled()]).when(enrol(hashA, { key: otherKey })).thenFails('forbidden', tokenRefusal);
  });

  test('a second token made before the enrolment gets the one answer while the agent is enrolled (no oracle)', () => {
    host.given([tokenIssued('t1', hashA), tokenIssued('t2', hashB), enrolled('t1')]).when(enrol(hashB, { key: otherKey })).thenFails('forbidden', tokenRefusal);
  });

  test('a second token made before the enrolment does not enrol another key after a revoke', () => {
    host.given([tokenIssued('t1', hashA), tokenIssued('t2', hashB), enrolled('t1'), revoked]).when(enrol(hashB, { key: otherKey })).thenFails('forbidden', tokenRefusal);
  });

  test('a token made after a revoke enrols a new key', () => {
    const history = [tokenIssued('t1', hashA), enrolled('t1'), revoked];
    host.given([...history, tokenIssued('t2', hashB)]).when(enrol(hashB, { key: otherKey }))
      .then([{ type: 'AgentEnrolled', data: { ip, tokenId: 't2', publicKey: otherKey, agentKeyId: 'ak1', hostname: 'box', agentVersion: '0.1.0' } }]);
  });

  test('a revoked agent enrols again only with a new token', () => {
    host.given([tokenIssued(), enrolled(), revoked]).when(issueToken()).then([tokenIssued('t2', hashB)]);
    const state = stateAfter(hostAgentDecider, [tokenIssued(), enrolled(), revoked, tokenIssued('t2', hashB), enrolled('t2', otherKey)]);
    assert.equal(state.revoked, false);
    assert.equal(state.enrolled?.publicKey, otherKey);
  });
});

describe('host agent: revocation', () => {
  test('an enrolled agent is revoked', () => {
    host.given([tokenIssued(), enrolled()]).when({ type: 'RevokeAgent', ip }).then([revoked]);
  });

  test('revoking twice writes nothing the second time', () => {
    host.given([tokenIssued(), enrolled(), revoked]).when({ type: 'RevokeAgent', ip }).thenNothing();
  });

  test('revoking a host with no agent is refused', () => {
    host.given([tokenIssued()]).when({ type: 'RevokeAgent', ip }).thenFails('not_found', /no agent is enrolled for 10\.0\.0\.7/);
  });
});

describe('host agent: commands', () => {
  const active = [tokenIssued(), enrolled()];

  test('the first command has sequence 1, the next 2', () => {
    host.given(active).when(issue(1)).then([issued(1)]);
    host.given([...active, issued(1)]).when(issue(2)).then([issued(2)]);
  });

  test('any other sequence is refused: sign it again', () => {
    for (const sequence of [0, 2, -1, 1.5]) {
      host.given(active).when(issue(sequence)).thenFails('conflict', /is not the next for 10\.0\.0\.7 \(1\): sign it again/);
    }
    host.given([...active, issued(1), issued(2)]).when(issue(2)).thenFails('conflict', /\(3\)/);
  });

  test('no command for a host with no agent', () => {
    host.given([]).when(issue(1)).thenFails('not_found', /no active agent for 10\.0\.0\.7: enrol one/);
    host.given([tokenIssued()]).when(issue(1)).thenFails('not_found', /no active agent/);
  });

  test('no command for a revoked agent', () => {
    host.given([...active, revoked]).when(issue(1)).thenFails('forbidden', /no active agent for 10\.0\.0\.7 \(revoked\)/);
  });

  test('sequences keep growing across a re-enrolment (a new agent never sees an old number again)', () => {
    const history = [...active, issued(1), issued(2), revoked, tokenIssued('t2', hashB), enrolled('t2', otherKey)];
    host.given(history).when(issue(3)).then([issued(3)]);
    host.given(history).when(issue(1)).thenFails('conflict', /\(3\)/);
  });
});

describe('host agent: results and refusals', () => {
  const open = [tokenIssued(), enrolled(), issued(1)];

  test('a result of an open command is recorded', () => {
    host.given(open).when({ type: 'RecordCommandResult', result: resultOf('c1', 1) }).then([{ type: 'AgentCommandCompleted', data: resultOf('c1', 1) }]);
  });

  test('a second result of the same command is not recorded', () => {
    host.given([...open, { type: 'AgentCommandCompleted', data: resultOf('c1', 1) }]).when({ type: 'RecordCommandResult', result: resultOf('c1', 1) }).thenNothing();
  });

  test('a result of a command this host never had is not recorded', () => {
    host.given(open).when({ type: 'RecordCommandResult', result: resultOf('c-forged', 1) }).thenNothing();
    host.given([tokenIssued(), enrolled()]).when({ type: 'RecordCommandResult', result: resultOf('c1', 1) }).thenNothing();
  });

  test('the open command set follows issue and completion', () => {
    const state = stateAfter(hostAgentDecider, [...open, issued(2), { type: 'AgentCommandCompleted', data: resultOf('c1', 1) }]);
    assert.deepEqual([...state.open], [['c2', 2]]);
    assert.equal(state.lastSequence, 2);
  });

  test('a refusal is recorded as reported (each is an audit fact)', () => {
    const refusal = { ip, commandId: 'c9', sequence: 9, reason: 'bad-signature', detail: 'does not verify', similar: 2, signedSha256: 'a'.repeat(64) };
    host.given(open).when({ type: 'RecordCommandRefusal', refusal }).then([{ type: 'AgentCommandRefused', data: refusal }]);
  });
});

describe('host agent: down and up', () => {
  const active = [tokenIssued(), enrolled()];
  const down: AgentEvent = { type: 'AgentDown', data: { ip, lastSeenAtMs: now } };

  test('an active agent goes down once, and up once', () => {
    host.given(active).when({ type: 'MarkAgentDown', ip, lastSeenAtMs: now }).then([down]);
    host.given([...active, down]).when({ type: 'MarkAgentDown', ip, lastSeenAtMs: now + 5 }).thenNothing();
    host.given([...active, down]).when({ type: 'MarkAgentUp', ip }).then([{ type: 'AgentUp', data: { ip } }]);
    host.given([...active, down, { type: 'AgentUp', data: { ip } }]).when({ type: 'MarkAgentUp', ip }).thenNothing();
  });

  test('an agent that is up is not marked up', () => {
    host.given(active).when({ type: 'MarkAgentUp', ip }).thenNothing();
  });

  test('a host with no agent, or a revoked one, is neither marked down nor up', () => {
    host.given([]).when({ type: 'MarkAgentDown', ip, lastSeenAtMs: now }).thenNothing();
    host.given([...active, revoked]).when({ type: 'MarkAgentDown', ip, lastSeenAtMs: now }).thenNothing();
    host.given([...active, down, revoked]).when({ type: 'MarkAgentUp', ip }).thenNothing();
  });

  test('a new enrolment starts up', () => {
    const state = stateAfter(hostAgentDecider, [...active, down, revoked, tokenIssued('t2', hashB), enrolled('t2', otherKey)]);
    assert.equal(state.down, false);
  });
});

describe('host agent: trusted key', () => {
  const active = [tokenIssued(), enrolled()];
  const trusted = (keyId: string): AgentEvent => ({ type: 'AgentKeyTrusted', data: { ip, keyId } });

  test('a new trusted key is recorded; the same one again is not', () => {
    host.given(active).when({ type: 'RecordTrustedKey', ip, keyId: 'k2' }).then([trusted('k2')]);
    host.given([...active, trusted('k2')]).when({ type: 'RecordTrustedKey', ip, keyId: 'k2' }).thenNothing();
  });

  test('nothing is recorded for a revoked agent or a host without one', () => {
    host.given([...active, revoked]).when({ type: 'RecordTrustedKey', ip, keyId: 'k2' }).thenNothing();
    host.given([]).when({ type: 'RecordTrustedKey', ip, keyId: 'k2' }).thenNothing();
  });
});
