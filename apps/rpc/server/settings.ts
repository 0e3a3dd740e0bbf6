/**
 * Where a service listens and how long it lets work run, from (first wins) serve()'s
 * options, the environment the agent starts it with (MSEC_SERVICE, MSEC_LISTEN,
 * MSEC_CONFIG), its config file's [SRPC] section, and MSEC's defaults (port 7963 on TCP and
 * UDP, 800 ms method timeout, 800 ms msg_timeout).
 *
 *   [SRPC]
 *   listen = 7963/tcp 7963/udp      ; [host:]port[/tcp|/udp], one port for all
 *   timeout = 800                   ; ms, every method
 *   timeout.queryFlight = 2000      ; ms, one method
 *   msg_timeout = 800               ; ms a request may wait for a free handler slot
 *   max_concurrent = 100            ; handlers running at once (default 1024)
 *
 * What one client may hold of the port (defaults in the constants below):
 *
 *   max_frame_bytes = 1048576       ; largest request frame, and HTTP/JSON body
 *   read_timeout = 10000            ; ms a started frame, or an HTTP request, has to arrive whole
 *   idle_timeout = 120000           ; ms a connection may stay silent with nothing in flight
 *   max_connections = 1024          ; open TCP connections (frames and HTTP); more are closed at once
 *   max_buffered_bytes = 33554432   ; bytes of unfinished frames and HTTP bodies held at once, all connections
 */
import { readFileSync } from 'node:fs';
import { IniSyntaxError, parseIni, type IniDocument } from '../../../domain/services/ini.ts';

export const defaultPort = 7963;
export const defaultMethodTimeoutMs = 800;
export const defaultQueueTimeoutMs = 800;
/**
 * Handlers running at once before requests wait (and, past msg_timeout, are refused with
 * OVERLOADED): MSEC's workers gave the same back-pressure. `[SRPC] max_concurrent` changes it.
 */
export const defaultMaxConcurrent = 1024;
/**
 * A request frame (and an HTTP/JSON body) is at most 1 MiB unless `[SRPC] max_frame_bytes`
 * says more: with 16 MiB, 24 connections that each sent most of a frame and stalled held
 * 263 MB. msec's client still reads answers up to 16 MiB (framing.ts).
 */
export const defaultServerMaxFrameBytes = 1024 * 1024;
/** A frame whose first bytes came must be whole this soon (also HTTP headers and body): 100 KiB/s for 1 MiB. */
export const defaultReadTimeoutMs = 10_000;
/** A connection with nothing read, nothing to answer for this long is closed (the client reconnects). */
export const defaultIdleTimeoutMs = 120_000;
export const defaultMaxConnections = 1024;
/** Bytes of unfinished frames and HTTP bodies held across connections: 32 frames of 1 MiB. */
export const defaultMaxBufferedBytes = 32 * 1024 * 1024;

/** A setting cannot be used; the message names its source and what to write instead. */
export class ServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerConfigError';
  }
}

export interface SettingsInput {
  name?: string;
  listen?: { host?: string; port?: number };
  configFile?: string;
  methodTimeoutMs?: number | Record<string, number>;
  queueTimeoutMs?: number;
  maxConcurrent?: number;
  /** Largest request frame or HTTP body accepted ([SRPC] max_frame_bytes, default 1 MiB). */
  maxFrameBytes?: number;
  readTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxConnections?: number;
  maxBufferedBytes?: number;
}

/** What one client may hold of the port. */
export interface PortLimits {
  maxFrameBytes: number;
  readTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  maxBufferedBytes: number;
}

export interface ServerSettings {
  name: string | undefined;
  host: string;
  port: number;
  tcp: boolean;
  udp: boolean;
  /** Per method name; `defaultTimeoutMs` for the others. */
  methodTimeouts: Map<string, number>;
  defaultTimeoutMs: number;
  queueTimeoutMs: number;
  maxConcurrent: number;
  limits: PortLimits;
  config: IniDocument;
}

interface Listen {
  host?: string;
  port?: number;
  tcp: boolean;
  udp: boolean;
}

function readConfig(file: string): IniDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ServerConfigError(`cannot read the config file ${file} (${(error as NodeJS.ErrnoException).code ?? error}); fix configFile or MSEC_CONFIG`);
  }
  try {
    return parseIni(text);
  } catch (error) {
    if (error instanceof IniSyntaxError) throw new ServerConfigError(`${file} ${error.message}`);
    throw error;
  }
}

function parsePort(text: string, where: string, example: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new ServerConfigError(`${where}: "${text}" is not a port (0-65535); write e.g. ${example}`);
  return port;
}

/** `host:port`, `[v6]:port`, `:port` or `port`. */
function parseHostPort(text: string, where: string, example: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]:|([^:]*):)?([^:]+)$/.exec(text);
  if (!m) throw new ServerConfigError(`${where}: "${text}" is not host:port; write e.g. ${example}`);
  const host = m[1] ?? (m[2] || undefined);
  return { host, port: parsePort(m[3]!, where, example) };
}

