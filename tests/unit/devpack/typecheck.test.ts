import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callerStubs, devPackage } from '../../../apps/devpack/index.ts';
import { flightProto, linkMsec, richProto, tempDir, typeCheck, writeTree } from './support.ts';
import { recursiveIdl } from './hostile-idls.ts';

/**
 * Generated projects type-check with `tsc --strict` against this checkout's `msec/rpc`
 * (serve, createClient, HandlerContext): the generated code and the runtime agree.
 */

function check(files: ReadonlyMap<string, string>, extra: Record<string, string> = {}): string[] {
  const t = tempDir('msec-devpack-tsc-');
  try {
    writeTree(t.dir, new Map([...files, ...Object.entries(extra)]));
    linkMsec(t.dir);
    return typeCheck(t.dir);
  } finally {
    t.remove();
  }
}

const flight = () => devPackage({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto, msecRoot: '/unused' });

// One tsc run per project (each takes seconds): the Flight project also holds the seed's
// logic filled in (as a second file) and a caller using the Flight caller stubs.
test('the Flight dev package type-checks as generated, with the seed logic filled in, and its caller stubs from a caller', () => {
  const files = flight();
  const impl = files.get('src/flight_service_impl.ts')!;
  const seed = impl.replace(
    "return { errcode: 0, errmsg: '', flightsInfo: '' };",
    "if (request.name === 'bison' && request.password === '123456') return { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' };\n  return { errcode: -1, errmsg: 'invalid user', flightsInfo: '' };",
  );
  assert.notEqual(seed, impl);
  const stubs = callerStubs({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto });
  const extra: Record<string, string> = { 'src/seed_impl.ts': seed };
  for (const [p, c] of stubs) extra[`src/caller/flight/${p}`] = c;
  extra['src/caller/use.ts'] = [
    "import { createClient } from 'msec/rpc';",
    "import { connect } from './flight/stub.ts';",
    "const client = createClient({ name: 'Caller.svc' });",
    'const flight = connect(client);',
    "const answer = await flight.queryFlight({ name: 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' }, { timeoutMs: 500 });",
    'const info: string = answer.flightsInfo;',
    'console.log(info);',
    '',
  ].join('\n');
  assert.deepEqual(check(files, extra), []);
});

test('a wrong answer shape is a type error: the checker really checks', () => {
  const files = flight();
  const wrong = files.get('src/flight_service_impl.ts')!.replace("errmsg: ''", 'errmsg: 42');
  const errors = check(files, { 'src/flight_service_impl.ts': wrong });
  assert.ok(errors.some((l) => /src\/flight_service_impl\.ts.*error TS2322/.test(l)), errors.join('\n'));
});

test('an IDL with every shape (two services, enums, maps, 64-bit, reserved words) type-checks', () => {
  assert.deepEqual(check(devPackage({ service: 'Shop.catalog', idlTag: 'v2', idlText: richProto, msecRoot: '/unused' })), []);
});

test('an IDL whose required messages recurse type-checks: the defaults that cannot be complete are cast', () => {
  const files = devPackage({ service: 'Evil.recursive', idlTag: 'v1', idlText: recursiveIdl(3, 2), msecRoot: '/unused' });
  assert.match(files.get('src/S_impl.ts')!, / as A;/);
  assert.deepEqual(check(files), []);
});
