/**
 * RPC echo throughput: msec's binary frames over long-lived TCP connections against
 * @grpc/grpc-js unary calls, same machine, same run, same load.
 *
 *   - The echo server runs in its own process (a child of this one), the client in this
 *     process: on a 2-core machine each side gets a core, for both stacks alike.
 *   - Both clients keep `concurrency` calls in flight (default 64) over `connections`
 *     TCP connections (default 2), encode and decode the message with protobufjs, and run
 *     a warm-up before the measured window.
 *   - Both servers answer from an async handler with the request message.
 *   - msec's side calls through the client SDK (createClient().call by address: call plan,
 *     breaker, deadline, reports aggregated and flushed to an in-memory bus), as gRPC's
 *     side calls through its generated stub.
 *
 * `node --import tsx bench/rpc.ts` runs it alone; bench/run.ts calls benchRpc().
 * Settings: BENCH_RPC_SECONDS (3), BENCH_RPC_CONCURRENCY (64), BENCH_RPC_CONNECTIONS (2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createTransport } from '../adapters/rpc/transport.ts';
import { createClient } from '../apps/rpc/client/index.ts';
import { BusCallReporter } from '../apps/rpc/reports/bus-reporter.ts';
import { MemoryMessageBus } from '../adapters/bus/memory.ts';
import { serve } from '../apps/rpc/server/serve.ts';

const echoProto = `syntax = "proto3";
package bench;
message EchoMessage { string message = 1; }
service Echo { rpc echo(EchoMessage) returns (EchoMessage); }
`;
const payload = { message: 'hello msec, this is an echo of about sixty-four bytes.....' };

interface Load {
  seconds: number;
  concurrency: number;
  connections: number;
}

/** Keeps `concurrency` calls going for a warm-up and then `seconds`; calls per second in the window. */
async function drive(call: (worker: number) => Promise<void>, load: Load): Promise<number> {
  let counting = false;
  let done = 0;
  let stop = false;
  const workers = Array.from({ length: load.concurrency }, async (_, worker) => {
    while (!stop) {
      await call(worker);
      if (counting) done++;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  counting = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, load.seconds * 1000));
  counting = false;
  const elapsed = (performance.now() - started) / 1000;
  const counted = done;
  stop = true;
  await Promise.all(workers);
  return counted / elapsed;
}

/** Starts this file as an echo server of `kind` in a child process; resolves with its port. */
async function startServer(kind: 'rpc' | 'grpc', protoFile: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', kind, protoFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const port = /ready (\d+)/.exec(out)?.[1];
      if (port) resolve({ port: Number(port), child });
    });
    child.once('exit', (code) => reject(new Error(`the ${kind} echo server exited (${code}) before it was ready`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function rpcQps(protoFile: string, load: Load): Promise<number> {
  const { port, child } = await startServer('rpc', protoFile);
  // Through the client SDK, as a service calls another (by address: no route lookup to a
  // console here), so its per-call work counts: call plan, breaker, encode/decode, reports.
  const client = createClient({
    name: 'Bench.client', transport: createTransport({ connectionsPerEndpoint: load.connections }),
    reporter: new BusCallReporter({ bus: new MemoryMessageBus(), flushEveryMs: 1000, logger: pino({ level: 'silent' }) }),
  });
  client.load(protoFile);
  const target = `127.0.0.1:${port}@tcp`;
  try {
    return await drive(async () => {
      await client.call(target, 'bench.Echo.echo', payload, { timeoutMs: 5000 });
    }, load);
  } finally {
    await client.close();
    await stopServer(child);
  }
}

function grpcEchoService(protoFile: string) {
  const definition = protoLoader.loadSync(protoFile);
  return (grpc.loadPackageDefinition(definition).bench as grpc.GrpcObject).Echo as grpc.ServiceClientConstructor;
}

async function grpcQps(protoFile: string, load: Load): Promise<number> {
  const { port, child } = await startServer('grpc', protoFile);
  const Echo = grpcEchoService(protoFile);
  // One channel per connection: grpc-js would otherwise share one subchannel among them.
  const clients = Array.from({ length: load.connections }, () =>
    new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  try {
    return await drive((worker) => new Promise<void>((resolve, reject) => {
      const client = clients[worker % clients.length]!;
      (client.echo as grpc.requestCallback<unknown> & ((req: object, cb: (e: Error | null) => void) => void))(payload, (error) => (error ? reject(error) : resolve()));
    }), load);
  } finally {
    for (const client of clients) client.close();
    await stopServer(child);
  }
}

export async function benchRpc(): Promise<{ rpcQps: number; grpcQps: number; ratio: number }> {
  const load: Load = {
    seconds: Number(process.env.BENCH_RPC_SECONDS ?? 3),
    concurrency: Number(process.env.BENCH_RPC_CONCURRENCY ?? 64),
    connections: Number(process.env.BENCH_RPC_CONNECTIONS ?? 2),
  };
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-rpc-'));
  const protoFile = join(dir, 'echo.proto');
  writeFileSync(protoFile, echoProto);
  try {
    const grpcRate = await grpcQps(protoFile, load);
    const rpcRate = await rpcQps(protoFile, load);
    const ratio = rpcRate / grpcRate;
    console.log(`rpc.echo.qps=${Math.round(rpcRate)} grpc.echo.qps=${Math.round(grpcRate)} ratio=${ratio.toFixed(2)}  ` +
      `(${load.concurrency} in flight over ${load.connections} TCP connections, server in its own process, ${load.seconds} s after 1 s warm-up)`);
    return { rpcQps: rpcRate, grpcQps: grpcRate, ratio };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the server side, when this file runs as `--serve rpc|grpc <proto>` ----

async function serveEcho(kind: string, protoFile: string): Promise<void> {
  if (kind === 'rpc') {
    const server = await serve({
      proto: protoFile, name: 'Bench.echo', listen: { host: '127.0.0.1', port: 0 }, logger: pino({ level: 'warn' }),
      handlers: { echo: async (request) => request },
    });
    process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
    console.log(`ready ${server.address.port}`);
    return;
  }
  const server = new grpc.Server();
  server.addService(grpcEchoService(protoFile).service, {
    echo: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
      void Promise.resolve(call.request).then((request) => callback(null, request));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
  console.log(`ready ${port}`);
}

const runDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runDirectly) {
  const role = process.argv.indexOf('--serve');
  if (role >= 0) await serveEcho(process.argv[role + 1]!, process.argv[role + 2]!);
  else await benchRpc();
}
