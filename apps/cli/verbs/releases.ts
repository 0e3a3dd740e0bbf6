/**
 * `msec artifact …`, `msec library …`, `msec release …` and `msec scale`: a service's builds
 * and library files, release plans carried out by the hosts' agents (progress streamed while
 * they run), and the capacity wizard.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { boolOpt, integerArg, strOpt, usageLine } from '../args.ts';
import { seg, type ConsoleClient } from '../client.ts';
import { connect, connectStoppable, printDone, printJson, type Command, type Ctx, type MutationAnswer } from '../context.ts';
import { readUpload, UsageError } from '../errors.ts';
import { formatTable, shortTime } from '../table.ts';

const sizeText = (n: number) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)}M` : n >= 1024 ? `${Math.round(n / 1024)}K` : `${n}B`);

interface FileRow { tag?: string; name?: string; sha256: string; size: number; memo: string; addedAt: string; addedBy: string }

/** put, list, get and delete for one kind of service file (artifacts by tag, library files by name). */
function fileCommands(k: { group: 'artifact' | 'library'; route: 'artifacts' | 'libraries'; key: 'TAG' | 'NAME'; what: string }): Command[] {
  const base = (service: string) => `/api/services/${seg(service)}/${k.route}`;
  const put: Command = {
    path: [k.group, 'put'],
    summary: k.group === 'artifact' ? 'upload FILE.tgz as artifact TAG of SERVICE (a build with an executable `start` at its top)' : 'upload FILE as library file of SERVICE (released to bin/lib/)',
    kind: 'mutation',
    positionals: k.group === 'artifact' ? [{ name: 'SERVICE' }, { name: 'TAG' }, { name: 'FILE' }] : [{ name: 'SERVICE' }, { name: 'FILE' }],
    options: {
      memo: { type: 'string', value: 'M', help: 'a note shown beside it' },
      ...(k.group === 'library' ? { name: { type: 'string', value: 'NAME', help: 'its name on the hosts (default: the file\'s name)' } } : {}),
    },
    notes: k.group === 'artifact' ? ['Artifacts are immutable: a tag is written once. `npm run artifact` in a dev package builds one.'] : ['A library file of the same name is replaced (library files are not versioned).'],
    async run(ctx, line) {
      const file = line.args.FILE!;
      const bytes = readUpload(file, usageLine(put));
      const memo = strOpt(line.opts, 'memo');
      const id = k.group === 'artifact' ? line.args.TAG! : strOpt(line.opts, 'name') ?? basename(file);
      const client = await connect(ctx, line);
      const answer = await client.send<MutationAnswer & { sha256: string; size: number }>('PUT', `${base(line.args.SERVICE!)}/${seg(id)}`, {
        rawBody: bytes, query: { ...(memo !== undefined ? { memo } : {}), ...(k.group === 'artifact' ? { fileName: basename(file) } : {}) }, reason: strOpt(line.opts, 'reason'), timeoutMs: 600_000,
      });
      printDone(ctx, line, `stored ${k.what} ${id} of ${line.args.SERVICE} (${sizeText(answer.size)}, sha256 ${answer.sha256})`, answer);
    },
  };
  const list: Command = {
    path: [k.group, 'list'],
    summary: `list the ${k.what}s of SERVICE`,
    kind: 'query',
    positionals: [{ name: 'SERVICE' }],
    async run(ctx, line) {
      const client = await connect(ctx, line);
      const answer = await client.get<Record<string, FileRow[]>>(base(line.args.SERVICE!));
      if (line.opts.json === true) return printJson(ctx, answer);
      ctx.out(formatTable([k.key, 'SIZE', 'SHA256', 'ADDED', 'BY', 'MEMO'],
        (answer[k.route] ?? []).map((f) => [f.tag ?? f.name, sizeText(f.size), f.sha256.slice(0, 12), shortTime(f.addedAt), f.addedBy, f.memo]), { color: ctx.color }));
    },
  };
  const get: Command = {
    path: [k.group, 'get'],
    summary: `download a ${k.what} of SERVICE`,
    kind: 'query',
    positionals: [{ name: 'SERVICE' }, { name: k.key }],
    options: { out: { type: 'string', value: 'FILE', help: 'write it here (default: stdout)' } },
    async run(ctx, line) {
      const client = await connect(ctx, line);
      const data = await client.request('GET', `${base(line.args.SERVICE!)}/${seg(line.args[k.key]!)}/content`, { timeoutMs: 600_000 });
      const out = strOpt(line.opts, 'out');
      if (out) {
        writeFileSync(out, data.bytes);
        ctx.stderr.write(`wrote ${out} (${data.bytes.length} bytes)\n`);
      } else ctx.raw(data.bytes.toString('latin1'));
    },
  };
  const del: Command = {
    path: [k.group, 'delete'],
    summary: `delete a ${k.what} of SERVICE`,
    kind: 'mutation',
    positionals: [{ name: 'SERVICE' }, { name: k.key }],
    async run(ctx, line) {
      const client = await connect(ctx, line);
      const answer = await client.send<MutationAnswer>('DELETE', `${base(line.args.SERVICE!)}/${seg(line.args[k.key]!)}`, { reason: strOpt(line.opts, 'reason') });
      printDone(ctx, line, `deleted ${k.what} ${line.args[k.key]} of ${line.args.SERVICE}`, answer);
    },
  };
  return [put, list, get, del];
}

