/**
 * The HTTP side of `npm run bench -- commands`: a lean client (node:http, keep-alive, a fixed
 * number of requests in flight) and the floor it is measured against: a bare node:http server
 * in its own process answering the same requests with a command-sized JSON answer and nothing
 * behind it. fetch (undici) costs the client about 4 times node:http's CPU per request, which
 * on a 2-core machine the client and the console share showed as the console's slowness.
 */
import http from 'node:http';
import { spawn } from 'node:child_process';

export interface Load {
  /** Requests per second over the run. */
  perSecond: number;
  /** Answers other than 201. */
  failed: number;
}

/** `total` POSTs of `body(i)` to `path(i)`, `concurrency` in flight, each on a kept-alive connection. */
export async function postLoad(base: string, headers: Record<string, string>, total: number, concurrency: number,
  path: (i: number) => string, body: (i: number) => string): Promise<Load> {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (p: string, text: string) => new Promise<number>((resolve, reject) => {
    const request = http.request({
      host: url.hostname, port: url.port, path: p, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(text) },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(text);
  });
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < total; i = next++) if ((await post(path(i), body(i))) !== 201) failed++;
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { perSecond: total / seconds, failed };
}

const bareServer = `
const { createServer } = require('node:http');
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const answer = JSON.stringify({ ok: true, stream: 'service-Bench.svc0', revision: body.length, position: 12345, events: ['HostAdded'] });
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) }).end(answer);
  });
});
server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** The same load against a node:http server that answers at once: what HTTP alone allows on this machine. */
export async function bareHttpFloor(total: number, concurrency: number, path: (i: number) => string, body: (i: number) => string): Promise<number> {
  const proc = spawn(process.execPath, ['-e', bareServer], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      proc.stdout!.once('data', (d: Buffer) => resolve(String(d).trim()));
      proc.once('exit', (code) => reject(new Error(`the bare HTTP server exited ${code}`)));
    });
    return (await postLoad(base, { authorization: 'Bearer bench', 'content-type': 'application/json' }, total, concurrency, path, body)).perSecond;
  } finally {
    proc.kill('SIGTERM');
  }
}
