/**
 * The agent's check of a command, before anything of it runs or touches disk (fail closed):
 * it decodes, is signed by the current control-plane key, its payload is the one the signature
 * binds, it is for this host, within its validity (a small clock skew allowed), and newer than
 * anything seen (by sequence and by id). The first failing check is the reason, but bytes
 * identical to a command taken before are a replay first of all.
 */
import { sha256Hex, verifySignature } from '../../adapters/signing/ed25519.ts';
import { decodeCommandBody, decodeSignedCommand, type CommandBody } from '../../schemas/agent.ts';
import type { AgentStateData } from './state-file.ts';

export const clockSkewMs = 30_000;

export type RefusalReason =
  | 'malformed' | 'unsigned' | 'bad-signature' | 'unknown-key' | 'retired-key' | 'wrong-target'
  | 'expired' | 'not-yet-valid' | 'replayed' | 'digest-mismatch';

export type Verdict =
  | { ok: true; body: CommandBody; payload: Uint8Array }
  | { ok: false; reason: RefusalReason; detail: string; commandId: string; sequence: number };

/** How a command's bytes are remembered once taken (AgentStateData.seenDigests). */
export const takenDigest = (bytes: Uint8Array) => sha256Hex(bytes).slice(0, 32);

export function verifyCommand(bytes: Uint8Array, state: Pick<AgentStateData, 'ip' | 'current' | 'retired' | 'lastSequence' | 'seenIds' | 'seenDigests'>, nowMs: number): Verdict {
  let signed;
  try {
    signed = decodeSignedCommand(bytes);
  } catch (err) {
    return refused('malformed', (err as Error).message);
  }
  let body: CommandBody;
  try {
    body = decodeCommandBody(signed.body);
  } catch (err) {
    return refused('malformed', (err as Error).message);
  }
  const claim = { commandId: String(body.commandId ?? '').slice(0, 64), sequence: Number(body.sequence) || 0 };
  const no = (reason: RefusalReason, detail: string): Verdict => ({ ok: false, reason, detail, ...claim });
  if (state.seenDigests?.includes(takenDigest(bytes))) return no('replayed', `these exact bytes were taken before (sequence ${claim.sequence})`);
  if (!signed.signature || signed.signature.length === 0) return no('unsigned', 'the command carries no signature');
  if (body.keyId !== state.current.keyId) {
    if (state.retired.includes(body.keyId)) return no('retired-key', `signed by ${body.keyId}, a key the control plane replaced`);
    return no('unknown-key', `signed by ${String(body.keyId).slice(0, 32) || 'no key'}, not a key this agent trusts`);
  }
  if (!verifySignature('command', signed.body, signed.signature, Buffer.from(state.current.publicKey, 'base64'))) {
    return no('bad-signature', `the signature does not verify with key ${state.current.keyId}`);
  }
  // The message is whole (signature and payload digest) before anything it says is judged.
  if (sha256Hex(signed.payload) !== body.payloadSha256) return no('digest-mismatch', 'the payload is not the one the signature binds');
  if (body.target !== state.ip) return no('wrong-target', `meant for ${String(body.target).slice(0, 64)}, this is ${state.ip}`);
  if (nowMs < body.issuedAtMs - clockSkewMs) return no('not-yet-valid', `issued at ${timeText(body.issuedAtMs)}, in the future`);
  if (nowMs > body.expiresAtMs + clockSkewMs) return no('expired', `expired at ${timeText(body.expiresAtMs)}`);
  if (body.sequence <= state.lastSequence || state.seenIds.includes(body.commandId)) {
    return no('replayed', `sequence ${body.sequence} (id ${body.commandId}) was seen before (last ${state.lastSequence})`);
  }
  return { ok: true, body, payload: signed.payload };

  function refused(reason: RefusalReason, detail: string): Verdict {
    return { ok: false, reason, detail, commandId: '', sequence: 0 };
  }
}

/** A signed time as text; one outside what a Date holds must not throw (fail closed, never crash the loop). */
function timeText(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms since 1970` : d.toISOString();
}
