/**
 * The KV routes (routes/kv.ts) as an attacker and a careless user meet them: who may create and
 * operate clusters (a KV task runs redis-server on hosts: agents.exec), hostile names, sizes,
 * policies, hosts and ports (a newline that would smuggle "slaveof" into redis.conf), bodies
 * that are too big or not JSON, operations on clusters that do not exist or are busy — each a
 * 4xx problem that says what to do, with nothing written. No task runner runs here: a task
 * stays under way until the test ends it (EndKvTask), as the runner would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentConsole, type AgentConsole } from './agents-harness.ts';
import { kvClusterDecider } from '../../../domain/kv/index.ts';
import { streams } from '../../../domain/streams.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import { findKvCluster } from '../../../projections/kv.ts';

let h: AgentConsole;
let viewer: Record<string, string>;
let scoped: Record<string, string>;
const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const valid = { name: 'fresh', sets: 1, memory: '64mb', hosts: ['10.0.0.1'] };

type Response = { statusCode: number; headers: Record<string, unknown>; body: string; json(): unknown };
const problem = (r: Response, status: number, detail?: RegExp, what = '') => {
  assert.equal(r.statusCode, status, `${what} ${r.body}`);
  assert.match(String(r.headers['content-type']), /application\/problem\+json/, what);
  const d = (r.json() as { detail: string }).detail;
  assert.ok(d.length > 10, `${what}: a detail that says what to do`);
  if (detail) assert.match(d, detail, what);
};
const post = (url: string, payload?: object, headers: Record<string, string> = {}) => h.call({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });
const create = (body: object, headers: Record<string, string> = {}) => post('/api/kv', body, headers);

/** Events other than the audit's record of refused requests (a 403 is audited on purpose). */
async function allEvents(): Promise<number> {
  return (await h.store.readAll(0, 1_000_000)).filter((e) => e.stream !== 'access-refusals').length;
}

/** Runs `attempt` and checks that no event appeared. */
async function writesNothing(attempt: () => Promise<void>): Promise<void> {
  const events = await allEvents();
  await attempt();
  assert.equal(await allEvents(), events, 'events were written');
}

const cluster = (name: string) => findKvCluster(h.ctx.reads.kv(), name)!.cluster;
/** The task under way on busy (its create). */
const running = () => cluster('busy').running;

/** Ends the task under way, as the console's task runner does when it is done. */
async function endTask(name: string): Promise<void> {
  const now = h.now();
  const outcome = await h.ctx.commands.execute(streams.kvCluster(name), kvClusterDecider,
    { type: 'EndKvTask', name, taskId: cluster(name).running, outcome: 'succeeded', error: '', atMs: now },
    { commandId: uuidv7(now), actor: 'kv-runner', reason: '', at: now });
  assert.ok(await h.ctx.projections.waitFor(outcome.position, 5000));
}

before(async () => {
  h = await agentConsole();
  for (const ip of hosts) await h.enrol(ip);
  viewer = await h.user('vera', 'viewer');
  scoped = await h.user('fred', 'operator', 'Flight');
  // idle: 2 sets; busy: its create still under way; solo: 1 set.
  for (const [name, sets] of [['idle', 2], ['busy', 2], ['solo', 1]] as const) {
    const r = await create({ name, sets, replicas: 1, memory: '64mb', hosts });
    assert.equal(r.statusCode, 201, r.body);
    if (name !== 'busy') await endTask(name);
  }
});
after(() => h.close());

