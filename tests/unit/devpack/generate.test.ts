import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { artifactFile, callerStubs, devPackage, esbuildVersion } from '../../../apps/devpack/index.ts';
import { idlModel } from '../../../apps/devpack/idl-model.ts';
import { flightProto, richProto } from './support.ts';

/** What the generators write for the seed's Flight IDL and for an IDL using every shape. */

const flight = () => devPackage({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto, msecRoot: '/opt/msec', tsxVersion: '^4.1.0', esbuildVersion: '^0.27.1' });

test('Flight: every file of the project, the IDL as stored, a file:-dependency on msec', () => {
  const files = flight();
  assert.deepEqual([...files.keys()].sort(), [
    '.gitignore', 'README.md', 'client.ts', 'package.json', 'proto/flight.proto', 'scripts/artifact.mjs', 'server.ts',
    'src/flight_service_impl.ts', 'src/stub.ts', 'src/types.ts', 'tsconfig.json',
  ]);
  assert.equal(files.get('proto/flight.proto'), flightProto.endsWith('\n') ? flightProto : `${flightProto}\n`);
  const pkg = JSON.parse(files.get('package.json')!) as { type: string; name: string; dependencies: unknown; devDependencies: unknown; scripts: unknown };
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.dependencies, { msec: 'file:/opt/msec', tsx: '^4.1.0' });
  assert.deepEqual(pkg.devDependencies, { esbuild: '^0.27.1' });
  assert.deepEqual(pkg.scripts, { start: 'tsx server.ts', client: 'tsx client.ts', artifact: 'node scripts/artifact.mjs' });
  assert.equal(pkg.name, 'flight.mod_flight');
});

test('Flight: one async handler per RPC with typed shapes and a TODO default answer', () => {
  const files = flight();
  const impl = files.get('src/flight_service_impl.ts')!;
  assert.match(impl, /export async function queryFlight\(request: queryFlightRequest, ctx: HandlerContext\): Promise<queryFlightResponse> \{\n {2}\/\/ TODO/);
  assert.match(impl, /return \{ errcode: 0, errmsg: '', flightsInfo: '' \};/);
  assert.match(impl, /export const handlers = \{\n {2}queryFlight,\n\};/);
  const types = files.get('src/types.ts')!;
  assert.match(types, /export interface queryFlightRequest \{[^}]*\bname: string;[^}]*\bpassword: string;[^}]*\bdepartureCity: string;[^}]*\bdestinationCity: string;\n\}/);
  assert.match(types, /export interface queryFlightResponse \{[^}]*\berrcode: number;[^}]*\berrmsg: string;[^}]*\bflightsInfo: string;\n\}/);
  const server = files.get('server.ts')!;
  assert.match(server, /import \{ createClient, serve \} from 'msec\/rpc';/);
  assert.match(server, /import \{ handlers \} from '\.\/src\/flight_service_impl\.ts';/);
  assert.match(server, /serve\(\{ proto, service: 'flight\.flight_service', name, handlers, client \}\)/);
  assert.match(server, /process\.env\.MSEC_SERVICE \|\| 'Flight\.mod_flight'/);
  const client = files.get('client.ts')!;
  assert.match(client, /createClient\(/);
  assert.match(client, /stub\.queryFlight\(\{ name: '', password: '', departureCity: '', destinationCity: '' \}/);
  const readme = files.get('README.md')!;
  for (const word of ['npm install', 'npm start', 'MSEC_LISTEN', 'MSEC_CONFIG', 'MSEC_CONSOLE_URL', 'MSEC_TOKEN', 'file:/opt/msec', 'flight.flight_service.queryFlight']) {
    assert.ok(readme.includes(word), `README mentions ${word}`);
  }
});

test('Flight: `npm run artifact` (scripts/artifact.mjs, esbuild at msec\'s version) and the release commands in the README', () => {
  const files = flight();
  assert.equal(files.get('.gitignore'), 'node_modules/\ndist/\n');
  const script = files.get('scripts/artifact.mjs')!;
  assert.equal(script, readFileSync(new URL('../../../apps/devpack/artifact-script.mjs', import.meta.url), 'utf8'));
  // Node builtins and esbuild: what a generated project has.
  const imports = [...script.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]!);
  assert.ok(imports.includes('esbuild'), imports.join(', '));
  for (const name of imports) assert.ok(name === 'esbuild' || name.startsWith('node:'), `scripts/artifact.mjs imports ${name}`);
  assert.match(script, /exec node --enable-source-maps "\$\(dirname "\$0"\)\/server\.mjs" "\$@"/);
  const checked = spawnSync(process.execPath, ['--check', '--input-type=module'], { input: script, encoding: 'utf8' });
  assert.equal(checked.status, 0, checked.stderr);

  const readme = files.get('README.md')!;
  for (const line of [
    '| `scripts/artifact.mjs` |',
    'npm run -s artifact     # prints e.g. $PWD/dist/flight.mod_flight-0.1.0.tgz',
    'msec artifact put Flight.mod_flight build1 "$(npm run -s artifact)" --memo "first build"',
    'msec release create Flight.mod_flight --hosts 10.0.0.5,10.0.0.6 --config CONFIG_TAG --idl v1 --artifact build1',
    'msec release start ID --wait',
    'MSEC_INSTALL_DIR',
  ]) assert.ok(readme.includes(line), `README has: ${line}`);
  assert.equal(artifactFile('flight.mod_flight', '0.1.0'), 'dist/flight.mod_flight-0.1.0.tgz');
});

