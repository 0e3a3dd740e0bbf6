/**
 * Agents' signed reports as the projector reads them from msec.reports.* (anyone may write to
 * those topics): verifyAgentReport refuses forged, unknown, revoked, re-addressed, stale and
 * garbage reports for their reason; the sinks, on a memory bus, turn genuine ones into host
 * events once (a redelivered or replayed report records nothing twice).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import { SigningKey, keyIdOf, sha256Hex } from '../../../adapters/signing/ed25519.ts';
import { hostAgentDecider, type AgentCommand } from '../../../domain/agents/index.ts';
import { streams } from '../../../domain/streams.ts';
import { defaultProjections } from '../../../projections/index.ts';
import type { AgentsState } from '../../../projections/agents.ts';
import { encodeReportBody, encodeSignedReport, type ReportBody, type ReportKind } from '../../../schemas/agent.ts';
import { ProjectionRunner } from '../../../apps/projector/runner.ts';
import { createCommandBus } from '../../../apps/console/command-bus.ts';
import { agentReportSinks, agentReportTopics, reportSkewMs, verifyAgentReport } from '../../../apps/projector/agent-reports.ts';
import { AgentLiveView } from '../../../apps/projector/agent-live.ts';
import { ReportIngest, ReportRefused } from '../../../apps/projector/report-ingest.ts';
import { smallOrderKeys } from '../agents/weak-keys.ts';

const logger = pino({ level: 'silent' });
const store = new MemoryEventStore();
const commands = createCommandBus({ store });
const runner = new ProjectionRunner({ store, views: new MemoryViewStore(), projections: defaultProjections, logger });
const agents = () => runner.state<AgentsState>('agents');
let now = Date.parse('2024-05-01T08:00:00.000Z');
const clock = () => now;
let commandCounter = 0;

async function run(ip: string, command: AgentCommand, id = `01900000-0000-7000-8000-${String(++commandCounter).padStart(12, '0')}`) {
  const outcome = await commands.execute(streams.host(ip), hostAgentDecider, command, { commandId: id, actor: 'test', reason: '', at: now });
  await runner.waitFor(outcome.position || (await store.headPosition()), 5000);
  return outcome;
}

async function enrolled(ip: string, key = SigningKey.generate()): Promise<SigningKey> {
  const tokenHash = sha256Hex(`token-${ip}`);
  await run(ip, { type: 'IssueAgentToken', ip, tokenId: `t-${ip}`, tokenHash, expiresAtMs: now + 3600_000 });
  const publicKey = key.publicKeyRaw.toString('base64');
  await run(ip, { type: 'EnrolAgent', ip, tokenHash, publicKey, agentKeyId: keyIdOf(key.publicKeyRaw), hostname: 'box', agentVersion: '0.1.0', nowMs: now });
  return key;
}

let sequence = 0;
function report(ip: string, key: SigningKey, kind: ReportKind, o: { envelope?: string; atMs?: number; seq?: number } = {}): Buffer {
  const body = encodeReportBody({ agent: ip, sequence: o.seq ?? ++sequence, atMs: o.atMs ?? now, ...kind } as ReportBody);
  return Buffer.from(encodeSignedReport({ agent: o.envelope ?? ip, body, signature: key.sign('report', body) }));
}
const heartbeat = (trustedKeyId = ''): ReportKind => ({ heartbeat: {
  agentVersion: '0.1.0', intervalMs: 20_000, cpuPercent: 3, memTotalBytes: 100, memFreeBytes: 50, diskTotalBytes: 10, diskFreeBytes: 5,
  load1: 0.1, load5: 0.1, load15: 0.1, processes: 9, trustedKeyId, cpus: 2, hostname: 'box',
} });
const result = (commandId: string, seq: number): ReportKind => ({ result: {
  commandId, sequence: seq, action: 'exec', exitCode: 0, error: '', output: Buffer.from('hi\n'), outputBytes: 3, durationMs: 4, timedOut: false,
  data: new Uint8Array(0), dataSha256: '',
} });

const refusedFor = (bytes: Uint8Array, reason: string, at = now) => assert.throws(() => verifyAgentReport(bytes, agents(), at), (err: unknown) => {
  assert.ok(err instanceof ReportRefused, String(err));
  assert.equal(err.reason, reason, err.message);
  return true;
});

let a: SigningKey;
let b: SigningKey;
before(async () => {
  await runner.start();
  a = await enrolled('10.0.0.7');
  b = await enrolled('10.0.0.8');
});
const running: ReportIngest[] = [];
after(async () => {
  await Promise.all(running.map((i) => i.stop()));
  await runner.stop();
  await store.close();
});

describe('verifyAgentReport', () => {
  test('a genuine report verifies', () => {
    const verified = verifyAgentReport(report('10.0.0.7', a, heartbeat()), agents(), now);
    assert.equal(verified.ip, '10.0.0.7');
    assert.equal(verified.body.kind, 'heartbeat');
  });

  test('forged: signed by another key, or by the right key for another purpose', () => {
    refusedFor(report('10.0.0.7', SigningKey.generate(), heartbeat()), 'bad-signature');
    const body = encodeReportBody({ agent: '10.0.0.7', sequence: 1, atMs: now, ...heartbeat() } as ReportBody);
    refusedFor(encodeSignedReport({ agent: '10.0.0.7', body, signature: a.sign('command', body) }), 'bad-signature');
    refusedFor(encodeSignedReport({ agent: '10.0.0.7', body, signature: new Uint8Array(0) }), 'bad-signature');
  });

  test('another agent\'s genuine report re-addressed in the envelope', () => {
    refusedFor(report('10.0.0.8', b, heartbeat(), { envelope: '10.0.0.7' }), 'bad-signature');
  });

  test('a body naming another host than its envelope (an agent speaking for another)', () => {
    refusedFor(report('10.0.0.8', a, heartbeat(), { envelope: '10.0.0.7' }), 'mismatch');
  });

  test('an unknown agent', () => {
    refusedFor(report('10.0.0.99', a, heartbeat()), 'unknown-agent');
    refusedFor(report('x'.repeat(100_000), a, heartbeat()), 'unknown-agent');
  });

  test('a revoked agent', async () => {
    const c = await enrolled('10.0.0.9');
    await run('10.0.0.9', { type: 'RevokeAgent', ip: '10.0.0.9' });
    refusedFor(report('10.0.0.9', c, heartbeat()), 'revoked');
  });

  test('a result may be late (queued by the agent, or read after the projector was down), not from the future', () => {
    const late = report('10.0.0.7', a, result('c-late', 1), { atMs: now - 6 * 24 * 3600_000 });
    assert.equal(verifyAgentReport(late, agents(), now).body.kind, 'result');
    refusedFor(report('10.0.0.7', a, result('c-late', 1), { atMs: now - 8 * 24 * 3600_000 }), 'stale');
    refusedFor(report('10.0.0.7', a, result('c-late', 1), { atMs: now + reportSkewMs + 1 }), 'stale');
  });

  test('stale and future heartbeats, around the skew', () => {
    assert.doesNotThrow(() => verifyAgentReport(report('10.0.0.7', a, heartbeat(), { atMs: now - reportSkewMs }), agents(), now));
    refusedFor(report('10.0.0.7', a, heartbeat(), { atMs: now - reportSkewMs - 1 }), 'stale');
    refusedFor(report('10.0.0.7', a, heartbeat(), { atMs: now + reportSkewMs + 1 }), 'stale');
    refusedFor(report('10.0.0.7', a, heartbeat(), { atMs: 2 ** 62 }), 'stale');
    refusedFor(report('10.0.0.7', a, heartbeat(), { atMs: -(2 ** 62) }), 'stale');
  });

  test('garbage', () => {
    for (const bytes of [Buffer.from('garbage'), Buffer.from([0xff, 0xff]), Buffer.alloc(1000, 0x0a)]) {
      assert.throws(() => verifyAgentReport(bytes, agents(), now), ReportRefused);
    }
    refusedFor(Buffer.from([0xff]), 'malformed');
    // signed garbage from the real key: no report kind
    const body = Buffer.from([0x0a, 0x08, ...Buffer.from('10.0.0.7')]);
    refusedFor(encodeSignedReport({ agent: '10.0.0.7', body, signature: a.sign('report', body) }), 'malformed');
  });

  test('an agent enrolled with a small-order key (were one let in) verifies nothing forged', async () => {
    // The enrol route refuses such keys; even a record with one verifies nothing.
    const weak = smallOrderKeys[1]!;
    const tokenHash = sha256Hex('token-weak');
    await run('10.0.0.66', { type: 'IssueAgentToken', ip: '10.0.0.66', tokenId: 'tw', tokenHash, expiresAtMs: now + 3600_000 });
    await run('10.0.0.66', { type: 'EnrolAgent', ip: '10.0.0.66', tokenHash, publicKey: weak.toString('base64'), agentKeyId: keyIdOf(weak), hostname: 'x', agentVersion: '0', nowMs: now });
    const body = encodeReportBody({ agent: '10.0.0.66', sequence: 1, atMs: now, ...heartbeat() } as ReportBody);
    const forged = Buffer.concat([weak, Buffer.alloc(32)]);
    refusedFor(encodeSignedReport({ agent: '10.0.0.66', body, signature: forged }), 'bad-signature');
  });
});

describe('report sinks on a bus', () => {
  const setup = () => {
    const bus = new MemoryMessageBus({ retryDelays: { initialMs: 5, maxMs: 20 } });
    const live = new AgentLiveView(clock);
    const recorded: string[] = [];
    const sinks = agentReportSinks({
      agents, live, clock, logger,
      record: async (ip, command, id) => {
        recorded.push(id);
        return run(ip, command, id);
      },
    });
    const ingest = new ReportIngest({ bus, sinks: sinks as never, logger, groupPrefix: `test.${Math.random()}.` });
    ingest.start();
    running.push(ingest);
    return { bus, live, ingest, recorded };
  };
  const eventually = async (what: string, check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`not reached: ${what}`);
  };
  const completions = async (ip: string) => (await store.readStream(streams.host(ip), 0)).filter((e) => e.type === 'AgentCommandCompleted').length;
  const refusals = async (ip: string) => (await store.readStream(streams.host(ip), 0)).filter((e) => e.type === 'AgentCommandRefused').length;
  const issue = async (ip: string, n: number) => {
    const state = agents().agents.find((x) => x.ip === ip)!;
    const commandId = `c-${ip}-${n}`;
    await run(ip, { type: 'IssueAgentCommand', ip, commandId, sequence: state.lastSequence + 1, action: 'exec', summary: 'echo hi', issuedAtMs: now, expiresAtMs: now + 300_000, keyId: 'k', signed: '' });
    return { commandId, sequence: state.lastSequence + 1 };
  };

  test('a result delivered twice, and replayed later, records one completion', async () => {
    const { bus, ingest } = setup();
    const { commandId, sequence: seq } = await issue('10.0.0.7', 1);
    const bytes = report('10.0.0.7', a, result(commandId, seq));
    await bus.publish(agentReportTopics.results, [{ key: '10.0.0.7', value: bytes }, { key: '10.0.0.7', value: bytes }]);
    await eventually('the completion', async () => (await completions('10.0.0.7')) === 1);
    await bus.publish(agentReportTopics.results, [{ key: '10.0.0.7', value: bytes }]);
    await eventually('the replay looked at', () => ingest.status().find((s) => s.name === 'agent-results')!.stored >= 3);
    assert.equal(await completions('10.0.0.7'), 1);
    await ingest.stop();
  });

  test('a refusal report replayed records one refusal', async () => {
    const { bus, ingest } = setup();
    const bytes = report('10.0.0.8', b, { refused: { commandId: 'c-x', sequence: 9, reason: 'bad-signature', detail: 'forged', similar: 0, signedSha256: 'b'.repeat(64) } });
    const before = await refusals('10.0.0.8');
    await bus.publish(agentReportTopics.results, [{ key: '10.0.0.8', value: bytes }, { key: '10.0.0.8', value: bytes }]);
    await eventually('the refusal', async () => (await refusals('10.0.0.8')) === before + 1);
    await bus.publish(agentReportTopics.results, [{ key: '10.0.0.8', value: bytes }]);
    await eventually('the replay looked at', () => ingest.status().find((s) => s.name === 'agent-results')!.stored >= 3);
    assert.equal(await refusals('10.0.0.8'), before + 1);
    await ingest.stop();
  });

  test('forged, unknown, mismatched, garbage and wrong-topic reports are refused by reason; nothing is recorded', async () => {
    const { bus, ingest, recorded, live } = setup();
    const { commandId, sequence: seq } = await issue('10.0.0.7', 2);
    await bus.publish(agentReportTopics.results, [
      { key: '10.0.0.7', value: report('10.0.0.7', SigningKey.generate(), result(commandId, seq)) },
      { key: '10.0.0.7', value: report('10.0.0.99', a, result(commandId, seq)) },
      { key: '10.0.0.7', value: report('10.0.0.8', a, result(commandId, seq), { envelope: '10.0.0.7' }) },
      { key: '10.0.0.7', value: Buffer.from('garbage') },
      { key: '10.0.0.7', value: report('10.0.0.7', a, heartbeat()) },
    ]);
    await bus.publish(agentReportTopics.heartbeat, [{ key: '10.0.0.7', value: report('10.0.0.7', a, result(commandId, seq)) }]);
    await eventually('all looked at', () => ingest.status().reduce((n, s) => n + s.refused.total, 0) === 6);
    const byReason: Record<string, number> = {};
    for (const s of ingest.status()) for (const [reason, n] of Object.entries(s.refused.byReason)) byReason[reason] = (byReason[reason] ?? 0) + (n as number);
    assert.deepEqual(byReason, { 'bad-signature': 1, 'unknown-agent': 1, mismatch: 1, malformed: 1, 'wrong-topic': 2 });
    assert.deepEqual(recorded, []);
    assert.equal(live.get('10.0.0.7'), undefined, 'a heartbeat on the results topic is not taken');
    assert.equal(await completions('10.0.0.7'), 1, 'only the earlier genuine completion');
    await ingest.stop();
  });

  test('a replayed heartbeat (an older sequence) does not make a host look alive again', async () => {
    const { bus, live, ingest } = setup();
    const first = report('10.0.0.8', b, heartbeat(), { seq: 5000 });
    const second = report('10.0.0.8', b, heartbeat(), { seq: 5001 });
    await bus.publish(agentReportTopics.heartbeat, [{ key: '10.0.0.8', value: first }, { key: '10.0.0.8', value: second }]);
    await eventually('two heartbeats', () => live.get('10.0.0.8')?.sequence === 5001);
    const seenAt = live.get('10.0.0.8')!.lastSeenAtMs;
    now += 1000;
    try {
      await bus.publish(agentReportTopics.heartbeat, [{ key: '10.0.0.8', value: first }]);
      await eventually('the replay looked at', () => ingest.status().find((s) => s.name === 'agent-heartbeats')!.stored >= 3);
      assert.equal(live.get('10.0.0.8')!.lastSeenAtMs, seenAt);
    } finally {
      now -= 1000;
    }
    await ingest.stop();
  });

  test('a heartbeat read minutes after it was made is stale; a result is still recorded (the projector was down)', async () => {
    const { bus, live, ingest } = setup();
    const { commandId, sequence: seq } = await issue('10.0.0.7', 3);
    const made = now;
    const late = report('10.0.0.7', a, result(commandId, seq), { atMs: made });
    const beat = report('10.0.0.7', a, heartbeat(), { atMs: made, seq: 90_000 });
    now += 10 * 60_000;
    try {
      await bus.publish(agentReportTopics.results, [{ key: '10.0.0.7', value: late }]);
      await bus.publish(agentReportTopics.heartbeat, [{ key: '10.0.0.7', value: beat }]);
      await eventually('the result', async () => (await completions('10.0.0.7')) === 2);
      await eventually('the heartbeat refused', () => ingest.status().find((s) => s.name === 'agent-heartbeats')!.refused.total === 1);
      assert.equal(live.get('10.0.0.7'), undefined);
    } finally {
      now -= 10 * 60_000;
    }
    await ingest.stop();
  });

  test('given a compromised agent signing two different reports with one sequence, then both are recorded and other hosts\' reports still flow', async () => {
    const { bus } = setup();
    const before = await refusals('10.0.0.8');
    const one = report('10.0.0.8', b, { refused: { commandId: 'c-y', sequence: 9, reason: 'bad-signature', detail: 'one', similar: 0, signedSha256: '' } }, { seq: 777 });
    const two = report('10.0.0.8', b, { refused: { commandId: 'c-y', sequence: 9, reason: 'bad-signature', detail: 'two', similar: 0, signedSha256: '' } }, { seq: 777 });
    const { commandId, sequence: seq } = await issue('10.0.0.7', 3);
    const done = await completions('10.0.0.7');
    await bus.publish(agentReportTopics.results, [{ key: 'k', value: one }, { key: 'k', value: two }, { key: 'k', value: report('10.0.0.7', a, result(commandId, seq)) }]);
    await eventually('the other host\'s result', async () => (await completions('10.0.0.7')) === done + 1);
    assert.equal(await refusals('10.0.0.8'), before + 2);
  });

  test('given a compromised agent, then made-up key ids are not written and its refusals are recorded at most 120 a minute', async () => {
    const { bus, ingest } = setup();
    const before = await refusals('10.0.0.8');
    const keyEvents = async () => (await store.readStream(streams.host('10.0.0.8'), 0)).filter((e) => e.type === 'AgentKeyTrusted').length;
    const keysBefore = await keyEvents();
    const flood = Array.from({ length: 150 }, (_, i) => ({ key: 'k', value: report('10.0.0.8', b, { refused: { commandId: `f-${i}`, sequence: i, reason: 'bad-signature', detail: 'x', similar: 0, signedSha256: '' } }) }));
    await bus.publish(agentReportTopics.results, [...flood, { key: 'k', value: report('10.0.0.8', b, { key: { keyId: 'x'.repeat(1000) } }) }]);
    await bus.publish(agentReportTopics.heartbeat, [{ key: 'k', value: report('10.0.0.8', b, heartbeat('0123456789abcdef')) }]);
    await eventually('all looked at', () => ingest.status().find((s) => s.name === 'agent-results')!.stored >= 151 && ingest.status().find((s) => s.name === 'agent-heartbeats')!.stored >= 1);
    assert.equal(await refusals('10.0.0.8'), before + 120);
    assert.equal(await keyEvents(), keysBefore, 'neither a huge nor an unknown key id is recorded');
  });
});