/** `[SRPC] listen`: every entry names the same host:port; the suffixes say which protocols. */
export function parseListen(text: string, where = '[SRPC] listen'): Listen {
  const example = '"7963/tcp 7963/udp"';
  const entries = text.split(/[\s,]+/).filter(Boolean);
  if (entries.length === 0) throw new ServerConfigError(`${where} is empty; write e.g. ${example}`);
  const listen: Listen = { tcp: false, udp: false };
  let address: string | undefined;
  for (const entry of entries) {
    const [where_, protocol] = entry.split('/') as [string, string | undefined];
    if (protocol !== undefined && protocol !== 'tcp' && protocol !== 'udp') {
      throw new ServerConfigError(`${where}: "${entry}" ends in /${protocol}; use /tcp or /udp, e.g. ${example}`);
    }
    if (address !== undefined && where_ !== address) {
      throw new ServerConfigError(`${where} names ${address} and ${where_}: a service serves TCP, UDP and HTTP on one port; use the same one, e.g. ${example}`);
    }
    address = where_;
    if (protocol !== 'udp') listen.tcp = true;
    if (protocol !== 'tcp') listen.udp = true;
  }
  if (!listen.tcp) throw new ServerConfigError(`${where} has no TCP entry; binary TCP and HTTP need it, e.g. ${example}`);
  const { host, port } = parseHostPort(address!, where, example);
  return { ...listen, host, port };
}

function positive(value: number | string, where: string, what = 'number of milliseconds', example = 800): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new ServerConfigError(`${where} = ${value} is not a positive ${what}; write e.g. ${example}`);
  return n;
}
const positiveMs = (value: number | string, where: string) => positive(value, where);
const positiveCount = (value: number | string, where: string) => (value === Infinity ? value : Math.ceil(positive(value, where, 'whole number', 100)));

export function resolveSettings(input: SettingsInput, env: NodeJS.ProcessEnv = process.env): ServerSettings {
  const configFile = input.configFile ?? env.MSEC_CONFIG;
  const config: IniDocument = configFile ? readConfig(configFile) : new Map();
  const srpc = config.get('SRPC') ?? new Map<string, string>();
  const inFile = (key: string) => `[SRPC] ${key} in ${configFile}`;

  let listen: Listen = { tcp: true, udp: true };
  const fileListen = srpc.get('listen');
  if (fileListen !== undefined) listen = parseListen(fileListen, inFile('listen'));
  if (env.MSEC_LISTEN) {
    listen = { ...listen, ...parseHostPort(env.MSEC_LISTEN, 'MSEC_LISTEN', 'MSEC_LISTEN=0.0.0.0:7963') };
  }
  const host = input.listen?.host ?? listen.host ?? '0.0.0.0';
  const port = input.listen?.port ?? listen.port ?? defaultPort;

  const methodTimeouts = new Map<string, number>();
  for (const [key, value] of srpc) {
    if (key.startsWith('timeout.')) methodTimeouts.set(key.slice('timeout.'.length), positiveMs(value, inFile(key)));
  }
  let defaultTimeoutMs = srpc.has('timeout') ? positiveMs(srpc.get('timeout')!, inFile('timeout')) : defaultMethodTimeoutMs;
  if (typeof input.methodTimeoutMs === 'number') {
    defaultTimeoutMs = positiveMs(input.methodTimeoutMs, 'methodTimeoutMs');
  } else if (input.methodTimeoutMs) {
    for (const [method, ms] of Object.entries(input.methodTimeoutMs)) methodTimeouts.set(method, positiveMs(ms, `methodTimeoutMs.${method}`));
  }

  const queueTimeoutMs = input.queueTimeoutMs !== undefined ? positiveMs(input.queueTimeoutMs, 'queueTimeoutMs')
    : srpc.has('msg_timeout') ? positiveMs(srpc.get('msg_timeout')!, inFile('msg_timeout')) : defaultQueueTimeoutMs;
  const maxConcurrent = input.maxConcurrent !== undefined ? positiveCount(input.maxConcurrent, 'maxConcurrent')
    : srpc.has('max_concurrent') ? positiveCount(srpc.get('max_concurrent')!, inFile('max_concurrent')) : defaultMaxConcurrent;

  const bytes = (value: number | string, where: string) => Math.ceil(positive(value, where, 'number of bytes', 1048576));
  /** serve()'s option, else the [SRPC] key, else the default. */
  const limit = (name: keyof PortLimits, key: string, fallback: number, parse: (value: number | string, where: string) => number) => {
    const option = input[name];
    return option !== undefined ? parse(option, name) : srpc.has(key) ? parse(srpc.get(key)!, inFile(key)) : fallback;
  };
  const limits: PortLimits = {
    maxFrameBytes: limit('maxFrameBytes', 'max_frame_bytes', defaultServerMaxFrameBytes, bytes),
    readTimeoutMs: limit('readTimeoutMs', 'read_timeout', defaultReadTimeoutMs, positiveMs),
    idleTimeoutMs: limit('idleTimeoutMs', 'idle_timeout', defaultIdleTimeoutMs, positiveMs),
    maxConnections: limit('maxConnections', 'max_connections', defaultMaxConnections, positiveCount),
    maxBufferedBytes: limit('maxBufferedBytes', 'max_buffered_bytes', defaultMaxBufferedBytes, bytes),
  };
  if (limits.maxBufferedBytes < limits.maxFrameBytes) {
    throw new ServerConfigError(`max_buffered_bytes (${limits.maxBufferedBytes}) is below max_frame_bytes (${limits.maxFrameBytes}): no frame of the largest size could be read; raise max_buffered_bytes`);
  }

  return {
    name: input.name ?? env.MSEC_SERVICE,
    host, port, tcp: listen.tcp, udp: listen.udp,
    methodTimeouts, defaultTimeoutMs, queueTimeoutMs, maxConcurrent, limits, config,
  };
}
