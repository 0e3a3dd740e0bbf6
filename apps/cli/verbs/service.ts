import { boolOpt, integerArg, strOpt, usageLine } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printDone, printJson, type Command, type Ctx, type MutationAnswer } from '../context.ts';
import { formatFields, formatTable, shortTime } from '../table.ts';
import { atOption, pastPointText, type PastPoint } from './route.ts';

/** `msec service create|list|show|delete`: the two-level service tree. */

export interface ServiceChild {
  name: string;
  fullName: string;
  kind: string;
  lang?: string;
  port?: number;
  hosts?: number;
  enabledHosts?: number;
}
export interface ServiceList {
  services: { name: string; kind: string; children: ServiceChild[] }[];
}
export interface HostView {
  ip: string;
  port: number;
  protocol: string;
  weight: number;
  enabled: boolean;
}
export interface VersionView {
  tag: string;
  memo?: string;
  size?: number;
  addedAt?: string;
  actor?: string;
}
export interface ServiceDetail {
  name: string;
  kind: string;
  lang?: string;
  port?: number;
  revision?: number;
  hosts?: HostView[];
  configs?: VersionView[];
  idls?: VersionView[];
  children?: ServiceChild[];
  /** With --at: the point of the log the answer is from. */
  at?: PastPoint;
}

/** MSEC's services listen on 7963 unless told otherwise. */
export const defaultServicePort = 7963;
export const defaultLang = 'typescript';

export function serviceListTable(ctx: Ctx, list: ServiceList): string {
  const rows = list.services.flatMap((first) =>
    first.children.length === 0
      ? [[first.name, first.kind, undefined, undefined, undefined, undefined]]
      : first.children.map((c) => [c.fullName, c.kind, c.lang, c.port, c.hosts, c.enabledHosts]),
  );
  if (rows.length === 0) return 'no services yet: msec service create First.Second\n';
  return formatTable(['NAME', 'KIND', 'LANG', 'PORT', 'HOSTS', 'ENABLED'], rows, { color: ctx.color });
}

export function versionTable(ctx: Ctx, versions: readonly VersionView[]): string {
  if (versions.length === 0) return '(none)\n';
  return formatTable(
    ['TAG', 'SIZE', 'ADDED', 'ACTOR', 'MEMO'],
    versions.map((v) => [v.tag, v.size, shortTime(v.addedAt), v.actor, v.memo]),
    { color: ctx.color },
  );
}

export function hostTable(ctx: Ctx, hosts: readonly HostView[]): string {
  if (hosts.length === 0) return '(none)\n';
  return formatTable(
    ['IP', 'PORT', 'PROTO', 'WEIGHT', 'STATUS'],
    hosts.map((h) => [h.ip, h.port, h.protocol, h.weight, h.enabled ? 'enabled' : 'disabled']),
    { color: ctx.color },
  );
}

export function serviceDetailText(ctx: Ctx, s: ServiceDetail): string {
  return serviceFieldsText(ctx, s) + (s.at ? `\n${pastPointText(s.at)}` : '');
}

function serviceFieldsText(ctx: Ctx, s: ServiceDetail): string {
  if (s.children) {
    const children = s.children.length === 0
      ? '(none)\n'
      : formatTable(['NAME', 'KIND', 'LANG', 'PORT', 'HOSTS', 'ENABLED'],
        s.children.map((c) => [c.fullName, c.kind, c.lang, c.port, c.hosts, c.enabledHosts]), { color: ctx.color });
    return formatFields([['name', s.name], ['kind', s.kind]]) + '\nSERVICES\n' + children;
  }
  return (
    formatFields([['name', s.name], ['kind', s.kind], ['lang', s.lang], ['port', s.port], ['revision', s.revision]]) +
    '\nHOSTS\n' + hostTable(ctx, s.hosts ?? []) +
    '\nCONFIGS\n' + versionTable(ctx, s.configs ?? []) +
    '\nIDLS\n' + versionTable(ctx, s.idls ?? [])
  );
}

const create: Command = {
  path: ['service', 'create'],
  summary: 'create a service (First or First.Second)',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  options: {
    odd: { type: 'boolean', help: 'a heterogeneous ("odd") service: IP:port and scaling only' },
    lang: { type: 'string', value: 'L', help: `development language (default ${defaultLang}; not sent for --odd)` },
    port: { type: 'string', value: 'P', help: `listen port (default ${defaultServicePort}, MSEC's; not sent for --odd)` },
  },
  notes: ['The console checks the name: First.Second, the first level is created when missing.'],
  async run(ctx, line) {
    const odd = boolOpt(line.opts, 'odd');
    const port = integerArg(strOpt(line.opts, 'port'), '--port', usageLine(this));
    const lang = strOpt(line.opts, 'lang');
    const body = odd
      ? { name: line.args.NAME, kind: 'odd', ...(lang !== undefined ? { lang } : {}), ...(port !== undefined ? { port } : {}) }
      : { name: line.args.NAME, kind: 'standard', lang: lang ?? defaultLang, port: port ?? defaultServicePort };
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('POST', '/api/services', { body, reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `created ${odd ? 'odd ' : ''}service ${line.args.NAME}`, answer);
  },
};

const list: Command = {
  path: ['service', 'list'],
  summary: 'list the services',
  kind: 'query',
  positionals: [],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.get<ServiceList>('/api/services');
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(serviceListTable(ctx, answer));
  },
};

const show: Command = {
  path: ['service', 'show'],
  summary: 'show a service: hosts, config and IDL versions (or the children of a first level)',
  kind: 'query',
  positionals: [{ name: 'NAME' }],
  options: { at: atOption },
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const at = strOpt(line.opts, 'at');
    const answer = await client.get<ServiceDetail>(`/api/services/${seg(line.args.NAME!)}`, at === undefined ? {} : { query: { at } });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(serviceDetailText(ctx, answer));
  },
};

const remove: Command = {
  path: ['service', 'delete'],
  summary: 'delete a service (refused while it has children or hosts)',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('DELETE', `/api/services/${seg(line.args.NAME!)}`, { reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `deleted service ${line.args.NAME}`, answer);
  },
};

export const serviceCommands: Command[] = [create, list, show, remove];
