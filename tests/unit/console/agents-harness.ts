/**
 * A console with the agent plane (ctx.agents) on in-memory adapters and a temporary keys and
 * blobs folder, driven through fastify's inject; plus an enrolled agent's signed requests made
 * the way an agent (or an attacker with its own key) makes them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { createCommandBus } from '../../../apps/console/command-bus.ts';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import { SigningKey } from '../../../adapters/signing/ed25519.ts';
import { ProjectionRunner } from '../../../apps/projector/runner.ts';
import { defaultProjections } from '../../../projections/index.ts';
import { LoginThrottle } from '../../../apps/console/login-throttle.ts';
import { SessionKeys } from '../../../apps/console/auth.ts';
import { buildConsole } from '../../../apps/console/server.ts';
import { projectionReads } from '../../../apps/console/projection-reads.ts';
import { bootstrap } from '../../../apps/console/bootstrap.ts';
import { consoleAgentPlane } from '../../../apps/console/agents/plane.ts';
import { agentRequestHeaders } from '../../../apps/console/agents/agent-auth.ts';
import type { ConsoleContext } from '../../../apps/console/context.ts';
import { streams } from '../../../domain/streams.ts';
import { adminPassword, basicAdmin } from './harness.ts';

export interface AgentConsole {
  ctx: ConsoleContext;
  store: MemoryEventStore;
  bus: MemoryMessageBus;
  blobsDir: string;
  /** Moves the console's clock (agent request times, token expiry, command times). */
  advance(ms: number): void;
  now(): number;
  /** As admin (Basic) unless headers say otherwise. */
  call(o: InjectOptions): Promise<LightMyRequestResponse>;
  inject(o: InjectOptions): Promise<LightMyRequestResponse>;
  /** Makes a user with a role (optionally scoped); their Basic header. */
  user(name: string, role: 'viewer' | 'operator' | 'admin', service?: string): Promise<Record<string, string>>;
  /** A token for `ip` and an agent key enrolled with it. */
  enrol(ip: string): Promise<EnrolledAgent>;
  token(ip: string, ttlSeconds?: number): Promise<string>;
  /** Requests signed by any key, claiming any ip (an attacker's). */
  speaker(ip: string, key: SigningKey): EnrolledAgent;
  /** Events of a host's stream. */
  hostEvents(ip: string): Promise<string[]>;
  blobFiles(): string[];
  close(): Promise<void>;
}

export interface EnrolledAgent {
  ip: string;
  key: SigningKey;
  /** A request signed by this agent's key (method, url and body as sent). */
  request(method: 'GET' | 'POST' | 'PUT', url: string, o?: { body?: Buffer; headers?: Record<string, string>; ts?: number; claimIp?: string; nonce?: string }): Promise<LightMyRequestResponse>;
}

export async function agentConsole(): Promise<AgentConsole> {
  const logger = pino({ level: 'silent' });
  const store = new MemoryEventStore();
  const views = new MemoryViewStore();
  const bus = new MemoryMessageBus();
  const runner = new ProjectionRunner({ store, views, projections: defaultProjections, logger });
  await runner.start();
  const reads = projectionReads(runner);
  const home = mkdtempSync(join(tmpdir(), 'msec-agents-console-'));
  const blobsDir = join(home, 'blobs');
  let offset = 0;
  const clock = () => Date.now() + offset;
  const commands = createCommandBus({ store });
  const ctx: ConsoleContext = {
    store, commands, reads, users: reads, projections: runner, logger, keys: new SessionKeys(Buffer.alloc(32, 7)),
    clock, throttle: new LoginThrottle(clock), secureCookies: false, readYourWritesMs: 5000, bus,
  };
  ctx.agents = consoleAgentPlane({ commands, agents: () => reads.agents(), keysDir: join(home, 'keys'), blobsDir, live: async () => [], clock });
  await bootstrap(ctx, adminPassword);
  const app = await buildConsole(ctx);
  const call = (o: InjectOptions) => app.inject({ ...o, headers: { authorization: basicAdmin, ...(o.headers ?? {}) } });
  const token = async (ip: string, ttlSeconds?: number) => {
    const r = await call({ method: 'POST', url: '/api/agents/tokens', payload: { ip, ...(ttlSeconds ? { ttlSeconds } : {}) } });
    assert.equal(r.statusCode, 201, r.body);
    return (r.json() as { token: string }).token;
  };
  const agentOf = (ip: string, key: SigningKey): EnrolledAgent => ({
    ip, key,
    request: (method, url, o = {}) => {
      const headers = agentRequestHeaders(key, o.claimIp ?? ip, method, url, o.body, o.ts ?? clock(), ...(o.nonce ? [o.nonce] : []));
      return app.inject({
        method, url, headers: { ...headers, ...(o.body ? { 'content-type': 'application/octet-stream' } : {}), ...o.headers },
        ...(o.body ? { payload: o.body } : {}),
      });
    },
  });
  return {
    ctx, store, bus, blobsDir, call,
    inject: (o) => app.inject(o),
    advance: (ms) => (offset += ms),
    now: clock,
    async user(name, role, service) {
      const r = await call({ method: 'POST', url: '/api/users', payload: { name, password: `${name}-password`, role, ...(service ? { service } : {}) } });
      assert.equal(r.statusCode, 201, r.body);
      return { authorization: `Basic ${Buffer.from(`${name}:${name}-password`).toString('base64')}` };
    },
    token,
    speaker: agentOf,
    async enrol(ip) {
      const key = SigningKey.generate();
      const r = await app.inject({ method: 'POST', url: '/api/agents/enrol', payload: { ip, token: await token(ip), publicKey: key.publicKeyRaw.toString('base64'), hostname: 'box' } });
      assert.equal(r.statusCode, 200, r.body);
      return agentOf(ip, key);
    },
    async hostEvents(ip) {
      return (await store.readStream(streams.host(ip), 0)).map((e) => e.type);
    },
    blobFiles() {
      try {
        return readdirSync(blobsDir, { recursive: true }).map(String).filter((f) => /[0-9a-f]{64}$/.test(f));
      } catch {
        return [];
      }
    },
    async close() {
      await app.close();
      await runner.stop();
      await store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
