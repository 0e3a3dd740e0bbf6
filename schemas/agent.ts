/**
 * Codec of the agent channel (schemas/agent.proto): signed commands, key statements and
 * signed reports. Decoding is strict: bytes that do not decode, or decode to a message with
 * the wrong shape, throw — callers treat that as a refusal, never as a default.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = protobuf.loadSync(`${here}agent.proto`);
const type = (name: string) => root.lookupType(`msec.agent.${name}`);
const toObject: protobuf.IConversionOptions = { longs: Number, defaults: true, arrays: true, bytes: Buffer, oneofs: true };

export type CommandAction = 'exec' | 'push_file' | 'pull_file' | 'ps' | 'release' | 'kv';
export const commandActions: readonly CommandAction[] = ['exec', 'push_file', 'pull_file', 'ps', 'release', 'kv'];

export interface CommandBody {
  commandId: string;
  target: string;
  sequence: number;
  issuedAtMs: number;
  expiresAtMs: number;
  keyId: string;
  action: CommandAction;
  payloadSha256: string;
  paths: string[];
  fileSha256: string[];
  actor: string;
}

export interface SignedCommand {
  body: Uint8Array;
  signature: Uint8Array;
  payload: Uint8Array;
}

export interface ExecPayload { argv: string[]; timeoutMs: number; maxOutputBytes: number; cwd: string }
export interface PushFilePayload { path: string; sha256: string; size: number; mode: number }
export interface PullFilePayload { path: string; maxBytes: number }
export type PsPayload = Record<string, never>;
export type ReleaseOperation = 'install' | 'rollback' | 'uninstall';
export type ReleaseType = 'complete' | 'only_config' | 'only_artifact' | 'only_library';
export interface ReleaseFile { name: string; sha256: string; size: number }
export interface ReleasePayload {
  planId: string; service: string; operation: ReleaseOperation; releaseType: ReleaseType | '';
  artifact?: ReleaseFile | null; config?: ReleaseFile | null; libraries: ReleaseFile[];
  port: number; healthTimeoutMs: number; stopTimeoutMs: number; versionsJson: string;
}
export type ReleaseStepName = 'pushed' | 'backed-up' | 'stopped' | 'installed' | 'started' | 'healthy' | 'restored' | 'removed';
export interface ReleaseStep { step: ReleaseStepName; ok: boolean; detail: string; atMs: number; durationMs: number }
export interface InstalledService {
  service: string; planId: string; versionsJson: string; artifactSha256: string; configSha256: string;
  state: 'running' | 'starting' | 'backoff' | 'stopped'; pid: number; restarts: number; port: number; sinceMs: number;
}
export const kvOperations = ['start', 'stop', 'remove'] as const;
export type KvOperation = (typeof kvOperations)[number];
export const kvMaxmemoryPolicies = ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl'] as const;
export type KvMaxmemoryPolicy = (typeof kvMaxmemoryPolicies)[number];
/** A Redis cluster instance on the agent's host (apps/agent/kv/); the start-only fields are ignored by stop and remove. */
export interface KvPayload {
  cluster: string; operation: KvOperation; port: number; maxmemoryBytes: number; maxmemoryPolicy: KvMaxmemoryPolicy | '';
  nodeTimeoutMs: number; appendonly: boolean; fresh: boolean; healthTimeoutMs: number; stopTimeoutMs: number;
}
export interface PayloadOf {
  exec: ExecPayload;
  push_file: PushFilePayload;
  pull_file: PullFilePayload;
  ps: PsPayload;
  release: ReleasePayload;
  kv: KvPayload;
}
const payloadTypes: Record<CommandAction, string> = { exec: 'ExecPayload', push_file: 'PushFilePayload', pull_file: 'PullFilePayload', ps: 'PsPayload', release: 'ReleasePayload', kv: 'KvPayload' };

export interface KeySuccession { previousKeyId: string; keyId: string; publicKey: Uint8Array; atMs: number }
export interface KeyStatement { succession: Uint8Array; signature: Uint8Array }