describe('permissions', () => {
  test('a viewer lists and shows clusters and their tasks', async () => {
    const list = await h.inject({ method: 'GET', url: '/api/kv', headers: viewer });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual((list.json() as { clusters: { name: string }[] }).clusters.map((c) => c.name), ['busy', 'idle', 'solo']);
    const shown = await h.inject({ method: 'GET', url: '/api/kv/idle?live=false', headers: viewer });
    assert.equal(shown.statusCode, 200, shown.body);
    const task = (shown.json() as { tasks: { taskId: string; kind: string }[] }).tasks[0]!;
    assert.equal(task.kind, 'create');
    assert.equal((await h.inject({ method: 'GET', url: `/api/kv/idle/tasks/${task.taskId}`, headers: viewer })).statusCode, 200);
  });

  test('a viewer creates and operates nothing', async () => {
    const instance = `${cluster('idle').instances[1]!.ip}:${cluster('idle').instances[1]!.port}`;
    await writesNothing(async () => {
      problem(await create({ ...valid }, viewer), 403, /vera lacks permission agents\.exec: ask an admin: msec user grant vera operator/);
      problem(await post('/api/kv/idle/expand', { sets: 1 }, viewer), 403, /agents\.exec/);
      problem(await post('/api/kv/idle/shrink', { set: 2 }, viewer), 403, /agents\.exec/);
      problem(await post('/api/kv/idle/recover', undefined, viewer), 403, /agents\.exec/);
      problem(await post('/api/kv/idle/failover', { instance }, viewer), 403, /agents\.exec/);
      problem(await h.call({ method: 'DELETE', url: '/api/kv/idle', headers: viewer }), 403, /agents\.exec/);
    });
  });

  test('an operator scoped to one first-level service runs no KV task (it starts processes on hosts)', async () => {
    await writesNothing(async () => {
      problem(await create({ ...valid }, scoped), 403, /fred lacks permission agents\.exec/);
      problem(await post('/api/kv/idle/expand', { sets: 1 }, scoped), 403, /fred lacks permission agents\.exec/);
      problem(await h.call({ method: 'DELETE', url: '/api/kv/idle', headers: scoped }), 403, /agents\.exec/);
    });
  });

  test('a user scoped to a service named like a cluster does not read the cluster (a cluster is no service)', async () => {
    const sid = await h.user('sid', 'operator', 'idle');
    await writesNothing(async () => {
      problem(await h.inject({ method: 'GET', url: '/api/kv', headers: sid }), 403, /sid lacks permission read/);
      problem(await h.inject({ method: 'GET', url: '/api/kv/idle?live=false', headers: sid }), 403, /sid lacks permission read/);
      problem(await h.inject({ method: 'GET', url: `/api/kv/idle/tasks/${cluster('idle').tasks[0]!.taskId}`, headers: sid }), 403, /sid lacks permission read/);
      problem(await h.inject({ method: 'GET', url: '/api/kv/idle/endpoints', headers: sid }), 403, /sid lacks permission read/);
    });
  });

  test('no credentials: 401, for reads and writes', async () => {
    await writesNothing(async () => {
      problem(await h.inject({ method: 'GET', url: '/api/kv' }), 401);
      problem(await h.inject({ method: 'GET', url: '/api/kv/idle' }), 401);
      problem(await h.inject({ method: 'POST', url: '/api/kv', payload: valid }), 401);
      problem(await h.inject({ method: 'DELETE', url: '/api/kv/idle' }), 401);
      problem(await h.inject({ method: 'POST', url: '/api/kv', payload: valid, headers: { authorization: 'Bearer not-a-token' } }), 401);
    });
  });
});

