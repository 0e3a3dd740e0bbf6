import type { DomainEvent, RecordedEvent } from '../domain/events.ts';
import { describeGrant } from '../domain/access/roles.ts';
import { formatBytes } from '../domain/kv/rules.ts';
import { applyAuditContext, emptyAuditContext, priorValueOf, type AuditContext, type PriorValue } from './audit-context.ts';
import { allDomainEventTypes } from './event-types.ts';
import type { RowProjection } from './projection.ts';

/**
 * The audit trail: one row per domain event, who did what, when, why, to which stream, and
 * what the event changed from (`was`: the old weight, enabled state, newest version, log
 * level), from the context the projection folds beside its rows (audit-context.ts).
 * The summary is one line of English for people; it never carries a secret (password or
 * token hashes) nor a version's text, since the audit view is readable by every user and may
 * be exported.
 */
export interface AuditRow {
  eventId: string;
  position: number;
  time: string;
  actor: string;
  reason: string;
  stream: string;
  type: string;
  revision: number;
  summary: string;
  /** The prior value of what the event changed, when the audit knew it. */
  was?: PriorValue;
}

/** Version 2: rows say what each event changed from (`was`); a new version rewrites them all. */
export const auditProjection: RowProjection<AuditRow, AuditContext> = {
  kind: 'rows',
  name: 'audit',
  version: 2,
  handles: allDomainEventTypes,
  rows: (event, context) => [auditRow(event, context)],
  context: { initialState: emptyAuditContext, apply: applyAuditContext },
};

/** The row of an event, given the audit context before it (none: the past is unknown, no prior values). */
export function auditRow(event: RecordedEvent, context?: AuditContext): AuditRow {
  const was = context && priorValueOf(context, event as RecordedEvent<DomainEvent>);
  return {
    eventId: event.id,
    position: event.position,
    time: event.occurredAt,
    actor: event.actor,
    reason: event.reason,
    stream: event.stream,
    type: event.type,
    revision: event.revision,
    summary: summarize(event, was),
    ...(was ? { was } : {}),
  };
}

/** The rows of a whole history, oldest first, each with the context before it. */
export function auditRowsOf(events: readonly RecordedEvent[]): AuditRow[] {
  let context = emptyAuditContext();
  return events.map((event) => {
    const row = auditRow(event, context);
    context = applyAuditContext(context, event);
    return row;
  });
}

