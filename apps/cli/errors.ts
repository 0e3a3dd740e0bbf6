/**
 * Every failure the CLI reports is a CliError: one line for stderr and an exit code.
 * 1 = the console refused or failed, 2 = the command line is wrong, 3 = the console cannot
 * be reached or we have no (valid) credentials for it.
 */
import { readFileSync } from 'node:fs';

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(oneLine(message));
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A wrong command line: the message says what is wrong, `usage` shows the right form. */
export class UsageError extends CliError {
  readonly usage: string | undefined;
  constructor(message: string, usage?: string) {
    super(message, 2);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** The console answered with an error (application/problem+json or otherwise). */
export class ProblemError extends CliError {
  readonly status: number;
  readonly type: string | undefined;
  readonly title: string | undefined;
  /** The console's own words, without our hint. */
  readonly detail: string;
  constructor(status: number, message: string, type?: string, title?: string) {
    // A 401 means our credentials are missing, wrong or revoked: same remedy as no credentials.
    super(status === 401 ? `${message} (${loginHint})` : message, status === 401 ? 3 : 1);
    this.name = 'ProblemError';
    this.status = status;
    this.type = type;
    this.title = title;
    this.detail = oneLine(message);
  }
}

/** The console could not be reached (refused, unknown host, timed out). */
export class UnreachableError extends CliError {
  constructor(consoleUrl: string, why: string) {
    super(`cannot reach the console at ${consoleUrl} (${why}): is \`msec up\` running? set MSEC_CONSOLE or pass --console`, 3);
    this.name = 'UnreachableError';
  }
}

export const loginHint = 'set MSEC_TOKEN, or MSEC_USER and MSEC_PASSWORD, or run `msec login`';

/** We hold no credentials for this console. */
export class AuthMissingError extends CliError {
  constructor(consoleUrl: string) {
    super(`not logged in to ${consoleUrl}: ${loginHint}`, 3);
    this.name = 'AuthMissingError';
  }
}

/** Server-provided text goes to a terminal: keep it on one line and without control characters. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The bytes of a file the user named, or a usage error saying why it cannot be read. */
export function readUpload(path: string, usage: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, usage);
  }
}