// ---- plans --------------------------------------------------------------------------------------

interface HostView { ip: string; port: number; state: string; steps: { operation: string; step: string; ok: boolean; detail: string; at: string }[]; error: string; output: string }
interface PlanView {
  planId: string; status: string; pausedWhy: string; rollbackReason: string; detail: string; failedIps: string[]; revision: number; createdBy: string; createdAt: string;
  plan: { service: string; releaseType: string; configTag: string; idlTag: string; artifactTag: string; canary: number; batch: number; enable: boolean; autoRollback: boolean; memo: string };
  hosts: HostView[];
}

const finals = new Set(['succeeded', 'failed', 'partially_failed', 'cancelled', 'rolled_back', 'rollback_failed']);
const words = (s: string) => s.replaceAll('_', ' ');

function printPlan(ctx: Ctx, p: PlanView): void {
  const v = p.plan;
  ctx.out(`release plan ${p.planId} of ${v.service}: ${words(p.status)}${p.pausedWhy === 'canary' ? ' (the canary is healthy: msec release resume to go on)' : ''}\n`);
  ctx.out(`  ${words(v.releaseType)}: ${[v.configTag && `config ${v.configTag}`, v.idlTag && `IDL ${v.idlTag}`, v.artifactTag && `artifact ${v.artifactTag}`].filter(Boolean).join(', ') || '-'}`
    + `${v.canary ? `; canary ${v.canary}` : ''}${v.batch ? `; batch ${v.batch}` : ''}${v.enable ? '; routing follows' : ''}${v.autoRollback ? '; automatic rollback' : ''}\n`);
  if (v.memo) ctx.out(`  memo: ${v.memo}\n`);
  if (p.rollbackReason) ctx.out(`  rollback: ${p.rollbackReason}\n`);
  if (p.detail) ctx.out(`  ${p.detail}\n`);
  ctx.out(formatTable(['HOST', 'STATE', 'LAST STEP', 'DETAIL'], p.hosts.map((h) => {
    const last = h.steps[h.steps.length - 1];
    return [`${h.ip}:${h.port}`, h.state, last ? `${last.operation} ${last.step}${last.ok ? '' : ' (failed)'}` : '', h.error || last?.detail || ''];
  }), { color: ctx.color }));
  for (const h of p.hosts) if (h.output && (h.state === 'failed' || h.state === 'rollback-failed')) ctx.out(`--- output of ${h.ip} ---\n${h.output.trimEnd()}\n`);
}

/**
 * Follows a plan until it ends or pauses: each host's output while its agent works (what the
 * agent streams), and each step once recorded.
 */