test('without an esbuild version, the dev package asks for the one msec itself has installed', () => {
  const installed = (JSON.parse(readFileSync(new URL('../../../node_modules/esbuild/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  assert.equal(esbuildVersion, `^${installed}`);
  const files = devPackage({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto, msecRoot: '/opt/msec' });
  assert.deepEqual((JSON.parse(files.get('package.json')!) as { devDependencies: unknown }).devDependencies, { esbuild: `^${installed}` });
});

test('caller stubs: types, a typed connect(client) on the proto next to it, a README', () => {
  const files = callerStubs({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto });
  assert.deepEqual([...files.keys()].sort(), ['README.md', 'flight.proto', 'stub.ts', 'types.ts']);
  const stub = files.get('stub.ts')!;
  assert.match(stub, /export function connect\(client: Client, target: string = SERVICE\): flight_serviceStub/);
  assert.match(stub, /return client\.stub<flight_serviceStub>\(target, PROTO, 'flight\.flight_service'\);/);
  assert.match(stub, /new URL\('\.\/flight\.proto', import\.meta\.url\)/);
  assert.match(stub, /queryFlight\(request: queryFlightRequest, options\?: CallOptions\): Promise<queryFlightResponse>;/);
  assert.equal(files.get('types.ts'), flight().get('src/types.ts'));
});

test('every shape of the IDL maps to TypeScript; reserved words and streaming RPCs are handled', () => {
  const files = devPackage({ service: 'Shop.catalog', idlTag: 'v2', idlText: richProto, msecRoot: '/opt/msec' });
  const types = files.get('src/types.ts')!;
  for (const line of [
    "export type Currency = 'CNY' | 'USD';",
    '  priceCents?: string;', '  currency?: Currency;', '  tags?: string[];', '  stock?: Record<string, number>;',
    '  image?: Uint8Array;', '  dim?: Item_Dim;', '  coupon?: string;', '  gift?: boolean;',
    'export interface Item_Dim {', 'export interface delete_ {', 'export type Nothing = Record<string, never>;',
  ]) assert.ok(types.includes(line), `types.ts has: ${line}\n${types}`);
  assert.ok(files.has('src/Catalog_impl.ts') && files.has('src/Admin_impl.ts'), 'one handler file per service');
  const catalog = files.get('src/Catalog_impl.ts')!;
  assert.match(catalog, /export async function List\(request: ListRequest, ctx: HandlerContext\): Promise<ListResponse> \{[^}]*return \{ items: \[\] \};/);
  assert.match(catalog, /export async function delete_\(request: delete_, ctx: HandlerContext\): Promise<Nothing>/);
  assert.match(catalog, / {2}delete: delete_,/);
  assert.doesNotMatch(catalog, /function Watch/);
  assert.match(catalog, /Skipped \(streaming RPCs are not supported by msec\): Watch/);
  const server = files.get('server.ts')!;
  assert.match(server, /serves one of them on its port\.\n\/\/ To serve Admin instead/);
  assert.match(server, /import \{ handlers \} from '\.\/src\/Catalog_impl\.ts';/);
  const stub = files.get('src/stub.ts')!;
  assert.match(stub, /export function connect\(client: Client, target: string = SERVICE\): Shop_catalogStubs \{\n {2}return \{ Catalog: CatalogOf\(client, target\), Admin: AdminOf\(client, target\) \};/);
});

test('defaults: scalars, enums by first name, nested required messages, oneof members left out', () => {
  const m = idlModel(`syntax = "proto2"; package p;
    enum E { B = 1; A = 2; }
    message In { required int64 id = 1; optional E e = 2; }
    message Out { required In inner = 1; optional In maybe = 2; required E e = 3; oneof o { string s = 4; } repeated In list = 5; }`);
  assert.equal(m.defaultOf('Out'), "{ inner: { id: '0', e: 'B' }, e: 'B', list: [] }");
  assert.equal(m.defaultOf('In'), "{ id: '0', e: 'B' }");
});

test('an IDL without a service, or that does not parse, is refused with a reason', () => {
  assert.throws(() => devPackage({ service: 'A.b', idlTag: 't', idlText: 'syntax = "proto3"; message M { string a = 1; }', msecRoot: '/x' }), /no service with a unary RPC/);
  assert.throws(() => callerStubs({ service: 'A.b', idlTag: 't', idlText: 'message X { required string = 1; }' }), /line/);
});
