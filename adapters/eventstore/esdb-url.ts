/**
 * MSEC_EVENTSTORE=esdb://… → the settings of an EventStoreDB client. We parse the URL here
 * instead of handing it to EventStoreDBClient.connectionString(), because that parser prints
 * the whole connection string (password included) in its warnings and errors.
 *
 *   esdb://[user:password@]host[:port][,host2[:port]…][?key=value&…]   one node, or a cluster by gossip seeds
 *   esdb+discover://[user:password@]dns-name[:port][?key=value&…]     a cluster found through DNS
 *
 * The port defaults to 2113 and TLS is on unless `tls=false` (as in EventStoreDB's own
 * connection strings). Credentials come from the URL (percent-encoded) or, when it has none,
 * from MSEC_EVENTSTORE_USERNAME + MSEC_EVENTSTORE_PASSWORD. Nothing here logs them.
 */
import type { ChannelCredentialOptions, Credentials, DNSClusterOptions, EndPoint, GossipClusterOptions, NodePreference, SingleNodeOptions } from '@eventstore/db-client';

export type EsdbNodeSettings = SingleNodeOptions | GossipClusterOptions | DNSClusterOptions;

export interface EsdbConnection {
  settings: EsdbNodeSettings;
  /** TLS on or off, and the paths of PEM files still to be read (see esdbChannel in esdb.ts). */
  tls: boolean;
  tlsCAFile?: string;
  userCertFile?: string;
  userKeyFile?: string;
  credentials?: Credentials;
  /** The URL with its password replaced by ***, for logs and error messages. */
  redacted: string;
}

export class EsdbUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EsdbUrlError';
  }
}

const example = 'esdb://host:2113?tls=false, esdb://user:password@h1:2113,h2:2113,h3:2113 or esdb+discover://cluster.dns.name:2113';

const integerKeys = ['defaultDeadline', 'keepAliveInterval', 'keepAliveTimeout', 'maxDiscoverAttempts', 'discoveryInterval', 'gossipTimeout'] as const;
const pathKeys = ['tlsCAFile', 'userCertFile', 'userKeyFile'] as const;
const acceptedKeys = ['tls', 'tlsVerifyCert', 'connectionName', 'nodePreference', ...pathKeys, ...integerKeys];
const nodePreferences: Record<string, NodePreference> = { leader: 'leader', follower: 'follower', random: 'random', readonlyreplica: 'read_only_replica' };

/** Key spelling as the official clients accept it: case, '-' and '_' do not matter. */
const flat = (key: string) => key.trim().toLowerCase().replace(/[-_]/g, '');

/** The URL with the password of its user:password@ part replaced by ***. */
export function redactEsdbUrl(url: string): string {
  const scheme = /^[a-z+]+:\/\//i.exec(url);
  if (!scheme) return url.includes('@') ? '<an unreadable URL with credentials>' : url;
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at < 0) return url;
  const colon = authority.indexOf(':');
  const user = colon >= 0 && colon < at ? authority.slice(0, colon) : authority.slice(0, at);
  return `${scheme[0]}${user}:***@${rest.slice(at + 1)}`;
}

function decode(part: string, what: string, redacted: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": the ${what} is not valid percent-encoding (write @ as %40, : as %3A, / as %2F)`);
  }
}

function parseHost(spec: string, redacted: string): EndPoint {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(spec.trim());
  if (!m) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": "${spec}" is not host or host:port: use ${example}`);
  const port = m[2] === undefined ? 2113 : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": port ${m[2]} is not between 1 and 65535`);
  return { address: m[1]!, port };
}

