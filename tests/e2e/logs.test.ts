/**
 * Business logs end to end, as an on-call engineer meets them: two services made from dev
 * packages (Shop.front calls Shop.back), each logging with a custom field, run beside
 * `msec up` (embedded bus and chdb). One request with a chosen id yields the records of both
 * services with every header in `msec logs --request-id`; `msec callgraph` has front → back
 * with the method and latency; a colored request keeps the DEBUG records an uncolored one
 * drops; a [COLOR] rule on a custom field (`msec log color`, no restart) keeps that request's
 * records; hostile query input gets 400 / exit 1.
 */
import http from 'node:http';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, exited, msec, msecJson, startUp } from './support.ts';
import { apiToken, Children, generatedProject, kill, startService } from './devpack-support.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-logs-e2e-'));
const children = new Children();
after(() => {
  children.killAll();
  rmSync(home, { recursive: true, force: true });
});

const frontIdl = `syntax = "proto3";
package shop;
message OrderRequest { int32 orderId = 1; string sku = 2; }
message OrderReply { bool accepted = 1; string note = 2; }
service Front { rpc Order(OrderRequest) returns (OrderReply); }
`;
const backIdl = `syntax = "proto3";
package shop;
message StockRequest { string sku = 1; int32 orderId = 2; }
message StockReply { bool inStock = 1; }
service Back { rpc Stock(StockRequest) returns (StockReply); }
`;

