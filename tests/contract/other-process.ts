/** Runs writers in child processes, to test what one SQLite file shared by processes does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type OtherProcessTask =
  | { action: 'appendEvents'; file: string; streams: string[]; count: number }
  | { action: 'publishMessages'; file: string; topic: string; key: string; count: number }
  /** Read-modify-write: append "the next number" with the expected revision, retrying on conflict. */
  | { action: 'countWithExpectedRevision'; file: string; stream: string; count: number };

const main = fileURLToPath(new URL('./other-process-main.ts', import.meta.url));

interface Started {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
}

function start(task: OtherProcessTask): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', main, JSON.stringify(task)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${task.action} in another process exited with ${code}: ${stderr}`))));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    exited.then(() => reject(new Error(`${task.action} exited before it was ready`)), reject);
  });
  return { child, ready, exited };
}

/**
 * Starts every task in its own process and lets them write at the same moment (each waits
 * for "go" once its database is open), so their transactions really contend.
 */
export async function runInOtherProcesses(tasks: OtherProcessTask[]): Promise<void> {
  const started = tasks.map(start);
  try {
    await Promise.all(started.map((s) => s.ready));
    for (const s of started) s.child.stdin!.end('go\n');
    await Promise.all(started.map((s) => s.exited));
  } catch (err) {
    for (const s of started) s.child.kill();
    throw err;
  }
}