/** Reads the URL; `env` supplies credentials when the URL carries none. */
export function parseEsdbUrl(url: string, env: Record<string, string | undefined> = {}): EsdbConnection {
  const redacted = redactEsdbUrl(url.trim());
  const m = /^(esdb|esdb\+discover):\/\/([^?#]*?)\/?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}" is not an EventStoreDB URL: use ${example}`);
  const discover = m[1]!.toLowerCase() === 'esdb+discover';
  let authority = m[2]!;
  const query = m[3] ?? '';

  let credentials: Credentials | undefined;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const username = colon < 0 ? '' : decode(userinfo.slice(0, colon), 'user name', redacted);
    const password = colon < 0 ? '' : decode(userinfo.slice(colon + 1), 'password', redacted);
    if (!username || !password) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": credentials in the URL must be user:password@ (or leave them out and set MSEC_EVENTSTORE_USERNAME and MSEC_EVENTSTORE_PASSWORD)`);
    credentials = { username, password };
  } else if (env.MSEC_EVENTSTORE_USERNAME || env.MSEC_EVENTSTORE_PASSWORD) {
    if (!env.MSEC_EVENTSTORE_USERNAME || !env.MSEC_EVENTSTORE_PASSWORD) {
      throw new EsdbUrlError('set both MSEC_EVENTSTORE_USERNAME and MSEC_EVENTSTORE_PASSWORD, or neither');
    }
    credentials = { username: env.MSEC_EVENTSTORE_USERNAME, password: env.MSEC_EVENTSTORE_PASSWORD };
  }

  if (!authority) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}" names no host: use ${example}`);
  const hosts = authority.split(',').map((h) => parseHost(h, redacted));
  if (discover && hosts.length > 1) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": esdb+discover:// takes one DNS name; list several nodes with esdb://h1:2113,h2:2113`);

  const options: Record<string, string> = {};
  for (const pair of query.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const key = acceptedKeys.find((k) => flat(k) === flat(rawKey));
    if (!key) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": unknown option "${rawKey}"; accepted: ${acceptedKeys.join(', ')}`);
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1), `value of ${key}`, redacted).trim();
    if (!value) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": option ${key} has no value`);
    options[key] = value;
  }

  const bool = (key: string, fallback: boolean): boolean => {
    const v = options[key];
    if (v === undefined) return fallback;
    if (v !== 'true' && v !== 'false') throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": ${key} must be true or false, not "${v}"`);
    return v === 'true';
  };
  const tls = bool('tls', true);
  if (!bool('tlsVerifyCert', true)) {
    throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": tlsVerifyCert=false is not supported by the Node.js EventStoreDB client; give the server's CA with tlsCAFile=/path/ca.crt`);
  }

  const common: Record<string, unknown> = { throwOnAppendFailure: true };
  for (const key of integerKeys) {
    const v = options[key];
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": ${key} must be a whole number of milliseconds, not "${v}"`);
    common[key] = Number(v);
  }
  if (options.connectionName) common.connectionName = options.connectionName;
  if (options.nodePreference) {
    const preference = nodePreferences[flat(options.nodePreference)];
    if (!preference) throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": nodePreference must be leader, follower, random or readOnlyReplica`);
    common.nodePreference = preference;
  }
  if ((options.userCertFile === undefined) !== (options.userKeyFile === undefined)) {
    throw new EsdbUrlError(`MSEC_EVENTSTORE="${redacted}": userCertFile and userKeyFile go together`);
  }

  // One node: no gossip options apply. Several: gossip seeds. DNS: discovery.
  let settings: EsdbNodeSettings;
  if (discover) settings = { ...common, discover: hosts[0]! } as DNSClusterOptions;
  else if (hosts.length > 1) settings = { ...common, endpoints: hosts } as GossipClusterOptions;
  else {
    const { nodePreference: _n, maxDiscoverAttempts: _m, discoveryInterval: _d, gossipTimeout: _g, ...single } = common;
    settings = { ...single, endpoint: hosts[0]! } as SingleNodeOptions;
  }

  return {
    settings,
    tls,
    ...(options.tlsCAFile ? { tlsCAFile: options.tlsCAFile } : {}),
    ...(options.userCertFile ? { userCertFile: options.userCertFile, userKeyFile: options.userKeyFile! } : {}),
    ...(credentials ? { credentials } : {}),
    redacted,
  };
}

/** The channel options of the client; PEM files are read by the caller-supplied reader. */
export function esdbChannel(connection: EsdbConnection, readFile: (path: string) => Buffer): ChannelCredentialOptions {
  if (!connection.tls) return { insecure: true };
  return {
    insecure: false,
    ...(connection.tlsCAFile ? { rootCertificate: readFile(connection.tlsCAFile) } : {}),
    ...(connection.userCertFile && connection.userKeyFile
      ? { userCertFile: readFile(connection.userCertFile), userKeyFile: readFile(connection.userKeyFile) }
      : {}),
  };
}
