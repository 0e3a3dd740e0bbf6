/**
 * The user-facing agent routes (routes/agents.ts): who may do what (viewers read, unscoped
 * operators run commands, admins make tokens, revoke and rotate), and bad input — ips, paths
 * that leave the agent's root, argv — refused with a 4xx problem and nothing written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentConsole, type AgentConsole, type EnrolledAgent } from './agents-harness.ts';

let h: AgentConsole;
let agent: EnrolledAgent;
let viewer: Record<string, string>;
let operator: Record<string, string>;
let scoped: Record<string, string>;
let admin2: Record<string, string>;
before(async () => {
  h = await agentConsole();
  agent = await h.enrol('10.0.0.7');
  viewer = await h.user('vera', 'viewer');
  operator = await h.user('otto', 'operator');
  scoped = await h.user('fred', 'operator', 'Flight');
  admin2 = await h.user('ada', 'admin');
});
after(() => h.close());

type Response = { statusCode: number; headers: Record<string, unknown>; body: string; json(): unknown };
const problem = (r: Response, status: number, detail?: RegExp, what = '') => {
  assert.equal(r.statusCode, status, `${what} ${r.body}`);
  assert.match(String(r.headers['content-type']), /application\/problem\+json/);
  if (detail) assert.match((r.json() as { detail: string }).detail, detail);
};
const exec = (headers: Record<string, string>, ip = agent.ip, payload: object = { action: 'exec', argv: ['id'] }) =>
  h.inject({ method: 'POST', url: `/api/agents/${ip}/commands`, headers, payload });
const push = (path: string, o: { ip?: string; body?: Buffer; mode?: string; type?: string } = {}) => h.call({
  method: 'PUT', url: `/api/agents/${o.ip ?? agent.ip}/files?path=${encodeURIComponent(path)}${o.mode ? `&mode=${o.mode}` : ''}`,
  headers: { 'content-type': o.type ?? 'application/octet-stream' }, payload: o.body ?? Buffer.from(`content for ${path}`),
});

/** Runs `attempt` and checks the host's stream and the blobs folder did not change. */
async function writesNothing(ip: string, attempt: () => Promise<void>): Promise<void> {
  const events = await h.hostEvents(ip);
  const blobs = h.blobFiles();
  await attempt();
  assert.deepEqual(await h.hostEvents(ip), events, 'events were written');
  assert.deepEqual(h.blobFiles(), blobs, 'a blob was written');
}

describe('permissions', () => {
  test('a viewer reads the hosts and keys, and runs nothing', async () => {
    assert.equal((await h.inject({ method: 'GET', url: '/api/agents', headers: viewer })).statusCode, 200);
    assert.equal((await h.inject({ method: 'GET', url: '/api/keys', headers: viewer })).statusCode, 200);
    await writesNothing(agent.ip, async () => {
      problem(await exec(viewer), 403, /vera lacks permission agents\.exec: ask an admin: msec user grant vera operator/);
      problem(await h.inject({ method: 'PUT', url: `/api/agents/${agent.ip}/files?path=x`, headers: { ...viewer, 'content-type': 'application/octet-stream' }, payload: Buffer.from('x') }), 403);
    });
  });

  test('an operator scoped to one first-level service runs nothing on hosts (a host may serve several)', async () => {
    await writesNothing(agent.ip, async () => {
      problem(await exec(scoped), 403, /fred lacks permission agents\.exec/);
    });
  });

  test('an unscoped operator runs commands, and neither makes tokens, revokes nor rotates keys', async () => {
    assert.equal((await exec(operator)).statusCode, 201);
    await writesNothing(agent.ip, async () => {
      problem(await h.inject({ method: 'POST', url: '/api/agents/tokens', headers: operator, payload: { ip: '10.0.0.50' } }), 403, /agents\.admin/);
      problem(await h.inject({ method: 'POST', url: `/api/agents/${agent.ip}/revoke`, headers: operator }), 403, /agents\.admin/);
      problem(await h.inject({ method: 'POST', url: '/api/keys/rotate', headers: operator }), 403, /agents\.admin/);
    });
    assert.deepEqual(await h.hostEvents('10.0.0.50'), []);
  });

  test('an admin makes tokens and rotates keys', async () => {
    assert.equal((await h.inject({ method: 'POST', url: '/api/agents/tokens', headers: admin2, payload: { ip: '10.0.0.51' } })).statusCode, 201);
    const rotated = await h.inject({ method: 'POST', url: '/api/keys/rotate', headers: admin2 });
    assert.equal(rotated.statusCode, 201, rotated.body);
  });

  test('a route-read token does nothing on agent routes', async () => {
    const issued = await h.inject({ method: 'POST', url: '/api/tokens', headers: operator, payload: { scope: 'routes', label: 'svc' } });
    const bearer = { authorization: `Bearer ${(issued.json() as { token: string }).token}` };
    problem(await h.inject({ method: 'GET', url: '/api/agents', headers: bearer }), 403);
    problem(await exec(bearer), 403);
  });
});

