/**
 * A real ZooKeeper 3.8 standalone server for tests (test-services.md): Debian's jars run with
 * java, a zoo.cfg in a temp dir, a free loopback port. Ready when the `srvr` four-letter word
 * says `Mode: standalone` (`ruok` answers before the server takes sessions).
 * The process is killed by PID on stop(), and on exit or SIGINT/SIGTERM of the test process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ZooKeeperServer {
  /** `127.0.0.1:PORT`, for node-zookeeper-client. */
  connectString: string;
  port: number;
  /** Kills the server and deletes its data. */
  stop(): Promise<void>;
  /** Kills the server but keeps its data and port (an outage); `restart()` brings it back. */
  halt(): Promise<void>;
  /** Kills the server if it runs, then starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Live sessions on the server (`mntr`'s zk_global_sessions): shows when one has expired. */
  sessions(): Promise<number>;
}

const jars = ['/usr/share/java/zookeeper.jar', '/usr/share/java/zookeeper-jute.jar', '/usr/share/java/slf4j-simple.jar'];
const readyTimeoutMs = 30_000;

/** Why a ZooKeeper cannot be started here, or null when it can. Tests skip with this reason. */
export function zooKeeperUnavailable(): string | null {
  const missing = jars.filter((jar) => !existsSync(jar));
  if (missing.length) return `ZooKeeper jars missing (${missing.join(', ')}): run tests/setup/install-system-deps.sh (apt-get install zookeeper)`;
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return 'no java on PATH: run tests/setup/install-system-deps.sh (apt-get install zookeeper pulls in a JRE)';
  return null;
}

export async function startZooKeeper(): Promise<ZooKeeperServer> {
  const why = zooKeeperUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'msec-zk-'));
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async () => {
    const log = openSync(join(dir, 'server.log'), 'a');
    const proc = spawn('java', [
      '-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
      '-cp', jars.join(':'), 'org.apache.zookeeper.server.ZooKeeperServerMain', join(dir, 'zoo.cfg'),
    ], { stdio: ['ignore', log, log] });
    closeSync(log);
    proc.on('error', () => {}); // a spawn failure shows as the exit checked in waitForStandalone
    child = proc;
    track(proc);
    try {
      await waitForStandalone(port, proc);
    } catch (error) {
      await kill(proc);
      throw new Error(`${(error as Error).message}\nlast lines of ${join(dir, 'server.log')}:\n${logTail(dir)}`);
    }
  };
  const halt = async () => {
    if (child) await kill(child);
    child = undefined;
  };

  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeFileSync(join(dir, 'zoo.cfg'), [
      'tickTime=500', `dataDir=${join(dir, 'data')}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1',
      'admin.enableServer=false', 'forceSync=no', '4lw.commands.whitelist=ruok,srvr,stat,mntr', '',
    ].join('\n'));
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
    connectString: `127.0.0.1:${port}`,
    port,
    halt,
    restart: async () => {
      await halt();
      await launch();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    sessions: async () => {
      const match = /^zk_global_sessions\s+(\d+)$/m.exec(await fourLetterWord(port, 'mntr'));
      if (!match) throw new Error(`ZooKeeper on port ${port} did not report zk_global_sessions in mntr`);
      return Number(match[1]);
    },
  };
}

/** Asks `srvr` until the server says it serves standalone. */
async function waitForStandalone(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) {
      throw new Error(`ZooKeeper exited (${proc.exitCode ?? proc.signalCode}) before it was ready on port ${port}`);
    }
    const answer = await fourLetterWord(port, 'srvr').catch(() => '');
    if (answer.includes('Mode: standalone')) return;
    if (Date.now() > deadline) throw new Error(`ZooKeeper on port ${port} was not ready after ${readyTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends a four-letter word and reads the answer until the server closes the connection. */
export function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(2_000, () => socket.destroy(new Error(`no answer to ${word}`)));
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

export function freePort(): Promise<number> {
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
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

async function kill(proc: ChildProcess): Promise<void> {
  untrack(proc);
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(proc.pid, 'SIGKILL');
  await exited;
}

// Servers still running when the test process ends are killed by PID.
const running = new Set<ChildProcess>();
let hooked = false;

function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      killAll();
      process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}

function untrack(proc: ChildProcess): void {
  running.delete(proc);
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
}
