import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { main } from '../../../apps/cli/main.ts';
import type { Io, UpFunction } from '../../../apps/cli/context.ts';

/** A stand-in console: records every request and answers from a route table. */

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown> | undefined;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
}

/** A reply, 'reset' (drop the connection without answering), or a function of the request. */
export type Route = Reply | 'reset' | ((req: SeenRequest, n: number) => Reply | 'reset' | Promise<Reply | 'reset'>);

export interface FakeConsole {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export const problem = (status: number, detail: string, title = 'Problem'): Reply => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  body: { type: `https://msec.dev/problems/p${status}`, title, status, detail },
});

export const done = (extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  body: { ok: true, stream: 'service-A.b', revision: 3, position: 42, ...extra },
});

export async function startFakeConsole(routes: Record<string, Route>): Promise<FakeConsole> {
  const requests: SeenRequest[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = body ? (JSON.parse(body) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      const seen: SeenRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body, json };
      requests.push(seen);
      const key = `${seen.method} ${seen.path}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      const route = routes[key];
      const reply = typeof route === 'function' ? await route(seen, n) : route ?? problem(404, `no route ${key} in the fake console`);
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      const isText = typeof reply.body === 'string';
      const headers = { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json', ...reply.headers };
      res.writeHead(reply.status ?? 200, headers);
      res.end(reply.body === undefined ? undefined : isText ? (reply.body as string) : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Captures what the CLI writes. */
export class Capture {
  text = '';
  isTTY = false;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  stop?: AbortSignal;
  loadUp?: () => Promise<UpFunction>;
}

/** Runs `msec` in-process with its own env (nothing inherited) and captured output. */
export async function runCli(argv: string[], o: RunOptions = {}): Promise<RunResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from(o.stdin === undefined ? [] : [o.stdin]) as unknown as Io['stdin'];
  const stop = o.stop ?? new AbortController().signal;
  const code = await main(argv, {
    stdout,
    stderr,
    stdin,
    env: { ...o.env },
    stopSignal: () => stop,
    loadUp: o.loadUp ?? (() => Promise.reject(new Error('no up in this test'))),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'msec-cli-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Runs `body` against a fake console with a token in the env and a private config folder
 * (`MSEC_CONFIG_DIR` = `<dir>/cfg`); closes and cleans up afterwards.
 */
export async function withConsole(
  routes: Record<string, Route>,
  body: (c: FakeConsole, env: Record<string, string>, dir: string) => Promise<void>,
): Promise<void> {
  const c = await startFakeConsole(routes);
  const t = await tempDir();
  try {
    await body(c, { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: join(t.dir, 'cfg'), MSEC_TOKEN: 'tok' }, t.dir);
  } finally {
    await c.close();
    await t.remove();
  }
}