describe('bad input writes nothing', () => {
  test('bad ips', async () => {
    for (const ip of ['10.0.0.256', '10.0.0', '010.0.0.1', 'localhost', '10.0.0.1;id']) {
      problem(await h.call({ method: 'POST', url: '/api/agents/tokens', payload: { ip } }), 400);
      problem(await h.call({ method: 'POST', url: `/api/agents/${encodeURIComponent(ip)}/commands`, payload: { action: 'exec', argv: ['id'] } }), 400);
    }
  });

  test('a command for a host with no agent, or a revoked one', async () => {
    await writesNothing('10.0.0.60', async () => {
      problem(await h.call({ method: 'POST', url: '/api/agents/10.0.0.60/commands', payload: { action: 'exec', argv: ['id'] } }), 404, /no agent is enrolled for 10\.0\.0\.60/);
      problem(await push('x.txt', { ip: '10.0.0.60' }), 404, /no agent is enrolled for 10\.0\.0\.60/);
    });
    const gone = await h.enrol('10.0.0.61');
    assert.equal((await h.call({ method: 'POST', url: `/api/agents/${gone.ip}/revoke` })).statusCode, 200);
    await writesNothing(gone.ip, async () => {
      problem(await h.call({ method: 'POST', url: `/api/agents/${gone.ip}/commands`, payload: { action: 'ps' } }), 409, /revoked/);
      problem(await push('x.txt', { ip: gone.ip }), 409, /revoked/);
    });
  });

  const outside = ['../etc/passwd', '/etc/passwd', 'a/../../b', 'a/..', '..', 'logs/../../../root/.ssh/authorized_keys', 'a\u0000b', 'a\nb', '', '.', './', '././', 'a\\..\\..\\b'];

  test('pull paths that leave the root, are empty or carry control characters', async () => {
    await writesNothing(agent.ip, async () => {
      for (const path of outside) {
        const r = await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload: { action: 'pull_file', path } });
        problem(r, 400, undefined, JSON.stringify(path));
      }
    });
  });

  test('push paths that leave the root; bad modes; not bytes', async () => {
    await writesNothing(agent.ip, async () => {
      for (const path of outside) problem(await push(path), 400, undefined, JSON.stringify(path));
      for (const mode of ['4755', '8', '0o644', '-1', '7777']) problem(await push('ok.txt', { mode }), 400);
      const json = await push('ok.txt', { type: 'application/json', body: Buffer.from('{"a":1}') });
      assert.ok(json.statusCode === 415 || json.statusCode === 400, json.body);
    });
  });

  test('exec working directories that leave the root', async () => {
    await writesNothing(agent.ip, async () => {
      for (const cwd of outside.filter((p) => !['', '.', './', '././'].includes(p))) {
        problem(await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload: { action: 'exec', argv: ['id'], cwd } }), 400, undefined, JSON.stringify(cwd));
      }
    });
  });

  test('a working directory of "." or "./" is the root itself', async () => {
    for (const cwd of ['.', './', '././']) {
      const r = await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload: { action: 'exec', argv: ['pwd'], cwd } });
      assert.equal(r.statusCode, 201, r.body);
    }
  });

  test('bad argv', async () => {
    await writesNothing(agent.ip, async () => {
      for (const argv of [[], [''], ['sh\u0000'], ['echo', 'a\u0000b'], [['id', '-u']], [{}]]) {
        const r = await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload: { action: 'exec', argv } });
        problem(r, 400, undefined, JSON.stringify(argv));
      }
      problem(await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload: { action: 'exec' } }), 400, /exec needs argv/);
      problem(await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload: { action: 'exec', argv: Array(257).fill('x') } }), 400);
    });
  });

  test('other bad fields', async () => {
    await writesNothing(agent.ip, async () => {
      for (const payload of [
        { action: 'rm' }, { action: 'push_file', path: 'x' }, { action: 'exec', argv: ['id'], ttlSeconds: 0 }, { action: 'exec', argv: ['id'], timeoutSeconds: 0 },
        { action: 'exec', argv: ['id'], maxOutputBytes: -1 }, { action: 'exec', argv: ['id'], shell: true }, { action: 'pull_file', path: 'x', maxBytes: 0 },
      ]) problem(await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload }), 400);
      problem(await h.call({ method: 'POST', url: '/api/agents/tokens', payload: { ip: '10.0.0.7', ttlSeconds: 30 } }), 400);
    });
  });

  test('a command id of another host is not found on this one', async () => {
    const issued = await h.call({ method: 'POST', url: `/api/agents/${agent.ip}/commands`, payload: { action: 'ps' } });
    const { commandId } = issued.json() as { commandId: string };
    const other = await h.enrol('10.0.0.62');
    problem(await h.call({ method: 'GET', url: `/api/agents/${other.ip}/commands/${commandId}` }), 404);
    assert.equal((await h.call({ method: 'GET', url: `/api/agents/${agent.ip}/commands/${commandId}` })).statusCode, 200);
  });
});
