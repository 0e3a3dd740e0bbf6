/**
 * The plan runner (apps/console/releases/plan-runner.ts) against a console on in-memory adapters,
 * with the hosts' agents played by the test: it records what each agent reports the way the
 * projector does. Given/when/then: a failed host rolls the plan back when asked to; an alarm of
 * the service during the rollout does too; a console that died after recording a dispatch sends
 * that very command on restart (once); an agent that never answers fails its host at the timeout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { agentConsole, type AgentConsole } from './agents-harness.ts';
import { PlanRunner, stepId } from '../../../apps/console/releases/plan-runner.ts';
import { hostAgentDecider } from '../../../domain/agents/index.ts';
import { releasePlanDecider } from '../../../domain/releases/index.ts';
import { streams } from '../../../domain/streams.ts';
import { eventIdFor, uuidv7 } from '../../../domain/event-ids.ts';
import { encodeReleaseOutcome } from '../../../schemas/agent.ts';
import { findAgent } from '../../../projections/agents.ts';
import { findPlan } from '../../../projections/releases.ts';

const service = 'Flight.mod_flight';
const ips = ['10.0.0.7', '10.0.0.8'];
let h: AgentConsole;
let runner: PlanRunner;

before(async () => {
  h = await agentConsole();
  for (const ip of ips) await h.enrol(ip);
  for (const [method, url, payload] of [
    ['POST', '/api/services', { name: service }],
    ...ips.map((ip) => ['POST', `/api/services/${service}/hosts`, { ip, port: 7963 }] as const),
    ['PUT', `/api/services/${service}/configs/v1`, { text: '[LOG]\nLevel=INFO\n' }],
  ] as const) {
    const r = await h.call({ method, url, payload });
    assert.ok(r.statusCode < 300, r.body);
  }
  const up = await h.call({ method: 'PUT', url: `/api/services/${service}/artifacts/v1`, headers: { 'content-type': 'application/octet-stream' }, payload: gzipSync(Buffer.from('build')) });
  assert.equal(up.statusCode, 201, up.body);
  runner = new PlanRunner({ commands: h.ctx.commands, reads: h.ctx.reads, projections: h.ctx.projections, keys: h.ctx.agents!.keys, blobs: h.ctx.agents!.blobs, logger: pino({ level: 'silent' }), clock: h.now, pollMs: 20 });
  runner.start();
});
after(async () => {
  await runner.stop();
  await h.close();
});

const plan = (id: string) => findPlan(h.ctx.reads.releases(), id)!;
async function until<T>(what: string, check: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(h.ctx.reads.releases().plans.at(-1)?.hosts.map((x) => [x.ip, x.state, x.installCommand, x.error]))} ${h.ctx.reads.releases().plans.at(-1)?.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function newPlan(body: object): Promise<string> {
  const r = await h.call({ method: 'POST', url: '/api/releases', payload: { service, hosts: ips, config: 'v1', artifact: 'v1', ...body } });
  assert.equal(r.statusCode, 201, r.body);
  const id = (r.json() as { planId: string }).planId;
  const s = await h.call({ method: 'POST', url: `/api/releases/${id}/start` });
  assert.equal(s.statusCode, 200, s.body);
  return id;
}

/** The agent of `ip` answers its oldest pending release command, as the projector records it. */
async function agentAnswers(ip: string, ok: boolean): Promise<string> {
  const pending = await until(`a release command for ${ip}`, () => findAgent(h.ctx.reads.agents(), ip)?.pending.find((p) => p.action === 'release'));
  const steps = ok
    ? ['pushed', 'backed-up', 'stopped', 'installed', 'started', 'healthy'].map((step) => ({ step, ok: true, detail: `${step} done`, atMs: h.now(), durationMs: 1 }))
    : [{ step: 'healthy', ok: false, detail: 'port 7963 did not answer', atMs: h.now(), durationMs: 1 }];
  const { sha256 } = h.ctx.agents!.blobs.put(Buffer.from(encodeReleaseOutcome(steps as never)));
  await h.ctx.commands.execute(streams.host(ip), hostAgentDecider, { type: 'RecordCommandResult', result: {
    ip, commandId: pending.commandId, sequence: pending.sequence, action: 'release', exitCode: ok ? 0 : -1, error: ok ? '' : 'healthy failed: port 7963 did not answer',
    timedOut: false, durationMs: 5, output: Buffer.from('[started]\n').toString('base64'), outputSha256: '', outputKeptBytes: 10, outputBytes: 10, dataSha256: sha256,
  } }, { commandId: uuidv7(), actor: `agent:${ip}`, reason: '', at: h.now() });
  return pending.commandId;
}

async function finish(id: string) {
  await h.call({ method: 'POST', url: `/api/releases/${id}/cancel` }).catch(() => undefined);
  await until(`plan ${id} to end`, () => ['succeeded', 'failed', 'partially_failed', 'cancelled', 'rolled_back', 'rollback_failed'].includes(plan(id).status));
}

