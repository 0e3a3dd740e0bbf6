import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { integerArg, strOpt, usageLine } from '../args.ts';
import { seg, type ConsoleClient } from '../client.ts';
import { connect, connectStoppable, consoleUrl, printDone, printJson, type Command, type Ctx, type MutationAnswer } from '../context.ts';
import { CliError, readUpload, UsageError } from '../errors.ts';
import { formatTable, shortTime } from '../table.ts';

/**
 * Host agents from the command line: run one (`msec agent --ip IP --root DIR`), enrol and
 * revoke (`msec agent token|revoke`), the hosts view (`msec agents`), remote commands
 * (`msec exec`, `msec ps`, `msec push`, `msec pull`), the command keys (`msec keys`) and
 * capacity per service (`msec capacity`).
 */

interface AgentView {
  ip: string; state: string; hostname: string; agentVersion: string; agentKeyId: string; trustedKeyId: string; lastSeenAt: string | null;
  secondsSinceSeen: number | null;
  load: { cpuPercent: number; cpus: number; memUsedPercent: number | null; memTotalBytes: number; load1: number; processes: number; diskFreeBytes: number } | null;
  kvInstances?: { cluster: string; port: number; state: string }[];
}

/** "3" when every instance runs, "3 (1 backoff)" when some do not; "" without any. */
export function kvColumn(instances: { state: string }[] = []): string {
  if (!instances.length) return '';
  const other = new Map<string, number>();
  for (const i of instances) if (i.state !== 'running') other.set(i.state, (other.get(i.state) ?? 0) + 1);
  return other.size ? `${instances.length} (${[...other].map(([state, n]) => `${n} ${state}`).join(', ')})` : String(instances.length);
}

