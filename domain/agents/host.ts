import { refuse, type Decider } from '../decider.ts';
import { parseIpv4 } from '../services/names.ts';
import type { AgentCommand } from './commands.ts';
import type { AgentEvent } from './events.ts';

/**
 * A host's agent, stream "host-<ip>": enrolment with a one-time token, revocation, the
 * commands signed for it (their sequence numbers), what became of them, and whether it is up.
 */
export interface HostAgentState {
  ip: string | null;
  tokens: ReadonlyMap<string, { tokenHash: string; expiresAtMs: number; used: boolean }>;
  enrolled: { publicKey: string; agentKeyId: string; tokenId: string } | null;
  revoked: boolean;
  /** The sequence number of the last command issued (0: none). */
  lastSequence: number;
  /** Commands issued and not yet completed, by id. */
  open: ReadonlyMap<string, number>;
  down: boolean;
  trustedKeyId: string;
}

const initial: HostAgentState = {
  ip: null, tokens: new Map(), enrolled: null, revoked: false, lastSequence: 0, open: new Map(), down: false, trustedKeyId: '',
};

/** Tokens are short lived: a day at most (default 1 hour, set by the console). */
export const MAX_TOKEN_LIFETIME_MS = 24 * 3600_000;

export const hostAgentDecider: Decider<AgentCommand, AgentEvent, HostAgentState> = {
  initialState: () => initial,
  evolve,
  decide,
};

export function isActive(state: HostAgentState): boolean {
  return state.enrolled !== null && !state.revoked;
}

function evolve(state: HostAgentState, event: AgentEvent): HostAgentState {
  switch (event.type) {
    case 'AgentTokenIssued': {
      const { ip, tokenId, tokenHash, expiresAtMs } = event.data;
      return { ...state, ip, tokens: new Map(state.tokens).set(tokenId, { tokenHash, expiresAtMs, used: false }) };
    }
    case 'AgentEnrolled': {
      // Every other token made for the host is void too: one enrolment per token batch, so a
      // second token lying around cannot enrol another key later (after a revoke, say).
      const { ip, tokenId, publicKey, agentKeyId } = event.data;
      return { ...state, ip, tokens: voidTokens(state.tokens), enrolled: { publicKey, agentKeyId, tokenId }, revoked: false, down: false };
    }
    case 'AgentRevoked':
      // A revoke is a fresh start: tokens made before it do not enrol after it.
      return { ...state, tokens: voidTokens(state.tokens), revoked: true };
    case 'AgentCommandIssued':
      return { ...state, lastSequence: event.data.sequence, open: new Map(state.open).set(event.data.commandId, event.data.sequence) };
    case 'AgentCommandCompleted': {
      if (!state.open.has(event.data.commandId)) return state;
      const open = new Map(state.open);
      open.delete(event.data.commandId);
      return { ...state, open };
    }
    case 'AgentCommandRefused':
      return state;
    case 'AgentDown':
      return { ...state, down: true };
    case 'AgentUp':
      return { ...state, down: false };
    case 'AgentKeyTrusted':
      return { ...state, trustedKeyId: event.data.keyId };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function voidTokens(tokens: HostAgentState['tokens']): HostAgentState['tokens'] {
  return new Map([...tokens].map(([id, t]) => [id, { ...t, used: true }]));
}

function decide(command: AgentCommand, state: HostAgentState): AgentEvent[] {
  switch (command.type) {
    case 'IssueAgentToken': {
      const ip = parseIpv4(command.ip);
      if (isActive(state)) return refuse('conflict', `an agent is enrolled for ${ip}: revoke it first (msec agent revoke ${ip}), then make a token`);
      if (!/^[0-9a-f]{64}$/.test(command.tokenHash)) return refuse('invalid', 'a token hash (sha256, hex) is required');
      return [{ type: 'AgentTokenIssued', data: { ip, tokenId: command.tokenId, tokenHash: command.tokenHash, expiresAtMs: command.expiresAtMs } }];
    }
    case 'EnrolAgent': {
      const ip = parseIpv4(command.ip);
      const found = [...state.tokens].find(([, t]) => t.tokenHash === command.tokenHash);
      // One answer for every way a token can be wrong: a stranger learns nothing from it.
      if (!found || found[1].used || found[1].expiresAtMs <= command.nowMs) {
        return refuse('forbidden', `the enrolment token for ${ip} is unknown, used or expired: make a new one (msec agent token --ip ${ip})`);
      }
      if (isActive(state)) return refuse('conflict', `an agent is enrolled for ${ip}: revoke it first`);
      if (!/^[A-Za-z0-9+/]{43}=$/.test(command.publicKey)) return refuse('invalid', 'the agent public key must be a raw Ed25519 key (32 bytes, base64)');
      return [{ type: 'AgentEnrolled', data: {
        ip, tokenId: found[0], publicKey: command.publicKey, agentKeyId: command.agentKeyId,
        hostname: printable(command.hostname, 255), agentVersion: printable(command.agentVersion, 64),
      } }];
    }
    case 'RevokeAgent':
      if (!state.enrolled) return refuse('not_found', `no agent is enrolled for ${command.ip}`);
      if (state.revoked) return [];
      return [{ type: 'AgentRevoked', data: { ip: command.ip } }];
    case 'IssueAgentCommand': {
      if (!isActive(state)) return refuse(state.revoked ? 'forbidden' : 'not_found', `no active agent for ${command.ip}${state.revoked ? ' (revoked)' : ''}: enrol one with msec agent token --ip ${command.ip}`);
      if (command.sequence !== state.lastSequence + 1) {
        return refuse('conflict', `sequence ${command.sequence} is not the next for ${command.ip} (${state.lastSequence + 1}): sign it again`);
      }
      const { ip, commandId, sequence, action, summary, issuedAtMs, expiresAtMs, keyId, signed } = command;
      return [{ type: 'AgentCommandIssued', data: { ip, commandId, sequence, action, summary, issuedAtMs, expiresAtMs, keyId, signed } }];
    }
    case 'RecordCommandResult':
      // A result for a command this host never had is not recorded; a second one neither.
      return state.open.has(command.result.commandId) ? [{ type: 'AgentCommandCompleted', data: command.result }] : [];
    case 'RecordCommandRefusal':
      return [{ type: 'AgentCommandRefused', data: command.refusal }];
    case 'MarkAgentDown':
      return isActive(state) && !state.down ? [{ type: 'AgentDown', data: { ip: command.ip, lastSeenAtMs: command.lastSeenAtMs } }] : [];
    case 'MarkAgentUp':
      return isActive(state) && state.down ? [{ type: 'AgentUp', data: { ip: command.ip } }] : [];
    case 'RecordTrustedKey':
      return isActive(state) && state.trustedKeyId !== command.keyId ? [{ type: 'AgentKeyTrusted', data: { ip: command.ip, keyId: command.keyId } }] : [];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

/** What the agent says of itself (host name, version) is kept as plain host-name characters only. */
function printable(text: string, max: number): string {
  return String(text ?? '').replace(/[^A-Za-z0-9._:+-]/g, '?').slice(0, max);
}
