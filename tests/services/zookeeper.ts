/**
 * A real ZooKeeper 3.8 standalone server for tests (test-services.md): Debian's jars run with
 * java, a zoo.cfg in a temp dir, a free loopback port. Ready when the `srvr` four-letter word
 * says `Mode: standalone` (`ruok` answers before the server takes sessions).
 * The process is killed by PID on stop(), and on exit or SIGINT/SIGTERM of the test process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killChild as kill, trackChild as track, withPortRetries } from './processes.ts';

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

export interface ZooKeeperOptions {
  /** `user:base64(sha1(user:password))`: that digest is ZooKeeper's superuser (may do anything). */
  superDigest?: string;
}

export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  const why = zooKeeperUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'msec-zk-'));
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async () => {
    const log = openSync(join(dir, 'server.log'), 'a');
    const proc = spawn('java', [
      '-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
      ...(options.superDigest ? [`-Dzookeeper.DigestAuthenticationProvider.superDigest=${options.superDigest}`] : []),
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

  try {
    await withPortRetries(async () => {
      port = await freePort();
      writeFileSync(join(dir, 'zoo.cfg'), [
        'tickTime=500', `dataDir=${join(dir, 'data')}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1',
        'admin.enableServer=false', 'forceSync=no', '4lw.commands.whitelist=ruok,srvr,stat,mntr', '',
      ].join('\n'));
      await launch();
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
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

export { freePort } from './processes.ts';

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}