describe('plan runner', () => {
  test('given --batch 1 --auto-rollback, when the second host fails, then both hosts are rolled back and the plan ends rolled back', async () => {
    const id = await newPlan({ batch: 1, autoRollback: true });
    await agentAnswers('10.0.0.7', true);
    await until('the second host sent', () => plan(id).hosts[1]!.state === 'installing');
    assert.equal(plan(id).hosts[0]!.state, 'installed', 'one host at a time');
    await agentAnswers('10.0.0.8', false);
    await until('the rollback', () => plan(id).status === 'rolling_back');
    assert.match(plan(id).rollbackReason, /10\.0\.0\.8 failed: healthy failed/);
    assert.deepEqual(plan(id).hosts[1]!.steps.map((s) => [s.step, s.ok]), [['healthy', false]], 'the agent\'s steps are recorded');
    await agentAnswers('10.0.0.7', true);
    await agentAnswers('10.0.0.8', true);
    await until('rolled back', () => plan(id).status === 'rolled_back');
  });

  test('given --auto-rollback, when an alarm of the service fires during the rollout, then the plan rolls back', async () => {
    const id = await newPlan({ batch: 1, autoRollback: true });
    await agentAnswers('10.0.0.7', true);
    const minute = Math.floor(h.now() / 60_000) * 60;
    const commandId = uuidv7(h.now());
    await h.store.append(streams.alarms(service), 'any', [{
      type: 'AlarmRaised', data: { service, name: 'usr.errors', alarmType: 'max', ip: '', minute, value: 9, threshold: 5, previous: 0, forMinutes: 1 },
      id: eventIdFor(commandId, 0), occurredAt: new Date(h.now()).toISOString(), actor: 'system', reason: '', correlationId: commandId, causationId: commandId,
    } as never]);
    await until('the rollback', () => plan(id).status === 'rolling_back');
    assert.match(plan(id).rollbackReason, /alarm during the release: usr\.errors max = 9/);
    for (const ip of ips) if (plan(id).hosts.find((x) => x.ip === ip)!.rollbackCommand || plan(id).hosts.find((x) => x.ip === ip)!.installCommand) await agentAnswers(ip, true).catch(() => undefined);
    await finish(id);
  });

  test('given a console that died after recording a dispatch, when a runner starts, then it sends that very command, once', async () => {
    const id = await newPlan({ batch: 1 });
    await runner.stop();
    const issuedTo8 = (await h.store.readStream(streams.host('10.0.0.8'), 0)).filter((e) => e.type === 'AgentCommandIssued').length;
    // The plan may already have sent its first host: answer it, then record the second's dispatch by hand.
    if (plan(id).hosts[0]!.installCommand) await agentAnswers('10.0.0.7', true);
    const commandId = uuidv7(h.now());
    await h.ctx.commands.execute(streams.release(id), releasePlanDecider, { type: 'DispatchReleaseHost', planId: id, ip: '10.0.0.8', operation: 'install', commandId, atMs: h.now() },
      { commandId: stepId(id, 'test-dispatch'), actor: 'admin', reason: '', at: h.now() }).catch(() => undefined);
    runner = new PlanRunner({ commands: h.ctx.commands, reads: h.ctx.reads, projections: h.ctx.projections, keys: h.ctx.agents!.keys, blobs: h.ctx.agents!.blobs, logger: pino({ level: 'silent' }), clock: h.now, pollMs: 20 });
    runner.start();
    const sent = plan(id).hosts[1]!.installCommand;
    await until('the recorded command sent', () => findAgent(h.ctx.reads.agents(), '10.0.0.8')?.pending.some((p) => p.commandId === sent));
    await new Promise((r) => setTimeout(r, 200));
    const issued = (await h.store.readStream(streams.host('10.0.0.8'), 0)).filter((e) => e.type === 'AgentCommandIssued' && (e.data as { commandId: string }).commandId === sent);
    assert.equal(issued.length, 1, 'sent once');
    // The agents answer whatever they are sent until the plan ends.
    while (plan(id).status === 'carrying_out') {
      for (const ip of ips) if (findAgent(h.ctx.reads.agents(), ip)?.pending.some((p) => p.action === 'release')) await agentAnswers(ip, true);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(plan(id).status, 'succeeded');
    assert.equal((await h.store.readStream(streams.host('10.0.0.8'), 0)).filter((e) => e.type === 'AgentCommandIssued').length, issuedTo8 + 1, 'one command for the host whose dispatch was recorded');
  });

  test('given an agent that never answers, when the host timeout passes, then that host has failed and the plan ends', async () => {
    const id = await newPlan({ hostTimeoutSeconds: 10 });
    await agentAnswers('10.0.0.7', true);
    await until('both sent', () => plan(id).hosts.every((x) => x.installCommand));
    h.advance(11_000);
    await until('the plan ends', () => plan(id).status === 'partially_failed');
    assert.match(plan(id).hosts[1]!.error, /did not answer within 10 s/);
    h.advance(-11_000);
  });
});
