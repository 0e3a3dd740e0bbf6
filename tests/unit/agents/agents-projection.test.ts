/**
 * The agents projection (projections/agents.ts): enrolled agents and their keys, the commands
 * waiting for each (pruned by the events' own time once expired, so a replay gives the same
 * state), the latest outcomes, up/down, trusted keys and the keyring.
 */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DomainEvent } from '../../../domain/events.ts';
import { agentsProjection, currentKey, expiryGraceMs, findAgent, keptResults, listAgents, outcomeOf, type AgentsState } from '../../../projections/agents.ts';
import { agentEv, foldState, recorded, startTime } from '../projections/events.ts';

const ip = '10.0.0.7';
const given = (...events: DomainEvent[]): AgentsState => foldState(agentsProjection, recorded(events));
/** The n-th event of `given` happens at startTime + n minutes. */
const at = (position: number) => startTime + position * 60_000;

const token = (host = ip) => agentEv('AgentTokenIssued', { ip: host, tokenId: 't1', tokenHash: 'h', expiresAtMs: at(100) });
const enrolled = (host = ip, publicKey = 'K1') => agentEv('AgentEnrolled', { ip: host, tokenId: 't1', publicKey, agentKeyId: `id-${publicKey}`, hostname: 'box', agentVersion: '0.1.0' });
const issued = (sequence: number, expiresAtMs: number, host = ip) => agentEv('AgentCommandIssued', {
  ip: host, commandId: `c${sequence}`, sequence, action: 'exec', summary: 'true', issuedAtMs: startTime, expiresAtMs, keyId: 'k1', signed: `S${sequence}`,
});
const completed = (sequence: number) => agentEv('AgentCommandCompleted', {
  ip, commandId: `c${sequence}`, sequence, action: 'exec', exitCode: 0, error: '', timedOut: false, durationMs: 1,
  output: Buffer.from('ok').toString('base64'), outputSha256: 'x', outputKeptBytes: 2, outputBytes: 2, dataSha256: '',
});
/** The sha256 of what issued(sequence) hands the agent: a refusal of those very bytes. */
const bytesOf = (sequence: number) => createHash('sha256').update(Buffer.from(`S${sequence}`, 'base64')).digest('hex');
const refused = (sequence: number, reason = 'expired', signedSha256 = bytesOf(sequence)) =>
  agentEv('AgentCommandRefused', { ip, commandId: `c${sequence}`, sequence, reason, detail: 'late', similar: 0, signedSha256 });
const pendingIds = (s: AgentsState, host = ip) => findAgent(s, host)!.pending.map((p) => p.commandId);

