/**
 * Releases: a service's artifacts (versioned builds) and library files, release plans
 * (create, start, pause, resume, cancel, roll back, list, show — the plan page long-polls
 * for its next change), what each host runs now, and the capacity wizard (scale out/in).
 * Plans are carried out by the console's PlanRunner (apps/console/releases/plan-runner.ts).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  checkLibraryName, MAX_ARTIFACT_BYTES, MAX_LIBRARY_BYTES, newPlanId, releasePlanDecider, serviceReleasesDecider, checkPlanId,
  type ReleasePlanCommand, type ReleasePlanCreatedData, type ReleaseType,
} from '../../../domain/releases/index.ts';
import { parseIpv4, parseSecondLevelName, serviceDecider } from '../../../domain/services/index.ts';
import { streams } from '../../../domain/streams.ts';
import { refuse } from '../../../domain/decider.ts';
import { findPlan, listPlans, releasesProjection, serviceReleases, type PlanView } from '../../../projections/releases.ts';
import { findAgent } from '../../../projections/agents.ts';
import type { CommandMeta, CommandOutcome } from '../command-bus.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { abortOnClose, waitUntil } from '../long-poll.ts';
import { HttpProblem } from '../problems.ts';
import type { ConsoleAgentPlane } from '../agents/plane.ts';
import { stepId, type PlanRunner } from '../releases/plan-runner.ts';
import { issueCommand } from '../agents/command-issuer.ts';
import { sha256Hex } from '../../../adapters/signing/ed25519.ts';
import type { CatalogHost } from '../../../projections/catalog-state.ts';

const nameParams = { type: 'object', required: ['name'], properties: { name: schemas.serviceName } } as const;
const tagParams = { type: 'object', required: ['name', 'tag'], properties: { name: schemas.serviceName, tag: schemas.tag } } as const;
const fileParams = { type: 'object', required: ['name', 'file'], properties: { name: schemas.serviceName, file: { type: 'string', minLength: 1, maxLength: 128 } } } as const;
const planParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 40 } } } as const;
const reasonOnly = { type: ['object', 'null'], properties: { reason: schemas.reason }, additionalProperties: false } as const;
const uploadQuery = { type: 'object', additionalProperties: false, properties: { memo: { type: 'string', maxLength: 140 }, fileName: { type: 'string', maxLength: 255 } } } as const;

/** What a plan's creation takes (the CLI's flags, the wizard's form). */
export interface PlanRequest {
  service: string;
  hosts: string[];
  type?: ReleaseType;
  config?: string;
  idl?: string;
  artifact?: string;
  memo?: string;
  canary?: number;
  canaryAutoSeconds?: number;
  batch?: number;
  enable?: boolean;
  autoRollback?: boolean;
  healthTimeoutSeconds?: number;
  hostTimeoutSeconds?: number;
  drainSeconds?: number;
  reason?: string;
}

const planBody = {
  type: 'object', required: ['service', 'hosts'], additionalProperties: false,
  properties: {
    service: schemas.serviceName,
    hosts: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', maxLength: 21 } },
    type: { type: 'string', enum: ['complete', 'only_config', 'only_artifact', 'only_library'] },
    config: schemas.tag, idl: schemas.tag, artifact: schemas.tag,
    memo: { type: 'string', maxLength: 140 },
    canary: { type: 'integer', minimum: 0, maximum: 1000 },
    canaryAutoSeconds: { type: 'integer', minimum: 0, maximum: 86_400 },
    batch: { type: 'integer', minimum: 0, maximum: 1000 },
    enable: { type: 'boolean' }, autoRollback: { type: 'boolean' },
    healthTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 600 },
    hostTimeoutSeconds: { type: 'integer', minimum: 10, maximum: 86_400 },
    drainSeconds: { type: 'integer', minimum: 0, maximum: 600 },
    reason: schemas.reason,
  },
} as const;

