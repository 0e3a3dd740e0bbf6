/**
 * Host agents for people and scripts: the hosts view, enrolment tokens, revocation, commands
 * (exec, ps, push and pull files) with their streamed output and results, the command keys,
 * and capacity per service. The agents' own channel is in agent-channel.ts.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hostAgentDecider, MAX_TOKEN_LIFETIME_MS } from '../../../domain/agents/index.ts';
import { parseIpv4 } from '../../../domain/services/names.ts';
import { streams } from '../../../domain/streams.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import { sha256Hex } from '../../../adapters/signing/ed25519.ts';
import { BlobStore } from '../../../adapters/blobs/filesystem.ts';
import { decodeProcessList, type InstalledService } from '../../../schemas/agent.ts';
import { agentsProjection, currentKey, findAgent, listAgents, outcomeOf, type AgentRecord, type AgentsState } from '../../../projections/agents.ts';
import type { LiveHost } from '../../projector/agent-live.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { abortOnClose, eitherOf, waitUntil } from '../long-poll.ts';
import { HttpProblem } from '../problems.ts';
import { checkAgentPath, checkArgv, issueCommand, shellWords, type CommandRequest } from '../agents/command-issuer.ts';
import type { ConsoleAgentPlane } from '../agents/plane.ts';
import { wholeCharacters } from '../agents/utf8-boundary.ts';

const ipParams = { type: 'object', required: ['ip'], properties: { ip: { type: 'string', maxLength: 15 } } } as const;
const noService = () => undefined;
/** Pushed files: large enough for configs, scripts and small builds (releases bring artifacts). */
export const maxPushBytes = 64 * 1024 * 1024;

type AgentView = ReturnType<typeof agentView>;

/** One line of the hosts view: what events say, joined with the last heartbeat. */
export function agentView(a: AgentRecord, live: LiveHost | undefined, nowMs: number) {
  // A revoked agent's last heartbeat says nothing any more.
  const hb = a.revoked ? undefined : live?.heartbeat;
  const state = a.revoked ? 'revoked' : a.down ? 'down' : live ? 'alive' : 'unknown';
  return {
    ip: a.ip, state, hostname: hb?.hostname || a.hostname, agentVersion: hb?.agentVersion || a.agentVersion,
    agentKeyId: a.agentKeyId, trustedKeyId: a.trustedKeyId, enrolledAt: a.enrolledAt,
    lastSeenAt: live ? new Date(live.lastSeenAtMs).toISOString() : a.lastSeenAtMs ? new Date(a.lastSeenAtMs).toISOString() : null,
    secondsSinceSeen: live ? Math.round((nowMs - live.lastSeenAtMs) / 1000) : null,
    heartbeatMs: hb?.intervalMs ?? null,
    load: hb ? {
      cpuPercent: round(hb.cpuPercent), cpus: hb.cpus, memTotalBytes: hb.memTotalBytes, memFreeBytes: hb.memFreeBytes,
      memUsedPercent: hb.memTotalBytes ? round(100 * (1 - hb.memFreeBytes / hb.memTotalBytes)) : null,
      diskTotalBytes: hb.diskTotalBytes, diskFreeBytes: hb.diskFreeBytes, load1: round(hb.load1), load5: round(hb.load5), load15: round(hb.load15),
      processes: hb.processes,
    } : null,
    pendingCommands: a.pending.length,
    /** The Redis instances the agent supervises (its last heartbeat), whatever the KV view says. */
    kvInstances: (hb?.kvInstances ?? []).map(kvInstanceView),
  };
}

