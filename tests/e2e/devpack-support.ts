/** Shared by the dev-package end-to-end tests: child processes, the seed's logic, generating a project. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devPackage, msecRoot, tsxVersion } from '../../apps/devpack/index.ts';
import { msec } from './support.ts';

export const flightProto = fileURLToPath(new URL('../fixtures/flight.proto', import.meta.url));

/** The seed's msg_flight_impl queryFlight, in TypeScript. */
export const seedLogic = `if (request.name === 'bison' && request.password === '123456') {
    return { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' };
  }
  return { errcode: -1, errmsg: 'invalid user', flightsInfo: '' };`;

/** Child process groups started by a test; `killAll` ends them whatever they became. */
export class Children {
  private readonly list: ChildProcess[] = [];

  /**
   * Starts `cmd` in its own process group (npm → sh → tsx → node die together), with this
   * process's environment plus `env`, or `env` alone with `inheritEnv: false`.
   */
  spawn(cmd: string, args: string[], o: { cwd: string; env?: Record<string, string>; inheritEnv?: boolean }): ChildProcess {
    const env = o.inheritEnv === false ? { ...o.env } : { ...process.env, ...o.env };
    const child = spawn(cmd, args, { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.list.push(child);
    return child;
  }

  /**
   * Runs a command to its end without blocking the event loop; answers code and output. Ends
   * at the command's exit: whatever it left running in its group is killed then, and the
   * output pipes are let go a second later, so nothing it left behind keeps a test waiting.
   */
  run(cmd: string, args: string[], o: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = this.spawn(cmd, args, o);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const timer = setTimeout(() => kill(child, 'SIGKILL'), o.timeoutMs ?? 120_000);
      let done = false;
      const finish = (code: number | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ code, out });
      };
      child.on('close', finish);
      child.on('exit', (code) => {
        killGroup(child, 'SIGKILL');
        setTimeout(() => {
          child.stdout!.destroy();
          child.stderr!.destroy();
          finish(code);
        }, 1000).unref();
      });
    });
  }

  /** Every group started here, killed: also what a leader that already exited left running. */
  killAll(): void {
    for (const child of this.list) killGroup(child, 'SIGKILL');
  }
}

/** Signals a process group even when its leader is gone (its pid is the group's id). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // no process left in the group
  }
}

/** Signals the child's whole process group, while its leader runs. */
export function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  killGroup(child, signal);
}

/** `msec dev-package`, the seed's logic filled in, `npm install`: a project ready for `npm start`. */
export async function flightProject(children: Children, env: Record<string, string>, dir: string): Promise<string> {
  const made = msec(['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', dir], env);
  assert.equal(made.code, 0, made.stderr);
  return seededAndInstalled(children, dir);
}

/**
 * The same project without a console: the files `msec dev-package` writes, straight from its
 * generator and tests/fixtures/flight.proto (IDL tag v1), the seed's logic filled in, `npm install`.
 */
export async function flightProjectFromFixture(children: Children, dir: string): Promise<string> {
  const files = devPackage({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: readFileSync(flightProto, 'utf8'), msecRoot, tsxVersion });
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content, { flag: 'wx' });
  }
  return seededAndInstalled(children, dir);
}

async function seededAndInstalled(children: Children, dir: string): Promise<string> {
  const implPath = join(dir, 'src', 'flight_service_impl.ts');
  const impl = readFileSync(implPath, 'utf8');
  const todo = "return { errcode: 0, errmsg: '', flightsInfo: '' };";
  assert.ok(impl.includes(todo), `the generated handler has its TODO body:\n${impl}`);
  writeFileSync(implPath, impl.replace(todo, seedLogic));
  const install = await children.run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 300_000 });
  assert.equal(install.code, 0, `npm install failed:\n${install.out}`);
  return dir;
}

/** `msec dev-package SERVICE --idl TAG`, `edit` applied to the handler file, `npm install`. */
export async function generatedProject(children: Children, env: Record<string, string>, service: string, tag: string, dir: string,
  implFile: string, edit: (impl: string) => string): Promise<string> {
  const made = msec(['dev-package', service, '--idl', tag, '--out', dir], env);
  assert.equal(made.code, 0, made.stderr);
  const implPath = join(dir, implFile);
  writeFileSync(implPath, edit(readFileSync(implPath, 'utf8')));
  const install = await children.run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 300_000 });
  assert.equal(install.code, 0, `npm install failed:\n${install.out}`);
  return dir;
}

/** `npm start` in a generated project; resolves with the process once it listens. */
export async function startService(children: Children, project: string, env: Record<string, string>): Promise<{ proc: ChildProcess; port: number; output: () => string }> {
  const proc = children.spawn('npm', ['start'], { cwd: project, env: { MSEC_LOG_LEVEL: 'warn', ...env } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const port = Number(/listening on [\d.]+:(\d+)/.exec(out)?.[1]);
    if (port) return { proc, port, output: () => out };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  kill(proc, 'SIGKILL');
  throw new Error(`npm start printed no address:\n${out}`);
}

/** An API token for admin, for route sources and scripts. */
/** A route-read token, as a service that looks up routes through the console should hold. */
export async function apiToken(consoleUrl: string, password: string): Promise<string> {
  const answer = await fetch(`${consoleUrl}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
    body: JSON.stringify({ label: 'e2e service', scope: 'routes' }),
    signal: AbortSignal.timeout(30_000),
  });
  assert.ok(answer.ok, `token: ${answer.status}`);
  return ((await answer.json()) as { token: string }).token;
}
