/**
 * A real ClickHouse server for tests (test-services.md): Debian's clickhouse-server (18.16),
 * started with copies of /etc/clickhouse-server/config.xml and users.xml whose data and log
 * paths point into a temp dir, on free loopback ports (HTTP, native TCP, interserver).
 * Ready when /ping answers. Killed by PID on stop()/halt(), and on exit or SIGINT/SIGTERM of
 * the test process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClickHouseServer {
  /** `http://127.0.0.1:PORT`, for @clickhouse/client. */
  url: string;
  httpPort: number;
  tcpPort: number;
  /** Kills the server and deletes its data. */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL: a crash) but keeps its data and ports; `restart()` brings it back. */
  halt(): Promise<void>;
  /** Kills the server if it runs, then starts it again with the same data dir and ports. */
  restart(): Promise<void>;
}

const serverBinary = '/usr/sbin/clickhouse-server';
const systemConfig = '/etc/clickhouse-server/config.xml';
const systemUsers = '/etc/clickhouse-server/users.xml';
const readyTimeoutMs = 30_000;

/** Why a ClickHouse server cannot be started here, or null when it can. Tests skip with this reason. */
export function clickHouseServerUnavailable(): string | null {
  const missing = [serverBinary, systemConfig, systemUsers].filter((file) => !existsSync(file));
  if (missing.length) return `ClickHouse server missing (${missing.join(', ')}): run tests/setup/install-system-deps.sh (apt-get install clickhouse-server)`;
  return null;
}

export async function startClickHouse(): Promise<ClickHouseServer> {
  const why = clickHouseServerUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'msec-ch-'));
  leftovers.add(dir);
  let child: ChildProcess | undefined;
  const ports = { http: 0, tcp: 0, interserver: 0 };

  const launch = async () => {
    const log = openSync(join(dir, 'stdout.log'), 'a');
    const proc = spawn(serverBinary, [`--config-file=${join(dir, 'config.xml')}`], {
      cwd: dir,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child = proc;
    track(proc);
    try {
      await waitForPing(ports.http, proc);
    } catch (error) {
      await kill(proc);
      throw new Error(`${(error as Error).message}\nlast lines of the server's logs in ${dir}:\n${logTail(dir)}`);
    }
  };
  const halt = async () => {
    if (child) await kill(child);
    child = undefined;
  };

  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 1; ; attempt++) {
    ports.http = await freePort();
    ports.tcp = await freePort();
    ports.interserver = await freePort();
    writeConfig(dir, ports);
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  return {
    url: `http://127.0.0.1:${ports.http}`,
    httpPort: ports.http,
    tcpPort: ports.tcp,
    halt,
    restart: async () => {
      await halt();
      await launch();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
      leftovers.delete(dir);
    },
  };
}

/** The system config with every path in `dir` and our own loopback ports. */
function writeConfig(dir: string, ports: { http: number; tcp: number; interserver: number }): void {
  const config = readFileSync(systemConfig, 'utf8')
    .replaceAll('/var/lib/clickhouse/', `${join(dir, 'data')}/`)
    .replaceAll('/var/log/clickhouse-server/', `${join(dir, 'log')}/`)
    .replace(/<http_port>\d+<\/http_port>/, `<http_port>${ports.http}</http_port>`)
    .replace(/<tcp_port>\d+<\/tcp_port>/, `<tcp_port>${ports.tcp}</tcp_port>`)
    .replace(/<interserver_http_port>\d+<\/interserver_http_port>/, `<interserver_http_port>${ports.interserver}</interserver_http_port>`)
    // Caches are allocated on demand, but keep a test server small anyway.
    .replace(/<mark_cache_size>\d+<\/mark_cache_size>/, '<mark_cache_size>268435456</mark_cache_size>')
    .replace(/<uncompressed_cache_size>\d+<\/uncompressed_cache_size>/, '<uncompressed_cache_size>268435456</uncompressed_cache_size>')
    // Loopback only; the system file's own listen_host lines are commented out.
    .replace(/<(yandex|clickhouse)>/, '<$1>\n    <listen_host>127.0.0.1</listen_host>');
  if (!config.includes(`<http_port>${ports.http}</http_port>`) || !config.includes('<listen_host>127.0.0.1</listen_host>')) {
    throw new Error(`${systemConfig} does not look like a ClickHouse server config (no <http_port> or root element); reinstall clickhouse-server`);
  }
  // ISO timestamps ("2024-05-01T10:00:00Z") into DateTime columns, as 26.x reads them.
  const users = readFileSync(systemUsers, 'utf8')
    .replace(/<profiles>[^]*?<default>/, (match) => `${match}\n            <date_time_input_format>best_effort</date_time_input_format>`);
  writeFileSync(join(dir, 'config.xml'), config);
  writeFileSync(join(dir, 'users.xml'), users);
}

async function waitForPing(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`clickhouse-server exited (${proc.exitCode ?? proc.signalCode}) before it answered /ping on port ${port}`);
    }
    const answer = await fetch(`http://127.0.0.1:${port}/ping`).then((r) => r.text(), () => '');
    if (answer.startsWith('Ok')) return;
    if (Date.now() > deadline) throw new Error(`clickhouse-server on port ${port} did not answer /ping within ${readyTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function logTail(dir: string): string {
  return ['log/clickhouse-server.err.log', 'stdout.log'].map((file) => {
    try {
      return `${file}:\n${readFileSync(join(dir, file), 'utf8').split('\n').slice(-12).join('\n')}`;
    } catch {
      return `${file}: (none)`;
    }
  }).join('\n');
}

async function kill(proc: ChildProcess): Promise<void> {
  running.delete(proc);
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(proc.pid, 'SIGKILL');
  await exited;
}

// Servers still running when the test process ends are killed by PID, and their data removed.
const running = new Set<ChildProcess>();
const leftovers = new Set<string>();
let hooked = false;

function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

function killAll(): void {
  for (const proc of running) {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  running.clear();
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
  leftovers.clear();
}
