/**
 * Which adapter each port uses, selected by URL (design.md, Configuration):
 *   MSEC_EVENTSTORE = embedded | esdb://h:2113?tls=false
 *   MSEC_BUS        = embedded | kafka://h1:9092,h2:9092?…
 *   MSEC_VIEWS      = embedded (chdb under the home) | sqlite | http(s)://h:8123 (ClickHouse server)
 *   MSEC_REGISTRY   = embedded | zk://[user:password@]h1:2181,h2:2181[/chroot]
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
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BackendUrlError(`${envNames[kind]}="${redactUrl(value)}" is not a URL: use ${rule.example}`);
  }
  if (!rule.schemes.includes(url.protocol)) {
    throw new BackendUrlError(`${envNames[kind]}="${redactUrl(value)}" has scheme ${url.protocol.replace(/:$/, '')}: use ${rule.example}`);
  }
  if (!url.host) throw new BackendUrlError(`${envNames[kind]}="${redactUrl(value)}" names no host: use ${rule.example}`);
  return value;
}

/** The URL without its password, for logs and `msec status`. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z+]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@').replace(/([?&](?:password|secret|token)=)[^&]*/gi, '$1***');
}

export const isEmbedded = (value: string): boolean => value === 'embedded' || value === 'sqlite';
