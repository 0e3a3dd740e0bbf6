import type { RecordedEvent } from '../domain/events.ts';
import { agentEventTypes, keyringEventTypes, type AgentEvent, type KeyringEvent } from '../domain/agents/events.ts';
import { createHash } from 'node:crypto';
import type { StateProjection } from './projection.ts';
import { compareText, keyedList } from './sorted-list.ts';

/**
 * Host agents as the control plane knows them from events: who is enrolled with which key,
 * revoked or down, which control-plane key each trusts, the commands waiting for each agent
 * (the console hands them out in the embedded deployment), and the latest results. Heartbeats
 * and load are not events: they are in the live hosts view (apps/projector/agent-live.ts).
 */
export interface AgentsState {
  /** Sorted by ip (text order). */
  agents: AgentRecord[];
  /** The control plane's command keys, oldest first; the last one signs. */
  keys: KeyRecord[];
}

export interface AgentRecord {
  ip: string;
  publicKey: string;
  agentKeyId: string;
  hostname: string;
  agentVersion: string;
  enrolledAt: string;
  revoked: boolean;
  down: boolean;
  /** Since when the agent is down (its last heartbeat), when it is. */
  lastSeenAtMs?: number;
  trustedKeyId: string;
  lastSequence: number;
  /** Issued and not completed nor expired, by sequence. */
  pending: PendingCommand[];
  /** The latest outcomes (newest last), at most `keptResults`. */
  results: CommandOutcome[];
}

export interface PendingCommand {
  commandId: string;
  sequence: number;
  action: string;
  expiresAtMs: number;
  /** base64 SignedCommand. */
  signed: string;
}

export type CommandOutcome =
  | ({ kind: 'completed'; at: string } & Extract<AgentEvent, { type: 'AgentCommandCompleted' }>['data'])
  | ({ kind: 'refused'; at: string } & Extract<AgentEvent, { type: 'AgentCommandRefused' }>['data']);

export interface KeyRecord {
  keyId: string;
  publicKey: string;
  previousKeyId: string;
  statement: string;
  introducedAt: string;
}

export const keptResults = 200;
/** Pending commands are dropped this long after they expired (clock skew allowance). */
export const expiryGraceMs = 60_000;

export const agentsProjection: StateProjection<AgentsState> = {
  kind: 'state',
  name: 'agents',
  // 2: a refusal closes a command only when it carries the command's own bytes' sha256.
  version: 2,
  handles: [...agentEventTypes, ...keyringEventTypes],
  initialState: () => ({ agents: [], keys: [] }),
  apply: (state, event) => (event.type === 'SigningKeyIntroduced'
    ? applyKeyring(state, event as RecordedEvent<KeyringEvent>)
    : applyAgentEvent(state, event as RecordedEvent<AgentEvent>)),
};

const agentList = keyedList<AgentRecord>((a) => a.ip);

export function findAgent(state: AgentsState, ip: string): AgentRecord | null {
  return agentList.find(state.agents, ip) ?? null;
}

export function currentKey(state: AgentsState): KeyRecord | null {
  return state.keys[state.keys.length - 1] ?? null;
}

export function outcomeOf(state: AgentsState, ip: string, commandId: string): CommandOutcome | null {
  return findAgent(state, ip)?.results.find((r) => r.commandId === commandId) ?? null;
}

function applyKeyring(state: AgentsState, event: RecordedEvent<KeyringEvent>): AgentsState {
  if (state.keys.some((k) => k.keyId === event.data.keyId)) return state;
  return { ...state, keys: [...state.keys, { ...event.data, introducedAt: event.occurredAt }] };
}

function applyAgentEvent(state: AgentsState, event: RecordedEvent<AgentEvent>): AgentsState {
  const { ip } = event.data;
  const now = Date.parse(event.occurredAt);
  const existing = agentList.find(state.agents, ip);
  const update = (change: (a: AgentRecord) => AgentRecord): AgentsState =>
    existing ? { ...state, agents: agentList.with(state.agents, change(withoutExpired(existing, now))) } : state;
  // A completion is the agent's word that the command ran: it replaces any refusal recorded for it.
  const remember = (a: AgentRecord, outcome: CommandOutcome): AgentRecord => ({
    ...a,
    pending: a.pending.filter((p) => p.commandId !== outcome.commandId),
    results: [...(outcome.kind === 'completed' ? a.results.filter((r) => r.commandId !== outcome.commandId) : a.results), outcome].slice(-keptResults),
  });
  switch (event.type) {
    case 'AgentTokenIssued':
      return state;
    case 'AgentEnrolled': {
      const { publicKey, agentKeyId, hostname, agentVersion } = event.data;
      const record: AgentRecord = {
        ip, publicKey, agentKeyId, hostname, agentVersion, enrolledAt: event.occurredAt, revoked: false, down: false,
        trustedKeyId: '', lastSequence: existing?.lastSequence ?? 0, pending: [], results: existing?.results ?? [],
      };
      return { ...state, agents: agentList.with(state.agents, record) };
    }
    case 'AgentRevoked':
      return update((a) => ({ ...a, revoked: true, pending: [] }));
    case 'AgentCommandIssued': {
      const { commandId, sequence, action, expiresAtMs, signed } = event.data;
      return update((a) => ({ ...a, lastSequence: sequence, pending: [...a.pending, { commandId, sequence, action, expiresAtMs, signed }] }));
    }
    case 'AgentCommandCompleted':
      return update((a) => remember(a, { kind: 'completed', at: event.occurredAt, ...event.data }));
    case 'AgentCommandRefused':
      // Only the issued command's own bytes, refused, close it: a forgery naming it (a copy with
      // a bit flipped, say) is in the audit log but must neither drop the real one from the
      // queue nor answer for it. A replay refused was run before: its outcome is its result.
      return update((a) => {
        const { commandId, reason, signedSha256 } = event.data;
        const issued = a.pending.find((p) => p.commandId === commandId);
        if (!issued || reason === 'replayed' || !signedSha256 || signedSha256 !== sha256OfBase64(issued.signed)) return a;
        return remember(a, { kind: 'refused', at: event.occurredAt, ...event.data });
      });
    case 'AgentDown':
      return update((a) => ({ ...a, down: true, lastSeenAtMs: event.data.lastSeenAtMs }));
    case 'AgentUp':
      return update((a) => {
        const { lastSeenAtMs: _gone, ...rest } = a;
        return { ...rest, down: false };
      });
    case 'AgentKeyTrusted':
      return update((a) => ({ ...a, trustedKeyId: event.data.keyId }));
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** Commands past their expiry (by the events' time) can no longer run: they leave the queue. */
function withoutExpired(agent: AgentRecord, nowMs: number): AgentRecord {
  if (Number.isNaN(nowMs) || !agent.pending.some((p) => p.expiresAtMs + expiryGraceMs < nowMs)) return agent;
  return { ...agent, pending: agent.pending.filter((p) => p.expiresAtMs + expiryGraceMs >= nowMs) };
}

/** The agents sorted by ip the way people read them (numerically). */
export function listAgents(state: AgentsState): AgentRecord[] {
  return [...state.agents].sort((a, b) => compareIp(a.ip, b.ip));
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return compareText(a, b);
}

function sha256OfBase64(base64: string): string {
  return createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex');
}
