/**
 * The Redis-cluster KV: clusters (create, list, show with the live view and risk flags,
 * endpoints, delete) and their operations (expand, shrink, recover, failover), each a task the
 * console's KvTaskRunner carries out (apps/console/kv/task-runner.ts). Requests are checked
 * (the cluster's rules, the hosts' agents, Redis's live view for a failover or a recovery)
 * before anything is written: a refused request writes nothing.
 */
import type { FastifyInstance } from 'fastify';
import { checkClusterName, kvClusterDecider, MAX_INSTANCE_PORTS, parseInstance, parseMemory, type KvClusterState, type KvCommand } from '../../../domain/kv/index.ts';
import { parseIpv4 } from '../../../domain/services/names.ts';
import { streams } from '../../../domain/streams.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import { DomainError } from '../../../domain/decider.ts';
import { kvMetricsService } from '../../../domain/monitoring/metric-names.ts';
import { createService } from '../service-workflows.ts';
import { findKvCluster, liveKvClusters, nextKvBasePort, type KvClusterView } from '../../../projections/kv.ts';
import { findAgent } from '../../../projections/agents.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { HttpProblem } from '../problems.ts';
import { readLive, type LiveCluster } from '../kv/live.ts';
import { RedisAdmin } from '../kv/redis-admin.ts';
import type { KvTaskRunner } from '../kv/task-runner.ts';

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const hostList = { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 15 } } as const;
const createBody = {
  type: 'object', required: ['name', 'sets', 'memory', 'hosts'], additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 64 },
    sets: { type: 'integer', minimum: 1, maximum: 64 },
    replicas: { type: 'integer', minimum: 0, maximum: 4 },
    memory: { type: 'string', maxLength: 20, description: 'maxmemory per instance: 64mb, 1gb' },
    policy: { type: 'string', maxLength: 20 },
    port: { type: 'integer', minimum: 1024, maximum: 55_436 },
    nodeTimeoutMs: { type: 'integer', minimum: 500, maximum: 60_000 },
    appendonly: { type: 'boolean' },
    hosts: { ...hostList, minItems: 1 },
    memo: { type: 'string', maxLength: 140 },
    reason: schemas.reason,
  },
} as const;
const expandBody = { type: 'object', required: ['sets'], additionalProperties: false, properties: { sets: { type: 'integer', minimum: 1, maximum: 64 }, hosts: hostList, reason: schemas.reason } } as const;
const shrinkBody = { type: 'object', required: ['set'], additionalProperties: false, properties: { set: { type: 'integer', minimum: 1, maximum: 1_000_000 }, reason: schemas.reason } } as const;
const failoverBody = { type: 'object', required: ['instance'], additionalProperties: false, properties: { instance: { type: 'string', maxLength: 21 }, reason: schemas.reason } } as const;
const reasonOnly = { type: ['object', 'null'], properties: { reason: schemas.reason }, additionalProperties: false } as const;

/** A cluster is no service: a user scoped to a service named like one gets nothing from it. */
const noService = () => undefined;

interface CreateRequest { name: string; sets: number; replicas?: number; memory: string; policy?: string; port?: number; nodeTimeoutMs?: number; appendonly?: boolean; hosts: string[]; memo?: string }