interface CommandStatus {
  status: 'waiting' | 'running' | 'completed' | 'refused';
  output: string; outputOffset: number; exitCode?: number; error?: string; timedOut?: boolean; reason?: string; detail?: string;
  durationMs?: number; outputBytes?: number; outputKeptBytes?: number; action?: string;
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)}G`;

const run: Command = {
  path: ['agent'],
  summary: 'run the agent of this host (enrol once with --token)',
  kind: 'local',
  positionals: [],
  options: {
    ip: { type: 'string', value: 'IP', help: 'the host this agent speaks for, and the address it reports (127.0.0.2, … for several on one machine)' },
    root: { type: 'string', value: 'DIR', help: 'where the agent keeps its key and state, and everything it installs' },
    token: { type: 'string', value: 'TOKEN', help: 'the one-time enrolment token (first start only; env MSEC_AGENT_TOKEN)' },
    console: { type: 'string', value: 'URL', help: 'the console (env MSEC_CONSOLE, default http://127.0.0.1:8080)' },
    heartbeat: { type: 'string', value: 'SECONDS', help: 'heartbeat period (default 20; down after 3 missed)' },
    'route-port': { type: 'string', value: 'PORT', help: 'UDP port of the local route lookup on --ip (default 2841; 0: off)' },
  },
  notes: [
    'With MSEC_BUS=kafka://… the agent takes its commands from msec.commands and sends reports to msec.reports.* directly;',
    'else both go through the console. Every command is checked against the control plane\'s signature first.',
  ],
  async run(ctx, line) {
    const usage = usageLine(run);
    const ip = strOpt(line.opts, 'ip');
    const root = strOpt(line.opts, 'root');
    if (!ip || !root) throw new UsageError('--ip and --root are required', usage);
    const heartbeatS = integerArg(strOpt(line.opts, 'heartbeat'), '--heartbeat', usage) ?? 20;
    if (heartbeatS < 1 || heartbeatS > 3600) throw new UsageError('--heartbeat must be 1 to 3600 seconds', usage);
    const routePort = integerArg(strOpt(line.opts, 'route-port'), '--route-port', usage) ?? 2841;
    const { startAgentProcess } = await import('../../agent/main.ts');
    const stop = ctx.stopSignal();
    let agent;
    try {
      agent = await startAgentProcess({
        ip, root: resolve(root), consoleUrl: consoleUrl(ctx, line), token: strOpt(line.opts, 'token') ?? ctx.env.MSEC_AGENT_TOKEN,
        busUrl: ctx.env.MSEC_BUS, heartbeatMs: heartbeatS * 1000, routePort,
      });
    } catch (err) {
      throw new CliError(`agent of ${ip}: ${(err as Error).message}`);
    }
    ctx.out(`msec agent: ${ip} running (key ${agent.keyId}, trusts command key ${agent.trustedKeyId}${agent.routePort ? `, routes on udp ${ip}:${agent.routePort}` : ''})\n`);
    await new Promise<void>((done) => (stop.aborted ? done() : stop.addEventListener('abort', () => done(), { once: true })));
    await agent.stop();
  },
};

const token: Command = {
  path: ['agent', 'token'],
  summary: 'make a one-time enrolment token for the agent of a host (prints it once)',
  kind: 'mutation',
  positionals: [],
  options: {
    ip: { type: 'string', value: 'IP', help: 'the host' },
    ttl: { type: 'string', value: 'SECONDS', help: 'how long the token is valid (default 3600, at most 86400)' },
  },
  async run(ctx, line) {
    const ip = strOpt(line.opts, 'ip');
    if (!ip) throw new UsageError('--ip is required', usageLine(token));
    const ttl = integerArg(strOpt(line.opts, 'ttl'), '--ttl', usageLine(token));
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer & { token: string; expiresAt: string }>('POST', '/api/agents/tokens', {
      body: { ip, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) }, reason: strOpt(line.opts, 'reason'),
    });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(`${answer.token}\n`);
    ctx.stderr.write(`token for the agent of ${ip}, valid until ${answer.expiresAt}, usable once: msec agent --ip ${ip} --root DIR --token …\n`);
  },
};

const revoke: Command = {
  path: ['agent', 'revoke'],
  summary: 'revoke the agent of a host: it is refused everything from now on',
  kind: 'mutation',
  positionals: [{ name: 'IP' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('POST', `/api/agents/${seg(line.args.IP!)}/revoke`, { reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `revoked the agent of ${line.args.IP}`, answer);
  },
};

const list: Command = {
  path: ['agents'],
  summary: 'the hosts view: every agent, alive or down, last seen, load, KV instances, version, key',
  kind: 'query',
  positionals: [],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.get<{ agents: AgentView[] }>('/api/agents');
    if (line.opts.json === true) return printJson(ctx, answer);
    if (answer.agents.length === 0) return ctx.out('no agents: make a token (msec agent token --ip IP) and start one\n');
    ctx.out(formatTable(['IP', 'STATE', 'LAST SEEN', 'CPU%', 'MEM%', 'LOAD1', 'PROCS', 'DISK FREE', 'KV', 'VERSION', 'HOST', 'KEY'],
      answer.agents.map((a) => [
        a.ip, a.state, a.lastSeenAt ? `${shortTime(a.lastSeenAt)}${a.secondsSinceSeen !== null ? ` (${a.secondsSinceSeen}s)` : ''}` : '-',
        a.load?.cpuPercent ?? '', a.load?.memUsedPercent ?? '', a.load?.load1 ?? '', a.load?.processes ?? '', a.load ? gib(a.load.diskFreeBytes) : '',
        kvColumn(a.kvInstances), a.agentVersion, a.hostname, a.agentKeyId,
      ]), { color: ctx.color }));
  },
};

/** Follows a command: prints its output as it comes (exact bytes on a pipe), and answers its status at the end. */
async function follow(ctx: Ctx, client: ConsoleClient, ip: string, commandId: string, print: boolean): Promise<CommandStatus> {
  let offset = 0;
  for (;;) {
    const s = await client.get<CommandStatus>(`/api/agents/${seg(ip)}/commands/${seg(commandId)}`, { query: { after: offset, wait: 25 }, timeoutMs: 40_000 });
    if (print && s.output) ctx.raw(s.output);
    offset = s.outputOffset;
    if (s.status === 'completed' || s.status === 'refused') return s;
  }
}

/** The exit status of `msec exec`: the remote one; 124 past the time limit (as timeout(1)); 127 not run. */
function exitOf(ctx: Ctx, ip: string, s: CommandStatus): number {
  if (s.status === 'refused') throw new CliError(`the agent of ${ip} refused the command: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
  if ((s.outputBytes ?? 0) > (s.outputKeptBytes ?? 0)) ctx.stderr.write(`msec: ${s.outputBytes! - s.outputKeptBytes!} more bytes of output were counted but not kept\n`);
  if (s.timedOut) {
    ctx.stderr.write(`msec: killed on ${ip} after its time limit (${s.durationMs} ms)\n`);
    return 124;
  }
  if (s.exitCode === undefined || s.exitCode < 0) {
    ctx.stderr.write(`msec: did not run on ${ip}: ${s.error || 'no exit code'}\n`);
    return 127;
  }
  return s.exitCode;
}