describe('create', () => {
  const refused = async (body: object, status: number, detail: RegExp | undefined, what: string) =>
    problem(await create(body), status, detail, what);

  test('bad names are refused: lowercase letter first, then letters, digits, "-" or "_", at most 40', async () => {
    await writesNothing(async () => {
      for (const name of ['Cache', '../x', 'a/b', 'a'.repeat(41), 'cache\nflushall', '', '9lives', '-x', 'a b', 'é', '__proto__']) {
        await refused({ ...valid, name }, 400, /a KV cluster name is 1 to 40 characters: a lowercase letter/, JSON.stringify(name));
      }
      await refused({ ...valid, name: 42 }, 400, /KV cluster name/, 'a number');
      await refused({ ...valid, name: ['a', 'b'] }, 400, undefined, 'an array');
      await refused({ ...valid, name: 'x'.repeat(65) }, 400, /name/, '65 characters');
    });
  });

  test('bad counts are refused', async () => {
    await writesNothing(async () => {
      for (const sets of [0, 65, 3.5, -1, 'three', null]) await refused({ ...valid, sets }, 400, /sets/, `sets ${JSON.stringify(sets)}`);
      for (const replicas of [5, -1, 1.5]) await refused({ ...valid, replicas }, 400, /replicas/, `replicas ${replicas}`);
      await refused({ ...valid, nodeTimeoutMs: 100 }, 400, /nodeTimeoutMs/, 'node timeout 100');
      await refused({ ...valid, nodeTimeoutMs: 3_600_000 }, 400, /nodeTimeoutMs/, 'node timeout 1 h');
    });
  });

  test('memory sizes that are not one, or out of range, never reach redis.conf', async () => {
    await writesNothing(async () => {
      for (const memory of ['64xb', '0', '65gb', '1e9', '-64mb', '64mb\nslaveof 1.2.3.4', '64mb slaveof', '1023kb', '']) {
        await refused({ ...valid, memory }, 400, /memory per instance is a size such as 64mb|memory per instance must be from 1mb to 64gb/, JSON.stringify(memory));
      }
      await refused({ ...valid, memory: '64mb\nslaveof 1.2.3.4 6379' }, 400, /memory must NOT have more than 20 characters/, 'a long memory');
    });
  });

  test('a maxmemory policy is one of Redis\'s, nothing else (no second line for redis.conf)', async () => {
    await writesNothing(async () => {
      for (const policy of ['noeviction\nslaveof x', 'bogus', 'NOEVICTION', 'noeviction ', '']) {
        await refused({ ...valid, policy }, 400, /the maxmemory policy must be one of noeviction, allkeys-lru/, JSON.stringify(policy));
      }
    });
  });

  test('hosts must be IPv4 addresses with an agent up, each once, at most 256', async () => {
    const many = Array.from({ length: 300 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    await writesNothing(async () => {
      await refused({ ...valid, hosts: [] }, 400, /hosts/, 'no host');
      for (const ip of ['example.com', '10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1;reboot', '::1', '']) {
        await refused({ ...valid, hosts: [ip] }, 400, /IPv4|IP address|hosts/, JSON.stringify(ip));
      }
      await refused({ ...valid, hosts: ['10.0.0.1', '10.0.0.1'] }, 400, /host 10\.0\.0\.1 is given twice/, 'a host twice');
      await refused({ ...valid, hosts: many }, 400, /hosts/, '300 hosts');
      await refused({ ...valid, hosts: ['10.0.0.1', '10.0.0.9'] }, 409, /10\.0\.0\.9 has no enrolled agent: start one there first \(msec agent token --ip 10\.0\.0\.9\)/, 'no agent');
    });
  });

  test('ports: from 1024, the last instance port + 10000 (the cluster bus) under 65536, off the other clusters\' blocks', async () => {
    await writesNothing(async () => {
      for (const port of [80, 70_000, 55_437, 0, 1023.5]) await refused({ ...valid, port }, 400, /port/, `port ${port}`);
      // idle took 7000-7099: another cluster there would share ip:port with it (its show, failover and delete would reach idle's instances).
      for (const [port, other] of [[7000, 'idle (from 7000)'], [6901, 'idle (from 7000)'], [7150, 'busy (from 7100)'], [7299, 'solo (from 7200)']] as const) {
        await refused({ ...valid, port }, 409, new RegExp(`ports ${port} to ${port + 99} overlap those of KV cluster ${other.replace(/[()]/g, '\\$&')}: leave the port out to take the next free block \\(7300\\)`), `port ${port}`);
      }
    });
    const own = await create({ ...valid, name: 'own-port', port: 55_436 });
    assert.equal(own.statusCode, 201, own.body);
    assert.equal(findKvCluster(h.ctx.reads.kv(), 'own-port')!.cluster.settings!.basePort, 55_436);
  });

  test('extra properties, oversized fields and bodies, and non-JSON are refused', async () => {
    await writesNothing(async () => {
      await refused({ ...valid, slaveof: '1.2.3.4 6379' }, 400, /additional properties/, 'an extra property');
      await refused({ ...valid, settings: { dir: '/etc' } }, 400, /additional properties/, 'an extra object');
      await refused({ ...valid, memo: 'm'.repeat(141) }, 400, /memo/, 'a long memo');
      await refused({ ...valid, reason: 'r'.repeat(501) }, 400, /reason/, 'a long reason');
      await refused([valid], 400, undefined, 'an array body');
      const big = await h.call({ method: 'POST', url: '/api/kv', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...valid, memo: 'm'.repeat(5 * 1024 * 1024) }) });
      problem(big, 413, undefined, 'a 5 MB body');
      problem(await h.call({ method: 'POST', url: '/api/kv', headers: { 'content-type': 'text/plain' }, payload: 'name=x' }), 415, /send JSON/, 'text');
      problem(await h.call({ method: 'POST', url: '/api/kv', headers: { 'content-type': 'application/json' }, payload: '{"name": "x", ' }), 400, /malformed JSON/, 'broken JSON');
      problem(await h.call({ method: 'POST', url: '/api/kv', headers: { 'content-type': 'application/json' }, payload: '{"__proto__": {"admin": true}, "name": "x"}' }), 400, /__proto__/, 'a prototype key');
      problem(await h.call({ method: 'POST', url: '/api/kv', headers: { 'content-type': 'application/json' }, payload: '' }), 400, undefined, 'no body');
    });
  });

  test('a name that exists already is refused, whatever the port', async () => {
    await writesNothing(async () => {
      await refused({ ...valid, name: 'idle' }, 409, /KV cluster idle exists already: msec kv show idle/, 'an existing name');
      await refused({ ...valid, name: 'idle', port: 7000 }, 409, /exists already/, 'an existing name on its own port');
    });
  });
});