/** One POST on its own connection (no keep-alive socket the service may have closed meanwhile). */
function postOnce(url: string, body: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(new Error(`${res.statusCode}: ${text.slice(0, 200)} (${(err as Error).message})`));
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Replaces the generated TODO answer of `rpc` with `body`. */
function fillIn(impl: string, rpc: string, body: string, imports = ''): string {
  const todo = new RegExp(`(export async function ${rpc}\\([^)]*\\)[^{]*\\{\\n)  // TODO[^\\n]*\\n  return [^\\n]*\\n`);
  assert.match(impl, todo, `the generated handler of ${rpc} has its TODO body:\n${impl}`);
  return impl.replace(/^(import type \{ HandlerContext \} from 'msec\/rpc';)$/m, `$1\n${imports}`).replace(todo, `$1${body}\n`);
}

interface Record_ {
  time: string; level: string; service: string; requestId: string; clientIp: string; serverIp: string; rpcName: string; caller: string;
  coloring: number; message: string; fields: Record<string, string>;
}

test('two dev-package services: headers, custom fields, call graph, coloring, [COLOR] rules, hostile queries', { timeout: 900_000 }, async () => {
  const up = await startUp(join(home, 'msec'));
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: up.adminPassword!, MSEC_CONFIG_DIR: join(home, 'cfg') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  try {
    for (const [service, idl] of [['Shop.front', frontIdl], ['Shop.back', backIdl]] as const) {
      ok(['service', 'create', service]);
      const file = join(home, `${service}.proto`);
      writeFileSync(file, idl);
      ok(['idl', 'put', service, 'v1', file]);
    }
    ok(['log', 'field', 'add', 'Shop.front', 'orderId', '--type', 'int', '--reason', 'trace orders']);
    ok(['log', 'field', 'add', 'Shop.back', 'sku', '--type', 'string']);

    const back = await generatedProject(children, env, 'Shop.back', 'v1', join(home, 'back'), 'src/Back_impl.ts', (impl) => fillIn(impl, 'Stock', [
      "  ctx.log.info({ sku: request.sku }, 'back checks stock for order %d', request.orderId);",
      "  ctx.log.debug({ sku: request.sku }, 'back debug detail');",
      '  return { inStock: true };',
    ].join('\n')));
    const frontDir = join(home, 'front');
    const front = await generatedProject(children, env, 'Shop.front', 'v1', frontDir, 'src/Front_impl.ts', (impl) => {
      // The caller stubs of Shop.back, as its README says: generated into the calling project.
      const stubs = msec(['stubs', 'Shop.back', '--idl', 'v1', '--out', join(frontDir, 'src', 'back')], env);
      assert.equal(stubs.code, 0, stubs.stderr);
      return fillIn(impl, 'Order', [
        "  ctx.log.info({ orderId: request.orderId }, 'front takes order of %s', request.sku);",
        "  ctx.log.debug({ orderId: request.orderId }, 'front debug detail');",
        "  const stock = await back.Stock({ sku: request.sku ?? '', orderId: request.orderId ?? 0 }, { parent: ctx });",
        "  return { accepted: stock.inStock === true, note: 'ok' };",
      ].join('\n'), "import { createClient } from 'msec/rpc';\nimport { connect } from './back/stub.ts';\n\nconst back = connect(createClient({ name: 'Shop.front' }));");
    });

    // Both report to the bus of the `msec up` machine and read routes and log settings from its console.
    const token = await apiToken(up.url, up.adminPassword!);
    const serviceEnv = {
      MSEC_LISTEN: '127.0.0.1:0', MSEC_HOME: join(home, 'msec'), MSEC_CONSOLE_URL: up.url, MSEC_TOKEN: token,
      MSEC_LOG_FLUSH_MS: '200', MSEC_REPORT_FLUSH_MS: '200',
    };
    const backServer = await startService(children, back, serviceEnv);
    const frontServer = await startService(children, front, serviceEnv);
    ok(['host', 'add', 'Shop.back', `127.0.0.1:${backServer.port}`, '--proto', 'tcp']);
    ok(['host', 'enable', 'Shop.back', `127.0.0.1:${backServer.port}`]);

    const order = async (requestId: string, orderId: number, headers: Record<string, string> = {}) => {
      const answer = await postOnce(`http://127.0.0.1:${frontServer.port}/shop.Front.Order`, JSON.stringify({ orderId, sku: 'A-1' }),
        { 'content-type': 'application/json', 'x-msec-request-id': requestId, 'x-msec-caller': 'shop-web', ...headers }) as { ret: number; errmsg: string; resultObj: unknown };
      assert.equal(answer.ret, 0, `order ${requestId}: ${answer.errmsg}\nfront:\n${frontServer.output()}`);
      assert.deepEqual(answer.resultObj, { accepted: true, note: 'ok' });
    };
    // A request's records come in time order. Two services report apart, so records of both in
    // the same millisecond may come in either order: each service's own order is compared.
    const recordsOf = (requestId: string) => {
      const records = msecJson<{ records: (Record_ & { timeMs: number })[] }>(['logs', '--request-id', requestId], env).records;
      records.forEach((r, i) => assert.ok(i === 0 || records[i - 1]!.timeMs <= r.timeMs, `records in time order: ${JSON.stringify(records)}`));
      return ['Shop.front', 'Shop.back'].flatMap((service) => records.filter((r) => r.service === service));
    };
    const settle = (requestId: string, count: number) => eventually(`${count} records of request ${requestId}`, () => {
      const found = recordsOf(requestId);
      return found.length >= count ? found : undefined;
    }, 30_000);

    // One request, uncolored: INFO of both services, DEBUG dropped, every header right.
    await order('900001', 7);
    const plain = await settle('900001', 2);
    await new Promise((r) => setTimeout(r, 1000)); // nothing more arrives later
    const all = recordsOf('900001');
    assert.deepEqual(all.map((r) => [r.service, r.level, r.message]), [
      ['Shop.front', 'INFO', 'front takes order of A-1'],
      ['Shop.back', 'INFO', 'back checks stock for order 7'],
    ]);
    const [f, b] = plain;
    assert.deepEqual({ ...f, time: undefined }, {
      time: undefined, id: (f as unknown as { id: string }).id, timeMs: (f as unknown as { timeMs: number }).timeMs,
      level: 'INFO', service: 'Shop.front', requestId: '900001', clientIp: '127.0.0.1', serverIp: '127.0.0.1', rpcName: 'shop.Front.Order',
      caller: 'shop-web', coloring: 0, message: 'front takes order of A-1', fields: { orderId: '7' },
    });
    assert.deepEqual([b!.requestId, b!.clientIp, b!.serverIp, b!.rpcName, b!.caller, b!.coloring, b!.fields], ['900001', '127.0.0.1', '127.0.0.1', 'shop.Back.Stock', 'Shop.front', 0, { sku: 'A-1' }]);
    // The human form carries the same.
    const human = ok(['logs', '--request-id', '900001']).stdout;
    assert.match(human, /INFO +Shop\.front {2}req 900001 shop\.Front\.Order <- shop-web \(127\.0\.0\.1 -> 127\.0\.0\.1\) {2}front takes order of A-1 {2}orderId=7/);
    assert.match(human, /INFO +Shop\.back {2}req 900001 shop\.Back\.Stock <- Shop\.front .* sku=A-1/);
    assert.match(ok(['logs', 'Shop.front', '--field', 'orderId=7', '--since', '10m']).stdout, /front takes order of A-1/);

    // The call graph: the web caller → front → back, with the method and latency.
    const graph = await eventually('the call graph has both calls', () => {
      const g = msecJson<{ nodes: { id: string; kind: string; instances: string[]; methods: string[]; latencyMs: number | null }[]; edges: { seq: number; from: string; to: string; method: string; latencyMs: number }[] }>(['callgraph', '900001'], env);
      return g.edges.length >= 2 ? g : undefined;
    }, 30_000);
    assert.deepEqual(graph.edges.map((e) => [e.seq, e.from, e.to, e.method]), [[1, 'shop-web', 'Shop.front', 'shop.Front.Order'], [2, 'Shop.front', 'Shop.back', 'shop.Back.Stock']]);
    assert.ok(graph.edges.every((e) => e.latencyMs >= 0 && e.latencyMs < 5000));
    const backNode = graph.nodes.find((n) => n.id === 'Shop.back')!;
    assert.deepEqual([backNode.kind, backNode.instances, backNode.methods], ['service', [`127.0.0.1:${backServer.port}`], ['shop.Back.Stock']]);
    assert.match(ok(['callgraph', '900001']).stdout, /2\. Shop\.front -> Shop\.back {2}shop\.Back\.Stock {2}[\d.]+ ms/);
    assert.match(ok(['callgraph', '900001', '--dot']).stdout, /"Shop\.front" -> "Shop\.back" \[label="2\. shop\.Back\.Stock/);
    const svgFile = join(home, 'graph.svg');
    ok(['callgraph', '900001', '--svg', svgFile]);
    const svg = readFileSync(svgFile, 'utf8');
    assert.equal((svg.match(/<g class="node"/g) ?? []).length, 3);
    assert.equal((svg.match(/<g class="edge"/g) ?? []).length, 2);

    // A colored request keeps the DEBUG records of both services, which the uncolored one dropped.
    await order('900002', 8, { 'x-msec-coloring': '1' });
    const colored = await settle('900002', 4);
    assert.deepEqual(colored.map((r) => [r.service, r.level, r.message, r.coloring]), [
      ['Shop.front', 'INFO', 'front takes order of A-1', 1], ['Shop.front', 'DEBUG', 'front debug detail', 1],
      ['Shop.back', 'INFO', 'back checks stock for order 8', 1], ['Shop.back', 'DEBUG', 'back debug detail', 1],
    ]);

    // A [COLOR] rule on a custom field, set without a new config version: the services pick it
    // up within seconds; that request's records are kept at every level, downstream too.
    ok(['log', 'color', 'Shop.front', 'orderId=4242', '--reason', 'customer complaint']);
    const ruled = await eventually('a request of order 4242 is kept at every level', async () => {
      const id = String(910000 + Math.floor(Math.random() * 89_999));
      await order(id, 4242);
      const found = await settle(id, 2);
      await new Promise((r) => setTimeout(r, 600));
      const again = recordsOf(id);
      return again.length === 4 && found.length > 0 ? again : undefined;
    }, 60_000);
    assert.deepEqual(ruled.map((r) => [r.service, r.level, r.coloring]), [['Shop.front', 'INFO', 1], ['Shop.front', 'DEBUG', 1], ['Shop.back', 'INFO', 1], ['Shop.back', 'DEBUG', 1]]);
    await order('900004', 1);
    await settle('900004', 2);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(recordsOf('900004').map((r) => r.level), ['INFO', 'INFO'], 'another order is not colored');
    const shown = ok(['log', 'settings', 'Shop.front']).stdout;
    assert.match(shown, /orderId\s+4242\s+console/);
    assert.match(ok(['audit', '--stream', 'logs-Shop.front']).stdout, /coloring rule orderId=4242 added to Shop\.front.*customer complaint/);

    // Hostile query input: refused before any query, with a clear error.
    const basic = `Basic ${Buffer.from(`admin:${up.adminPassword}`).toString('base64')}`;
    for (const q of [
      "service=Shop.front&level=INFO'%20OR%201=1%20--", 'service=Shop.front&since=2000-01-01T00:00:00Z', "requestId=1;DROP%20TABLE%20logs",
      'service=Shop.front&limit=100000', "service=Shop.front&field=orderId=1%20OR%201=1", 'service=Shop.front&field=nope=1', `service=Shop.front&grep=${'x'.repeat(300)}`,
      "service=Shop.front'--", 'service=Shop.front&sql=SELECT%201',
    ]) {
      const res = await fetch(`${up.url}/api/logs?${q}`, { headers: { authorization: basic } });
      assert.equal(res.status, 400, q);
      assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
    }
    const badLevel = msec(['logs', 'Shop.front', '--level', "INFO' OR 1=1"], env);
    assert.equal(badLevel.code, 1);
    assert.match(badLevel.stderr, /^msec: level "INFO' OR 1=1" is not a log level: use one of TRACE, DEBUG, INFO, ERROR, FATAL\n$/);
    assert.equal(msec(['logs', 'Shop.front', '--since', '2000-01-01'], env).code, 1);
    assert.equal(recordsOf('900001').length, 2, 'the logs are all still there');

    kill(frontServer.proc, 'SIGTERM');
    kill(backServer.proc, 'SIGTERM');
    await Promise.all([exited(frontServer.proc), exited(backServer.proc)]);
  } finally {
    up.proc.kill('SIGTERM');
    await exited(up.proc);
  }
});
