/**
 * Which adapter each port uses, selected by URL (design.md, Configuration):
 *   MSEC_EVENTSTORE = embedded | esdb://h:2113?tls=false
 *   MSEC_BUS        = embedded | kafka://h1:9092,h2:9092?…
 *   MSEC_VIEWS      = embedded (chdb under the home) | sqlite | http(s)://h:8123 (ClickHouse server)
 *   MSEC_REGISTRY   = embedded | zk://[user:password@]h1:2181,h2:2181[/chroot]
 *                     (a process that publishes routes needs the credential, here or in
 *                     MSEC_ZK_AUTH=user:password; readers need none)
 * Flags (`--bus URL` …) win over the environment; everything defaults to embedded under
 * MSEC_HOME (default ./.msec).
 */
export type BackendKind = 'eventstore' | 'bus' | 'views' | 'registry';

export interface BackendUrls {
  eventstore: string;
  bus: string;
  views: string;
  registry: string;
}

const envNames: Record<BackendKind, string> = {
  eventstore: 'MSEC_EVENTSTORE',
  bus: 'MSEC_BUS',
  views: 'MSEC_VIEWS',
  registry: 'MSEC_REGISTRY',
};

const accepted: Record<BackendKind, { schemes: string[]; words: string[]; example: string }> = {
  eventstore: { schemes: ['esdb:', 'esdb+discover:'], words: ['embedded'], example: 'embedded or esdb://host:2113?tls=false' },
  bus: { schemes: ['kafka:'], words: ['embedded'], example: 'embedded or kafka://host:9092' },
  views: { schemes: ['http:', 'https:'], words: ['embedded', 'sqlite'], example: 'embedded, sqlite or http://host:8123' },
  registry: { schemes: ['zk:'], words: ['embedded'], example: 'embedded or zk://host:2181' },
};

export class BackendUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUrlError';
  }
}

/** The four URLs from flags, then the environment, then `embedded`; each checked. */
export function backendUrls(env: Record<string, string | undefined>, flags: Partial<Record<BackendKind, string>> = {}): BackendUrls {
  const pick = (kind: BackendKind): string => {
    const given = flags[kind] ?? env[envNames[kind]];
    const value = given === undefined || given.trim() === '' ? 'embedded' : given.trim();
    return checkBackendUrl(kind, value);
  };
  return { eventstore: pick('eventstore'), bus: pick('bus'), views: pick('views'), registry: pick('registry') };
}

export function checkBackendUrl(kind: BackendKind, value: string): string {
  const rule = accepted[kind];
  if (rule.words.includes(value)) return value;
  // Not `new URL`: Kafka and ZooKeeper URLs list several hosts (`kafka://h1:9092,h2:9092`).
  const m = /^([a-z][a-z0-9+.-]*:)\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(value);
  if (!m) throw new BackendUrlError(`${envNames[kind]}="${redactUrl(value)}" is not a URL: use ${rule.example}`);
  const [, scheme, hosts] = m;
  if (!rule.schemes.includes(scheme!.toLowerCase())) {
    throw new BackendUrlError(`${envNames[kind]}="${redactUrl(value)}" has scheme ${scheme!.replace(/:$/, '')}: use ${rule.example}`);
  }
  const bad = hosts!.split(',').find((h) => !/^(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::\d{1,5})?$/i.test(h));
  if (bad !== undefined) throw new BackendUrlError(`${envNames[kind]}="${redactUrl(value)}" names ${bad === '' ? 'no host' : `a bad host "${bad}"`}: use ${rule.example}`);
  return value;
}

/** The URL without its password, for logs and `msec status`. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z+]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@').replace(/([?&](?:password|secret|token)=)[^&]*/gi, '$1***');
}

export const isEmbedded = (value: string): boolean => value === 'embedded' || value === 'sqlite';
