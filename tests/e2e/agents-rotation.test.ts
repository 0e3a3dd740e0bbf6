/**
 * Key rotation with an agent down during the rotation, and the embedded hand-over attacked by
 * a man in the middle. Agent 127.0.0.2 runs; agent 127.0.0.3 is stopped; `msec keys rotate`
 * makes a new command key announced in a statement signed by the old one. The running agent
 * follows at its next heartbeat (`msec keys list`); the stopped one catches up when it starts
 * again and runs the command that waited for it. Afterwards a command signed with the retired
 * key, forgeries and byte-identical replays are slipped into the hand-over by a proxy between
 * agent and console: none runs, each is refused and reported; real commands run exactly once.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { eventually, msec, msecAsync, msecJson, startUp, type Started } from './support.ts';
import { startAgent, type RunningAgent } from './agent-support.ts';
import { CommandForger, markArgv } from './command-forger.ts';
import { HandoverProxy } from './handover-proxy.ts';
import { SigningKey, sha256Hex } from '../../adapters/signing/ed25519.ts';
import { encodeCommandBody, encodePayload, encodeSignedCommand } from '../../schemas/agent.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-agents-rotation-'));
const agents = new Map<string, RunningAgent>();
let up: Started | undefined;
let proxy: HandoverProxy | undefined;
after(async () => {
  for (const a of agents.values()) await a.stop('SIGKILL');
  await proxy?.close();
  up?.proc.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

const password = 'rotation-admin-pass';
const basic = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`, 'content-type': 'application/json' };

test('key rotation with an agent down, then a man in the middle of the hand-over', { timeout: 300_000 }, async () => {
  up = await startUp(join(home, 'console'), { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: password, MSEC_AGENT_REFUSAL_EVENTS_PER_MINUTE: '1000000' });
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: password, MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  proxy = await HandoverProxy.start(up.url);
  const agentEnv = { MSEC_CONSOLE: proxy.url, MSEC_AGENT_REFUSALS_PER_MINUTE: '100000' };
  for (const ip of ['127.0.0.2', '127.0.0.3']) {
    agents.set(ip, await startAgent(ip, join(home, `agent-${ip}`), agentEnv, { token: ok(['agent', 'token', '--ip', ip]).stdout.trim() }));
  }
  type Keys = { current: string; keys: { keyId: string; current: boolean; agents: string[] }[] };
  const keys = () => msecJson<Keys>(['keys', 'list'], env);
  const first = await eventually('both agents trust the first key', () => {
    const k = keys();
    return k.keys.length === 1 && k.keys[0]!.agents.length === 2 && k;
  }, 20_000);
  const oldKeyId = first.current;
  const oldKey = SigningKey.fromFile(join(home, 'console', 'keys', `command-${oldKeyId}.pem`));

  // 127.0.0.3 is down during the rotation.
  await agents.get('127.0.0.3')!.stop('SIGTERM');
  const rotated = JSON.parse(ok(['keys', 'rotate', '--json', '--reason', 'yearly rotation']).stdout) as { keyId: string; previousKeyId: string };
  assert.equal(rotated.previousKeyId, oldKeyId);
  await eventually('127.0.0.2 follows the new key at its next heartbeat', () => keys().keys.find((k) => k.keyId === rotated.keyId)?.agents.includes('127.0.0.2'), 15_000);
  // Not a blocking spawn: the man in the middle runs in this process and must keep forwarding.
  const newKeyExec = await msecAsync(['exec', '127.0.0.2', '--', 'sh', '-c', 'echo new key'], env);
  assert.equal(newKeyExec.code, 0, newKeyExec.stderr);
  assert.equal(newKeyExec.stdout, 'new key\n');

  // A command for 127.0.0.3 waits for it, signed with the new key; started again, it catches up and runs it.
  const target = '127.0.0.3';
  const newKey = SigningKey.fromFile(join(home, 'console', 'keys', readdirSync(join(home, 'console', 'keys')).find((f) => f.includes(rotated.keyId))!));
  const forger = new CommandForger(newKey, target);
  // The real commands a listener on the hand-over saw: read back from the console's own events.
  const realSeen = async () => {
    const events = await (await fetch(`${up!.url}/api/events?after=0&limit=1000`, { headers: basic })).json() as { events: { type: string; data: { ip: string; signed: string } }[] };
    return events.events.filter((e) => e.type === 'AgentCommandIssued' && e.data.ip === target).map((e) => Buffer.from(e.data.signed, 'base64'));
  };
  type Entry = { summary: string };
  const refusalsOf = () => msecJson<{ entries: Entry[] }>(['audit', '--stream', `host-${target}`, '--type', 'AgentCommandRefused', '--limit', '1000'], env).entries;
  const waited = await (await fetch(`${up.url}/api/agents/${target}/commands`, { method: 'POST', headers: basic, body: JSON.stringify({ action: 'exec', argv: markArgv('REAL-waited') }) })).json() as { commandId: string };
  const statusOf = async (id: string) => (await (await fetch(`${up!.url}/api/agents/${target}/commands/${id}`, { headers: basic })).json() as { status: string }).status;
  // Forgeries naming the waiting command reach the agent first (the man in the middle holds the
  // real one back until their refusals are recorded): they must not cancel it.
  proxy.held = true;
  const waitingCopies = await realSeen();
  proxy.inject(forger.forge('bit-flip-signature', waitingCopies, 'FORGED-naming-waited'), forger.forge('payload-swap', waitingCopies, 'FORGED-naming-waited'));
  const namingWaited = 2;
  agents.set(target, await startAgent(target, join(home, `agent-${target}`), agentEnv));
  await eventually('127.0.0.3 trusts the new key', () => keys().keys.find((k) => k.keyId === rotated.keyId)?.agents.includes(target), 15_000);
  await eventually('the forgeries naming the waiting command were refused and recorded', () => refusalsOf().length === namingWaited, 15_000);
  // The agents view has read those refusals too (its checkpoint is past them): the command still waits, with no outcome.
  const refusedAt = Math.max(...(await (await fetch(`${up.url}/api/events?after=0&limit=1000`, { headers: basic })).json() as { events: { type: string; position: number }[] })
    .events.filter((e) => e.type === 'AgentCommandRefused').map((e) => e.position));
  await eventually('the agents view read the refusals', async () => {
    const p = await (await fetch(`${up!.url}/api/projections`, { headers: basic })).json() as { projections: { name: string; checkpoint: number }[] };
    return p.projections.find((x) => x.name === 'agents')!.checkpoint >= refusedAt;
  }, 15_000);
  assert.equal(await statusOf(waited.commandId), 'waiting', 'forgeries naming a command neither cancel it nor answer for it');
  proxy.held = false;
  const log3 = join(home, `agent-${target}`, 'executed.log');
  const marks = () => (existsSync(log3) ? readFileSync(log3, 'utf8').trim().split('\n') : []);
  await eventually('the waiting command ran', () => existsSync(log3) && readFileSync(log3, 'utf8').includes('REAL-waited'), 15_000);
  await eventually('its outcome is its result', async () => (await statusOf(waited.commandId)) === 'completed', 15_000);

  // A man in the middle of 127.0.0.3's hand-over: a fresh, valid-looking command signed with the
  // retired key, forgeries, and byte-identical replays of what it saw, beside real commands.
  const retiredSigned = (mark: string) => {
    const payload = encodePayload('exec', { argv: markArgv(mark), timeoutMs: 10_000, maxOutputBytes: 1024, cwd: '' });
    const now = Date.now();
    const body = encodeCommandBody({
      commandId: randomUUID(), target, sequence: 900_000, issuedAtMs: now, expiresAtMs: now + 60_000, keyId: oldKeyId,
      action: 'exec', payloadSha256: sha256Hex(payload), paths: [], fileSha256: [], actor: 'attacker',
    });
    return encodeSignedCommand({ body, signature: oldKey.sign('command', body), payload });
  };
  const kinds = ['unsigned', 'foreign-key', 'bit-flip-signature', 'payload-swap', 'truncated', 'garbage', 'expired', 'not-yet-valid', 'wrong-target', 'replayed'] as const;
  let forged = 0;
  const realCount = 10;
  for (let i = 0; i < realCount; i++) {
    proxy.inject(retiredSigned(`FORGED-retired-${i}`));
    const seen = await realSeen();
    for (const kind of kinds) proxy.inject(forger.forge(kind, seen, `FORGED-${kind}-${forged++}`));
    const r = await fetch(`${up.url}/api/agents/${target}/commands`, { method: 'POST', headers: basic, body: JSON.stringify({ action: 'exec', argv: markArgv(`REAL-${i}`) }) });
    assert.equal(r.status, 201);
    await eventually('the injected commands were handed over', () => proxy!.pending === 0, 30_000);
    // Before the next round copies it: a "replay" of a command the agent has not had yet would
    // be its first delivery, rightly run (and the console's own copy then never sent).
    await eventually(`REAL-${i} ran`, () => marks().includes(`REAL-${i}`), 30_000);
  }
  await eventually('every real command ran', () => marks().filter((m) => /^REAL-\d+$/.test(m)).length === realCount, 30_000);
  const hostile = realCount * (kinds.length + 1) + namingWaited;
  let lastSeen: Entry[] = [];
  const refusals = await eventually('every injected command refused and reported', () => {
    lastSeen = refusalsOf();
    return lastSeen.length >= hostile && lastSeen;
  }, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${lastSeen.length} of ${hostile} reported (${lastSeen.map((e) => e.summary).join(' | ').slice(0, 3000)})`);
  });
  const byReason = new Map<string, number>();
  for (const e of refusals) {
    const reason = /refused a command(?: \(#\d+\))?: ([a-z-]+)/.exec(e.summary)?.[1] ?? '?';
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  console.log(`# hand-over: ${realCount} real, ${hostile} injected; executed ${marks().filter((m) => /^REAL-\d+$/.test(m)).length} real (and REAL-waited, sent while the agent was down), ${marks().filter((m) => m.startsWith('FORGED')).length} forged`);
  console.log(`# refused by reason: ${[...byReason].sort().map(([r, n]) => `${r} ${n}`).join(', ')}`);
  assert.deepEqual(marks().filter((m) => m.startsWith('FORGED')), [], 'nothing injected ran');
  assert.equal(marks().filter((m) => m.startsWith('REAL-')).length, realCount + 1, 'each real command ran once (and the one that waited)');
  assert.equal(byReason.get('retired-key'), realCount, 'commands signed with the retired key are refused as such');
  assert.equal(refusals.length, hostile);

  // The control plane's own command refused (held back by the man in the middle across another
  // rotation, it arrives signed by a retired key): that refusal is its outcome, and it runs not.
  proxy.held = true;
  const late = await (await fetch(`${up.url}/api/agents/${target}/commands`, { method: 'POST', headers: basic, body: JSON.stringify({ action: 'exec', argv: markArgv('REAL-late') }) })).json() as { commandId: string };
  const again = JSON.parse(ok(['keys', 'rotate', '--json', '--reason', 'second rotation']).stdout) as { keyId: string };
  await eventually('127.0.0.3 follows the second rotation', () => keys().keys.find((k) => k.keyId === again.keyId)?.agents.includes(target), 15_000);
  proxy.held = false;
  await eventually('the late command is refused, and that is its outcome', async () => (await statusOf(late.commandId)) === 'refused', 15_000);
  assert.ok(!marks().includes('REAL-late'));
});
