import { CliError } from './errors.ts';

/**
 * Reading from stdin: passwords without echo on a terminal, one line at a time otherwise
 * (`printf 'pw\n' | msec login`), and whole files (`msec config put S T -`).
 */

export interface Input {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'data', listener: (chunk: string) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

export interface Output {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** Buffered reader over stdin: several prompts can each take one line of piped input. */
export class StdinReader {
  private buf = '';
  private ended = false;
  private failed: Error | undefined;
  private attached = false;
  private wake: (() => void) | undefined;
  private readonly input: Input;

  constructor(input: Input) {
    this.input = input;
  }

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.input.setEncoding('utf8');
    this.input.on('data', (chunk: string) => {
      this.buf += chunk;
      this.wake?.();
    });
    this.input.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    this.input.on('error', (err: Error) => {
      this.failed = err;
      this.wake?.();
    });
  }

  private async more(): Promise<void> {
    if (this.failed) throw new CliError(`cannot read stdin: ${this.failed.message}`);
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.wake = undefined;
  }

  /** The next line without its end of line; null at end of input. */
  async line(): Promise<string | null> {
    this.attach();
    this.input.resume();
    try {
      for (;;) {
        const i = this.buf.indexOf('\n');
        if (i >= 0) {
          const l = this.buf.slice(0, i).replace(/\r$/, '');
          this.buf = this.buf.slice(i + 1);
          return l;
        }
        if (this.ended) {
          if (this.buf === '') return null;
          const l = this.buf;
          this.buf = '';
          return l;
        }
        await this.more();
      }
    } finally {
      this.input.pause();
    }
  }

  /** Everything left, exactly as given. */
  async rest(): Promise<string> {
    this.attach();
    this.input.resume();
    try {
      while (!this.ended) await this.more();
      const all = this.buf;
      this.buf = '';
      return all;
    } finally {
      this.input.pause();
    }
  }
}

/**
 * Asks for a secret. On a terminal: prompt on stderr, no echo, Ctrl-C aborts. Otherwise one
 * line of stdin. Answers null when stdin is at its end.
 */
export async function readSecret(prompt: string, stdin: Input, reader: StdinReader, stderr: Output): Promise<string | null> {
  if (!stdin.isTTY || !stdin.setRawMode) return reader.line();
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  try {
    return await new Promise<string | null>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') {
            stdin.removeListener('data', onData);
            resolve(typed);
            return;
          }
          if (ch === '\u0003') {
            stdin.removeListener('data', onData);
            reject(new CliError('interrupted', 130));
            return;
          }
          if (ch === '\u0004') {
            stdin.removeListener('data', onData);
            resolve(typed === '' ? null : typed);
            return;
          }
          if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
          else if (ch >= ' ') typed += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    stderr.write('\n');
  }
}
