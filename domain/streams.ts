/** Stream ids of design.md. One place so nobody spells them twice. */
export const streams = {
  /** First-level service ("Flight") or second-level service ("Flight.mod_flight"). */
  service: (name: string) => `service-${name}`,
  user: (name: string) => `user-${name}`,
  /** Every user's roles (one aggregate: see domain/access). */
  access: 'access',
  /** Requests refused for lack of a permission, for the audit. */
  accessRefusals: 'access-refusals',
  /** A host's agent: enrolment, commands signed for it, their results, up/down. */
  host: (ip: string) => `host-${ip}`,
  /** The control plane's command keys. */
  keyring: 'keyring',
  /** Business-log settings of a second-level service (domain/logs/settings.ts). */
  logs: (service: string) => `logs-${service}`,
  /** A second-level service's alarm rules and webhooks. */
  alarmRules: (service: string) => `alarm-rules-${service}`,
  /** A second-level service's artifacts, library files, and the plan running on it. */
  releases: (service: string) => `releases-${service}`,
  /** One release plan. */
  release: (planId: string) => `release-${planId}`,
  /** One Redis cluster of the KV: its layout and its tasks. */
  kvCluster: (name: string) => `kvcluster-${name}`,
  /** A second-level service's alarms, raised and resolved. */
  alarms: (service: string) => `alarms-${service}`,
} as const;
