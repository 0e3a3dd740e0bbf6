/**
 * Events of host agents (stream "host-<ip>") and of the control plane's command keys (stream
 * "keyring"). Shapes mirror schemas/events/agents.proto. Binary fields travel as base64 text.
 */
export type AgentEvent =
  /** A one-time enrolment token for the host: only its hash is kept. */
  | { type: 'AgentTokenIssued'; data: { ip: string; tokenId: string; tokenHash: string; expiresAtMs: number } }
  /** The agent registered its own public key with a valid token; it is known as this host from now on. */
  | { type: 'AgentEnrolled'; data: { ip: string; tokenId: string; publicKey: string; agentKeyId: string; hostname: string; agentVersion: string } }
  /** Refused everything from now on (a new token and enrolment make it known again). */
  | { type: 'AgentRevoked'; data: { ip: string } }
  /** A signed command for the agent: who ran what is in the envelope's actor and the summary. */
  | { type: 'AgentCommandIssued'; data: { ip: string; commandId: string; sequence: number; action: string; summary: string; issuedAtMs: number; expiresAtMs: number; keyId: string; signed: string } }
  | { type: 'AgentCommandCompleted'; data: {
      ip: string; commandId: string; sequence: number; action: string; exitCode: number; error: string; timedOut: boolean; durationMs: number;
      /** The output kept (base64, at most 256 KiB), its sha256 and size, and how much there was in all. */
      output: string; outputSha256: string; outputKeptBytes: number; outputBytes: number; dataSha256: string;
    } }
  /**
   * The agent refused a command (forged, replayed, expired, …): nothing of it ran. `commandId`
   * is what the refused bytes claim; `signedSha256` (of those bytes) says whether they were the
   * issued command itself or a forgery naming it.
   */
  | { type: 'AgentCommandRefused'; data: { ip: string; commandId: string; sequence: number; reason: string; detail: string; similar: number; signedSha256: string } }
  /** No heartbeat for three intervals: routing marks the host's instances down. */
  | { type: 'AgentDown'; data: { ip: string; lastSeenAtMs: number } }
  | { type: 'AgentUp'; data: { ip: string } }
  /** The agent reported that it now trusts this control-plane key (key rotation progress). */
  | { type: 'AgentKeyTrusted'; data: { ip: string; keyId: string } };

export type KeyringEvent =
  /** A control-plane command key; after the first, announced in a statement signed by the key before it. */
  | { type: 'SigningKeyIntroduced'; data: { keyId: string; publicKey: string; previousKeyId: string; statement: string } };

export type AgentEventType = AgentEvent['type'];
export type KeyringEventType = KeyringEvent['type'];

export const agentEventTypes: readonly AgentEventType[] = [
  'AgentTokenIssued', 'AgentEnrolled', 'AgentRevoked', 'AgentCommandIssued', 'AgentCommandCompleted', 'AgentCommandRefused',
  'AgentDown', 'AgentUp', 'AgentKeyTrusted',
];
export const keyringEventTypes: readonly KeyringEventType[] = ['SigningKeyIntroduced'];