/** `kv/<cluster>/<port>` as the agent reports it, for people: cluster, port, process state. */
function kvInstanceView(i: InstalledService) {
  const [, cluster = '', port = ''] = /^kv\/([^/]*)\/(\d+)$/.exec(i.service) ?? [];
  return {
    cluster, port: Number(port) || i.port, state: i.state, pid: i.pid, restarts: i.restarts,
    since: i.sinceMs ? new Date(i.sinceMs).toISOString() : null,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

export function agentRoutes(ctx: ConsoleContext, plane: ConsoleAgentPlane) {
  const agentsState = (): AgentsState => ctx.reads.agents();
  const views = async () => {
    const live = new Map((await plane.live()).map((h) => [h.ip, h]));
    const now = ctx.clock();
    return listAgents(agentsState()).map((a) => agentView(a, live.get(a.ip), now));
  };
  const activeAgent = (ip: string): AgentRecord => {
    const agent = findAgent(agentsState(), parseIpv4(ip));
    if (!agent) throw new HttpProblem(404, 'not_found', `no agent is enrolled for ${ip}: make a token (msec agent token --ip ${ip}) and start the agent with it`);
    if (agent.revoked) throw new HttpProblem(409, 'revoked', `the agent of ${ip} is revoked: enrol it again to send it commands`);
    return agent;
  };
  const issue = async (request: FastifyRequest, command: CommandRequest) => {
    activeAgent(command.ip);
    const issued = await issueCommand(ctx.commands, plane.keys, command, commandMeta(ctx, request));
    return issued;
  };

  return async (app: FastifyInstance) => {
    app.get('/api/agents', {
      config: { permission: 'read', serviceOf: noService },
      schema: { tags: ['agents'], summary: 'Every enrolled agent: alive, down or revoked, last seen, load, version, key, the KV instances it supervises' },
    }, async () => ({ agents: await views() }));

    app.post<{ Body: { ip: string; ttlSeconds?: number; reason?: string } }>('/api/agents/tokens', {
      config: { permission: 'agents.admin', serviceOf: noService },
      schema: {
        tags: ['agents'], summary: 'A one-time enrolment token for the agent of a host (shown once)',
        body: {
          type: 'object', required: ['ip'], additionalProperties: false,
          properties: { ip: { type: 'string', maxLength: 15 }, ttlSeconds: { type: 'integer', minimum: 60, maximum: MAX_TOKEN_LIFETIME_MS / 1000 }, reason: schemas.reason },
        },
      },
    }, async (request, reply) => {
      const ip = parseIpv4(request.body.ip);
      const keyId = await plane.keys.ensure();
      const token = `msec-agent.${keyId}.${randomBytes(32).toString('base64url')}`;
      const tokenId = uuidv7(ctx.clock());
      const expiresAtMs = ctx.clock() + (request.body.ttlSeconds ?? 3600) * 1000;
      const outcome = await ctx.commands.execute(streams.host(ip), hostAgentDecider,
        { type: 'IssueAgentToken', ip, tokenId, tokenHash: sha256Hex(token), expiresAtMs }, commandMeta(ctx, request));
      return commandAnswer(ctx, reply, outcome, 201, { ip, token, tokenId, expiresAt: new Date(expiresAtMs).toISOString() });
    });

    app.post<{ Params: { ip: string } }>('/api/agents/:ip/revoke', {
      config: { permission: 'agents.admin', serviceOf: noService },
      schema: { tags: ['agents'], summary: 'Refuse everything from this agent from now on', params: ipParams, body: { type: ['object', 'null'], properties: { reason: schemas.reason } } },
    }, async (request, reply) => {
      const ip = parseIpv4(request.params.ip);
      return commandAnswer(ctx, reply, await ctx.commands.execute(streams.host(ip), hostAgentDecider, { type: 'RevokeAgent', ip }, commandMeta(ctx, request)));
    });

    app.post<{ Params: { ip: string }; Body: { action: 'exec' | 'ps' | 'pull_file'; argv?: string[]; cwd?: string; path?: string; maxBytes?: number; timeoutSeconds?: number; ttlSeconds?: number; maxOutputBytes?: number; reason?: string } }>('/api/agents/:ip/commands', {
      config: { permission: 'agents.exec', serviceOf: noService },
      schema: {
        tags: ['agents'], summary: 'Send a signed command to the agent (exec, ps, pull_file); answers its id at once',
        params: ipParams,
        body: {
          type: 'object', required: ['action'], additionalProperties: false,
          properties: {
            action: { type: 'string', enum: ['exec', 'ps', 'pull_file'] },
            argv: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', maxLength: 8192 } },
            cwd: { type: 'string', maxLength: 1024 },
            path: { type: 'string', maxLength: 1024 },
            maxBytes: { type: 'integer', minimum: 1, maximum: maxPushBytes },
            timeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
            ttlSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
            maxOutputBytes: { type: 'integer', minimum: 0, maximum: 256 * 1024 },
            reason: schemas.reason,
          },
        },
      },
    }, async (request, reply) => {
      const b = request.body;
      const ip = parseIpv4(request.params.ip);
      const ttlMs = b.ttlSeconds === undefined ? undefined : b.ttlSeconds * 1000;
      let command: CommandRequest;
      if (b.action === 'exec') {
        if (!b.argv?.length) throw new HttpProblem(400, 'invalid', 'exec needs argv: the program and its arguments');
        const argv = checkArgv(b.argv);
        const cwd = b.cwd ? checkAgentPath(b.cwd, { root: true }) : '';
        command = {
          ip, action: 'exec', ttlMs, summary: shellWords(argv), paths: cwd ? [cwd] : [],
          payload: { argv, timeoutMs: (b.timeoutSeconds ?? 60) * 1000, maxOutputBytes: b.maxOutputBytes ?? 256 * 1024, cwd },
        };
      } else if (b.action === 'ps') {
        command = { ip, action: 'ps', ttlMs, summary: 'process list', payload: {} };
      } else {
        if (!b.path) throw new HttpProblem(400, 'invalid', 'pull_file needs the path (relative to the agent root)');
        const path = checkAgentPath(b.path);
        command = { ip, action: 'pull_file', ttlMs, summary: `pull ${path}`, paths: [path], payload: { path, maxBytes: b.maxBytes ?? maxPushBytes } };
      }
      const issued = await issue(request, command);
      return commandAnswer(ctx, reply, issued.outcome, 201, { commandId: issued.commandId, sequence: issued.sequence, expiresAt: new Date(issued.expiresAtMs).toISOString() });
    });

    // A file for the agent: stored by digest here, fetched and checked by the agent before it writes.
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxPushBytes }, (_request, body, done) => done(null, body));
    app.put<{ Params: { ip: string }; Querystring: { path: string; mode?: string; ttlSeconds?: number }; Body: Buffer }>('/api/agents/:ip/files', {
      config: { permission: 'agents.exec', serviceOf: noService },
      bodyLimit: maxPushBytes,
      schema: {
        tags: ['agents'], summary: 'Push a file to a path under the agent root (body: the bytes, application/octet-stream)',
        params: ipParams,
        querystring: {
          type: 'object', required: ['path'], additionalProperties: false,
          properties: { path: { type: 'string', maxLength: 1024 }, mode: { type: 'string', pattern: '^0?[0-7]{3}$' }, ttlSeconds: { type: 'integer', minimum: 1, maximum: 86_400 } },
        },
      },
    }, async (request, reply) => {
      const ip = parseIpv4(request.params.ip);
      if (!Buffer.isBuffer(request.body)) throw new HttpProblem(415, 'media-type', 'send the file as application/octet-stream');
      const path = checkAgentPath(request.query.path);
      activeAgent(ip); // before the file is stored: a push that cannot be sent leaves nothing behind
      const { sha256, size } = plane.blobs.put(request.body);
      const mode = request.query.mode ? parseInt(request.query.mode, 8) : 0o644;
      const issued = await issue(request, {
        ip, action: 'push_file', ttlMs: request.query.ttlSeconds === undefined ? undefined : request.query.ttlSeconds * 1000,
        summary: `push ${path} (${size} bytes, sha256 ${sha256.slice(0, 12)}…)`, paths: [path], fileSha256: [sha256],
        payload: { path, sha256, size, mode },
      });
      return commandAnswer(ctx, reply, issued.outcome, 201, { commandId: issued.commandId, sequence: issued.sequence, sha256, size });
    });

    app.get<{ Params: { ip: string; id: string }; Querystring: { after?: number; wait?: number } }>('/api/agents/:ip/commands/:id', {
      config: { permission: 'agents.exec', serviceOf: noService },
      schema: {
        tags: ['agents'], summary: 'A command: its output since ?after bytes (streamed while it runs), and its result once it has one; ?wait=<s> waits for either',
        params: { type: 'object', required: ['ip', 'id'], properties: { ip: { type: 'string', maxLength: 15 }, id: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'integer', minimum: 0, default: 0 }, wait: { type: 'integer', minimum: 0, maximum: 60, default: 0 } } },
      },
    }, async (request) => {
      const ip = parseIpv4(request.params.ip);
      const { id } = request.params;
      const after = request.query.after ?? 0;
      const known = () => findAgent(agentsState(), ip)?.pending.some((p) => p.commandId === id) || outcomeOf(agentsState(), ip, id);
      if (!known()) throw new HttpProblem(404, 'not_found', `no command ${id} for ${ip} (or its result is no longer kept)`);
      const look = () => {
        const outcome = outcomeOf(agentsState(), ip, id);
        const streamed = wholeCharacters(plane.outputs.since(ip, id, after));
        return outcome || streamed.length > 0 ? commandStatus(id, after, outcome, streamed) : undefined;
      };
      // Woken by streamed output, and by the agents projection folding the result.
      const wakeups = eitherOf((wake) => plane.outputs.listen(ip, id, wake), (wake) => ctx.projections.onChange(agentsProjection.name, wake));
      return (await waitUntil(look, (request.query.wait ?? 0) * 1000, abortOnClose(request), wakeups))
        ?? commandStatus(id, after, outcomeOf(agentsState(), ip, id), wholeCharacters(plane.outputs.since(ip, id, after)));
    });

    app.get<{ Params: { ip: string; id: string } }>('/api/agents/:ip/commands/:id/data', {
      config: { permission: 'agents.exec', serviceOf: noService },
      schema: { tags: ['agents'], summary: 'What a command brought back: a pulled file, or a process list (JSON)', params: { type: 'object', required: ['ip', 'id'], properties: { ip: { type: 'string', maxLength: 15 }, id: { type: 'string', maxLength: 64 } } } },
    }, async (request, reply) => {
      const outcome = outcomeOf(agentsState(), parseIpv4(request.params.ip), request.params.id);
      if (!outcome || outcome.kind !== 'completed') throw new HttpProblem(404, 'not_found', 'no completed command with that id (wait for its result first)');
      if (!outcome.dataSha256 || !BlobStore.isDigest(outcome.dataSha256)) throw new HttpProblem(404, 'not_found', `the ${outcome.action} command brought nothing back`);
      const data = plane.blobs.get(outcome.dataSha256);
      if (!data) throw new HttpProblem(404, 'not_found', 'the data is not (or no longer) kept by this console');
      if (outcome.action === 'ps') return { processes: decodeProcessList(data) };
      return reply.type('application/octet-stream').header('content-disposition', 'attachment').send(data);
    });

    app.get('/api/keys', {
      config: { permission: 'read', serviceOf: noService },
      schema: { tags: ['agents'], summary: 'The command keys, the current one, and which agents trust each' },
    }, async () => {
      const state = agentsState();
      const current = currentKey(state)?.keyId ?? null;
      return {
        current,
        keys: state.keys.map((k) => ({
          keyId: k.keyId, previousKeyId: k.previousKeyId, introducedAt: k.introducedAt, current: k.keyId === current,
          agents: state.agents.filter((a) => !a.revoked && a.trustedKeyId === k.keyId).map((a) => a.ip),
        })),
        agentsBehind: state.agents.filter((a) => !a.revoked && a.trustedKeyId !== current).map((a) => ({ ip: a.ip, trusts: a.trustedKeyId || null })),
      };
    });

    app.post('/api/keys/rotate', {
      config: { permission: 'agents.admin', serviceOf: noService },
      schema: { tags: ['agents'], summary: 'Make a new command key, announced to agents in a statement signed by the current one', body: { type: ['object', 'null'], properties: { reason: schemas.reason } } },
    }, async (request, reply) => {
      const meta = commandMeta(ctx, request);
      const rotated = await plane.keys.rotate(meta.actor, meta.reason || 'command key rotation');
      return commandAnswer(ctx, reply, rotated.outcome, 201, { keyId: rotated.keyId, previousKeyId: rotated.previousKeyId });
    });

    app.get<{ Params: { name?: string } }>('/api/capacity', {
      config: { permission: 'read', serviceOf: noService },
      schema: { tags: ['agents'], summary: 'Capacity per service: hosts, alive hosts, average CPU and memory of its hosts' },
    }, async () => ({ services: capacity(ctx, await views()) }));

    app.get<{ Params: { name: string } }>('/api/capacity/:name', {
      config: { permission: 'read' },
      schema: { tags: ['agents'], params: { type: 'object', required: ['name'], properties: { name: schemas.serviceName } } },
    }, async (request) => {
      const found = capacity(ctx, await views()).find((c) => c.service === request.params.name);
      if (!found) throw new HttpProblem(404, 'not_found', `no second-level service ${request.params.name}`);
      return found;
    });
  };
}

