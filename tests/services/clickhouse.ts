/**
 * A real ClickHouse server for tests (test-services.md): Debian's clickhouse-server (18.16),
 * started with copies of /etc/clickhouse-server/config.xml and users.xml whose data and log
 * paths point into a temp dir, on free loopback ports (HTTP, native TCP, interserver).
 * Ready when /ping answers. Killed by PID on stop()/halt(), and on exit or SIGINT/SIGTERM of
 * the test process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetTempDir, freePort, killChild as kill, trackChild as track, trackTempDir, withPortRetries } from './processes.ts';

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
  trackTempDir(dir);
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

  try {
    await withPortRetries(async () => {
      ports.http = await freePort();
      ports.tcp = await freePort();
      ports.interserver = await freePort();
      writeConfig(dir, ports);
      await launch();
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    forgetTempDir(dir);
    throw error;
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
      forgetTempDir(dir);
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

function logTail(dir: string): string {
  return ['log/clickhouse-server.err.log', 'stdout.log'].map((file) => {
    try {
      return `${file}:\n${readFileSync(join(dir, file), 'utf8').split('\n').slice(-12).join('\n')}`;
    } catch {
      return `${file}: (none)`;
    }
  }).join('\n');
}