export function kvRoutes(ctx: ConsoleContext, runner: KvTaskRunner | undefined) {
  const redis = runner?.redis ?? new RedisAdmin();
  const view = (name: string, options: { deleted?: boolean } = {}): KvClusterView => {
    const c = findKvCluster(ctx.reads.kv(), checkClusterName(name));
    if (!c || (!c.cluster.settings && !options.deleted)) throw new HttpProblem(404, 'not_found', `no KV cluster ${name} (msec kv list)`);
    return c;
  };
  /** Hosts whose agents can take a command now; a host without one is refused, naming what to do. */
  const agentsUp = (hosts: string[]) => {
    const agents = ctx.reads.agents();
    for (const ip of hosts) {
      const a = findAgent(agents, ip);
      if (!a || a.revoked) throw new HttpProblem(409, 'conflict', `${ip} has no enrolled agent: start one there first (msec agent token --ip ${ip})`);
      if (a.down) throw new HttpProblem(409, 'conflict', `the agent of ${ip} is down: bring it back or leave the host out`);
    }
  };
  /** Checked before Redis is read (recover, failover), naming the task as the decider does. */
  const idle = (c: KvClusterView) => {
    if (!c.cluster.running) return;
    const t = c.cluster.tasks.find((x) => x.taskId === c.cluster.running);
    throw new HttpProblem(409, 'conflict', `task ${c.cluster.running}${t ? ` (${t.kind})` : ''} of KV cluster ${c.name} is under way: one task at a time; wait for it (msec kv show ${c.name})`);
  };
  const downHosts = (cluster: KvClusterState) => {
    const agents = ctx.reads.agents();
    return cluster.hosts.filter((ip) => { const a = findAgent(agents, ip); return !a || a.down || a.revoked; });
  };
  const execute = (name: string, command: KvCommand, request: Parameters<typeof commandMeta>[1]) =>
    ctx.commands.execute(streams.kvCluster(name), kvClusterDecider, command, commandMeta(ctx, request));
  /** The odd service the KV's instance metrics come under (kv.*): made with the first cluster, so its curves have a page. */
  const kvMetricsServiceExists = async (request: Parameters<typeof commandMeta>[1]) => {
    if (ctx.reads.service(kvMetricsService)) return;
    await createService(ctx.commands, { name: kvMetricsService, kind: 'odd', lang: '', port: 0, system: true }, { ...commandMeta(ctx, request), commandId: uuidv7(ctx.clock()), reason: 'the KV\'s instance metrics come under it' })
      .catch((err) => {
        if (!(err instanceof DomainError && err.code === 'conflict')) throw err;
      });
  };
  const started = (name: string, taskId: string) => {
    runner?.nudge(name);
    return { name, taskId };
  };

  return async (app: FastifyInstance) => {
    app.get('/api/kv', {
      config: { permission: 'read', serviceOf: noService }, schema: { tags: ['kv'], summary: 'KV clusters: sets, instances, the task under way' },
    }, async () => ({
      clusters: liveKvClusters(ctx.reads.kv()).map((c) => ({
        name: c.name, createdAt: c.createdAt, createdBy: c.createdBy, settings: c.cluster.settings, hosts: c.cluster.hosts,
        sets: new Set(c.cluster.instances.map((i) => i.setId)).size, instances: c.cluster.instances.length,
        running: c.cluster.tasks.find((t) => t.taskId === c.cluster.running) ?? null,
      })),
    }));

    app.post<{ Body: CreateRequest }>('/api/kv', {
      config: { permission: 'agents.exec', serviceOf: noService }, schema: { tags: ['kv'], summary: 'Create a cluster: N sets of 1 + R instances placed on the hosts, started by their agents, joined, slots assigned', body: createBody },
    }, async (request, reply) => {
      const b = request.body;
      const name = checkClusterName(b.name);
      const hosts = b.hosts.map((h) => parseIpv4(h));
      agentsUp(hosts);
      const kv = ctx.reads.kv();
      const basePort = b.port ?? nextKvBasePort(kv);
      // Overlapping blocks would give two clusters the same ip:port: one's show, failover and delete would reach the other's instances.
      const clash = liveKvClusters(kv).find((c) => c.name !== name && Math.abs(c.cluster.settings!.basePort - basePort) < MAX_INSTANCE_PORTS);
      if (clash) throw new HttpProblem(409, 'conflict', `ports ${basePort} to ${basePort + MAX_INSTANCE_PORTS - 1} overlap those of KV cluster ${clash.name} (from ${clash.cluster.settings!.basePort}): leave the port out to take the next free block (${nextKvBasePort(kv)})`);
      const taskId = uuidv7(ctx.clock());
      const outcome = await execute(name, {
        type: 'CreateKvCluster', name, sets: b.sets, replicas: b.replicas ?? 1, memoryBytes: parseMemory(b.memory), maxmemoryPolicy: b.policy ?? 'allkeys-lru',
        basePort, nodeTimeoutMs: b.nodeTimeoutMs ?? 5000, appendonly: b.appendonly ?? true, hosts, memo: b.memo ?? '', taskId, atMs: ctx.clock(),
      }, request);
      await kvMetricsServiceExists(request);
      return commandAnswer(ctx, reply, outcome, 201, started(name, taskId));
    });

    app.get<{ Params: { name: string }; Querystring: { live?: boolean } }>('/api/kv/:name', {
      config: { permission: 'read', serviceOf: noService },
      schema: { tags: ['kv'], summary: 'A cluster: layout, live roles, slots, keys, memory, ops/s, hit ratio, lag, risk flags, tasks', params: nameParams, querystring: { type: 'object', additionalProperties: false, properties: { live: { type: 'boolean' } } } },
    }, async (request) => {
      const c = view(request.params.name);
      const live: LiveCluster | null = request.query.live === false ? null : await readLive(redis, c.cluster);
      return {
        name: c.name, createdAt: c.createdAt, createdBy: c.createdBy, settings: c.cluster.settings, hosts: c.cluster.hosts, revision: c.revision,
        layout: c.cluster.instances,
        live: live && { state: live.state, slotsCovered: live.slotsCovered, instances: live.instances, strangers: live.strangers, risks: live.risks },
        running: c.cluster.running, tasks: [...c.cluster.tasks].reverse(),
      };
    });

    app.get<{ Params: { name: string } }>('/api/kv/:name/endpoints', {
      config: { permission: 'read', serviceOf: noService }, schema: { tags: ['kv'], summary: 'Seed nodes for a Redis cluster client (live masters first)', params: nameParams },
    }, async (request) => {
      const c = view(request.params.name);
      const live = await readLive(redis, c.cluster);
      const order = { master: 0, replica: 1, down: 2 } as const;
      const seeds = [...live.instances].sort((a, b) => order[a.role] - order[b.role]).filter((i) => i.role !== 'down').map((i) => `${i.ip}:${i.port}`);
      return { name: c.name, seeds };
    });

    app.get<{ Params: { name: string; task: string } }>('/api/kv/:name/tasks/:task', {
      config: { permission: 'read', serviceOf: noService }, schema: { tags: ['kv'], summary: 'One task with its steps', params: { type: 'object', required: ['name', 'task'], properties: { name: nameParams.properties.name, task: { type: 'string', maxLength: 40 } } } },
    }, async (request) => {
      const c = view(request.params.name, { deleted: true });
      const t = c.cluster.tasks.find((x) => x.taskId === request.params.task);
      if (!t) throw new HttpProblem(404, 'not_found', `KV cluster ${c.name} has no task ${request.params.task} in its recent history`);
      return { name: c.name, task: t };
    });

    app.post<{ Params: { name: string }; Body: { sets: number; hosts?: string[] } }>('/api/kv/:name/expand', {
      config: { permission: 'agents.exec', serviceOf: noService }, schema: { tags: ['kv'], summary: 'Add sets (on the cluster\'s hosts and any given); slots rebalanced live with the fewest moved', params: nameParams, body: expandBody },
    }, async (request, reply) => {
      const c = view(request.params.name);
      const hosts = (request.body.hosts ?? []).map((h) => parseIpv4(h));
      agentsUp(hosts);
      const taskId = uuidv7(ctx.clock());
      const outcome = await execute(c.name, { type: 'ExpandKvCluster', name: c.name, sets: request.body.sets, hosts, avoid: downHosts(c.cluster), taskId, atMs: ctx.clock() }, request);
      return commandAnswer(ctx, reply, outcome, 202, started(c.name, taskId));
    });

    app.post<{ Params: { name: string }; Body: { set: number } }>('/api/kv/:name/shrink', {
      config: { permission: 'agents.exec', serviceOf: noService }, schema: { tags: ['kv'], summary: 'Remove a set after moving its slots (and keys) to the others', params: nameParams, body: shrinkBody },
    }, async (request, reply) => {
      const c = view(request.params.name);
      const taskId = uuidv7(ctx.clock());
      const outcome = await execute(c.name, { type: 'ShrinkKvCluster', name: c.name, setId: request.body.set, taskId, atMs: ctx.clock() }, request);
      return commandAnswer(ctx, reply, outcome, 202, started(c.name, taskId));
    });

    app.post<{ Params: { name: string } }>('/api/kv/:name/recover', {
      config: { permission: 'agents.exec', serviceOf: noService }, schema: { tags: ['kv'], summary: 'Replace dead instances (a dead master after its replica is promoted) on other hosts', params: nameParams, body: reasonOnly },
    }, async (request, reply) => {
      const c = view(request.params.name);
      idle(c);
      const live = await readLive(redis, c.cluster);
      const dead = live.instances.filter((i) => i.role === 'down').map((i) => ({ ip: i.ip, port: i.port }));
      // A set whose instances are all down and never held a slot (an expansion that failed before its move) is removed, not replaced.
      const holding = new Set(live.nodes.filter((n) => n.slots.length > 0).map((n) => `${n.ip}:${n.port}`));
      const abandon = [...new Set(c.cluster.instances.map((i) => i.setId))].filter((setId) => {
        const members = live.instances.filter((i) => i.setId === setId);
        return members.every((m) => m.role === 'down' && !holding.has(`${m.ip}:${m.port}`));
      });
      const taskId = uuidv7(ctx.clock());
      const outcome = await execute(c.name, { type: 'RecoverKvCluster', name: c.name, dead, avoid: downHosts(c.cluster), abandon, taskId, atMs: ctx.clock() }, request);
      return commandAnswer(ctx, reply, outcome, 202, { ...started(c.name, taskId), dead: dead.map((d) => `${d.ip}:${d.port}`) });
    });

    app.post<{ Params: { name: string }; Body: { instance: string } }>('/api/kv/:name/failover', {
      config: { permission: 'agents.exec', serviceOf: noService }, schema: { tags: ['kv'], summary: 'Promote a replica to master of its set (CLUSTER FAILOVER; replicas only, as MSEC)', params: nameParams, body: failoverBody },
    }, async (request, reply) => {
      const c = view(request.params.name);
      const { ip, port } = parseInstance(request.body.instance);
      if (!c.cluster.instances.some((i) => i.ip === ip && i.port === port)) throw new HttpProblem(404, 'not_found', `${ip}:${port} is not an instance of ${c.name} (msec kv show ${c.name})`);
      idle(c);
      const live = (await readLive(redis, c.cluster)).instances.find((i) => i.ip === ip && i.port === port)!;
      if (live.role === 'down') throw new HttpProblem(409, 'conflict', `${ip}:${port} does not answer: recover the cluster instead (msec kv recover ${c.name})`);
      if (live.role === 'master') throw new HttpProblem(409, 'conflict', `${ip}:${port} is a master: fail over one of its replicas instead (as MSEC)`);
      if (!live.linkUp) throw new HttpProblem(409, 'conflict', `${ip}:${port} is not in sync with its master: wait for it or recover the cluster`);
      const taskId = uuidv7(ctx.clock());
      const outcome = await execute(c.name, { type: 'FailoverKvInstance', name: c.name, ip, port, taskId, atMs: ctx.clock() }, request);
      return commandAnswer(ctx, reply, outcome, 202, started(c.name, taskId));
    });

    app.delete<{ Params: { name: string } }>('/api/kv/:name', {
      config: { permission: 'agents.exec', serviceOf: noService }, schema: { tags: ['kv'], summary: 'Delete a cluster: every instance stopped and removed by its agent', params: nameParams, body: reasonOnly },
    }, async (request, reply) => {
      const c = view(request.params.name);
      const taskId = uuidv7(ctx.clock());
      const outcome = await execute(c.name, { type: 'DeleteKvCluster', name: c.name, taskId, atMs: ctx.clock() }, request);
      return commandAnswer(ctx, reply, outcome, 202, started(c.name, taskId));
    });
  };
}
