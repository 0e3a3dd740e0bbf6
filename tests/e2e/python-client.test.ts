/**
 * The wire format is language-neutral: a Python client written only from
 * schemas/rpc-wire.md and rpc.proto (tests/interop/python) calls a TypeScript Flight
 * service started with serve(), over TCP frames, UDP and HTTP/JSON.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { serve } from '../../apps/rpc/index.ts';

const flightProto = fileURLToPath(new URL('../fixtures/flight.proto', import.meta.url));
const pythonDir = fileURLToPath(new URL('../interop/python/', import.meta.url));
const callPy = `${pythonDir}call.py`;

/** A python3 that has Debian's python3-protobuf (a pyenv shim in PATH may not). */
function findPython(): string {
  const candidates = [process.env.MSEC_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    if (spawnSync(python, ['-c', 'import google.protobuf'], { stdio: 'ignore' }).status === 0) return python;
  }
  throw new Error(`no python3 with google.protobuf among ${candidates.join(', ')}: apt-get install python3-protobuf (tests/setup/install-system-deps.sh)`);
}

interface Request { name: string; password: string; departureCity: string; destinationCity: string }
interface Response { errcode: number; errmsg: string; flightsInfo: string }

/** The seed's msg_flight_impl, as the walkthrough fills it in. */
async function queryFlight(request: Request): Promise<Response> {
  if (request.name === 'bison' && request.password === '123456') {
    return { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' };
  }
  return { errcode: -1, errmsg: 'invalid user', flightsInfo: '' };
}

let python: string;
let server: Awaited<ReturnType<typeof serve>>;
let address: string;
const callers: string[] = [];

before(async () => {
  python = findPython();
  server = await serve({
    proto: flightProto,
    service: 'flight.flight_service',
    name: 'Flight.mod_flight',
    listen: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'warn' }),
    handlers: {
      queryFlight: async (request: Request, ctx: { caller: string }) => {
        callers.push(ctx.caller);
        return queryFlight(request);
      },
    },
  });
  address = `${server.address.host}:${server.address.port}`;
});
after(() => server?.close());

interface Answer { ret: number; errmsg: string; result: number; resultObj: Response | null; requestId: string | null }

/** Runs call.py without blocking: the server answers from this same process. */
async function call(via: string, method: string, request: object, extra: string[] = []): Promise<Answer> {
  const args = [callPy, '--via', via, '--caller', 'Py.client', ...extra, address, method, flightProto, JSON.stringify(request)];
  try {
    const { stdout } = await promisify(execFile)(python, args, {
      encoding: 'utf8', timeout: 30_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
    });
    return JSON.parse(stdout) as Answer;
  } catch (error) {
    throw new Error(`call.py --via ${via} failed: ${(error as { stderr?: string }).stderr ?? error}`);
  }
}

const bison = { name: 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' };
const intruder = { name: 'bison', password: 'guess', departureCity: 'sz', destinationCity: 'xz' };
const method = 'flight.flight_service.queryFlight';

test('the Python client passes its offline checks (frames, RpcHead layout, .proto reader)', () => {
  // spawnSync is fine here: no call to the server.
  const r = spawnSync(python, ['-m', 'unittest', 'discover', '-s', pythonDir], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Ran \d+ tests[\s\S]*OK/);
});

for (const via of ['tcp', 'udp', 'http', 'http-path']) {
  test(`over ${via}: bison gets the flights, a wrong password gets "invalid user"`, async () => {
    const ok = await call(via, method, bison);
    assert.deepEqual({ ...ok, requestId: undefined }, {
      ret: 0, errmsg: '', result: 0, requestId: undefined,
      resultObj: { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' },
    });
    assert.match(ok.requestId ?? '', /^[1-9]\d*$/, 'the answer carries the request id');
    const refused = await call(via, method, intruder);
    assert.equal(refused.ret, 0);
    assert.deepEqual(refused.resultObj, { errcode: -1, errmsg: 'invalid user', flightsInfo: '' });
  });
}

test('framework errors reach Python as codes: unknown method 1001, missing required field 1002', async () => {
  for (const via of ['tcp', 'http']) {
    const noMethod = await call(via, 'flight.flight_service.bookFlight', bison, ['--types-of', method]);
    assert.equal(noMethod.ret, 1001, `${via}: ${JSON.stringify(noMethod)}`);
    assert.equal(noMethod.resultObj ?? null, null);
  }
  const httpMissing = await call('http', method, { name: 'bison' });
  assert.equal(httpMissing.ret, 1002, JSON.stringify(httpMissing));
  assert.match(httpMissing.errmsg, /password/);
});

test('the server saw the Python caller name on every call', () => {
  assert.ok(callers.length >= 8, `calls seen: ${callers.length}`);
  for (const c of callers) assert.equal(c, 'Py.client');
});