describe('operations', () => {
  test('on a cluster that does not exist: 404 that says how to list them', async () => {
    await writesNothing(async () => {
      for (const [url, body] of [['/api/kv/nope/expand', { sets: 1 }], ['/api/kv/nope/shrink', { set: 1 }], ['/api/kv/nope/recover', undefined], ['/api/kv/nope/failover', { instance: '10.0.0.1:7000' }]] as const) {
        problem(await post(url, body), 404, /no KV cluster nope \(msec kv list\)/, url);
      }
      problem(await h.call({ method: 'DELETE', url: '/api/kv/nope' }), 404, /no KV cluster nope/, 'delete');
    });
  });

  test('with a task under way: 409 naming the task, for every operation', async () => {
    const c = cluster('busy');
    const instance = `${c.instances[1]!.ip}:${c.instances[1]!.port}`;
    const named = new RegExp(`task ${running()} \\(create\\) of KV cluster busy is under way: one task at a time; wait for it \\(msec kv show busy\\)`);
    await writesNothing(async () => {
      problem(await post('/api/kv/busy/expand', { sets: 1 }), 409, named, 'expand');
      problem(await post('/api/kv/busy/shrink', { set: 2 }), 409, named, 'shrink');
      problem(await post('/api/kv/busy/recover'), 409, named, 'recover');
      problem(await post('/api/kv/busy/failover', { instance }), 409, named, 'failover');
      problem(await h.call({ method: 'DELETE', url: '/api/kv/busy' }), 409, named, 'delete');
    });
  });

  test('shrink: an unknown set, a set that is no number, and the last set are refused', async () => {
    await writesNothing(async () => {
      problem(await post('/api/kv/idle/shrink', { set: 9 }), 404, /KV cluster idle has no set 9: its sets are 1, 2/);
      for (const set of [0, -1, 1.5, 'one', 2 ** 53]) problem(await post('/api/kv/idle/shrink', { set }), 400, /set/, `set ${set}`);
      problem(await post('/api/kv/idle/shrink', {}), 400, /set/, 'no set');
      problem(await post('/api/kv/idle/shrink', { set: 1, force: true }), 400, /additional properties/, 'an extra property');
      const last = cluster('solo').instances[0]!.setId;
      problem(await post('/api/kv/solo/shrink', { set: last }), 409, new RegExp(`set ${last} is the last set of solo: delete the cluster instead \\(msec kv delete solo\\)`));
    });
  });

  test('failover: an address that is none, or not of the cluster, is refused before Redis is asked', async () => {
    await writesNothing(async () => {
      for (const instance of ['1.2.3.4:99999', 'not-an-address', '10.0.0.1', '10.0.0.1:', ':7000', '10.0.0.1:7000\n', '10.0.0.300:7000', '']) {
        problem(await post('/api/kv/idle/failover', { instance }), 400, /an instance is written IP:PORT, such as 127\.0\.0\.2:7000/, JSON.stringify(instance));
      }
      problem(await post('/api/kv/idle/failover', { instance: '1.2.3.4:7000' }), 404, /1\.2\.3\.4:7000 is not an instance of idle \(msec kv show idle\)/);
      problem(await post('/api/kv/idle/failover', { instance: '10.0.0.1:7100' }), 404, /is not an instance of idle/, 'an instance of busy');
      problem(await post('/api/kv/idle/failover', { instance: 'x'.repeat(22) }), 400, /instance/, 'too long');
      problem(await post('/api/kv/idle/failover', {}), 400, /instance/, 'no instance');
    });
  });

  test('expand: bad counts and bad hosts are refused', async () => {
    await writesNothing(async () => {
      for (const sets of [0, 65, 1.5]) problem(await post('/api/kv/idle/expand', { sets }), 400, /sets/, `sets ${sets}`);
      problem(await post('/api/kv/idle/expand', { sets: 63 }), 400, /--sets must be a whole number from 1 to 62 \(not 63\)/, '64 sets at most');
      problem(await post('/api/kv/idle/expand', { sets: 1, hosts: ['example.com'] }), 400, /is not an IPv4 address/);
      problem(await post('/api/kv/idle/expand', { sets: 1, hosts: ['10.0.0.1', '10.0.0.1'] }), 400, /host 10\.0\.0\.1 is given twice/);
      problem(await post('/api/kv/idle/expand', { sets: 1, hosts: ['10.0.0.9'] }), 409, /10\.0\.0\.9 has no enrolled agent/);
      problem(await post('/api/kv/idle/expand', { sets: 1, hosts: Array.from({ length: 257 }, (_, i) => `10.2.${i >> 8}.${i & 255}`) }), 400, /hosts/);
      problem(await post('/api/kv/idle/expand', { sets: 1, replicas: 3 }), 400, /additional properties/);
      problem(await post('/api/kv/idle/expand'), 400, undefined, 'no body');
    });
  });

  test('delete and recover take a reason at most, nothing else', async () => {
    await writesNothing(async () => {
      problem(await h.call({ method: 'DELETE', url: '/api/kv/idle', payload: { reason: 'x', force: true } }), 400, /additional properties/);
      problem(await post('/api/kv/idle/recover', { hosts: ['10.0.0.9'] }), 400, /additional properties/);
    });
  });
});