export interface Heartbeat {
  agentVersion: string; intervalMs: number; cpuPercent: number; memTotalBytes: number; memFreeBytes: number;
  diskTotalBytes: number; diskFreeBytes: number; load1: number; load5: number; load15: number; processes: number;
  trustedKeyId: string; cpus: number; hostname: string;
  /** Absent in heartbeats of agents older than releases. */
  services?: InstalledService[];
  /** Redis instances the agent supervises (service "kv/<cluster>/<port>"); decoded as [] from agents older than the KV. */
  kvInstances?: InstalledService[];
}
export interface CommandResult {
  commandId: string; sequence: number; action: string; exitCode: number; error: string; output: Uint8Array;
  outputBytes: number; durationMs: number; timedOut: boolean; data: Uint8Array; dataSha256: string;
}
export interface Process { pid: number; ppid: number; user: string; cpuPercent: number; rssBytes: number; state: string; startedAtMs: number; command: string }
export interface CommandRefused { commandId: string; sequence: number; reason: string; detail: string; similar: number; signedSha256: string }
export interface OutputChunk { commandId: string; offset: number; data: Uint8Array }

export type ReportKind =
  | { heartbeat: Heartbeat }
  | { result: CommandResult }
  | { refused: CommandRefused }
  | { output: OutputChunk }
  | { key: { keyId: string } };

export type ReportBody = { agent: string; sequence: number; atMs: number } & ReportKind;
export interface SignedReport { agent: string; body: Uint8Array; signature: Uint8Array }

export class AgentCodecError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what} does not decode: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'AgentCodecError';
  }
}

function encode(name: string, value: object): Uint8Array {
  const t = type(name);
  const problem = t.verify(value);
  if (problem) throw new Error(`${name} does not match its schema: ${problem}`);
  return t.encode(t.fromObject(value)).finish();
}

function decode<T>(name: string, bytes: Uint8Array): T {
  try {
    const t = type(name);
    return t.toObject(t.decode(bytes), toObject) as T;
  } catch (err) {
    throw new AgentCodecError(name, err);
  }
}

export const encodeCommandBody = (b: CommandBody) => encode('CommandBody', b);
export const decodeCommandBody = (bytes: Uint8Array) => decode<CommandBody>('CommandBody', bytes);
export const encodeSignedCommand = (c: SignedCommand) => encode('SignedCommand', c);
export const decodeSignedCommand = (bytes: Uint8Array) => decode<SignedCommand>('SignedCommand', bytes);
export const encodePayload = <A extends CommandAction>(action: A, p: PayloadOf[A]) => encode(payloadTypes[action], p);
export const decodePayload = <A extends CommandAction>(action: A, bytes: Uint8Array) => decode<PayloadOf[A]>(payloadTypes[action], bytes);
export const encodeReleaseOutcome = (steps: ReleaseStep[]) => encode('ReleaseOutcome', { steps });
export const decodeReleaseOutcome = (bytes: Uint8Array) => decode<{ steps: ReleaseStep[] }>('ReleaseOutcome', bytes).steps;
export const encodeKeySuccession = (s: KeySuccession) => encode('KeySuccession', s);
export const decodeKeySuccession = (bytes: Uint8Array) => decode<KeySuccession>('KeySuccession', bytes);
export const encodeKeyChain = (statements: KeyStatement[]) => encode('KeyChain', { statements });
export const decodeKeyChain = (bytes: Uint8Array) => decode<{ statements: KeyStatement[] }>('KeyChain', bytes).statements;
export const encodeSignedReport = (r: SignedReport) => encode('SignedReport', r);
export const decodeSignedReport = (bytes: Uint8Array) => decode<SignedReport>('SignedReport', bytes);
export const encodeReportBody = (r: ReportBody) => encode('ReportBody', r);
export const encodeProcessList = (processes: Process[]) => encode('ProcessList', { processes });
export const decodeProcessList = (bytes: Uint8Array) => decode<{ processes: Process[] }>('ProcessList', bytes).processes;

export type ReportKindName = 'heartbeat' | 'result' | 'refused' | 'output' | 'key';

/** A report body; `kind` names the oneof that is set. */
export function decodeReportBody(bytes: Uint8Array): ReportBody & { kind: ReportKindName } {
  const r = decode<ReportBody & { kind?: ReportKindName }>('ReportBody', bytes);
  if (!r.kind) throw new AgentCodecError('ReportBody', new Error('no report kind is set'));
  return r as ReportBody & { kind: ReportKindName };
}
