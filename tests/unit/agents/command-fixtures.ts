/**
 * Real signed commands for an agent, made the way the console makes them (command-issuer.ts),
 * and the agent state that checks them. Attack tests start from these bytes.
 */
import { createPrivateKey } from 'node:crypto';
import { SigningKey, sha256Hex } from '../../../adapters/signing/ed25519.ts';
import {
  decodeSignedCommand, encodeCommandBody, encodePayload, encodeSignedCommand, type CommandAction, type CommandBody, type PayloadOf,
} from '../../../schemas/agent.ts';
import type { AgentStateData } from '../../../apps/agent/state-file.ts';

/** An Ed25519 key from a fixed seed (signatures are deterministic: a fuzz seed then reproduces a run exactly). */
export function fixedKey(seed: number): SigningKey {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]);
  return SigningKey.fromPem(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString());
}

export const agentIp = '10.0.0.7';
export const issuedAt = Date.parse('2024-05-01T08:00:00.000Z');
export const ttlMs = 5 * 60_000;

export type VerifyState = Pick<AgentStateData, 'ip' | 'current' | 'retired' | 'lastSequence' | 'seenIds' | 'seenDigests'>;

export function trusting(key: SigningKey, o: Partial<VerifyState> = {}): VerifyState {
  return { ip: agentIp, current: { keyId: key.keyId, publicKey: key.publicKeyRaw.toString('base64') }, retired: [], lastSequence: 0, seenIds: [], ...o };
}

export interface CommandParts<A extends CommandAction = CommandAction> {
  body?: Partial<CommandBody>;
  action?: A;
  payload?: PayloadOf[A];
  /** Sign with this key (default: `key`) — the body's key id stays what `body` says. */
  signer?: SigningKey;
  domain?: 'command' | 'report' | 'keySuccession' | 'agentRequest';
}

export const execPayload: PayloadOf['exec'] = { argv: ['sh', '-c', 'echo hi'], timeoutMs: 60_000, maxOutputBytes: 262_144, cwd: '' };

/** The pieces of a command signed by `key` (sequence 1 for 10.0.0.7 unless told). */
export function commandPieces(key: SigningKey, parts: CommandParts = {}): { body: Uint8Array; signature: Uint8Array; payload: Uint8Array; fields: CommandBody } {
  const action = parts.action ?? 'exec';
  const payload = encodePayload(action, (parts.payload ?? (action === 'exec' ? execPayload : {})) as PayloadOf[typeof action]);
  const fields: CommandBody = {
    commandId: '01900000-0000-7000-8000-000000000001', target: agentIp, sequence: 1, issuedAtMs: issuedAt, expiresAtMs: issuedAt + ttlMs,
    keyId: key.keyId, action, payloadSha256: sha256Hex(payload), paths: [], fileSha256: [], actor: 'admin', ...parts.body,
  };
  const body = encodeCommandBody(fields);
  const signature = (parts.signer ?? key).sign(parts.domain ?? 'command', body);
  return { body, signature, payload, fields };
}

export function signedCommand(key: SigningKey, parts: CommandParts = {}): Uint8Array {
  const { body, signature, payload } = commandPieces(key, parts);
  return encodeSignedCommand({ body, signature, payload });
}

/** What a command's bytes decode to, as one comparable text (undefined: they do not decode). */
export function meaningOf(bytes: Uint8Array): string | undefined {
  try {
    const c = decodeSignedCommand(bytes);
    return [c.body, c.signature, c.payload].map((b) => Buffer.from(b ?? []).toString('hex')).join('/');
  } catch {
    return undefined;
  }
}
