/**
 * Kafka bus settings from MSEC_BUS, e.g.
 *   kafka://k1:9092,k2:9092?clientId=msec-console&acks=all&compression=gzip&tls=true&sasl=scram-sha-512&username=msec
 * The SASL password comes from MSEC_KAFKA_PASSWORD, never from the URL, and is never logged.
 */

export type KafkaAcks = -1 | 0 | 1;
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** -1 = all in-sync replicas (the default), 1 = the leader, 0 = none. */
  acks: KafkaAcks;
  /** Idempotent producer (on by default): a retried send is not written twice. Needs acks=all. */
  idempotent: boolean;
  compression: 'none' | 'gzip';
  tls: boolean;
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
  /** Partitions and replication factor of the topics the bus creates (-1 = the broker's default). */
  partitions: number;
  replicationFactor: number;
  /** Consumer group session timeout; librdkafka's mock broker needs >= 4000. */
  sessionTimeoutMs: number;
  /** Longest a fetch waits for data; small values make close() quick. */
  maxWaitMs: number;
}

const defaults = {
  clientId: 'msec',
  partitions: 4,
  replicationFactor: -1,
  sessionTimeoutMs: 10_000,
  maxWaitMs: 100,
};

const known = ['clientId', 'acks', 'idempotent', 'compression', 'tls', 'sasl', 'username', 'partitions', 'replication', 'sessionTimeoutMs', 'maxWaitMs'];

export class KafkaUrlError extends Error {
  constructor(url: string, problem: string) {
    super(`MSEC_BUS=${redact(url)}: ${problem}. Expected kafka://host:9092[,host2:9092][?${known.join('=..&')}=..]`);
    this.name = 'KafkaUrlError';
  }
}

/** The URL with any inline password masked, for error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export function parseKafkaUrl(url: string, env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const m = /^kafka:\/\/([^?#]*)(?:\?([^#]*))?$/.exec(url.trim());
  if (!m) throw new KafkaUrlError(url, 'it does not start with kafka://');
  const hostList = m[1]!.replace(/\/$/, '');
  if (hostList.includes('@')) {
    if (/^[^@]*:[^@]*@/.test(hostList)) throw new KafkaUrlError(url, 'put the password in MSEC_KAFKA_PASSWORD, not in the URL');
    throw new KafkaUrlError(url, 'give the user as ?username=.. instead of user@host');
  }
  const brokers = hostList.split(',').map((h) => h.trim()).filter(Boolean).map((h) => broker(url, h));
  if (brokers.length === 0) throw new KafkaUrlError(url, 'no broker address');

  const params = new URLSearchParams(m[2] ?? '');
  for (const key of params.keys()) {
    if (!known.includes(key)) throw new KafkaUrlError(url, `unknown option "${key}"`);
  }
  const one = (key: string) => params.get(key) ?? undefined;
  const flag = (key: string, fallback: boolean) => {
    const v = one(key);
    if (v === undefined) return fallback;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new KafkaUrlError(url, `${key} must be true or false, not "${v}"`);
  };
  const int = (key: string, fallback: number, min: number) => {
    const v = one(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new KafkaUrlError(url, `${key} must be an integer >= ${min}, not "${v}"`);
    return n;
  };

  const acksText = one('acks') ?? 'all';
  const acks = ({ all: -1, '-1': -1, '1': 1, '0': 0 } as Record<string, KafkaAcks>)[acksText];
  if (acks === undefined) throw new KafkaUrlError(url, `acks must be all, 1 or 0, not "${acksText}"`);
  const idempotent = flag('idempotent', acks === -1);
  if (idempotent && acks !== -1) throw new KafkaUrlError(url, 'idempotent=true needs acks=all (or set idempotent=false)');

  const compression = one('compression') ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') throw new KafkaUrlError(url, `compression must be none or gzip, not "${compression}"`);

  const settings: KafkaSettings = {
    brokers,
    clientId: one('clientId') ?? defaults.clientId,
    acks,
    idempotent,
    compression,
    tls: flag('tls', false),
    partitions: int('partitions', defaults.partitions, 1),
    replicationFactor: int('replication', defaults.replicationFactor, -1),
    sessionTimeoutMs: int('sessionTimeoutMs', defaults.sessionTimeoutMs, 1000),
    maxWaitMs: int('maxWaitMs', defaults.maxWaitMs, 1),
  };

  const mechanism = one('sasl');
  if (mechanism !== undefined) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new KafkaUrlError(url, `sasl must be plain, scram-sha-256 or scram-sha-512, not "${mechanism}"`);
    }
    const username = one('username');
    if (!username) throw new KafkaUrlError(url, `sasl=${mechanism} needs username=..`);
    const password = env.MSEC_KAFKA_PASSWORD;
    if (!password) throw new KafkaUrlError(url, `sasl=${mechanism} needs the password in the environment variable MSEC_KAFKA_PASSWORD`);
    settings.sasl = { mechanism, username, password };
  } else if (one('username') !== undefined) {
    throw new KafkaUrlError(url, 'username=.. needs sasl=plain|scram-sha-256|scram-sha-512');
  }
  return settings;
}

function broker(url: string, address: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(address);
  if (!m) throw new KafkaUrlError(url, `"${address}" is not a host:port`);
  const port = m[2] === undefined ? 9092 : Number(m[2]);
  if (port < 1 || port > 65535) throw new KafkaUrlError(url, `port ${m[2]} of "${address}" is out of range`);
  return `${m[1]}:${port}`;
}

/** The settings as they may appear in logs and status output: no password. */
export function describeKafkaSettings(s: KafkaSettings): Record<string, unknown> {
  const { sasl, ...rest } = s;
  return { ...rest, ...(sasl ? { sasl: sasl.mechanism, username: sasl.username } : {}) };
}
