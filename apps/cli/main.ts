import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from './args.ts';
import { commands } from './commands.ts';
import { makeCtx, type Command, type Io, type UpFunction } from './context.ts';
import { CliError, UsageError } from './errors.ts';
import { helpText } from './verbs/help.ts';

/** `msec`: parse, dispatch, and turn every failure into one stderr line and an exit code. */

export const version: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

/** apps/console/up.ts, loaded only by `msec up` so the client verbs never pay for the server. */
async function loadConsoleUp(): Promise<UpFunction> {
  const url = new URL('../console/up.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) throw new CliError('this checkout has no console (apps/console/up.ts is missing)');
  const mod = (await import(url.href)) as { up?: unknown };
  if (typeof mod.up !== 'function') throw new CliError('apps/console/up.ts exports no up() function');
  return mod.up as UpFunction;
}

/** SIGINT/SIGTERM abort the signal once; a second one ends the process at once. */
function processStopSignal(): () => AbortSignal {
  let controller: AbortController | undefined;
  return () => {
    if (!controller) {
      const c = new AbortController();
      controller = c;
      const onSignal = (sig: NodeJS.Signals) => {
        if (c.signal.aborted) process.exit(130);
        c.abort(new Error(`stopped by ${sig}`));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    return controller.signal;
  };
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    stopSignal: processStopSignal(),
    loadUp: loadConsoleUp,
  };
}

export async function main(argv: readonly string[], io: Partial<Io> = {}): Promise<number> {
  const ctx = makeCtx({ ...processIo(), ...io }, version);
  try {
    const line = parseCommandLine(argv, commands);
    switch (line.kind) {
      case 'version':
        ctx.out(`msec ${version}\n`);
        return 0;
      case 'help':
        ctx.out(helpText(commands, line.topic, version));
        return 0;
      case 'run':
        return (await (line.spec as Command).run(ctx, line)) ?? 0;
    }
  } catch (err) {
    return report(ctx.stderr, err, ctx.env.MSEC_DEBUG === '1');
  }
}

/** The one line on stderr (two for a usage error: the problem and the right form). */
export function report(stderr: { write(s: string): unknown }, err: unknown, debug = false): number {
  if (err instanceof CliError) {
    stderr.write(`msec: ${err.message}\n`);
    if (err instanceof UsageError && err.usage) stderr.write(`usage: ${err.usage}\n`);
    if (debug && err.stack) stderr.write(err.stack + '\n');
    return err.exitCode;
  }
  const e = err as Error;
  if (e?.name === 'AbortError') {
    stderr.write('msec: interrupted\n');
    return 130;
  }
  stderr.write(`msec: unexpected error: ${e?.message ?? String(err)} (MSEC_DEBUG=1 shows where)\n`);
  if (debug && e?.stack) stderr.write(e.stack + '\n');
  return 1;
}
