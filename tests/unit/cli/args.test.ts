import { test } from 'node:test';
import assert from 'node:assert/strict';
import { integerArg, optionsOf, parseCommandLine, splitAddress, usageLine } from '../../../apps/cli/args.ts';
import { commands } from '../../../apps/cli/commands.ts';
import { UsageError } from '../../../apps/cli/errors.ts';
import { runCli } from './helpers.ts';

const parse = (argv: string[]) => parseCommandLine(argv, commands);

function run(argv: string[]) {
  const line = parse(argv);
  assert.equal(line.kind, 'run', `${argv.join(' ')} should parse to a command`);
  if (line.kind !== 'run') throw new Error('unreachable');
  return { path: line.spec.path.join(' '), args: line.args, opts: line.opts, rest: line.rest };
}

function usageError(argv: string[], message: RegExp): UsageError {
  try {
    parse(argv);
  } catch (err) {
    assert.ok(err instanceof UsageError, `${argv.join(' ')}: expected a UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, message);
    return err;
  }
  assert.fail(`${argv.join(' ')} should be a usage error`);
}

/** One good command line per verb, and what it parses to. */
const good: [string[], string, Record<string, string | undefined>, Record<string, string | boolean>][] = [
  [['up'], 'up', {}, {}],
  [['up', '--home', '/tmp/h', '--port', '9000', '--host', '0.0.0.0'], 'up', {}, { home: '/tmp/h', port: '9000', host: '0.0.0.0' }],
  [['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', 'dir'], 'dev-package', { SERVICE: 'Flight.mod_flight' }, { idl: 'v1', out: 'dir' }],
  [['stubs', 'Flight.mod_flight', '--idl', 'v1'], 'stubs', { SERVICE: 'Flight.mod_flight' }, { idl: 'v1' }],
  [['console', '--bus', 'kafka://k:9092', '--views', 'http://ch:8123'], 'console', {}, { bus: 'kafka://k:9092', views: 'http://ch:8123' }],
  [['projector', '--registry', 'zk://z:2181', '--eventstore', 'esdb://es:2113'], 'projector', {}, { registry: 'zk://z:2181', eventstore: 'esdb://es:2113' }],
  [['reset-password', 'admin', '--home', '/tmp/h'], 'reset-password', { USER: 'admin' }, { home: '/tmp/h' }],
  [['login', '--console', 'http://c:1', '--user', 'bob'], 'login', {}, { console: 'http://c:1', user: 'bob' }],
  [['logout'], 'logout', {}, {}],
  [['service', 'create', 'A.b'], 'service create', { NAME: 'A.b' }, {}],
  [['service', 'create', 'A.b', '--odd', '--lang', 'c++', '--port', '7000', '--reason', 'new'], 'service create', { NAME: 'A.b' }, { odd: true, lang: 'c++', port: '7000', reason: 'new' }],
  [['service', 'list', '--json'], 'service list', {}, { json: true }],
  [['service', 'show', 'A.b'], 'service show', { NAME: 'A.b' }, {}],
  [['service', 'delete', 'A.b', '--reason', 'gone'], 'service delete', { NAME: 'A.b' }, { reason: 'gone' }],
  [['host', 'add', 'A.b', '10.0.0.1:7963', '--proto', 'udp', '--weight', '200'], 'host add', { SERVICE: 'A.b', 'IP:PORT': '10.0.0.1:7963' }, { proto: 'udp', weight: '200' }],
  [['host', 'enable', 'A.b', '10.0.0.1:7963'], 'host enable', { SERVICE: 'A.b', 'IP:PORT': '10.0.0.1:7963' }, {}],
  [['host', 'disable', 'A.b', '10.0.0.1:7963', '--reason', 'drain'], 'host disable', { SERVICE: 'A.b', 'IP:PORT': '10.0.0.1:7963' }, { reason: 'drain' }],
  [['host', 'remove', 'A.b', '10.0.0.1:7963'], 'host remove', { SERVICE: 'A.b', 'IP:PORT': '10.0.0.1:7963' }, {}],
  [['host', 'weight', 'A.b', '10.0.0.1:7963', '300'], 'host weight', { SERVICE: 'A.b', 'IP:PORT': '10.0.0.1:7963', WEIGHT: '300' }, {}],
  [['config', 'put', 'A.b', 'v1', 'conf.ini', '--memo', 'first'], 'config put', { SERVICE: 'A.b', TAG: 'v1', FILE: 'conf.ini' }, { memo: 'first' }],
  [['config', 'put', 'A.b', 'v1', '-'], 'config put', { SERVICE: 'A.b', TAG: 'v1', FILE: '-' }, {}],
  [['config', 'list', 'A.b'], 'config list', { SERVICE: 'A.b' }, {}],
  [['config', 'get', 'A.b', 'v1'], 'config get', { SERVICE: 'A.b', TAG: 'v1' }, {}],
  [['config', 'delete', 'A.b', 'v1'], 'config delete', { SERVICE: 'A.b', TAG: 'v1' }, {}],
  [['idl', 'put', 'A.b', 'v1', 'a.proto'], 'idl put', { SERVICE: 'A.b', TAG: 'v1', FILE: 'a.proto' }, {}],
  [['idl', 'list', 'A.b', '--json'], 'idl list', { SERVICE: 'A.b' }, { json: true }],
  [['idl', 'get', 'A.b', 'v1'], 'idl get', { SERVICE: 'A.b', TAG: 'v1' }, {}],
  [['idl', 'delete', 'A.b', 'v1', '--reason', 'typo'], 'idl delete', { SERVICE: 'A.b', TAG: 'v1' }, { reason: 'typo' }],
  [['route', 'A.b', '--watch'], 'route', { SERVICE: 'A.b' }, { watch: true }],
  [['audit', '--stream', 's', '--actor', 'a', '--type', 't', '--since', '2024-01-01', '--until', '2024-02-01', '--limit', '5'], 'audit', {},
    { stream: 's', actor: 'a', type: 't', since: '2024-01-01', until: '2024-02-01', limit: '5' }],
  [['events', 'tail', '--after', '10', '-f'], 'events tail', {}, { after: '10', follow: true }],
  [['events', 'tail', '--follow', '--json'], 'events tail', {}, { follow: true, json: true }],
  [['replay', 'routing.v1'], 'replay', { PROJECTION: 'routing.v1' }, {}],
  [['status'], 'status', {}, {}],
  [['user', 'add', 'bob', '--password', 'pw'], 'user add', { NAME: 'bob' }, { password: 'pw' }],
  [['user', 'list'], 'user list', {}, {}],
  [['user', 'remove', 'bob'], 'user remove', { NAME: 'bob' }, {}],
  [['user', 'grant', 'bob', 'operator', '--service', 'Flight'], 'user grant', { NAME: 'bob', ROLE: 'operator' }, { service: 'Flight' }],
  [['agent', '--ip', '127.0.0.2', '--root', '/srv/agent', '--token', 't'], 'agent', {}, { ip: '127.0.0.2', root: '/srv/agent', token: 't' }],
  [['agent', 'token', '--ip', '127.0.0.2'], 'agent token', {}, { ip: '127.0.0.2' }],
  [['agent', 'revoke', '127.0.0.2'], 'agent revoke', { IP: '127.0.0.2' }, {}],
  [['agents'], 'agents', {}, {}],
  [['exec', '127.0.0.2', '--', 'sh', '-c', 'echo hi'], 'exec', { IP: '127.0.0.2' }, {}],
  [['ps', 'Flight.mod_flight'], 'ps', { IP_OR_SERVICE: 'Flight.mod_flight' }, {}],
  [['push', '127.0.0.2', 'f.txt', 'etc/f.txt'], 'push', { IP: '127.0.0.2', FILE: 'f.txt', PATH: 'etc/f.txt' }, {}],
  [['pull', '127.0.0.2', 'etc/f.txt', '--out', 'x'], 'pull', { IP: '127.0.0.2', PATH: 'etc/f.txt' }, { out: 'x' }],
  [['keys', 'list'], 'keys list', {}, {}],
  [['keys', 'rotate'], 'keys rotate', {}, {}],
  [['capacity', 'Flight.mod_flight'], 'capacity', { SERVICE: 'Flight.mod_flight' }, {}],
  [['user', 'revoke', 'bob', 'viewer'], 'user revoke', { NAME: 'bob', ROLE: 'viewer' }, {}],
  [['token', 'create', '--routes'], 'token create', {}, { routes: true }],
  [['token', 'revoke', 'tid'], 'token revoke', { TOKEN_ID: 'tid' }, {}],
  [['user', 'passwd'], 'user passwd', { NAME: undefined }, {}],
  [['metric', 'add', 'A.b', 'orders', '3', '--ip', '10.0.0.1'], 'metric add', { SERVICE: 'A.b', NAME: 'orders', VALUE: '3' }, { ip: '10.0.0.1' }],
  [['metric', 'set', 'A.b', 'queue', '--', '-2.5'], 'metric set', { SERVICE: 'A.b', NAME: 'queue', VALUE: '-2.5' }, {}],
  [['metrics', 'A.b', '--name', '^usr', '--day', '20240501', '--compare', '20240430', '--json'], 'metrics', { SERVICE: 'A.b' }, { name: '^usr', day: '20240501', compare: '20240430', json: true }],
  [['metrics', 'A.b', '--by-ip', '--days', '3', '--latency', '--list', '--ip', '1.2.3.4'], 'metrics', { SERVICE: 'A.b' }, { 'by-ip': true, days: '3', latency: true, list: true, ip: '1.2.3.4' }],
  [['alarm', 'set', 'A.b', 'usr.orders', '--max', '10', '--min', '1', '--diff', '5', '--diff-percent', '50', '--for', '3', '--per-host'], 'alarm set', { SERVICE: 'A.b', NAME: 'usr.orders' },
    { max: '10', min: '1', diff: '5', 'diff-percent': '50', for: '3', 'per-host': true }],
  [['alarm', 'delete', 'A.b', 'usr.orders', '--reason', 'noisy'], 'alarm delete', { SERVICE: 'A.b', NAME: 'usr.orders' }, { reason: 'noisy' }],
  [['alarm', 'list'], 'alarm list', { SERVICE: undefined }, {}],
  [['alarm', 'list', 'A.b', '--from', '20240501', '--to', '20240502'], 'alarm list', { SERVICE: 'A.b' }, { from: '20240501', to: '20240502' }],
  [['alarm', 'webhook', 'A.b', 'https://h/x', '--remove'], 'alarm webhook', { SERVICE: 'A.b', URL: 'https://h/x' }, { remove: true }],
  [['alarm', 'fired', 'A.b', '--since', '2024-05-01T10:00:00Z'], 'alarm fired', { SERVICE: 'A.b' }, { since: '2024-05-01T10:00:00Z' }],
  [['user', 'passwd', 'bob', '--old-password', 'o', '--password', 'n'], 'user passwd', { NAME: 'bob' }, { 'old-password': 'o', password: 'n' }],
  [['logs', 'Shop.front', '--level', 'debug', '--since', '15m', '--until', 'now', '--ip', '10.0.0.1', '--grep', 'x', '--limit', '5', '-f'], 'logs', { SERVICE: 'Shop.front' },
    { level: 'debug', since: '15m', until: 'now', ip: '10.0.0.1', grep: 'x', limit: '5', follow: true }],
  [['logs', '--request-id', '42', '--json'], 'logs', { SERVICE: undefined }, { 'request-id': '42', json: true }],
  [['callgraph', '42', '--svg', 'g.svg'], 'callgraph', { REQUEST_ID: '42' }, { svg: 'g.svg' }],
  [['callgraph', '42', '--dot'], 'callgraph', { REQUEST_ID: '42' }, { dot: true }],
  [['log', 'settings', 'Shop.front'], 'log settings', { SERVICE: 'Shop.front' }, {}],
  [['log', 'level', 'Shop.front', 'DEBUG', '--reason', 'incident 7'], 'log level', { SERVICE: 'Shop.front', LEVEL: 'DEBUG' }, { reason: 'incident 7' }],
  [['log', 'color', 'Shop.front', 'orderId=42', '--remove'], 'log color', { SERVICE: 'Shop.front', 'FIELD=VALUE': 'orderId=42' }, { remove: true }],
  [['log', 'field', 'add', 'Shop.front', 'orderId', '--type', 'int'], 'log field add', { SERVICE: 'Shop.front', NAME: 'orderId' }, { type: 'int' }],
  [['log', 'field', 'delete', 'Shop.front', 'orderId'], 'log field delete', { SERVICE: 'Shop.front', NAME: 'orderId' }, {}],
  [['artifact', 'put', 'A.b', 'v1', 'dist/a.tgz', '--memo', 'seed'], 'artifact put', { SERVICE: 'A.b', TAG: 'v1', FILE: 'dist/a.tgz' }, { memo: 'seed' }],
  [['artifact', 'list', 'A.b'], 'artifact list', { SERVICE: 'A.b' }, {}],
  [['artifact', 'get', 'A.b', 'v1', '--out', 'a.tgz'], 'artifact get', { SERVICE: 'A.b', TAG: 'v1' }, { out: 'a.tgz' }],
  [['artifact', 'delete', 'A.b', 'v1'], 'artifact delete', { SERVICE: 'A.b', TAG: 'v1' }, {}],
  [['library', 'put', 'A.b', 'libx.so', '--name', 'libx.so.1'], 'library put', { SERVICE: 'A.b', FILE: 'libx.so' }, { name: 'libx.so.1' }],
  [['library', 'list', 'A.b'], 'library list', { SERVICE: 'A.b' }, {}],
  [['library', 'get', 'A.b', 'libx.so'], 'library get', { SERVICE: 'A.b', NAME: 'libx.so' }, {}],
  [['library', 'delete', 'A.b', 'libx.so'], 'library delete', { SERVICE: 'A.b', NAME: 'libx.so' }, {}],
  [['release', 'create', 'A.b', '--hosts', '10.0.0.1,10.0.0.2', '--config', 'v1', '--idl', 'v1', '--artifact', 'v1', '--type', 'complete', '--canary', '1', '--auto', '60', '--batch', '2',
    '--enable', '--auto-rollback', '--drain', '5', '--health-timeout', '20', '--host-timeout', '300', '--memo', 'm', '--json'], 'release create', { SERVICE: 'A.b' },
  { hosts: '10.0.0.1,10.0.0.2', config: 'v1', idl: 'v1', artifact: 'v1', type: 'complete', canary: '1', auto: '60', batch: '2', enable: true, 'auto-rollback': true, drain: '5', 'health-timeout': '20', 'host-timeout': '300', memo: 'm', json: true }],
  [['release', 'start', '20261206120000_abc123', '--wait'], 'release start', { ID: '20261206120000_abc123' }, { wait: true }],
  [['release', 'pause', 'P'], 'release pause', { ID: 'P' }, {}],
  [['release', 'resume', 'P', '--wait'], 'release resume', { ID: 'P' }, { wait: true }],
  [['release', 'cancel', 'P', '--reason', 'wrong tag'], 'release cancel', { ID: 'P' }, { reason: 'wrong tag' }],
  [['release', 'rollback', 'P', '--wait'], 'release rollback', { ID: 'P' }, { wait: true }],
  [['release', 'show', 'P', '--json'], 'release show', { ID: 'P' }, { json: true }],
  [['release', 'wait', 'P'], 'release wait', { ID: 'P' }, {}],
  [['release', 'list'], 'release list', { SERVICE: undefined }, {}],
  [['release', 'hosts', 'A.b'], 'release hosts', { SERVICE: 'A.b' }, {}],
  [['scale', 'A.b', '--add', '10.0.0.3', '--release', 'P', '--port', '7963', '--wait'], 'scale', { SERVICE: 'A.b' }, { add: '10.0.0.3', release: 'P', port: '7963', wait: true }],
  [['scale', 'A.b', '--drop', '10.0.0.3', '--drain', '5'], 'scale', { SERVICE: 'A.b' }, { drop: '10.0.0.3', drain: '5' }],
  [['kv', 'list'], 'kv list', {}, {}],
  [['kv', 'create', 'cache', '--sets', '3', '--replicas', '1', '--memory', '64mb', '--hosts', '10.0.0.1,10.0.0.2', '--port', '7000', '--policy', 'allkeys-lfu', '--node-timeout', '3000', '--no-aof', '--memo', 'm', '--wait'],
    'kv create', { NAME: 'cache' }, { sets: '3', replicas: '1', memory: '64mb', hosts: '10.0.0.1,10.0.0.2', port: '7000', policy: 'allkeys-lfu', 'node-timeout': '3000', 'no-aof': true, memo: 'm', wait: true }],
  [['kv', 'show', 'cache', '--json'], 'kv show', { NAME: 'cache' }, { json: true }],
  [['kv', 'endpoints', 'cache'], 'kv endpoints', { NAME: 'cache' }, {}],
  [['kv', 'expand', 'cache', '--sets', '1', '--hosts', '10.0.0.3', '--wait'], 'kv expand', { NAME: 'cache' }, { sets: '1', hosts: '10.0.0.3', wait: true }],
  [['kv', 'shrink', 'cache', '--set', '4', '--wait'], 'kv shrink', { NAME: 'cache' }, { set: '4', wait: true }],
  [['kv', 'recover', 'cache', '--wait'], 'kv recover', { NAME: 'cache' }, { wait: true }],
  [['kv', 'failover', 'cache', '10.0.0.2:7001', '--wait'], 'kv failover', { NAME: 'cache', 'IP:PORT': '10.0.0.2:7001' }, { wait: true }],
  [['kv', 'delete', 'cache', '--reason', 'unused'], 'kv delete', { NAME: 'cache' }, { reason: 'unused' }],
  [['kv', 'wait', 'cache'], 'kv wait', { NAME: 'cache', TASK: undefined }, {}],
];

test('every verb parses its documented form', () => {
  for (const [argv, path, args, opts] of good) {
    const r = run(argv);
    assert.equal(r.path, path, argv.join(' '));
    assert.deepEqual(r.args, args, argv.join(' '));
    assert.deepEqual({ ...r.opts }, opts, argv.join(' '));
  }
});

test('every verb has a good case in this file', () => {
  const covered = new Set(good.map(([, path]) => path));
  for (const c of commands) assert.ok(covered.has(c.path.join(' ')), `no parse test for ${c.path.join(' ')}`);
});

test('every verb refuses an unknown flag, with its usage line', () => {
  for (const c of commands) {
    const argv = [...c.path, ...c.positionals.map((p) => `x${p.name}`), '--no-such-flag'];
    const err = usageError(argv, /unknown option --no-such-flag/);
    assert.equal(err.usage, usageLine(c));
  }
});

test('every verb refuses a missing argument, naming it', () => {
  for (const c of commands) {
    const required = c.positionals.filter((p) => !p.optional);
    if (required.length === 0) continue;
    const argv = [...c.path, ...required.slice(0, -1).map(() => 'x')];
    usageError(argv, new RegExp(`missing argument ${required[required.length - 1]!.name.replace(':', '.')}`));
  }
});

test('every verb refuses an extra argument (but those whose last argument takes the rest)', () => {
  for (const c of commands) {
    if (c.positionals.some((p) => p.rest)) continue;
    usageError([...c.path, ...c.positionals.map(() => 'x'), 'surplus'], /unexpected argument 'surplus'/);
  }
});

test('exec takes everything after -- as the remote command, options included', () => {
  const line = run(['exec', '127.0.0.2', '--ttl', '30', '--', 'ls', '-la', '--color=never']);
  assert.deepEqual(line.rest, ['ls', '-la', '--color=never']);
  assert.equal(line.opts.ttl, '30');
  usageError(['exec', '127.0.0.2'], /missing argument CMD/);
});

test('a string option without its value is a usage error', () => {
  usageError(['service', 'create', 'A.b', '--port'], /option --port needs a value/);
  usageError(['service', 'list', '--json=yes'], /option --json takes no value/);
});

test('only query and mutation verbs take --json; only mutations take --reason', () => {
  usageError(['up', '--json'], /unknown option --json/);
  usageError(['service', 'list', '--reason', 'x'], /unknown option --reason/);
  usageError(['route', 'A.b', '--reason', 'x'], /unknown option --reason/);
  assert.equal(run(['service', 'delete', 'A.b', '--json']).opts.json, true);
});

test('options may come before the verb', () => {
  const r = run(['--console', 'http://c:1', '--token', 't', 'service', 'show', 'A.b']);
  assert.equal(r.path, 'service show');
  assert.deepEqual(r.args, { NAME: 'A.b' });
  assert.equal(r.opts.console, 'http://c:1');
});

test('unknown verbs and missing sub-verbs are usage errors', () => {
  usageError([], /missing verb/);
  usageError(['frobnicate'], /unknown verb 'frobnicate'/);
  const e = usageError(['service'], /missing verb after 'service': one of create\|list\|show\|delete/);
  assert.match(e.usage ?? '', /msec service create NAME/);
  assert.match(e.usage ?? '', /msec service delete NAME/);
  usageError(['host', 'explode', 'A.b'], /unknown verb 'host explode'/);
  usageError(['--frob'], /unknown option --frob/);
});

test('help and version', () => {
  assert.deepEqual(parse(['help']), { kind: 'help', topic: [] });
  assert.deepEqual(parse(['--help']), { kind: 'help', topic: [] });
  assert.deepEqual(parse(['help', 'service', 'create']), { kind: 'help', topic: ['service', 'create'] });
  assert.deepEqual(parse(['service', 'create', '--help']), { kind: 'help', topic: ['service', 'create'] });
  assert.deepEqual(parse(['host', 'add', '-h']), { kind: 'help', topic: ['host', 'add'] });
  assert.deepEqual(parse(['service', '--help']), { kind: 'help', topic: ['service'] });
  assert.deepEqual(parse(['--version']), { kind: 'version' });
});

test('an option name has one type across all verbs (the command words are found with their union)', () => {
  const seen = new Map<string, string>();
  for (const c of commands) {
    for (const [name, o] of Object.entries(optionsOf(c))) {
      const before = seen.get(name);
      assert.ok(before === undefined || before === o.type, `--${name} is ${before} somewhere and ${o.type} in ${c.path.join(' ')}`);
      seen.set(name, o.type);
    }
  }
});

test('usage lines show the arguments and options', () => {
  const spec = commands.find((c) => c.path.join(' ') === 'host add')!;
  assert.equal(usageLine(spec), 'msec host add SERVICE IP:PORT [--proto tcp|udp|both] [--weight W] [--reason TEXT] [--json]');
  const passwd = commands.find((c) => c.path.join(' ') === 'user passwd')!;
  assert.match(usageLine(passwd), /^msec user passwd \[NAME\] /);
});

test('integerArg and splitAddress', () => {
  assert.equal(integerArg(undefined, '--port', 'u'), undefined);
  assert.equal(integerArg('7963', '--port', 'u'), 7963);
  assert.throws(() => integerArg('80a', '--port', 'u'), /--port must be an integer, got '80a'/);
  assert.deepEqual(splitAddress('10.0.0.1:7963', 'u'), { ip: '10.0.0.1', port: 7963 });
  assert.deepEqual(splitAddress('[::1]:80', 'u'), { ip: '::1', port: 80 });
  assert.deepEqual(splitAddress('::1:80', 'u'), { ip: '::1', port: 80 });
  assert.throws(() => splitAddress('10.0.0.1', 'u'), (e: unknown) => e instanceof UsageError && /IP:PORT/.test(e.message));
});

test('through main: a usage error is exit 2, the problem and the usage line on stderr, nothing on stdout', async () => {
  const r = await runCli(['service', 'create']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'msec: missing argument NAME\nusage: msec service create NAME [--odd] [--lang L] [--port P] [--reason TEXT] [--json]\n');

  const unknown = await runCli(['deploy']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^msec: unknown verb 'deploy'\nusage: msec <verb>/);

  const badInt = await runCli(['host', 'add', 'A.b', '1.2.3.4:80', '--weight', 'heavy']);
  assert.equal(badInt.code, 2);
  assert.match(badInt.stderr, /^msec: --weight must be an integer, got 'heavy'\n/);
});

test('through main: help for every verb exits 0 and shows its usage', async () => {
  const all = await runCli(['help']);
  assert.equal(all.code, 0);
  for (const c of commands) {
    assert.ok(all.stdout.includes(c.path.join(' ')), `msec help lists ${c.path.join(' ')}`);
    const one = await runCli([...c.path, '--help']);
    assert.equal(one.code, 0);
    assert.ok(one.stdout.startsWith(`usage: ${usageLine(c)}\n`), one.stdout);
  }
  const unknownTopic = await runCli(['help', 'nothing']);
  assert.equal(unknownTopic.code, 2);
  const v = await runCli(['--version']);
  assert.match(v.stdout, /^msec \d+\.\d+\.\d+\n$/);
});

test('host add documents its default protocol (tcp)', async () => {
  const r = await runCli(['help', 'host', 'add']);
  assert.match(r.stdout, /--proto tcp\|udp\|both\s+protocol \(default tcp\)/);
});

test('three-word verbs and repeatable options (msec log field add, --field twice)', () => {
  const r = run(['logs', 'Shop.front', '--field', 'orderId=42', '--field', 'Caller=Shop.gate']);
  assert.deepEqual(r.opts.field, ['orderId=42', 'Caller=Shop.gate']);
  const e = usageError(['log', 'field'], /missing verb after 'log field': one of add\|delete/);
  assert.match(e.usage ?? '', /msec log field add SERVICE NAME/);
  usageError(['log', 'field', 'rename', 'A.b', 'x'], /unknown verb 'log field rename': one of add\|delete/);
  usageError(['log'], /missing verb after 'log': one of settings\|level\|color\|field/);
  assert.deepEqual(parse(['log', 'field', '--help']), { kind: 'help', topic: ['log', 'field'] });
  const logs = commands.find((c) => c.path.join(' ') === 'logs')!;
  assert.match(usageLine(logs), /\[--field NAME=VALUE\]\.\.\./);
});

test('through main: msec help log field lists its verbs', async () => {
  const r = await runCli(['help', 'log', 'field']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /msec log field add SERVICE NAME/);
  assert.match(r.stdout, /msec log field delete SERVICE NAME/);
});