export function releaseRoutes(ctx: ConsoleContext, plane: ConsoleAgentPlane, runner: PlanRunner | undefined) {
  const releases = () => ctx.reads.releases();
  const secondLevel = (name: string) => {
    const service = parseSecondLevelName(name).full;
    const detail = ctx.reads.service(service) as { hosts: CatalogHost[] } | undefined;
    if (!detail) throw new HttpProblem(404, 'not_found', `service ${service} does not exist (msec service list)`);
    return { service, hosts: detail.hosts };
  };
  const planOf = (id: string): PlanView => {
    const plan = findPlan(releases(), checkPlanId(id));
    if (!plan) throw new HttpProblem(404, 'not_found', `no release plan ${id} (msec release list)`);
    return plan;
  };

  /** The files of one kind: upload (checked before anything is stored), list, download, delete. */
  const upload = async (request: FastifyRequest, service: string, max: number, check: () => Promise<void>, add: (sha256: string, size: number) => Promise<CommandOutcome>) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) throw new HttpProblem(415, 'media-type', 'send the file as application/octet-stream');
    if (body.length === 0) throw new HttpProblem(400, 'invalid', 'the file is empty: send its bytes as the body');
    if (body.length > max) throw new HttpProblem(413, 'too-large', `the file is ${body.length} bytes; the limit is ${max}`);
    await check();
    const { sha256, size } = plane.blobs.put(body);
    return { outcome: await add(sha256, size), sha256, size, service };
  };

  return async (app: FastifyInstance) => {
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_ARTIFACT_BYTES }, (_request, body, done) => done(null, body));

    // ---- artifacts ----------------------------------------------------------------------------
    app.get<{ Params: { name: string } }>('/api/services/:name/artifacts', {
      config: { permission: 'read' }, schema: { tags: ['releases'], summary: 'Artifacts (versioned builds) of a service, oldest first', params: nameParams },
    }, async (request) => {
      const { service } = secondLevel(request.params.name);
      return { artifacts: serviceReleases(releases(), service).artifacts };
    });

    app.put<{ Params: { name: string; tag: string }; Querystring: { memo?: string; fileName?: string }; Body: Buffer }>('/api/services/:name/artifacts/:tag', {
      config: { permission: 'services.write' }, bodyLimit: MAX_ARTIFACT_BYTES,
      schema: { tags: ['releases'], summary: 'Upload an artifact under a tag (body: the .tgz, application/octet-stream; immutable once saved)', params: tagParams, querystring: uploadQuery },
    }, async (request, reply) => {
      const { service } = secondLevel(request.params.name);
      const meta = commandMeta(ctx, request);
      const body = request.body;
      const { outcome, sha256, size } = await upload(request, service, MAX_ARTIFACT_BYTES, async () => {
        // A .tgz starts with gzip's magic bytes: anything else would fail on every host.
        if (!Buffer.isBuffer(body) || body[0] !== 0x1f || body[1] !== 0x8b) throw new HttpProblem(400, 'invalid', 'an artifact is a gzip tar (.tgz) with an executable `start` at its top (npm run artifact builds one)');
        await decideOnly(serviceReleasesDecider, releasesState(service), { type: 'AddArtifact', service, tag: request.params.tag, sha256: '0'.repeat(64), size: body.length, memo: request.query.memo ?? '', fileName: '' });
      }, (sha, sz) => ctx.commands.execute(streams.releases(service), serviceReleasesDecider,
        { type: 'AddArtifact', service, tag: request.params.tag, sha256: sha, size: sz, memo: request.query.memo ?? '', fileName: request.query.fileName ?? '' }, meta));
      return commandAnswer(ctx, reply, outcome, 201, { service, tag: request.params.tag, sha256, size });
    });

    app.get<{ Params: { name: string; tag: string } }>('/api/services/:name/artifacts/:tag/content', {
      config: { permission: 'read' }, schema: { tags: ['releases'], summary: 'Download an artifact', params: tagParams },
    }, async (request, reply) => {
      const { service } = secondLevel(request.params.name);
      const a = serviceReleases(releases(), service).artifacts.find((x) => x.tag === request.params.tag);
      if (!a) throw new HttpProblem(404, 'not_found', `${service} has no artifact ${request.params.tag} (msec artifact list ${service})`);
      const bytes = plane.blobs.get(a.sha256);
      if (!bytes) throw new HttpProblem(410, 'gone', `the content of artifact ${a.tag} is missing or damaged in the console's file store: upload it again under a new tag`);
      return reply.type('application/gzip').header('content-disposition', `attachment; filename="${service}.${a.tag}.tgz"`).header('x-msec-sha256', a.sha256).send(bytes);
    });

    app.delete<{ Params: { name: string; tag: string } }>('/api/services/:name/artifacts/:tag', {
      config: { permission: 'services.write' }, schema: { tags: ['releases'], params: tagParams, body: reasonOnly },
    }, async (request, reply) => {
      const { service } = secondLevel(request.params.name);
      const running = serviceReleases(releases(), service).running;
      if (running && findPlan(releases(), running)?.plan.artifactTag === request.params.tag) {
        throw new HttpProblem(409, 'conflict', `release plan ${running} is releasing artifact ${request.params.tag}: wait for it to end`);
      }
      return commandAnswer(ctx, reply, await ctx.commands.execute(streams.releases(service), serviceReleasesDecider,
        { type: 'DeleteArtifact', service, tag: request.params.tag }, commandMeta(ctx, request)));
    });

    // ---- library files ------------------------------------------------------------------------
    app.get<{ Params: { name: string } }>('/api/services/:name/libraries', {
      config: { permission: 'read' }, schema: { tags: ['releases'], summary: 'Library files of a service (unversioned; released to bin/lib)', params: nameParams },
    }, async (request) => ({ libraries: serviceReleases(releases(), secondLevel(request.params.name).service).libraries }));

    app.put<{ Params: { name: string; file: string }; Querystring: { memo?: string }; Body: Buffer }>('/api/services/:name/libraries/:file', {
      config: { permission: 'services.write' }, bodyLimit: MAX_LIBRARY_BYTES,
      schema: { tags: ['releases'], summary: 'Upload a library file (replaces one of the same name)', params: fileParams, querystring: { type: 'object', additionalProperties: false, properties: { memo: { type: 'string', maxLength: 140 } } } },
    }, async (request, reply) => {
      const { service } = secondLevel(request.params.name);
      const meta = commandMeta(ctx, request);
      const name = request.params.file;
      const { outcome, sha256, size } = await upload(request, service, MAX_LIBRARY_BYTES, async () => {
        checkLibraryName(name);
        await decideOnly(serviceReleasesDecider, releasesState(service), { type: 'AddLibraryFile', service, name, sha256: '0'.repeat(64), size: (request.body as Buffer).length, memo: request.query.memo ?? '' });
      }, (sha, sz) => ctx.commands.execute(streams.releases(service), serviceReleasesDecider,
        { type: 'AddLibraryFile', service, name, sha256: sha, size: sz, memo: request.query.memo ?? '' }, meta));
      return commandAnswer(ctx, reply, outcome, 201, { service, name, sha256, size });
    });

    app.get<{ Params: { name: string; file: string } }>('/api/services/:name/libraries/:file/content', {
      config: { permission: 'read' }, schema: { tags: ['releases'], params: fileParams },
    }, async (request, reply) => {
      const { service } = secondLevel(request.params.name);
      const l = serviceReleases(releases(), service).libraries.find((x) => x.name === request.params.file);
      if (!l) throw new HttpProblem(404, 'not_found', `${service} has no library file ${request.params.file} (msec library list ${service})`);
      const bytes = plane.blobs.get(l.sha256);
      if (!bytes) throw new HttpProblem(410, 'gone', `the content of library file ${l.name} is missing or damaged in the console's file store: upload it again`);
      return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${l.name}"`).header('x-msec-sha256', l.sha256).send(bytes);
    });

    app.delete<{ Params: { name: string; file: string } }>('/api/services/:name/libraries/:file', {
      config: { permission: 'services.write' }, schema: { tags: ['releases'], params: fileParams, body: reasonOnly },
    }, async (request, reply) => {
      const { service } = secondLevel(request.params.name);
      return commandAnswer(ctx, reply, await ctx.commands.execute(streams.releases(service), serviceReleasesDecider,
        { type: 'DeleteLibraryFile', service, name: request.params.file }, commandMeta(ctx, request)));
    });

    // ---- plans --------------------------------------------------------------------------------
    app.post<{ Body: PlanRequest }>('/api/releases', {
      config: { permission: 'agents.exec', serviceOf: (request) => (request.body as { service?: string } | undefined)?.service },
      schema: { tags: ['releases'], summary: 'Create a release plan (hosts, versions, rollout); `start` carries it out', body: planBody },
    }, async (request, reply) => {
      const meta = commandMeta(ctx, request);
      const { data, configText } = planFrom(request.body, meta);
      const outcome = await createPlan(data, configText, meta, 0);
      return commandAnswer(ctx, reply, outcome, 201, { planId: data.planId });
    });

    app.get<{ Querystring: { service?: string; limit?: number } }>('/api/releases', {
      config: { permission: 'read', serviceOf: (request) => (request.query as { service?: string }).service },
      schema: { tags: ['releases'], summary: 'Release plans, newest first', querystring: { type: 'object', additionalProperties: false, properties: { service: schemas.serviceName, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } } },
    }, async (request) => {
      const service = request.query.service ? parseSecondLevelName(request.query.service).full : undefined;
      return { plans: listPlans(releases(), service).slice(0, request.query.limit ?? 100).map(summary) };
    });

    app.get<{ Params: { id: string }; Querystring: { after?: number; wait?: number } }>('/api/releases/:id', {
      config: { permission: 'read', serviceOf: (request) => findPlan(releases(), (request.params as { id: string }).id)?.plan.service },
      schema: {
        tags: ['releases'], summary: 'A release plan with every host\'s steps; ?after=<revision>&wait=<s> waits for a newer state (the live plan page)',
        params: planParams, querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'integer', minimum: -1 }, wait: { type: 'integer', minimum: 0, maximum: 60, default: 0 } } },
      },
    }, async (request) => {
      const { after, wait = 0 } = request.query;
      const newer = () => {
        const plan = planOf(request.params.id);
        return after === undefined || plan.revision > after ? plan : undefined;
      };
      const wakeups = (wake: () => void) => ctx.projections.onChange(releasesProjection.name, wake);
      return withLive((await waitUntil(newer, wait * 1000, abortOnClose(request), wakeups)) ?? planOf(request.params.id));
    });

    const planAction = (path: string, summaryText: string, run: (plan: PlanView, meta: CommandMeta) => Promise<CommandOutcome>) =>
      app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(`/api/releases/:id/${path}`, {
        config: { permission: 'agents.exec', serviceOf: (request) => findPlan(releases(), (request.params as { id: string }).id)?.plan.service },
        schema: { tags: ['releases'], summary: summaryText, params: planParams, body: reasonOnly },
      }, async (request, reply) => {
        const plan = planOf(request.params.id);
        const outcome = await run(plan, commandMeta(ctx, request));
        runner?.nudge(plan.planId);
        return commandAnswer(ctx, reply, outcome, 200, { planId: plan.planId });
      });

    const onPlan = (plan: PlanView, command: ReleasePlanCommand, meta: CommandMeta) =>
      ctx.commands.execute(streams.release(plan.planId), releasePlanDecider, command, meta);
    /** One plan at a time per service (MSEC's rule): held from start (or rollback) to the end. */
    const claimed = async (plan: PlanView, meta: CommandMeta, then: () => Promise<CommandOutcome>) => {
      await ctx.commands.execute(streams.releases(plan.plan.service), serviceReleasesDecider, { type: 'ClaimReleaseRun', service: plan.plan.service, planId: plan.planId }, part(meta, 'claim'));
      try {
        return await then();
      } catch (err) {
        await ctx.commands.execute(streams.releases(plan.plan.service), serviceReleasesDecider, { type: 'EndReleaseRun', service: plan.plan.service, planId: plan.planId }, part(meta, 'unclaim')).catch(() => undefined);
        throw err;
      }
    };
    planAction('start', 'Carry out a created plan', (plan, meta) => {
      const state = findPlan(releases(), plan.planId)!;
      if (state.status !== 'created') return onPlan(plan, { type: 'StartRelease', planId: plan.planId }, meta);
      return claimed(plan, meta, () => onPlan(plan, { type: 'StartRelease', planId: plan.planId }, meta));
    });
    planAction('pause', 'Pause: hosts under way finish, no new host starts', (plan, meta) => onPlan(plan, { type: 'PauseRelease', planId: plan.planId, why: 'operator' }, meta));
    planAction('resume', 'Resume a paused plan (also: go on after a healthy canary)', (plan, meta) => onPlan(plan, { type: 'ResumeRelease', planId: plan.planId }, meta));
    planAction('cancel', 'Cancel: no new host starts; the plan ends once hosts under way finish', (plan, meta) => onPlan(plan, { type: 'CancelRelease', planId: plan.planId }, meta));
    planAction('rollback', 'Roll back every host the plan released to its previous install', (plan, meta) => {
      const reason = meta.reason || `asked by ${meta.actor}`;
      if (findPlan(releases(), plan.planId)?.status === 'rolling_back') return onPlan(plan, { type: 'StartReleaseRollback', planId: plan.planId, reason }, meta);
      // A plan still carrying out holds the service already; an ended one takes it again.
      const holds = serviceReleases(releases(), plan.plan.service).running === plan.planId;
      return holds ? onPlan(plan, { type: 'StartReleaseRollback', planId: plan.planId, reason }, meta)
        : claimed(plan, meta, () => onPlan(plan, { type: 'StartReleaseRollback', planId: plan.planId, reason }, meta));
    });

    // ---- what runs where; capacity ----------------------------------------------------------------
    app.get<{ Params: { name: string } }>('/api/services/:name/installed', {
      config: { permission: 'read' }, schema: { tags: ['releases'], summary: 'What each host of the service runs now (from its agent) and how that differs from the latest versions', params: nameParams },
    }, async (request) => {
      const { service, hosts } = secondLevel(request.params.name);
      const live = new Map((await plane.live()).map((h) => [h.ip, h]));
      const configs = (ctx.reads.versions('config', service) ?? []) as { tag: string }[];
      const artifacts = serviceReleases(releases(), service).artifacts;
      const latest = { config: configs[configs.length - 1]?.tag ?? '', artifact: artifacts[artifacts.length - 1]?.tag ?? '' };
      return {
        service, latest,
        hosts: hosts.map((h) => {
          const running = live.get(h.ip)?.heartbeat?.services?.find((s) => s.service === service);
          let versions: { config?: string; idl?: string; artifact?: string } = {};
          try {
            versions = running ? JSON.parse(running.versionsJson || '{}') : {};
          } catch { /* an agent's text: shown as unknown */ }
          const agent = findAgent(ctx.reads.agents(), h.ip);
          return {
            ip: h.ip, port: h.port, enabled: h.enabled, agent: agent ? (agent.revoked ? 'revoked' : agent.down ? 'down' : 'enrolled') : 'none',
            installed: running ? {
              planId: running.planId, config: String(versions.config ?? ''), idl: String(versions.idl ?? ''), artifact: String(versions.artifact ?? ''),
              state: running.state, pid: running.pid, restarts: running.restarts, since: running.sinceMs ? new Date(running.sinceMs).toISOString() : null,
            } : null,
            behind: running ? [
              ...(latest.config && versions.config !== latest.config ? ['config'] : []),
              ...(latest.artifact && versions.artifact !== latest.artifact ? ['artifact'] : []),
            ] : ['not installed'],
          };
        }),
      };
    });

    app.post<{ Params: { name: string }; Body: { add?: string[]; remove?: string[]; template?: string; port?: number; drainSeconds?: number; reason?: string } }>('/api/services/:name/scale', {
      config: { permission: 'agents.exec' },
      schema: {
        tags: ['releases'], summary: 'Capacity wizard: add hosts (release the current versions to them, then enable them), or disable, uninstall and remove hosts',
        params: nameParams,
        body: {
          type: 'object', additionalProperties: false,
          properties: {
            add: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 15 } }, remove: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 15 } },
            template: { type: 'string', maxLength: 40 }, port: { type: 'integer', minimum: 1, maximum: 65535 }, drainSeconds: { type: 'integer', minimum: 0, maximum: 600 }, reason: schemas.reason,
          },
        },
      },
    }, async (request, reply) => {
      const { service, hosts } = secondLevel(request.params.name);
      const add = [...new Set((request.body.add ?? []).map(parseIpv4))];
      const remove = [...new Set((request.body.remove ?? []).map(parseIpv4))];
      if (!add.length && !remove.length) throw new HttpProblem(400, 'invalid', 'name hosts to add (--add IP,...) or to take out (--drop IP,...)');
      if (add.length && remove.length) throw new HttpProblem(400, 'invalid', 'add and remove hosts in two steps');
      const meta = commandMeta(ctx, request);
      if (remove.length) return reply.code(200).send(await scaleIn(service, hosts, remove, request.body.drainSeconds ?? 3, meta));
      const detail = ctx.reads.service(service) as { port: number };
      const port = request.body.port ?? detail.port;
      for (const ip of add) {
        if (hosts.some((h) => h.ip === ip)) throw new HttpProblem(409, 'conflict', `${ip} is a host of ${service} already`);
        const agent = findAgent(ctx.reads.agents(), ip);
        if (!agent || agent.revoked) throw new HttpProblem(409, 'conflict', `${ip} has no enrolled agent to install ${service}: msec agent token --ip ${ip}, then start the agent`);
      }
      const template = request.body.template ? planOf(request.body.template).plan : latestPlanOf(service);
      if (!template) throw new HttpProblem(409, 'conflict', `${service} has no succeeded release to copy: name one with --release PLAN (msec release list ${service})`);
      // Checked before any host is added: a plan that cannot be made leaves the catalog as it was.
      const { data: plan, configText } = planFrom({
        service, hosts: add.map((ip) => `${ip}:${port}`), type: 'complete', config: template.configTag || undefined, idl: template.idlTag || undefined,
        artifact: template.artifactTag || undefined, memo: `scale out (as ${template.planId})`, enable: true, autoRollback: false,
        healthTimeoutSeconds: Math.round(template.healthTimeoutMs / 1000), hostTimeoutSeconds: Math.round(template.hostTimeoutMs / 1000),
      }, meta, add.map((ip) => ({ ip, port })));
      for (const ip of add) {
        await ctx.commands.execute(streams.service(service), serviceDecider, { type: 'AddHost', service, ip, port, protocol: 'both' }, part(meta, 'add', ip));
      }
      await createPlan(plan, configText, meta, 0);
      const view = { planId: plan.planId, plan } as PlanView;
      const outcome = await claimed(view, meta, () => onPlan(view, { type: 'StartRelease', planId: plan.planId }, part(meta, 'start')));
      runner?.nudge(plan.planId);
      return commandAnswer(ctx, reply, outcome, 201, { planId: plan.planId, added: add });
    });
  };

  function releasesState(service: string) {
    return ctx.commands.state(streams.releases(service), serviceReleasesDecider);
  }

  /** The newest plan of the service that succeeded: what "the current versions" are. */
  function latestPlanOf(service: string): ReleasePlanCreatedData | undefined {
    return listPlans(releases(), service).find((p) => p.status === 'succeeded' && p.plan.releaseType === 'complete')?.plan;
  }

  /** The plan checked by its rules first, then its config stored by digest, then recorded: a refused plan stores nothing. */
  async function createPlan(data: ReleasePlanCreatedData, configText: Buffer | undefined, meta: CommandMeta, step: number) {
    releasePlanDecider.decide({ type: 'CreateReleasePlan', ...data }, releasePlanDecider.initialState());
    if (configText) plane.blobs.put(configText);
    return ctx.commands.execute(streams.release(data.planId), releasePlanDecider, { type: 'CreateReleasePlan', ...data }, meta, step);
  }

  /** A plan's data from a request: hosts from the catalog, the config by digest (its text beside), the artifact and library files by tag. */
  function planFrom(b: PlanRequest, meta: CommandMeta, newHosts: { ip: string; port: number }[] = []): { data: ReleasePlanCreatedData; configText?: Buffer } {
    const { service, hosts: catalog } = secondLevel(b.service);
    const known = [...catalog, ...newHosts];
    const hosts = b.hosts.map((text) => {
      const [ipText, portText] = String(text).split(':');
      const ip = parseIpv4(ipText ?? '');
      const matches = known.filter((h) => h.ip === ip && (portText === undefined || String(h.port) === portText));
      if (matches.length === 0) refuse('invalid', `${text} is not a host of ${service}: add it first (msec host add ${service} ${ip}:PORT), or use msec scale ${service} --add ${ip}`);
      if (matches.length > 1) refuse('invalid', `${ip} is a host of ${service} on ports ${matches.map((h) => h.port).join(' and ')}: name one as ${ip}:PORT`);
      return { ip, port: matches[0]!.port };
    });
    const files = serviceReleases(releases(), service);
    const type: ReleaseType = b.type ?? (b.artifact ? 'complete' : b.config ? 'only_config' : 'complete');
    let configText: Buffer | undefined;
    if (b.config) {
      const v = ctx.reads.version('config', service, b.config);
      if (!v) refuse('not_found', `${service} has no config version ${b.config} (msec config list ${service})`);
      configText = Buffer.from(v!.text, 'utf8');
    }
    if (b.idl && !ctx.reads.version('idl', service, b.idl)) refuse('not_found', `${service} has no IDL version ${b.idl} (msec idl list ${service})`);
    const artifact = b.artifact ? files.artifacts.find((a) => a.tag === b.artifact) : undefined;
    if (b.artifact && !artifact) refuse('not_found', `${service} has no artifact ${b.artifact} (msec artifact list ${service})`);
    const planId = newPlanId(meta.at, randomBytes(6).toString('base64url').toLowerCase().replace(/[^0-9a-z]/g, '0').slice(0, 6));
    const data: ReleasePlanCreatedData = {
      planId, service, releaseType: type, hosts,
      configTag: b.config ?? '', configSha256: configText ? sha256Hex(configText) : '', configSize: configText?.length ?? 0, idlTag: b.idl ?? '',
      artifactTag: artifact?.tag ?? '', artifactSha256: artifact?.sha256 ?? '', artifactSize: artifact?.size ?? 0,
      libraries: files.libraries.map((l) => ({ name: l.name, sha256: l.sha256, size: l.size })),
      canary: b.canary ?? 0, canaryAutoSeconds: b.canaryAutoSeconds ?? 0, batch: b.batch ?? 0,
      enable: b.enable ?? false, autoRollback: b.autoRollback ?? false,
      healthTimeoutMs: (b.healthTimeoutSeconds ?? 30) * 1000, hostTimeoutMs: (b.hostTimeoutSeconds ?? 600) * 1000,
      drainSeconds: b.drainSeconds ?? 3, memo: b.memo ?? '',
    };
    return configText ? { data, configText } : { data };
  }

  /** Scale in: out of routing, drained, uninstalled by the agent, removed from the service. */
  async function scaleIn(service: string, hosts: CatalogHost[], ips: string[], drainSeconds: number, meta: CommandMeta) {
    const targets = ips.map((ip) => hosts.find((h) => h.ip === ip) ?? refuse('not_found', `${ip} is not a host of ${service}`));
    for (const h of targets) await ctx.commands.execute(streams.service(service), serviceDecider, { type: 'DisableHost', service, ip: h.ip, port: h.port }, part(meta, 'disable', h.ip));
    if (drainSeconds > 0) await new Promise((r) => setTimeout(r, drainSeconds * 1000));
    const uninstalled: { ip: string; commandId: string }[] = [];
    for (const h of targets) {
      await ctx.commands.execute(streams.service(service), serviceDecider, { type: 'RemoveHost', service, ip: h.ip, port: h.port }, part(meta, 'remove', h.ip));
      const agent = findAgent(ctx.reads.agents(), h.ip);
      if (!agent || agent.revoked) continue;
      const [first, second] = service.split('.') as [string, string];
      const commandId = stepId(meta.commandId, h.ip, 'uninstall');
      const issued = await issueCommand(ctx.commands, plane.keys, {
        ip: h.ip, action: 'release', summary: `uninstall ${service} (scale in)`, paths: [`msec/${first}/${second}`], fileSha256: [],
        // Not a plan: the id only names the operation on the host (its log and journal).
        payload: { planId: `scale-in-${newPlanId(meta.at, 'drop00')}`, service, operation: 'uninstall', releaseType: '', artifact: null, config: null, libraries: [], port: h.port, healthTimeoutMs: 0, stopTimeoutMs: 10_000, versionsJson: '' },
      }, { ...meta, commandId });
      uninstalled.push({ ip: h.ip, commandId: issued.commandId });
    }
    return { ok: true, service, removed: targets.map((h) => h.ip), uninstall: uninstalled };
  }
}

/** One of several commands a request makes on one stream: each its own id (derived, so a retried request repeats nothing). */
function part(meta: CommandMeta, ...what: string[]): CommandMeta {
  return { ...meta, commandId: stepId(meta.commandId, ...what) };
}

/** A decider's verdict on the current state, without writing: bad input is refused before a file is stored. */
async function decideOnly<C, S>(decider: { decide(c: C, s: S): unknown }, state: Promise<S>, command: C): Promise<void> {
  decider.decide(command, await state);
}

function summary(p: PlanView) {
  const counts: Record<string, number> = {};
  for (const h of p.hosts) counts[h.state] = (counts[h.state] ?? 0) + 1;
  return {
    planId: p.planId, service: p.plan.service, type: p.plan.releaseType, status: p.status, hosts: p.hosts.length, counts,
    config: p.plan.configTag, idl: p.plan.idlTag, artifact: p.plan.artifactTag, memo: p.plan.memo,
    createdAt: p.createdAt, createdBy: p.createdBy, startedAt: p.startedAt, endedAt: p.endedAt, failedIps: p.failedIps,
  };
}

function withLive(p: PlanView) {
  return { ...p, summary: summary(p) };
}

