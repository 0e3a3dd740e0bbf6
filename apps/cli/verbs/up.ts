import { resolve } from 'node:path';
import { integerArg, strOpt, usageLine } from '../args.ts';
import type { Command } from '../context.ts';
import { CliError } from '../errors.ts';

/** `msec up`: runs the console (API + web UI + embedded adapters) in this process. */

export const defaultPort = 8080;
export const defaultHost = '127.0.0.1';
export const defaultHome = './.msec';

const up: Command = {
  path: ['up'],
  summary: 'run the console here (embedded event store, bus and views under --home)',
  kind: 'local',
  positionals: [],
  options: {
    home: { type: 'string', value: 'DIR', help: `data folder (env MSEC_HOME, default ${defaultHome})` },
    port: { type: 'string', value: 'N', help: `HTTP port (env MSEC_PORT, default ${defaultPort})` },
    host: { type: 'string', value: 'H', help: `address to listen on (default ${defaultHost}; 0.0.0.0 for every interface)` },
  },
  notes: [
    'On the very first start without MSEC_ADMIN_PASSWORD, the password of user admin is printed once.',
    'Ctrl-C (SIGINT) or SIGTERM stops the console cleanly.',
  ],
  async run(ctx, line) {
    const home = resolve(strOpt(line.opts, 'home') ?? ctx.env.MSEC_HOME ?? defaultHome);
    const portText = strOpt(line.opts, 'port') ?? ctx.env.MSEC_PORT;
    const port = integerArg(portText, strOpt(line.opts, 'port') !== undefined ? '--port' : 'MSEC_PORT', usageLine(this)) ?? defaultPort;
    const host = strOpt(line.opts, 'host') ?? defaultHost;
    const stop = ctx.stopSignal(); // before starting: a Ctrl-C during start-up must still close
    const start = await ctx.loadUp();
    let running;
    try {
      running = await start({ home, port, host });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new CliError(`port ${port} on ${host} is in use: is msec already running? pass --port N (or MSEC_PORT)`);
      if (code === 'EACCES') throw new CliError(`no permission to listen on ${host}:${port}: pick a port above 1023 with --port`);
      throw new CliError(`cannot start the console: ${(e as Error).message}`);
    }
    ctx.out(`msec console: ${running.url}\n`);
    if (running.adminPassword) {
      ctx.out(`admin password (shown once): ${running.adminPassword}\n`);
      ctx.out(`log in as user admin with it: msec login --console ${running.url} --user admin\n`);
    }
    if (!stop.aborted) await new Promise<void>((done) => stop.addEventListener('abort', () => done(), { once: true }));
    ctx.stderr.write('msec: stopping the console…\n');
    await running.close();
    ctx.stderr.write('msec: console stopped\n');
  },
};

export const upCommands: Command[] = [up];
