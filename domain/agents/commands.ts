/** Commands on a host's agent (stream "host-<ip>"). Times, hashes and signatures arrive computed. */
export type AgentCommand =
  | { type: 'IssueAgentToken'; ip: string; tokenId: string; tokenHash: string; expiresAtMs: number }
  | { type: 'EnrolAgent'; ip: string; tokenHash: string; publicKey: string; agentKeyId: string; hostname: string; agentVersion: string; nowMs: number }
  | { type: 'RevokeAgent'; ip: string }
  | { type: 'IssueAgentCommand'; ip: string; commandId: string; sequence: number; action: string; summary: string; issuedAtMs: number; expiresAtMs: number; keyId: string; signed: string }
  | { type: 'RecordCommandResult'; result: Extract<import('./events.ts').AgentEvent, { type: 'AgentCommandCompleted' }>['data'] }
  | { type: 'RecordCommandRefusal'; refusal: Extract<import('./events.ts').AgentEvent, { type: 'AgentCommandRefused' }>['data'] }
  | { type: 'MarkAgentDown'; ip: string; lastSeenAtMs: number }
  | { type: 'MarkAgentUp'; ip: string }
  | { type: 'RecordTrustedKey'; ip: string; keyId: string };

export type KeyringCommand =
  | { type: 'IntroduceSigningKey'; keyId: string; publicKey: string; previousKeyId: string; statement: string };