/** One line for people; `was` (from the audit context) adds what the event changed from. */
export function summarize(event: DomainEvent, was?: PriorValue): string {
  switch (event.type) {
    case 'FirstLevelServiceCreated':
      return `first-level service ${event.data.name} created (${event.data.kind})`;
    case 'FirstLevelServiceDeleted':
      return `first-level service ${event.data.name} deleted`;
    case 'ChildServiceClaimed': {
      const { parent, child, kind, lang, port } = event.data;
      return `${child} claimed under ${parent} for a creation (${kind}, ${lang || 'no language'}, port ${port})`;
    }
    case 'ChildServiceLinked':
      return `${event.data.child} linked under ${event.data.parent}`;
    case 'ChildServiceUnlinked':
      return `${event.data.child} unlinked from ${event.data.parent}`;
    case 'ServiceCreated': {
      const { service, kind, lang, port } = event.data;
      return `service ${service} created (${kind}, ${lang || 'no language'}, port ${port})`;
    }
    case 'ServiceDeleted':
      return `service ${event.data.service} deleted`;
    case 'HostAdded': {
      const { service, protocol, weight } = event.data;
      return `host ${address(event.data)} added to ${service} (${protocol}, weight ${weight}, disabled)`;
    }
    case 'HostEnabled':
      return `host ${address(event.data)} enabled (scale out${wasEnabled(was)}) on ${event.data.service}`;
    case 'HostDisabled':
      return `host ${address(event.data)} disabled (scale in${wasEnabled(was)}) on ${event.data.service}`;
    case 'HostRemoved':
      return `host ${address(event.data)} removed from ${event.data.service}`
        + (was?.weight !== undefined ? ` (was ${was.enabled ? 'enabled' : 'disabled'}, weight ${was.weight})` : '');
    case 'HostWeightSet':
      return `host ${address(event.data)} weight set to ${event.data.weight}${was?.weight !== undefined ? ` (was ${was.weight})` : ''} on ${event.data.service}`;
    case 'ConfigVersionAdded':
      return `config ${event.data.tag} added to ${event.data.service}${previousVersion(was)}${memo(event.data.memo)}`;
    case 'ConfigVersionDeleted':
      return `config ${event.data.tag} deleted from ${event.data.service}`;
    case 'IdlVersionAdded':
      return `IDL ${event.data.tag} added to ${event.data.service}${previousVersion(was)}${memo(event.data.memo)}`;
    case 'IdlVersionDeleted':
      return `IDL ${event.data.tag} deleted from ${event.data.service}`;
    case 'UserCreated':
      return `user ${event.data.name} created`;
    case 'PasswordChanged':
      return `password of user ${event.data.name} changed`;
    case 'UserRemoved':
      return `user ${event.data.name} removed`;
    case 'ApiTokenIssued':
      return `${event.data.scope === 'routes' ? 'route-read ' : ''}API token ${event.data.tokenId}${event.data.label ? ` "${oneLine(event.data.label, 80)}"` : ''} issued to ${event.data.name}`;
    case 'ApiTokenRevoked':
      return `API token ${event.data.tokenId} of ${event.data.name} revoked`;
    case 'SessionEnded':
      return `${event.data.name} logged out`;
    case 'AccessInitialized':
      return event.data.admins.length
        ? `roles introduced: existing users ${event.data.admins.join(', ')} keep full rights as admin`
        : 'roles introduced';
    case 'UserAccessSet':
      return `${event.data.user} given ${event.data.grants.length ? event.data.grants.map(describeGrant).join(', ') : 'no role'}`;
    case 'RoleGranted':
      return `${describeGrant(event.data)} granted to ${event.data.user}`;
    case 'RoleRevoked':
      return `${describeGrant(event.data)} revoked from ${event.data.user}`;
    case 'UserAccessRemoved':
      return `every role of ${event.data.user} removed`;
    case 'AccessRefused': {
      const { user, permission, service, method, route, suppressed } = event.data;
      return `refused ${method} ${oneLine(route, 120)} to ${user}: needs ${permission}${service ? ` on ${service}` : ''}`
        + (suppressed ? ` (and ${suppressed} more refusals not recorded one by one)` : '');
    }
    case 'AgentTokenIssued':
      return `enrolment token ${event.data.tokenId} made for the agent of ${event.data.ip} (valid until ${new Date(event.data.expiresAtMs).toISOString()})`;
    case 'AgentEnrolled':
      return `agent of ${event.data.ip} enrolled (key ${event.data.agentKeyId}${event.data.hostname ? `, host ${oneLine(event.data.hostname, 80)}` : ''}${event.data.agentVersion ? `, version ${oneLine(event.data.agentVersion, 40)}` : ''})`;
    case 'AgentRevoked':
      return `agent of ${event.data.ip} revoked`;
    case 'AgentCommandIssued':
      return `${event.data.action} #${event.data.sequence} sent to ${event.data.ip}: ${oneLine(event.data.summary, 200)}`;
    case 'AgentCommandCompleted': {
      const d = event.data;
      const how = d.timedOut ? 'timed out' : d.exitCode >= 0 ? `exit ${d.exitCode}` : `failed: ${oneLine(d.error, 120)}`;
      return `${d.action} #${d.sequence} on ${d.ip}: ${how} in ${d.durationMs} ms, ${d.outputBytes} bytes of output`;
    }
    case 'AgentCommandRefused': {
      const d = event.data;
      return `agent of ${d.ip} refused a command${d.sequence ? ` (#${d.sequence})` : ''}: ${d.reason}${d.detail ? ` (${oneLine(d.detail, 160)})` : ''}${d.similar ? `, and ${d.similar} more for the same reason` : ''}`;
    }
    case 'AgentDown':
      return `agent of ${event.data.ip} is down (no heartbeat since ${new Date(event.data.lastSeenAtMs).toISOString()})`;
    case 'AgentUp':
      return `agent of ${event.data.ip} is up again`;
    case 'AgentKeyTrusted':
      return `agent of ${event.data.ip} now trusts command key ${event.data.keyId}`;
    case 'SigningKeyIntroduced':
      return event.data.previousKeyId
        ? `command key ${event.data.keyId} introduced, succeeding ${event.data.previousKeyId}`
        : `command key ${event.data.keyId} introduced (the first)`;
    case 'LogLevelSet': {
      const before = was?.logLevel === undefined ? '' : ` (was ${was.logLevel || "its config version's"})`;
      return event.data.level ? `log level of ${event.data.service} set to ${event.data.level}${before}` : `log level of ${event.data.service} back to its config version's${before}`;
    }
    case 'LogColorRuleAdded':
      return `coloring rule ${event.data.field}=${oneLine(event.data.value, 80)} added to ${event.data.service}`;
    case 'LogColorRuleRemoved':
      return `coloring rule ${event.data.field}=${oneLine(event.data.value, 80)} removed from ${event.data.service}`;
    case 'LogFieldAdded':
      return `log field ${event.data.name} (${event.data.type}) added to ${event.data.service}`;
    case 'LogFieldDeleted':
      return `log field ${event.data.name} deleted from ${event.data.service}`;
    case 'AlarmRuleSet':
      return `alarm rule on ${event.data.service} "${oneLine(event.data.name, 120)}" set: ${describeRule(event.data)}`;
    case 'AlarmRuleDeleted':
      return `alarm rule on ${event.data.service} "${oneLine(event.data.name, 120)}" deleted`;
    case 'AlarmWebhookSet':
      return `alarm webhook ${oneLine(event.data.url, 200)} added to ${event.data.service}`;
    case 'AlarmWebhookRemoved':
      return `alarm webhook ${oneLine(event.data.url, 200)} removed from ${event.data.service}`;
    case 'AlarmRaised': {
      const d = event.data;
      return `alarm ${d.alarmType} raised on ${d.service}${d.ip ? ` at ${d.ip}` : ''}: "${oneLine(d.name, 120)}" = ${d.value} at ${minuteText(d.minute)}`
        + ` (${d.alarmType === 'max' ? '≥' : d.alarmType === 'min' ? '≤' : 'change ≥'} ${d.threshold}${d.alarmType === 'diff_percent' ? ' %' : ''}`
        + `${d.alarmType.startsWith('diff') ? `, yesterday ${d.previous}` : ''}${d.forMinutes > 1 ? `, for ${d.forMinutes} minutes` : ''})`;
    }
    case 'AlarmResolved': {
      const d = event.data;
      return `alarm ${d.alarmType} resolved on ${d.service}${d.ip ? ` at ${d.ip}` : ''}: "${oneLine(d.name, 120)}" = ${d.value} at ${minuteText(d.minute)}`
        + (d.reason === 'rule-changed' ? ' (its check was removed)' : ' (back to normal)');
    }
    case 'ArtifactAdded':
      return `artifact ${event.data.tag} of ${event.data.service} added: ${event.data.size} bytes, sha256 ${event.data.sha256.slice(0, 12)}…${memo(event.data.memo)}`;
    case 'ArtifactDeleted':
      return `artifact ${event.data.tag} of ${event.data.service} deleted`;
    case 'LibraryFileAdded':
      return `library file ${event.data.name} of ${event.data.service} uploaded: ${event.data.size} bytes, sha256 ${event.data.sha256.slice(0, 12)}…${memo(event.data.memo)}`;
    case 'LibraryFileDeleted':
      return `library file ${event.data.name} of ${event.data.service} deleted`;
    case 'ReleaseRunClaimed':
      return `release plan ${event.data.planId} holds ${event.data.service}`;
    case 'ReleaseRunEnded':
      return `release plan ${event.data.planId} no longer holds ${event.data.service}`;
    case 'ReleasePlanCreated': {
      const d = event.data;
      const versions = [d.configTag && `config ${d.configTag}`, d.idlTag && `IDL ${d.idlTag}`, d.artifactTag && `artifact ${d.artifactTag}`, d.libraries.length && `${d.libraries.length} library file(s)`].filter(Boolean).join(', ');
      return `release plan ${d.planId} of ${d.service} created: ${d.releaseType.replace('_', ' ')} (${versions}) to ${d.hosts.map((h) => h.ip).join(', ')}${memo(d.memo)}`;
    }
    case 'ReleaseStarted':
      return `release plan ${event.data.planId} started`;
    case 'ReleasePaused':
      return event.data.why === 'canary' ? `release plan ${event.data.planId} paused after a healthy canary: resume to go on` : `release plan ${event.data.planId} paused`;
    case 'ReleaseResumed':
      return `release plan ${event.data.planId} resumed`;
    case 'ReleaseCancelled':
      return `release plan ${event.data.planId} cancelled`;
    case 'ReleaseHostDispatched':
      return `release plan ${event.data.planId}: ${event.data.operation} sent to ${event.data.ip}`;
    case 'ReleaseHostStepped':
      return `release plan ${event.data.planId}: ${event.data.ip} ${event.data.step}${event.data.ok ? '' : ' FAILED'}: ${oneLine(event.data.detail, 160)}`;
    case 'ReleaseHostSucceeded':
      return `release plan ${event.data.planId}: ${event.data.operation} done on ${event.data.ip}`;
    case 'ReleaseHostFailed':
      return `release plan ${event.data.planId}: ${event.data.operation} failed on ${event.data.ip}: ${oneLine(event.data.error, 200)}`;
    case 'ReleaseRollbackStarted':
      return `release plan ${event.data.planId} rolling back ${event.data.ips.join(', ')}: ${oneLine(event.data.reason, 200)}`;
    case 'ReleaseFinished':
      return `release plan ${event.data.planId} ended: ${event.data.outcome.replace('_', ' ')} (${oneLine(event.data.detail, 200)})`;
    case 'KvClusterCreated': {
      const d = event.data;
      return `KV cluster ${d.name} created: ${d.replicas} replica(s) per set, ${formatBytes(d.memoryBytes)} per instance (${d.maxmemoryPolicy}), ports from ${d.basePort}${d.appendonly ? ', AOF on' : ''}${memo(d.memo)}`;
    }
    case 'KvTaskStarted':
      return `KV cluster ${event.data.name}: task ${event.data.kind} started: ${oneLine(event.data.summary, 200)}`;
    case 'KvInstancePlaced':
      return `KV cluster ${event.data.name}: ${event.data.role} of set ${event.data.setId} placed on ${event.data.ip}:${event.data.port}`;
    case 'KvInstanceRemoved':
      return `KV cluster ${event.data.name}: ${event.data.ip}:${event.data.port} removed (${oneLine(event.data.why, 160)})`;
    case 'KvTaskStepped':
      return `KV cluster ${event.data.name}: ${oneLine(event.data.step, 80)}${event.data.ok ? '' : ' FAILED'}: ${oneLine(event.data.detail, 160)}`;
    case 'KvTaskEnded':
      return `KV cluster ${event.data.name}: task ${event.data.outcome}${event.data.error ? `: ${oneLine(event.data.error, 200)}` : ''}`;
    case 'KvClusterDeleted':
      return `KV cluster ${event.data.name} deleted`;
    default: {
      const _exhaustive: never = event;
      // Only reachable with an event type newer than this code: still say something true.
      const unknown = _exhaustive as { type: string };
      return `${unknown.type} recorded`;
    }
  }
}

/** "; was disabled" inside the parentheses of an enable or disable. */
function wasEnabled(was: PriorValue | undefined): string {
  return was?.enabled === undefined ? '' : `; was ${was.enabled ? 'enabled' : 'disabled'}`;
}

function previousVersion(was: PriorValue | undefined): string {
  if (was?.version === undefined) return '';
  return was.version ? ` (previous: ${was.version})` : ' (the first)';
}

function describeRule(r: { max: number; min: number; diff: number; diffPercent: number; forMinutes: number; scope: string }): string {
  const checks = [r.max ? `max ${r.max}` : '', r.min ? `min ${r.min}` : '', r.diff ? `diff ${r.diff}` : '', r.diffPercent ? `diff ${r.diffPercent} %` : ''].filter(Boolean);
  return `${checks.join(', ')}${r.forMinutes > 1 ? `, for ${r.forMinutes} minutes` : ''}${r.scope === 'host' ? ', per host' : ''}`;
}

/** Epoch seconds of a minute as `2024-05-01 10:03Z`. */
function minuteText(minute: number): string {
  return `${new Date(minute * 1000).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

function address(host: { ip: string; port: number }): string {
  return `${host.ip}:${host.port}`;
}

function memo(text: string): string {
  const line = oneLine(text, 120);
  return line ? ` (memo: ${line})` : '';
}

/** Free text (memo, label, reason) folded to one trimmed line, cut at `max` characters. */
export function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const line = (text ?? '').replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

