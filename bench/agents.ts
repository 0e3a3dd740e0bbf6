/**
 * `npm run bench -- agents`: the command path as an operator meets it, and the agent's check.
 *   latency   console command (HTTP) → signed, recorded → handed to the agent (long-poll, or
 *             msec.commands on Kafka) → checked and run on the host → result reported → visible
 *             in the console (a long-polling reader sees it). p50 and p99, embedded and on Kafka
 *             (librdkafka's mock cluster). Goal: p50 < 100 ms embedded.
 *   verify    signed commands checked per second on one core (decode, Ed25519 signature,
 *             payload digest, target, times, replay) beside a bare crypto.verify of the same
 *             bytes in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { startUp, exited } from '../tests/e2e/support.ts';
import { startAgent } from '../tests/e2e/agent-support.ts';
import { mockBusUrl, startKafkaMock } from '../tests/services/kafka-mock.ts';
import { SigningKey, sha256Hex } from '../adapters/signing/ed25519.ts';
import { encodeCommandBody, encodePayload, encodeSignedCommand } from '../schemas/agent.ts';
import { verifyCommand } from '../apps/agent/verify-command.ts';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function latency(kind: 'embedded' | 'kafka', count: number): Promise<{ p50: number; p99: number; mean: number }> {
  const home = mkdtempSync(join(tmpdir(), `msec-bench-agents-${kind}-`));
  const mock = kind === 'kafka' ? await startKafkaMock({ brokers: 1, topics: [
    { name: 'msec.events', partitions: 2 }, { name: 'msec.commands', partitions: 2 },
    { name: 'msec.reports.heartbeat', partitions: 1 }, { name: 'msec.reports.results', partitions: 1 },
  ] }) : undefined;
  const busEnv: Record<string, string> = mock ? { MSEC_BUS: mockBusUrl(mock) } : {};
  const up = await startUp(join(home, 'console'), { MSEC_ADMIN_PASSWORD: 'bench-agents-1', MSEC_LOG_LEVEL: 'warn', MSEC_AGENT_HEARTBEAT_MS: '5000', ...busEnv });
  const headers = { authorization: `Basic ${Buffer.from('admin:bench-agents-1').toString('base64')}`, 'content-type': 'application/json' };
  const token = ((await (await fetch(`${up.url}/api/tokens`, { method: 'POST', headers, body: '{"label":"bench"}' })).json()) as { token: string }).token;
  const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const enrol = (await (await fetch(`${up.url}/api/agents/tokens`, { method: 'POST', headers: bearer, body: '{"ip":"127.0.0.2"}' })).json()) as { token: string };
  const agent = await startAgent('127.0.0.2', join(home, 'agent'), { MSEC_CONSOLE: up.url, MSEC_LOG_LEVEL: 'warn', ...busEnv }, { token: enrol.token, heartbeatS: 5 });
  const once = async () => {
    const started = performance.now();
    const issued = await fetch(`${up.url}/api/agents/127.0.0.2/commands`, { method: 'POST', headers: bearer, body: JSON.stringify({ action: 'exec', argv: ['true'] }) });
    if (issued.status !== 201) throw new Error(`command refused: ${await issued.text()}`);
    const { commandId } = (await issued.json()) as { commandId: string };
    for (;;) {
      const r = (await (await fetch(`${up.url}/api/agents/127.0.0.2/commands/${commandId}?wait=25`, { headers: bearer })).json()) as { status: string; exitCode?: number };
      if (r.status === 'completed') {
        if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
        return performance.now() - started;
      }
      if (r.status === 'refused') throw new Error('refused');
    }
  };
  try {
    for (let i = 0; i < 5; i++) await once(); // warm-up (Kafka: the agent's group join)
    const times: number[] = [];
    for (let i = 0; i < count; i++) times.push(await once());
    times.sort((a, b) => a - b);
    return { p50: pct(times, 50), p99: pct(times, 99), mean: times.reduce((a, b) => a + b, 0) / times.length };
  } finally {
    await agent.stop('SIGTERM');
    up.proc.kill('SIGTERM');
    await exited(up.proc);
    await mock?.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

function verifyRates(count: number): { msec: number; bare: number } {
  const key = SigningKey.generate();
  const payload = encodePayload('exec', { argv: ['sh', '-c', 'echo hi'], timeoutMs: 60_000, maxOutputBytes: 262_144, cwd: '' });
  const now = Date.now();
  const commands = Array.from({ length: count }, (_, i) => {
    const body = encodeCommandBody({
      commandId: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`, target: '127.0.0.2', sequence: i + 1, issuedAtMs: now, expiresAtMs: now + 300_000,
      keyId: key.keyId, action: 'exec', payloadSha256: sha256Hex(payload), paths: [], fileSha256: [], actor: 'bench',
    });
    return encodeSignedCommand({ body, signature: key.sign('command', body), payload });
  });
  const state = { ip: '127.0.0.2', current: { keyId: key.keyId, publicKey: key.publicKeyRaw.toString('base64') }, retired: [], lastSequence: 0, seenIds: [] };
  let started = performance.now();
  for (const c of commands) if (!verifyCommand(c, state, now).ok) throw new Error('a good command was refused');
  const msec = count / ((performance.now() - started) / 1000);
  // Baseline: the signature alone, node's crypto.verify over the same number of messages.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const messages = commands.map((c) => Buffer.from(c));
  const signatures = messages.map((m) => sign(null, m, privateKey));
  started = performance.now();
  for (let i = 0; i < count; i++) if (!verify(null, messages[i]!, publicKey, signatures[i]!)) throw new Error('bare verify failed');
  const bare = count / ((performance.now() - started) / 1000);
  return { msec, bare };
}

export async function benchAgents(): Promise<void> {
  const count = Number(process.env.BENCH_AGENT_COMMANDS ?? 100);
  const v = verifyRates(Number(process.env.BENCH_VERIFY ?? 20_000));
  console.log(`agents.verify_per_s=${fmt(v.msec)} baseline.crypto_verify.per_s=${fmt(v.bare)} ratio=${(v.msec / v.bare).toFixed(3)}  (one core: decode + Ed25519 + payload digest + target/time/replay checks, vs crypto.verify alone)`);
  for (const kind of ['embedded', 'kafka'] as const) {
    const l = await latency(kind, count);
    console.log(`agents.${kind}.command_ms p50=${l.p50.toFixed(1)} p99=${l.p99.toFixed(1)} mean=${l.mean.toFixed(1)}  (${count} exec of \`true\`, one at a time: HTTP command → signed → agent → result visible${kind === 'embedded' ? '; goal p50 < 100 ms' : ''})`);
  }
}