async function follow(ctx: Ctx, client: ConsoleClient, planId: string, quiet: boolean): Promise<PlanView> {
  let revision = -1;
  const printed = new Map<string, number>();
  const streamed = new Map<string, number>();
  for (;;) {
    const working = revision >= 0 && !quiet;
    const p = await client.get<PlanView & { hosts: (HostView & { installCommand: string; rollbackCommand: string })[] }>(`/api/releases/${seg(planId)}`, { query: { after: revision, wait: working ? 1 : 25 }, timeoutMs: 40_000 });
    revision = p.revision;
    if (!quiet) {
      for (const h of p.hosts) {
        const command = h.state === 'installing' ? h.installCommand : h.state === 'rolling-back' ? h.rollbackCommand : '';
        if (command) {
          const after = streamed.get(command) ?? 0;
          const out = await client.get<{ output?: string; outputOffset?: number }>(`/api/agents/${seg(h.ip)}/commands/${seg(command)}`, { query: { after } }).catch(() => undefined);
          if (out?.output) {
            for (const text of out.output.split('\n').filter(Boolean)) ctx.out(`${h.ip}  | ${text}\n`);
            streamed.set(command, out.outputOffset ?? after + Buffer.byteLength(out.output));
          }
        }
        const seen = printed.get(h.ip) ?? 0;
        for (const s of h.steps.slice(seen)) ctx.out(`${h.ip}  ${s.operation} ${s.step}${s.ok ? '' : ' FAILED'}: ${s.detail.split('\n')[0]}\n`);
        printed.set(h.ip, h.steps.length);
      }
    }
    if (finals.has(p.status) || p.status === 'paused') return p;
  }
}

function exitFor(p: PlanView, want: string[]): number {
  return want.includes(p.status) ? 0 : 1;
}

const create: Command = {
  path: ['release', 'create'],
  summary: 'make a release plan: which hosts get which versions, and how to roll out; prints the plan id',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }],
  options: {
    hosts: { type: 'string', value: 'IP[,IP...]', help: 'hosts of the service (IP or IP:PORT)' },
    config: { type: 'string', value: 'TAG', help: 'config version' },
    idl: { type: 'string', value: 'TAG', help: 'IDL version (recorded with the install)' },
    artifact: { type: 'string', value: 'TAG', help: 'artifact (msec artifact list)' },
    type: { type: 'string', value: 'TYPE', help: 'complete | only_config | only_artifact | only_library (default: complete, or only_config with --config alone)' },
    memo: { type: 'string', value: 'M', help: 'a note' },
    canary: { type: 'string', value: 'N', help: 'release N hosts first, then wait for msec release resume' },
    auto: { type: 'string', value: 'SECONDS', help: 'with --canary: go on by itself after the canary is healthy this long' },
    batch: { type: 'string', value: 'N', help: 'then N hosts at a time (default: all the rest at once)' },
    enable: { type: 'boolean', help: 'take each host out of routing before it stops, put it back once healthy' },
    'auto-rollback': { type: 'boolean', help: 'a failed host (or an alarm of the service) rolls back every host released so far' },
    drain: { type: 'string', value: 'SECONDS', help: 'with --enable: wait between taking a host out of routing and stopping it (default 3)' },
    'health-timeout': { type: 'string', value: 'SECONDS', help: 'the service\'s port must answer within this (default 30)' },
    'host-timeout': { type: 'string', value: 'SECONDS', help: 'a host whose agent has not answered by then has failed (default 600)' },
  },
  async run(ctx, line) {
    const usage = usageLine(create);
    const hosts = (strOpt(line.opts, 'hosts') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (hosts.length === 0) throw new UsageError('name the hosts: --hosts IP[,IP...]', usage);
    const int = (name: string) => integerArg(strOpt(line.opts, name), `--${name}`, usage);
    const body: Record<string, unknown> = { service: line.args.SERVICE!, hosts };
    for (const [flag, key] of [['config', 'config'], ['idl', 'idl'], ['artifact', 'artifact'], ['type', 'type'], ['memo', 'memo']] as const) {
      const v = strOpt(line.opts, flag);
      if (v !== undefined) body[key] = v;
    }
    for (const [flag, key] of [['canary', 'canary'], ['auto', 'canaryAutoSeconds'], ['batch', 'batch'], ['drain', 'drainSeconds'], ['health-timeout', 'healthTimeoutSeconds'], ['host-timeout', 'hostTimeoutSeconds']] as const) {
      const v = int(flag);
      if (v !== undefined) body[key] = v;
    }
    if (boolOpt(line.opts, 'enable')) body.enable = true;
    if (boolOpt(line.opts, 'auto-rollback')) body.autoRollback = true;
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer & { planId: string }>('POST', '/api/releases', { body, reason: strOpt(line.opts, 'reason') });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(`${answer.planId}\n`);
  },
};

