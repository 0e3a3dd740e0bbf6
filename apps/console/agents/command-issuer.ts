/**
 * Issuing a command to a host's agent: the next sequence number of the host, an envelope
 * binding everything the agent will check (target, sequence, times, key, action, payload
 * digest, paths, file digests), signed with the current command key, recorded as an event
 * (the audit shows who ran what), then handed out (console long-poll, or msec.commands via the
 * projector's dispatcher). Two consoles issuing to one host at once: one append loses on the
 * stream's revision and is signed again with the next sequence.
 */
import { hostAgentDecider } from '../../../domain/agents/index.ts';
import { DomainError, refuse } from '../../../domain/decider.ts';
import { streams } from '../../../domain/streams.ts';
import { WrongExpectedRevision } from '../../../adapters/eventstore/port.ts';
import { sha256Hex } from '../../../adapters/signing/ed25519.ts';
import { encodeCommandBody, encodePayload, encodeSignedCommand, type CommandAction, type PayloadOf } from '../../../schemas/agent.ts';
import type { CommandBus, CommandMeta, CommandOutcome } from '../command-bus.ts';
import type { CommandKeys } from './command-keys.ts';

export const defaultCommandTtlMs = 5 * 60_000;
export const maxCommandTtlMs = 24 * 3600_000;

export interface CommandRequest<A extends CommandAction = CommandAction> {
  ip: string;
  action: A;
  payload: PayloadOf[A];
  /** Every path the action touches, relative to the agent's root. */
  paths?: string[];
  /** Digests of file contents the agent must fetch and check (push_file). */
  fileSha256?: string[];
  ttlMs?: number;
  /** One line for the audit: what runs. */
  summary: string;
}

export interface IssuedCommand {
  commandId: string;
  sequence: number;
  expiresAtMs: number;
  outcome: CommandOutcome;
}

/**
 * A path an agent may touch, relative to its root: no `..` (with either slash, as the agent
 * reads it), not absolute, no control characters; "." and empty parts are dropped. Only a
 * working directory may be the root itself (`root: true` answers "" for it).
 */
export function checkAgentPath(path: string, options: { root?: boolean } = {}): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1024) return refuse('invalid', 'a path of 1 to 1024 characters is required');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return refuse('invalid', 'the path contains control characters');
  if (path.startsWith('/') || path.split(/[\\/]/).some((part) => part === '..')) {
    return refuse('invalid', `the path "${path}" must stay inside the agent's root: relative, without ".."`);
  }
  const normal = path.split('/').filter((part) => part !== '' && part !== '.').join('/');
  if (normal === '' && !options.root) return refuse('invalid', `"${path}" names the agent's root itself: give the path of a file under it`);
  return normal;
}

/** The program and its arguments: a program name, and no NUL byte anywhere (a C string cannot hold one). */
export function checkArgv(argv: readonly string[]): string[] {
  if (!argv.length || !argv[0]) return refuse('invalid', 'argv[0] must name the program to run');
  if (argv.some((a) => a.includes('\0'))) return refuse('invalid', 'an argument contains a NUL byte: no program can receive it');
  return [...argv];
}

export async function issueCommand<A extends CommandAction>(commands: CommandBus, keys: CommandKeys, request: CommandRequest<A>, meta: CommandMeta): Promise<IssuedCommand> {
  const ttlMs = request.ttlMs ?? defaultCommandTtlMs;
  if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > maxCommandTtlMs) {
    refuse('invalid', `the command lifetime must be between 1 s and ${maxCommandTtlMs / 3600_000} h`);
  }
  const stream = streams.host(request.ip);
  const payload = encodePayload(request.action, request.payload);
  for (let attempt = 1; ; attempt++) {
    const state = await commands.state(stream, hostAgentDecider);
    const sequence = state.lastSequence + 1;
    const key = await keys.current();
    const expiresAtMs = meta.at + ttlMs;
    const body = encodeCommandBody({
      commandId: meta.commandId, target: request.ip, sequence, issuedAtMs: meta.at, expiresAtMs, keyId: key.keyId,
      action: request.action, payloadSha256: sha256Hex(payload), paths: request.paths ?? [], fileSha256: request.fileSha256 ?? [], actor: meta.actor,
    });
    const signed = encodeSignedCommand({ body, signature: key.sign('command', body), payload });
    try {
      const outcome = await commands.execute(stream, hostAgentDecider, {
        type: 'IssueAgentCommand', ip: request.ip, commandId: meta.commandId, sequence, action: request.action, summary: request.summary,
        issuedAtMs: meta.at, expiresAtMs, keyId: key.keyId, signed: Buffer.from(signed).toString('base64'),
      }, meta);
      return { commandId: meta.commandId, sequence, expiresAtMs, outcome };
    } catch (err) {
      const raced = err instanceof WrongExpectedRevision || (err instanceof DomainError && err.code === 'conflict' && /is not the next/.test(err.message));
      if (!raced || meta.expectedRevision !== undefined || attempt >= 10) throw err;
    }
  }
}

/** `sh -c 'echo hi'` as a person would type it. */
export function shellWords(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}