describe('reads with hostile names', () => {
  test('a cluster name that is none answers 400 or 404, never a crash', async () => {
    await writesNothing(async () => {
      for (const name of ['..%2F..%2Fetc', '..', 'x'.repeat(65), 'IDLE', '%00', 'idle%0Aflushall', '__proto__', 'constructor', '%E2%80%AE']) {
        for (const path of [`/api/kv/${name}?live=false`, `/api/kv/${name}/endpoints`, `/api/kv/${name}/tasks/x`]) {
          const r = await h.call({ method: 'GET', url: path });
          assert.ok(r.statusCode === 400 || r.statusCode === 404, `${path}: ${r.statusCode} ${r.body}`);
          problem(r, r.statusCode, /KV cluster|name|no route/, path);
        }
      }
      // Over fastify's maxParamLength (100) the router answers before any handler: a 414 problem (problems.ts routerProblem).
      const long = await h.call({ method: 'GET', url: `/api/kv/${'x'.repeat(200)}?live=false` });
      assert.equal(long.statusCode, 414, long.body);
      problem(long, 414, /over 100 characters/, 'a name past 100 characters');
      problem(await h.call({ method: 'GET', url: '/api/kv/nope?live=false' }), 404, /no KV cluster nope \(msec kv list\)/);
      problem(await h.call({ method: 'GET', url: '/api/kv/idle?live=maybe' }), 400, /live/);
      problem(await h.call({ method: 'GET', url: '/api/kv/idle?live=false&debug=1' }), 400, /additional properties/);
    });
  });

  test('a task that is not the cluster\'s answers 404, one of another cluster too', async () => {
    await writesNothing(async () => {
      problem(await h.call({ method: 'GET', url: `/api/kv/idle/tasks/${uuidv7()}` }), 404, /KV cluster idle has no task .* in its recent history/);
      problem(await h.call({ method: 'GET', url: `/api/kv/idle/tasks/${running()}` }), 404, /has no task/, 'a task of busy');
      problem(await h.call({ method: 'GET', url: `/api/kv/idle/tasks/${'x'.repeat(41)}` }), 400, /task/);
      problem(await h.call({ method: 'GET', url: '/api/kv/nope/tasks/x' }), 404, /no KV cluster nope/);
    });
  });
});