function planVerb(name: 'start' | 'pause' | 'resume' | 'cancel' | 'rollback', summary: string, waitFor?: string[]): Command {
  const spec: Command = {
    path: ['release', name],
    summary,
    kind: 'mutation',
    positionals: [{ name: 'ID' }],
    options: waitFor ? { wait: { type: 'boolean', help: 'follow it, printing each host\'s steps, until it ends (or pauses); exit 0 only if it ' + waitFor.map(words).join(' or ') } } : {},
    async run(ctx, line) {
      const id = line.args.ID!;
      const { client } = await connectStoppable(ctx, line);
      const answer = await client.send<MutationAnswer>('POST', `/api/releases/${seg(id)}/${name}`, { reason: strOpt(line.opts, 'reason') });
      if (!waitFor || !boolOpt(line.opts, 'wait')) return printDone(ctx, line, `release plan ${id}: ${name} asked`, answer);
      const end = await follow(ctx, client, id, line.opts.json === true);
      if (line.opts.json === true) printJson(ctx, end);
      else printPlan(ctx, end);
      return exitFor(end, [...waitFor, ...(end.status === 'paused' && end.pausedWhy === 'canary' ? ['paused'] : [])]);
    },
  };
  return spec;
}

const show: Command = {
  path: ['release', 'show'],
  summary: 'a release plan: its state and every host\'s steps (with the output of a failed host)',
  kind: 'query',
  positionals: [{ name: 'ID' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const p = await client.get<PlanView>(`/api/releases/${seg(line.args.ID!)}`);
    if (line.opts.json === true) return printJson(ctx, p);
    printPlan(ctx, p);
  },
};

const wait: Command = {
  path: ['release', 'wait'],
  summary: 'follow a plan until it ends or pauses; exit 0 if it succeeded (or was rolled back as asked)',
  kind: 'query',
  positionals: [{ name: 'ID' }],
  async run(ctx, line) {
    const { client } = await connectStoppable(ctx, line);
    const end = await follow(ctx, client, line.args.ID!, line.opts.json === true);
    if (line.opts.json === true) printJson(ctx, end);
    else printPlan(ctx, end);
    return exitFor(end, ['succeeded', 'rolled_back', 'paused']);
  },
};

const list: Command = {
  path: ['release', 'list'],
  summary: 'release plans, newest first (of one service, or all)',
  kind: 'query',
  positionals: [{ name: 'SERVICE', optional: true }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    type Row = { planId: string; service: string; type: string; status: string; hosts: number; config: string; artifact: string; createdAt: string; createdBy: string; failedIps: string[] };
    const answer = await client.get<{ plans: Row[] }>('/api/releases', { query: { service: line.args.SERVICE } });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(formatTable(['PLAN', 'SERVICE', 'TYPE', 'STATE', 'HOSTS', 'CONFIG', 'ARTIFACT', 'CREATED', 'BY', 'FAILED'],
      answer.plans.map((p) => [p.planId, p.service, words(p.type), words(p.status), p.hosts, p.config, p.artifact, shortTime(p.createdAt), p.createdBy, p.failedIps.join(',')]), { color: ctx.color }));
  },
};

const installed: Command = {
  path: ['release', 'hosts'],
  summary: 'what each host of SERVICE runs now (from its agent), and what is behind the latest versions',
  kind: 'query',
  positionals: [{ name: 'SERVICE' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    type Row = { ip: string; port: number; enabled: boolean; agent: string; installed: { config: string; artifact: string; state: string; restarts: number; planId: string } | null; behind: string[] };
    const answer = await client.get<{ latest: { config: string; artifact: string }; hosts: Row[] }>(`/api/services/${seg(line.args.SERVICE!)}/installed`);
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(`latest: config ${answer.latest.config || '-'}, artifact ${answer.latest.artifact || '-'}\n`);
    ctx.out(formatTable(['HOST', 'ROUTED', 'AGENT', 'STATE', 'CONFIG', 'ARTIFACT', 'RESTARTS', 'PLAN', 'BEHIND'],
      answer.hosts.map((h) => [`${h.ip}:${h.port}`, h.enabled ? 'yes' : 'no', h.agent, h.installed?.state, h.installed?.config, h.installed?.artifact, h.installed?.restarts, h.installed?.planId, h.behind.join(', ')]), { color: ctx.color }));
  },
};

const scale: Command = {
  path: ['scale'],
  summary: 'capacity wizard: add hosts (install the current release, then route to them), or take hosts out (drain, uninstall, remove)',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }],
  options: {
    add: { type: 'string', value: 'IP[,IP...]', help: 'hosts to add' },
    drop: { type: 'string', value: 'IP[,IP...]', help: 'hosts to take out' },
    release: { type: 'string', value: 'PLAN', help: 'with --add: release the versions of this plan (default: the newest succeeded complete release)' },
    port: { type: 'string', value: 'PORT', help: 'with --add: the service\'s port on them (default: the service\'s)' },
    drain: { type: 'string', value: 'SECONDS', help: 'with --drop: between taking hosts out of routing and stopping them (default 3)' },
    wait: { type: 'boolean', help: 'with --add: follow the release until it ends' },
  },
  async run(ctx, line) {
    const usage = usageLine(scale);
    const list = (name: string) => (strOpt(line.opts, name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const add = list('add');
    const remove = list('drop');
    if (!add.length && !remove.length) throw new UsageError('name hosts: --add IP[,IP...] or --drop IP[,IP...]', usage);
    const port = integerArg(strOpt(line.opts, 'port'), '--port', usage);
    const drain = integerArg(strOpt(line.opts, 'drain'), '--drain', usage);
    const { client } = await connectStoppable(ctx, line);
    const answer = await client.send<MutationAnswer & { planId?: string; removed?: string[] }>('POST', `/api/services/${seg(line.args.SERVICE!)}/scale`, {
      body: { ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}), ...(strOpt(line.opts, 'release') ? { template: strOpt(line.opts, 'release') } : {}), ...(port !== undefined ? { port } : {}), ...(drain !== undefined ? { drainSeconds: drain } : {}) },
      reason: strOpt(line.opts, 'reason'), timeoutMs: 700_000,
    });
    if (answer.removed) {
      if (line.opts.json === true) return printJson(ctx, answer);
      ctx.out(`took ${answer.removed.join(', ')} out of ${line.args.SERVICE}: out of routing, removed, uninstall sent to their agents\n`);
      return 0;
    }
    if (!boolOpt(line.opts, 'wait')) {
      if (line.opts.json === true) return printJson(ctx, answer);
      ctx.out(`${answer.planId}\n`);
      return 0;
    }
    const end = await follow(ctx, client, answer.planId!, line.opts.json === true);
    if (line.opts.json === true) printJson(ctx, end);
    else printPlan(ctx, end);
    return exitFor(end, ['succeeded']);
  },
};

export const releaseCommands: Command[] = [
  ...fileCommands({ group: 'artifact', route: 'artifacts', key: 'TAG', what: 'artifact' }),
  ...fileCommands({ group: 'library', route: 'libraries', key: 'NAME', what: 'library file' }),
  create,
  planVerb('start', 'carry out a plan', ['succeeded']),
  planVerb('pause', 'pause a plan: hosts under way finish, no new host starts'),
  planVerb('resume', 'resume a paused plan (after a healthy canary: go on)', ['succeeded']),
  planVerb('cancel', 'cancel a plan: no new host starts'),
  planVerb('rollback', 'put every host the plan released back on its previous install', ['rolled_back']),
  show, wait, list, installed, scale,
];