const exec: Command = {
  path: ['exec'],
  summary: 'run a command on a host through its agent; prints its output, exits with its exit code',
  kind: 'mutation',
  positionals: [{ name: 'IP' }, { name: 'CMD', rest: true }],
  options: {
    ttl: { type: 'string', value: 'SECONDS', help: 'how long the signed command is valid (default 300)' },
    timeout: { type: 'string', value: 'SECONDS', help: 'time limit of the run on the host (default 60)' },
    cwd: { type: 'string', value: 'DIR', help: 'working folder, relative to the agent root' },
  },
  notes: ['Example: msec exec 127.0.0.2 -- sh -c \'echo hi\'   (everything after -- is the command and its arguments)'],
  async run(ctx, line) {
    const usage = usageLine(exec);
    const ip = line.args.IP!;
    const argv = line.rest ?? [];
    const ttl = integerArg(strOpt(line.opts, 'ttl'), '--ttl', usage);
    const timeout = integerArg(strOpt(line.opts, 'timeout'), '--timeout', usage);
    const { client } = await connectStoppable(ctx, line);
    const issued = await client.send<MutationAnswer & { commandId: string }>('POST', `/api/agents/${seg(ip)}/commands`, {
      body: {
        action: 'exec', argv, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}), ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
        ...(strOpt(line.opts, 'cwd') ? { cwd: strOpt(line.opts, 'cwd') } : {}),
      },
      reason: strOpt(line.opts, 'reason'),
    });
    const status = await follow(ctx, client, ip, issued.commandId, line.opts.json !== true);
    if (line.opts.json === true) printJson(ctx, { commandId: issued.commandId, ...status });
    return exitOf(ctx, ip, status);
  },
};

interface ProcessRow { pid: number; ppid: number; user: string; cpuPercent: number; rssBytes: number; state: string; startedAtMs: number; command: string }

const isIp = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);

/** Runs a `ps` command on the host and answers its process list. */
async function processesOf(client: ConsoleClient, ip: string): Promise<ProcessRow[]> {
  const issued = await client.send<{ commandId: string }>('POST', `/api/agents/${seg(ip)}/commands`, { body: { action: 'ps' } });
  let status: CommandStatus;
  do status = await client.get<CommandStatus>(`/api/agents/${seg(ip)}/commands/${seg(issued.commandId)}`, { query: { wait: 25 }, timeoutMs: 40_000 });
  while (status.status !== 'completed' && status.status !== 'refused');
  if (status.status === 'refused') throw new CliError(`the agent of ${ip} refused the process list: ${status.reason}`);
  if (status.exitCode !== 0) throw new CliError(`the process list of ${ip} failed: ${status.error}`);
  return (await client.get<{ processes: ProcessRow[] }>(`/api/agents/${seg(ip)}/commands/${seg(issued.commandId)}/data`)).processes;
}

const ps: Command = {
  path: ['ps'],
  summary: 'the processes of a host, or of every host of a service',
  kind: 'mutation',
  positionals: [{ name: 'IP_OR_SERVICE' }],
  async run(ctx, line) {
    const target = line.args.IP_OR_SERVICE!;
    const client = await connect(ctx, line);
    let ips: string[];
    if (isIp(target)) ips = [target];
    else {
      const service = await client.get<{ hosts?: { ip: string }[] }>(`/api/services/${seg(target)}`);
      ips = [...new Set((service.hosts ?? []).map((h) => h.ip))];
      if (ips.length === 0) throw new CliError(`${target} has no hosts`);
    }
    const results = await Promise.all(ips.map(async (ip) => {
      try {
        return { ip, processes: await processesOf(client, ip) };
      } catch (err) {
        return { ip, error: (err as Error).message, processes: [] as ProcessRow[] };
      }
    }));
    if (line.opts.json === true) return printJson(ctx, { hosts: results });
    for (const r of results) if ('error' in r) ctx.stderr.write(`msec: ${r.ip}: ${r.error}\n`);
    ctx.out(formatTable(['HOST', 'PID', 'PPID', 'USER', 'CPU%', 'RSS', 'STATE', 'STARTED', 'COMMAND'],
      results.flatMap((r) => r.processes.map((p) => [
        r.ip, p.pid, p.ppid, p.user, p.cpuPercent, `${Math.round(p.rssBytes / 1024)}K`, p.state, shortTime(new Date(p.startedAtMs).toISOString()), p.command.slice(0, 120),
      ])), { color: ctx.color }));
    return results.some((r) => 'error' in r) ? 1 : 0;
  },
};

const push: Command = {
  path: ['push'],
  summary: 'push a file to a path under a host agent\'s root (checked by digest before it is written)',
  kind: 'mutation',
  positionals: [{ name: 'IP' }, { name: 'FILE' }, { name: 'PATH' }],
  options: { mode: { type: 'string', value: 'MODE', help: 'file mode, octal (default 644)' } },
  async run(ctx, line) {
    const ip = line.args.IP!;
    const bytes = readUpload(line.args.FILE!, usageLine(push));
    const client = await connect(ctx, line);
    const issued = await client.send<MutationAnswer & { commandId: string; sha256: string }>('PUT', `/api/agents/${seg(ip)}/files`, {
      rawBody: bytes, query: { path: line.args.PATH!, ...(strOpt(line.opts, 'mode') ? { mode: strOpt(line.opts, 'mode') } : {}) },
    });
    const status = await follow(ctx, client, ip, issued.commandId, false);
    if (line.opts.json === true) printJson(ctx, status);
    if (status.status === 'refused' || status.exitCode !== 0) return exitOf(ctx, ip, status) || 1;
    if (line.opts.json !== true) ctx.out(`pushed ${line.args.FILE} to ${ip}:${line.args.PATH} (${bytes.length} bytes, sha256 ${issued.sha256})\n`);
    return 0;
  },
};

