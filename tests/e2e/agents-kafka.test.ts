/**
 * Agents on Kafka (librdkafka's mock cluster): `msec up` dispatches signed commands to
 * msec.commands and the agents consume it directly (reports go to msec.reports.* directly).
 * Then the hostile command channel: someone who can write to msec.commands sends unsigned,
 * re-signed, bit-flipped, truncated, garbage, expired, not-yet-valid, wrong-target and replayed
 * (byte-identical) commands mixed with real ones at volume, and replays again after the agent
 * restarts. Counted: sent, executed (marks the commands leave), refused by reason (the agent's
 * refusal reports in the audit). Zero forged, replayed or expired commands run; every real
 * one runs exactly once.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { eventually, msec, msecJson, startUp, type Started } from './support.ts';
import { startAgent, type RunningAgent } from './agent-support.ts';
import { CommandForger, expectedReason, forgeryKinds, markArgv, targetOf, type ForgeryKind } from './command-forger.ts';
import { mockBusUrl, startKafkaMock, type KafkaMock } from '../services/kafka-mock.ts';
import { SigningKey } from '../../adapters/signing/ed25519.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-agents-kafka-'));
let mock: KafkaMock;
let up: Started | undefined;
const agents: RunningAgent[] = [];
before(async () => {
  mock = await startKafkaMock({
    brokers: 1,
    topics: [
      { name: 'msec.events', partitions: 2 }, { name: 'msec.commands', partitions: 2 },
      { name: 'msec.reports.heartbeat', partitions: 1 }, { name: 'msec.reports.results', partitions: 1 },
    ],
  });
});
after(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  up?.proc.kill('SIGKILL');
  await mock?.stop();
  rmSync(home, { recursive: true, force: true });
});

const password = 'kafka-agents-pass';
const basic = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`, 'content-type': 'application/json' };

test('agents on Kafka: commands from msec.commands, and a hostile command channel changes nothing', { timeout: 600_000 }, async () => {
  const bus = mockBusUrl(mock);
  up = await startUp(join(home, 'console'), { MSEC_BUS: bus, MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: password, MSEC_AGENT_REFUSAL_EVENTS_PER_MINUTE: '1000000' });
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: password, MSEC_CONFIG_DIR: join(home, 'cli') };
  const agentEnv = { MSEC_CONSOLE: up.url, MSEC_BUS: bus, MSEC_AGENT_REFUSALS_PER_MINUTE: '1000000' };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  for (const ip of ['127.0.0.2', '127.0.0.3']) {
    agents.push(await startAgent(ip, join(home, `agent-${ip}`), agentEnv, { token: ok(['agent', 'token', '--ip', ip]).stdout.trim() }));
  }
  await eventually('both alive', () => msecJson<{ agents: { state: string }[] }>(['agents'], env).agents.filter((a) => a.state === 'alive').length === 2, 30_000);

  const hi = msec(['exec', '127.0.0.2', '--', 'sh', '-c', 'echo hi'], env);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  assert.equal(msec(['exec', '127.0.0.3', '--', 'sh', '-c', 'exit 3'], env).code, 3);
  const status = msecJson<{ components: { projector: { commandDispatcher?: { published: number } } } }>(['status'], env);
  assert.ok((status.components.projector.commandDispatcher?.published ?? 0) >= 2, 'the commands went through msec.commands');

  // ---- The hostile channel ----------------------------------------------------------------
  const kafka = new Kafka({ clientId: 'attacker', brokers: mock.bootstrap.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const spy = kafka.consumer({ groupId: `attacker-${randomUUID().slice(0, 8)}`, sessionTimeout: 6000, maxWaitTimeInMs: 50 });
  await Promise.all([producer.connect(), spy.connect()]);
  const seen: Buffer[] = [];
  await spy.subscribe({ topic: 'msec.commands', fromBeginning: true });
  await spy.run({ eachMessage: async ({ message }) => void (message.value && seen.push(Buffer.from(message.value))) });
  const target = '127.0.0.2';
  // What the attacker wrote itself is not real, whatever it claims.
  const written = new Set<string>();
  const realFor = () => seen.filter((b) => {
    if (written.has(b.toString('base64'))) return false;
    try {
      return targetOf(b) === target;
    } catch {
      return false;
    }
  });
  // The control plane's real key (the test stands for delays and misdeliveries of genuine commands).
  const keysDir = join(home, 'console', 'keys');
  const controlKey = SigningKey.fromFile(join(keysDir, readdirSync(keysDir).find((f) => f.startsWith('command-'))!));
  const forger = new CommandForger(controlKey, target);
  const send = (value: Uint8Array, forgedByUs = true) => {
    if (forgedByUs) written.add(Buffer.from(value).toString('base64'));
    return producer.send({ topic: 'msec.commands', messages: [{ key: target, value: Buffer.from(value) }] });
  };

  const realCount = 40;
  const issueReal = async (i: number) => {
    const r = await fetch(`${up!.url}/api/agents/${target}/commands`, { method: 'POST', headers: basic, body: JSON.stringify({ action: 'exec', argv: markArgv(`REAL-${i}`) }) });
    assert.equal(r.status, 201, await r.text());
  };
  const sent = new Map<ForgeryKind, number>();
  let forged = 0;
  for (let i = 0; i < realCount; i++) {
    await issueReal(i);
    if (i < 2) await eventually('the spy sees real commands', () => realFor().length > i, 20_000);
    for (let k = 0; k < 12; k++) {
      const kind = forgeryKinds[(i * 12 + k) % forgeryKinds.length]!;
      await send(forger.forge(kind, realFor(), `FORGED-${kind}-${forged++}`), kind !== 'replayed');
      sent.set(kind, (sent.get(kind) ?? 0) + 1);
    }
  }
  const executedLog = join(home, `agent-${target}`, 'executed.log');
  const marks = () => (existsSync(executedLog) ? readFileSync(executedLog, 'utf8').trim().split('\n').filter(Boolean) : []);
  await eventually('every real command ran', () => marks().filter((m) => m.startsWith('REAL-')).length >= realCount, 60_000);

  // After a restart, byte-identical copies of everything real are sent again.
  await agents[0]!.stop('SIGTERM');
  agents[0] = await startAgent(target, join(home, `agent-${target}`), agentEnv);
  const copies = realFor();
  for (const c of copies) await send(c, false);
  sent.set('replayed', (sent.get('replayed') ?? 0) + copies.length);
  await new Promise((r) => setTimeout(r, 3000));

  const refusedTotal = [...sent.values()].reduce((a, b) => a + b, 0);
  type Entry = { type: string; summary: string };
  const refusals = await eventually('every forgery refused and reported', () => {
    const entries = msecJson<{ entries: Entry[] }>(['audit', '--stream', `host-${target}`, '--type', 'AgentCommandRefused', '--limit', '1000'], env).entries;
    return entries.length >= refusedTotal && entries;
  }, 60_000);
  const byReason = new Map<string, number>();
  for (const e of refusals) {
    const reason = /refused a command(?: \(#\d+\))?: ([a-z-]+)/.exec(e.summary)?.[1] ?? '?';
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  const executed = marks();
  console.log(`# sent: ${realCount} real, ${refusedTotal} hostile (${[...sent].map(([k, n]) => `${k} ${n}`).join(', ')})`);
  console.log(`# executed: ${executed.filter((m) => m.startsWith('REAL-')).length} real, ${executed.filter((m) => m.startsWith('FORGED-')).length} forged`);
  console.log(`# refused by reason: ${[...byReason].sort().map(([r, n]) => `${r} ${n}`).join(', ')}`);

  assert.deepEqual(executed.filter((m) => !m.startsWith('REAL-')), [], 'no forged, replayed or expired command ran');
  const real = executed.filter((m) => m.startsWith('REAL-')).sort();
  assert.deepEqual(real, Array.from({ length: realCount }, (_, i) => `REAL-${i}`).sort(), 'every real command ran exactly once');
  assert.equal(refusals.length, refusedTotal, 'every hostile message was refused and reported once');
  for (const [kind, n] of sent) {
    const reason = expectedReason[kind];
    if (reason) assert.ok((byReason.get(reason) ?? 0) >= n, `${kind}: ${n} sent, ${byReason.get(reason) ?? 0} refused as ${reason}`);
  }
  await spy.disconnect();
  await producer.disconnect();
});