function commandStatus(id: string, after: number, outcome: ReturnType<typeof outcomeOf>, streamed: Buffer) {
  if (outcome?.kind === 'refused') return { commandId: id, status: 'refused', reason: outcome.reason, detail: outcome.detail, output: '', outputOffset: after };
  if (outcome?.kind === 'completed') {
    const all = Buffer.from(outcome.output, 'base64');
    const rest = all.subarray(Math.min(after, all.length));
    return {
      commandId: id, status: 'completed', action: outcome.action, exitCode: outcome.exitCode, error: outcome.error, timedOut: outcome.timedOut,
      durationMs: outcome.durationMs, output: rest.toString('utf8'), outputOffset: after + rest.length,
      outputBytes: outcome.outputBytes, outputKeptBytes: outcome.outputKeptBytes, dataSha256: outcome.dataSha256 || null,
    };
  }
  return { commandId: id, status: streamed.length ? 'running' : 'waiting', output: streamed.toString('utf8'), outputOffset: after + streamed.length };
}

/** MSEC's capacity page: per second-level service, its hosts, how many are alive, their average load. */
function capacity(ctx: ConsoleContext, agents: AgentView[]) {
  const byIp = new Map(agents.map((a) => [a.ip, a]));
  const out = [];
  for (const first of ctx.reads.serviceTree() as { children?: { fullName: string }[] }[]) {
    for (const child of first.children ?? []) {
      const detail = ctx.reads.service(child.fullName) as { hosts?: { ip: string; port: number; enabled: boolean }[]; kind?: string } | undefined;
      const ips = [...new Set((detail?.hosts ?? []).map((h) => h.ip))];
      const seen = ips.map((ip) => byIp.get(ip)).filter((a): a is AgentView => a !== undefined);
      const loaded = seen.filter((a) => a.state === 'alive' && a.load);
      const avg = (f: (a: AgentView) => number | null) => (loaded.length ? round(loaded.reduce((s, a) => s + (f(a) ?? 0), 0) / loaded.length) : null);
      out.push({
        service: child.fullName, hosts: ips.length, enabledHosts: new Set((detail?.hosts ?? []).filter((h) => h.enabled).map((h) => h.ip)).size,
        withAgent: seen.length, alive: seen.filter((a) => a.state === 'alive').length, down: seen.filter((a) => a.state === 'down').length,
        avgCpuPercent: avg((a) => a.load!.cpuPercent), avgMemUsedPercent: avg((a) => a.load!.memUsedPercent),
        hostsDetail: ips.map((ip) => ({ ip, state: byIp.get(ip)?.state ?? 'no agent', cpuPercent: byIp.get(ip)?.load?.cpuPercent ?? null, memUsedPercent: byIp.get(ip)?.load?.memUsedPercent ?? null })),
      });
    }
  }
  return out;
}

