/**
 * Reading what agents report (msec.reports.heartbeat and msec.reports.results): every report
 * is signed by the agent's own key (schemas/agent.proto, SignedReport). Anyone may write to
 * those topics, so a report is taken only when it verifies with the key enrolled for the host
 * it names, that host is not revoked, and it is recent; heartbeats feed the live hosts view,
 * results and refusals become events on the host's stream (idempotent by report: a redelivery
 * writes nothing twice).
 */
import type { Logger } from 'pino';
import type { AgentCommand } from '../../domain/agents/index.ts';
import { DomainError } from '../../domain/decider.ts';
import { PerMinuteBudget } from '../../domain/per-minute-budget.ts';
import { topics } from '../../adapters/bus/port.ts';
import { sha256Hex, verifySignature } from '../../adapters/signing/ed25519.ts';
import { decodeReportBody, decodeSignedReport, type ReportBody, type ReportKindName } from '../../schemas/agent.ts';
import { findAgent, type AgentRecord, type AgentsState } from '../../projections/agents.ts';
import type { AgentLiveView } from './agent-live.ts';
import { ReportRefused, type Accepted, type ReportSink } from './report-ingest.ts';

/** How far a report's own time may be from the receiver's clock. */
export const reportSkewMs = 120_000;
/**
 * How old a result, refusal or key report may be. Those are queued by the agent until sent and
 * may sit on the topic while the projector is down: they must still count when read late. A
 * replay of one records nothing (idempotent by report, results only for open commands), so
 * only heartbeats and output, which say "now", need to be fresh.
 */
export const lateReportMs = 7 * 24 * 3600_000;
/** Output kept in a command's completion event (the rest is counted). */
export const keptOutputBytes = 256 * 1024;

export const agentReportTopics = { heartbeat: topics.reports('heartbeat'), results: topics.reports('results') } as const;
export const topicOfKind = (kind: ReportKindName) => (kind === 'heartbeat' ? agentReportTopics.heartbeat : agentReportTopics.results);

export interface VerifiedReport {
  ip: string;
  agent: AgentRecord;
  body: ReportBody & { kind: ReportKindName };
  /** Of the signed body: two different reports never share a record id, whatever their sequence. */
  digest: string;
}

const advice: Record<string, string> = {
  malformed: 'not a signed agent report: check who else can produce to this topic (Kafka ACLs)',
  'unknown-agent': 'signed for a host with no enrolled agent: a forged report, or an agent enrolled on another control plane',
  revoked: 'from a revoked agent: it must be enrolled again before it is heard',
  'bad-signature': 'does not verify with the key enrolled for its host: forged or altered',
  mismatch: 'the signed body names another host than its envelope: forged',
  stale: 'its time is too far off (heartbeats: two minutes; results: a week): a replay, or the host clock is wrong (NTP)',
  'wrong-topic': 'a report of this kind does not belong on this topic',
};

/** Decodes and checks a signed report; throws ReportRefused with the reason. */
export function verifyAgentReport(bytes: Uint8Array, agents: AgentsState, nowMs: number): VerifiedReport {
  let signed;
  try {
    signed = decodeSignedReport(bytes);
  } catch (err) {
    throw new ReportRefused('malformed', (err as Error).message);
  }
  const agent = findAgent(agents, signed.agent);
  if (!agent) throw new ReportRefused('unknown-agent', `no agent is enrolled for "${signed.agent.slice(0, 64)}"`);
  if (agent.revoked) throw new ReportRefused('revoked', `the agent of ${agent.ip} is revoked`);
  if (!verifySignature('report', signed.body, signed.signature, Buffer.from(agent.publicKey, 'base64'))) {
    throw new ReportRefused('bad-signature', `not signed by the key of ${agent.ip} (${agent.agentKeyId})`);
  }
  let body;
  try {
    body = decodeReportBody(signed.body);
  } catch (err) {
    throw new ReportRefused('malformed', (err as Error).message);
  }
  if (body.agent !== signed.agent) throw new ReportRefused('mismatch', `signed for ${body.agent.slice(0, 64)}, sent as ${agent.ip}`);
  const maxAgeMs = body.kind === 'heartbeat' || body.kind === 'output' ? reportSkewMs : lateReportMs;
  if (body.atMs > nowMs + reportSkewMs || body.atMs < nowMs - maxAgeMs) throw new ReportRefused('stale', `made at ${timeText(body.atMs)}`);
  return { ip: agent.ip, agent, body, digest: sha256Hex(signed.body).slice(0, 16) };
}

