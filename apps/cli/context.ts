import { ConsoleClient, type Auth } from './client.ts';
import { findToken, type Env } from './credentials.ts';
import { AuthMissingError, UsageError } from './errors.ts';
import { readSecret, StdinReader, type Input, type Output } from './prompt.ts';
import { strOpt, usageLine, type CommandLine, type CommandSpec } from './args.ts';
import { terminalSafe, terminalSafeKeepingStyles } from './terminal-safe.ts';

/** What a verb may touch of the outside world; tests pass their own. */
export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: Input;
  env: Env;
  /** Aborted on SIGINT/SIGTERM: ends `--watch`, `--follow` and `msec up`. */
  stopSignal(): AbortSignal;
  /** `up` from apps/console/up.ts (tests inject a fake). */
  loadUp(): Promise<UpFunction>;
}

export interface UpOptions {
  home: string;
  port: number;
  host?: string;
  /** Default: console and projector in one process (msec up). */
  roles?: { console: boolean; projector: boolean };
  /** The adapters' URLs (flags over MSEC_* variables); default: from the environment. */
  urls?: { eventstore: string; bus: string; views: string; registry: string };
}
export interface RunningConsole {
  /** Absent for a projector alone. */
  url?: string;
  adminPassword?: string;
  close(): Promise<void>;
}
export type UpFunction = (o: UpOptions) => Promise<RunningConsole>;

export interface Ctx extends Io {
  version: string;
  reader: StdinReader;
  /** Colours only on a terminal, and never with NO_COLOR. */
  color: boolean;
  /** Prints text, with terminal controls from the data made visible (terminal-safe.ts). */
  out(text: string): void;
  /** Prints a file's bytes as they are when stdout is a file or pipe; made safe on a terminal. */
  raw(text: string): void;
}

export type RunLine = Extract<CommandLine, { kind: 'run' }>;

export interface Command extends CommandSpec {
  /** Answers the exit code (0 when omitted). */
  run(ctx: Ctx, line: RunLine): Promise<number | void>;
}

export const defaultConsoleUrl = 'http://127.0.0.1:8080';

export function makeCtx(io: Io, version: string): Ctx {
  const color = io.stdout.isTTY === true && !io.env.NO_COLOR;
  return {
    ...io,
    version,
    reader: new StdinReader(io.stdin),
    color,
    // Every printed field may come from outside (console answers, reports): see terminal-safe.ts.
    out: (text) => void io.stdout.write(color ? terminalSafeKeepingStyles(text) : terminalSafe(text)),
    raw: (text) => void io.stdout.write(io.stdout.isTTY === true ? terminalSafe(text) : text),
    stderr: { isTTY: io.stderr.isTTY, write: (text: string) => io.stderr.write(terminalSafe(text)) },
  };
}

/** `--console`, else MSEC_CONSOLE, else the local default; no trailing slash. */
export function consoleUrl(ctx: Ctx, line: RunLine): string {
  const raw = strOpt(line.opts, 'console') ?? ctx.env.MSEC_CONSOLE ?? defaultConsoleUrl;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--console / MSEC_CONSOLE is not a URL: '${raw}'`, usageLine(line.spec));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`--console / MSEC_CONSOLE must be an http(s) URL: '${raw}'`, usageLine(line.spec));
  }
  return (u.origin + u.pathname).replace(/\/+$/, '');
}

/** Asks for a secret (no echo on a terminal, else a line of stdin); null when none came. */
export function askSecret(ctx: Ctx, prompt: string): Promise<string | null> {
  return readSecret(prompt, ctx.stdin, ctx.reader, ctx.stderr);
}

/**
 * Chooses the credentials, first match wins: --token; --user/--password; MSEC_TOKEN;
 * MSEC_USER + MSEC_PASSWORD; the token `msec login` stored for this console.
 */
export async function resolveAuth(ctx: Ctx, line: RunLine, url: string): Promise<Auth> {
  const flagToken = strOpt(line.opts, 'token');
  const flagUser = strOpt(line.opts, 'user');
  const flagPassword = line.spec.passwordIsPayload ? undefined : strOpt(line.opts, 'password');
  const user = flagUser ?? ctx.env.MSEC_USER;
  const password = flagPassword ?? ctx.env.MSEC_PASSWORD;

  if (flagToken) return { kind: 'bearer', token: flagToken };
  if (flagUser !== undefined || flagPassword !== undefined) return basicAuth(ctx, url, user, password);
  if (ctx.env.MSEC_TOKEN) return { kind: 'bearer', token: ctx.env.MSEC_TOKEN };
  if (user && password !== undefined) return { kind: 'basic', user, password };
  const stored = await findToken(ctx.env, url);
  if (stored) return { kind: 'bearer', token: stored.token };
  throw new AuthMissingError(url);
}

async function basicAuth(ctx: Ctx, url: string, user: string | undefined, password: string | undefined): Promise<Auth> {
  if (!user) throw new UsageError('--password needs a user name: pass --user or set MSEC_USER');
  if (password !== undefined) return { kind: 'basic', user, password };
  // A user without a password: ask, but only a person at a terminal.
  if (ctx.stdin.isTTY) {
    const typed = await askSecret(ctx, `password for ${user} at ${url}: `);
    if (typed !== null) return { kind: 'basic', user, password: typed };
  }
  throw new AuthMissingError(url);
}

/** The user name we act as, when we know it without asking the console. */
export async function knownUser(ctx: Ctx, line: RunLine, url: string): Promise<string | undefined> {
  if (strOpt(line.opts, 'token') || (!strOpt(line.opts, 'user') && ctx.env.MSEC_TOKEN)) return undefined;
  const user = strOpt(line.opts, 'user') ?? ctx.env.MSEC_USER;
  if (user) return user;
  return (await findToken(ctx.env, url))?.user;
}

export async function connect(ctx: Ctx, line: RunLine, auth?: Auth): Promise<ConsoleClient> {
  const url = consoleUrl(ctx, line);
  return new ConsoleClient(url, {
    auth: auth ?? (await resolveAuth(ctx, line, url)),
    userAgent: `msec-cli/${ctx.version}`,
  });
}

/** A client whose long polls end when the user presses Ctrl-C. */
export async function connectStoppable(ctx: Ctx, line: RunLine): Promise<{ client: ConsoleClient; stop: AbortSignal }> {
  const url = consoleUrl(ctx, line);
  const auth = await resolveAuth(ctx, line, url);
  const stop = ctx.stopSignal();
  return { client: new ConsoleClient(url, { auth, signal: stop, userAgent: `msec-cli/${ctx.version}` }), stop };
}

/** Print JSON the same way everywhere: indented, newline-terminated. */
export function printJson(ctx: Ctx, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2) + '\n');
}

/** The answer of a mutation, for humans: `what (stream S, revision R, position P)`. */
export function printDone(ctx: Ctx, line: RunLine, what: string, answer: MutationAnswer): void {
  if (line.opts.json === true) return printJson(ctx, answer);
  const where = [
    answer.stream !== undefined ? `stream ${answer.stream}` : undefined,
    answer.revision !== undefined ? `revision ${answer.revision}` : undefined,
    answer.position !== undefined ? `position ${answer.position}` : undefined,
  ].filter(Boolean);
  ctx.out(where.length ? `${what} (${where.join(', ')})\n` : `${what}\n`);
}

export interface MutationAnswer {
  ok?: boolean;
  stream?: string;
  revision?: number;
  position?: number;
  [k: string]: unknown;
}