const pull: Command = {
  path: ['pull'],
  summary: 'fetch a file under a host agent\'s root',
  kind: 'mutation',
  positionals: [{ name: 'IP' }, { name: 'PATH' }],
  options: { out: { type: 'string', value: 'FILE', help: 'write it here (default: stdout)' } },
  async run(ctx, line) {
    const ip = line.args.IP!;
    const client = await connect(ctx, line);
    const issued = await client.send<{ commandId: string }>('POST', `/api/agents/${seg(ip)}/commands`, { body: { action: 'pull_file', path: line.args.PATH! } });
    const status = await follow(ctx, client, ip, issued.commandId, false);
    if (status.status === 'refused' || status.exitCode !== 0) return exitOf(ctx, ip, status) || 1;
    const data = await client.request('GET', `/api/agents/${seg(ip)}/commands/${seg(issued.commandId)}/data`);
    const out = strOpt(line.opts, 'out');
    if (out) writeFileSync(out, data.bytes);
    else ctx.raw(data.bytes.toString('latin1'));
    return 0;
  },
};

const keysList: Command = {
  path: ['keys', 'list'],
  summary: 'the command keys, the current one, and which agents acknowledged each',
  kind: 'query',
  positionals: [],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.get<{ current: string; keys: { keyId: string; previousKeyId: string; introducedAt: string; current: boolean; agents: string[] }[]; agentsBehind: { ip: string; trusts: string | null }[] }>('/api/keys');
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(formatTable(['KEY', 'STATE', 'INTRODUCED', 'AFTER', 'AGENTS TRUSTING IT'],
      answer.keys.map((k) => [k.keyId, k.current ? 'current' : 'retired', shortTime(k.introducedAt), k.previousKeyId, k.agents.join(', ')]), { color: ctx.color }));
    if (answer.agentsBehind.length) ctx.out(`not yet on the current key: ${answer.agentsBehind.map((a) => `${a.ip} (${a.trusts ?? 'unknown'})`).join(', ')}\n`);
  },
};

const keysRotate: Command = {
  path: ['keys', 'rotate'],
  summary: 'make a new command key (announced to agents, signed by the current one); the old one is retired',
  kind: 'mutation',
  positionals: [],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer & { keyId: string; previousKeyId: string }>('POST', '/api/keys/rotate', { reason: strOpt(line.opts, 'reason') });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(`command key ${answer.keyId} now signs (after ${answer.previousKeyId}); agents follow at their next heartbeat: msec keys list shows who did\n`);
  },
};

const capacity: Command = {
  path: ['capacity'],
  summary: 'capacity per service: hosts, alive hosts, average CPU and memory of its hosts',
  kind: 'query',
  positionals: [{ name: 'SERVICE', optional: true }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    type Cap = { service: string; hosts: number; enabledHosts: number; alive: number; down: number; withAgent: number; avgCpuPercent: number | null; avgMemUsedPercent: number | null; hostsDetail: { ip: string; state: string; cpuPercent: number | null; memUsedPercent: number | null }[] };
    const rows: Cap[] = line.args.SERVICE
      ? [await client.get<Cap>(`/api/capacity/${seg(line.args.SERVICE)}`)]
      : (await client.get<{ services: Cap[] }>('/api/capacity')).services;
    if (line.opts.json === true) return printJson(ctx, line.args.SERVICE ? rows[0] : { services: rows });
    ctx.out(formatTable(['SERVICE', 'HOSTS', 'ENABLED', 'AGENTS', 'ALIVE', 'DOWN', 'AVG CPU%', 'AVG MEM%'],
      rows.map((c) => [c.service, c.hosts, c.enabledHosts, c.withAgent, c.alive, c.down, c.avgCpuPercent ?? '', c.avgMemUsedPercent ?? '']), { color: ctx.color }));
    if (line.args.SERVICE) {
      ctx.out(formatTable(['HOST', 'STATE', 'CPU%', 'MEM%'], rows[0]!.hostsDetail.map((h) => [h.ip, h.state, h.cpuPercent ?? '', h.memUsedPercent ?? '']), { color: ctx.color }));
    }
  },
};

export const agentCommands: Command[] = [run, token, revoke, list, exec, ps, push, pull, keysList, keysRotate, capacity];