/** A signed time as text; one outside what a Date holds must not throw. */
function timeText(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms since 1970` : d.toISOString();
}

export interface AgentReportDeps {
  agents: () => AgentsState;
  live: AgentLiveView;
  /** Decides and appends a command on the host's stream; `id` makes it idempotent. */
  record: (ip: string, command: AgentCommand, id: string) => Promise<unknown>;
  clock?: () => number;
  logger: Logger;
  refusalBudget?: PerMinuteBudget;
}

export function agentReportSinks(given: AgentReportDeps): ReportSink<VerifiedReport>[] {
  const clock = given.clock ?? Date.now;
  const deps = { ...given, refusalBudget: given.refusalBudget ?? refusalEventBudget(), now: clock };
  const sink = (name: string, topic: string, kinds: readonly ReportKindName[]): ReportSink<VerifiedReport> => ({
    name, topic, advice,
    accept(message) {
      const report = verifyAgentReport(message.value, deps.agents(), clock());
      if (!kinds.includes(report.body.kind)) throw new ReportRefused('wrong-topic', `a ${report.body.kind} report on ${topic}`);
      return [report];
    },
    async store(items: Accepted<VerifiedReport>[]) {
      for (const { item } of items) {
        try {
          await take(deps, item);
        } catch (err) {
          // A report the host's stream refuses (a rule of the domain) is skipped, never retried
          // for ever: it would hold back every other host's reports behind it.
          if (!(err instanceof DomainError)) throw err;
          deps.logger.warn({ err, ip: item.ip, kind: item.body.kind, sequence: item.body.sequence }, `a ${item.body.kind} report of ${item.ip} was not recorded: ${err.message}`);
        }
      }
    },
  });
  return [
    sink('agent-heartbeats', agentReportTopics.heartbeat, ['heartbeat']),
    sink('agent-results', agentReportTopics.results, ['result', 'refused', 'key']),
  ];
}

/** Only a key of the control plane's keyring can be one an agent trusts (a made-up id would be written to the host's stream). */
function isKnownKey(deps: AgentReportDeps, keyId: string): boolean {
  return /^[0-9a-f]{16}$/.test(keyId) && deps.agents().keys.some((k) => k.keyId === keyId);
}

/**
 * Refusal events per host and minute at most (MSEC_AGENT_REFUSAL_EVENTS_PER_MINUTE, default 120;
 * the agent itself reports 10 a reason and minute). What is over is counted into the next one
 * recorded (its `similar`), so the audit's counts stay whole.
 */
export const refusalEventBudget = () => new PerMinuteBudget(Number(process.env.MSEC_AGENT_REFUSAL_EVENTS_PER_MINUTE) || 120, 100_000);

async function take(deps: AgentReportDeps & { refusalBudget: PerMinuteBudget; now: () => number }, { ip, agent, body, digest }: VerifiedReport): Promise<void> {
  const id = (what: string) => `agent-report:${ip}:${agent.agentKeyId}:${body.sequence}:${digest}:${what}`;
  switch (body.kind) {
    case 'heartbeat': {
      if (!('heartbeat' in body)) return;
      if (!deps.live.beat(ip, body.sequence, body.heartbeat)) return;
      if (agent.down) await deps.record(ip, { type: 'MarkAgentUp', ip }, id('up'));
      const keyId = body.heartbeat.trustedKeyId;
      if (keyId && keyId !== agent.trustedKeyId && isKnownKey(deps, keyId)) await deps.record(ip, { type: 'RecordTrustedKey', ip, keyId }, id('key'));
      return;
    }
    case 'key':
      if ('key' in body && body.key.keyId !== agent.trustedKeyId && isKnownKey(deps, body.key.keyId)) await deps.record(ip, { type: 'RecordTrustedKey', ip, keyId: body.key.keyId }, id('key'));
      return;
    case 'result': {
      if (!('result' in body)) return;
      const r = body.result;
      const output = Buffer.from(r.output).subarray(0, keptOutputBytes);
      await deps.record(ip, {
        type: 'RecordCommandResult',
        result: {
          ip, commandId: r.commandId, sequence: r.sequence, action: r.action, exitCode: r.exitCode, error: r.error.slice(0, 2000),
          timedOut: r.timedOut, durationMs: r.durationMs, output: output.toString('base64'),
          outputSha256: sha256Hex(output), outputKeptBytes: output.length, outputBytes: r.outputBytes, dataSha256: r.dataSha256,
        },
      }, id('result'));
      return;
    }
    case 'refused': {
      if (!('refused' in body)) return;
      // The agent limits what it reports; a compromised one may not, and every refusal is an event.
      const held = deps.refusalBudget.take(ip, deps.now());
      if (held === undefined) return;
      const f = body.refused;
      await deps.record(ip, {
        type: 'RecordCommandRefusal',
        refusal: {
          ip, commandId: f.commandId.slice(0, 64), sequence: f.sequence, reason: f.reason.slice(0, 40), detail: f.detail.slice(0, 500), similar: f.similar + held,
          signedSha256: /^[0-9a-f]{64}$/.test(f.signedSha256) ? f.signedSha256 : '',
        },
      }, id('refused'));
      return;
    }
    case 'output':
      return;
  }
}