describe('agents projection', () => {
  test('a token alone makes no agent; an enrolment does', () => {
    assert.deepEqual(given(token()).agents, []);
    const agent = findAgent(given(token(), enrolled()), ip)!;
    assert.equal(agent.publicKey, 'K1');
    assert.equal(agent.revoked, false);
    assert.equal(agent.enrolledAt, new Date(at(2)).toISOString());
  });

  test('issued commands wait; a completed or refused one leaves the queue and is kept as an outcome', () => {
    const far = at(1000);
    const state = given(token(), enrolled(), issued(1, far), issued(2, far), issued(3, far), completed(1), refused(3));
    assert.deepEqual(pendingIds(state), ['c2']);
    assert.equal(findAgent(state, ip)!.lastSequence, 3);
    assert.equal(outcomeOf(state, ip, 'c1')?.kind, 'completed');
    assert.equal(outcomeOf(state, ip, 'c3')?.kind, 'refused');
    assert.equal(outcomeOf(state, ip, 'c2'), null);
  });

  test('given an issued command, when a forgery naming it is refused, then it still waits and has no outcome', () => {
    const far = at(1000);
    const forged = given(token(), enrolled(), issued(1, far), refused(1, 'bad-signature', 'f'.repeat(64)), refused(1, 'digest-mismatch', ''));
    assert.deepEqual(pendingIds(forged), ['c1']);
    assert.equal(outcomeOf(forged, ip, 'c1'), null);
    // its own bytes refused (it expired on the way, say) do close it
    const own = given(token(), enrolled(), issued(1, far), refused(1, 'bad-signature', 'f'.repeat(64)), refused(1, 'expired'));
    assert.deepEqual(pendingIds(own), []);
    const outcome = outcomeOf(own, ip, 'c1');
    assert.equal(outcome?.kind === 'refused' && outcome.reason, 'expired');
  });

  test('given a refusal of a command\'s own bytes (a copy delivered late), when the command completes, then the completion is its outcome', () => {
    const state = given(token(), enrolled(), issued(1, at(1000)), refused(1, 'expired'), completed(1));
    assert.equal(outcomeOf(state, ip, 'c1')?.kind, 'completed');
    assert.equal(findAgent(state, ip)!.results.filter((r) => r.commandId === 'c1').length, 1);
  });

  test('given a command the agent took, when a byte-identical replay is refused before its result, then the result is its outcome', () => {
    const far = at(1000);
    const state = given(token(), enrolled(), issued(1, far), refused(1, 'replayed'), completed(1));
    assert.equal(outcomeOf(state, ip, 'c1')?.kind, 'completed');
    assert.deepEqual(pendingIds(state), []);
  });

  test('an expired command leaves the queue at the first event of its host after expiry plus grace (event time, not the clock)', () => {
    // issued at position 3 expiring at at(3); the grace is a minute: an event at at(4) is not past it, one at at(5) is.
    const expires = at(3);
    assert.equal(expiryGraceMs, 60_000);
    const kept = given(token(), enrolled(), issued(1, expires), agentEv('AgentKeyTrusted', { ip, keyId: 'k1' }));
    assert.deepEqual(pendingIds(kept), ['c1']);
    const pruned = given(token(), enrolled(), issued(1, expires), agentEv('AgentKeyTrusted', { ip, keyId: 'k1' }), agentEv('AgentKeyTrusted', { ip, keyId: 'k2' }));
    assert.deepEqual(pendingIds(pruned), []);
    // folding the same events again gives the same queue (a replay is the same)
    assert.deepEqual(pendingIds(given(token(), enrolled(), issued(1, expires), agentEv('AgentKeyTrusted', { ip, keyId: 'k1' }), agentEv('AgentKeyTrusted', { ip, keyId: 'k2' }))), []);
  });

  test('events of another host do not prune this host\'s queue', () => {
    const state = given(token(), enrolled(), issued(1, at(3)), token('10.0.0.8'), enrolled('10.0.0.8', 'K2'), agentEv('AgentKeyTrusted', { ip: '10.0.0.8', keyId: 'k' }));
    assert.deepEqual(pendingIds(state), ['c1']);
  });

  test('results are kept up to the limit, newest last', () => {
    const events: DomainEvent[] = [token(), enrolled()];
    for (let s = 1; s <= keptResults + 5; s++) events.push(issued(s, at(100_000)), completed(s));
    const results = findAgent(given(...events), ip)!.results;
    assert.equal(results.length, keptResults);
    assert.equal(results[0]!.commandId, 'c6');
    assert.equal(results.at(-1)!.commandId, `c${keptResults + 5}`);
  });

  test('a revoke empties the queue; a new enrolment keeps sequence and outcomes, with the new key', () => {
    const far = at(1000);
    const revoked = given(token(), enrolled(), issued(1, far), completed(1), issued(2, far), agentEv('AgentRevoked', { ip }));
    assert.equal(findAgent(revoked, ip)!.revoked, true);
    assert.deepEqual(pendingIds(revoked), []);
    const again = given(token(), enrolled(), issued(1, far), completed(1), issued(2, far), agentEv('AgentRevoked', { ip }), token(), enrolled(ip, 'K9'));
    const agent = findAgent(again, ip)!;
    assert.equal(agent.revoked, false);
    assert.equal(agent.publicKey, 'K9');
    assert.equal(agent.lastSequence, 2);
    assert.deepEqual(agent.results.map((r) => r.commandId), ['c1']);
  });

  test('down keeps the last-seen time; up clears it', () => {
    const down = given(token(), enrolled(), agentEv('AgentDown', { ip, lastSeenAtMs: 1234 }));
    assert.equal(findAgent(down, ip)!.down, true);
    assert.equal(findAgent(down, ip)!.lastSeenAtMs, 1234);
    const up = given(token(), enrolled(), agentEv('AgentDown', { ip, lastSeenAtMs: 1234 }), agentEv('AgentUp', { ip }));
    assert.equal(findAgent(up, ip)!.down, false);
    assert.equal('lastSeenAtMs' in findAgent(up, ip)!, false);
  });

  test('events of a host with no enrolled agent change nothing', () => {
    const state = given(issued(1, at(100)), agentEv('AgentDown', { ip, lastSeenAtMs: 1 }), agentEv('AgentKeyTrusted', { ip, keyId: 'k' }), completed(1));
    assert.deepEqual(state.agents, []);
  });

  test('keys: appended in order, a repeated one ignored, the last one current', () => {
    const key = (keyId: string, previousKeyId = '') => agentEv('SigningKeyIntroduced', { keyId, publicKey: `p-${keyId}`, previousKeyId, statement: previousKeyId ? 's' : '' });
    const state = given(key('k1'), key('k2', 'k1'), key('k2', 'k1'));
    assert.deepEqual(state.keys.map((k) => k.keyId), ['k1', 'k2']);
    assert.equal(currentKey(state)?.keyId, 'k2');
    assert.equal(currentKey(given()), null);
  });

  test('agents are listed by ip numerically', () => {
    const state = given(token('10.0.0.10'), enrolled('10.0.0.10', 'A'), token('10.0.0.9'), enrolled('10.0.0.9', 'B'), token('9.0.0.1'), enrolled('9.0.0.1', 'C'));
    assert.deepEqual(listAgents(state).map((a) => a.ip), ['9.0.0.1', '10.0.0.9', '10.0.0.10']);
  });
});
