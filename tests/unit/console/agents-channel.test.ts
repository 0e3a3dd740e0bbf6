/**
 * The agents' side of the console (agent-auth.ts, routes/agent-channel.ts) under attack:
 * enrolment with wrong, used, expired tokens and bad keys; signed requests forged, replayed,
 * skewed, re-addressed, from revoked agents, with another body; reports oversized or of another
 * agent; users on agent routes and agents on user routes; blobs that are not the caller's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { SigningKey, sha256Hex } from '../../../adapters/signing/ed25519.ts';
import { encodeReportBody, encodeSignedReport, type ReportBody, type ReportKind } from '../../../schemas/agent.ts';
import { agentRequestHeaders } from '../../../apps/console/agents/agent-auth.ts';
import { agentConsole, type AgentConsole, type EnrolledAgent } from './agents-harness.ts';
import { smallOrderKeys } from '../agents/weak-keys.ts';
import { encodeReport, reportTopics } from '../../../schemas/reports.ts';
import { issueCommand } from '../../../apps/console/agents/command-issuer.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';

let h: AgentConsole;
let a: EnrolledAgent;
let b: EnrolledAgent;
before(async () => {
  h = await agentConsole();
  a = await h.enrol('10.0.0.7');
  b = await h.enrol('10.0.0.8');
});
after(() => h.close());

const problem = (r: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, detail?: RegExp) => {
  assert.equal(r.statusCode, status, JSON.stringify(r.json()));
  assert.match(String(r.headers['content-type']), /application\/problem\+json/);
  if (detail) assert.match((r.json() as { detail: string }).detail, detail);
};

let reportSequence = 0;
function report(agent: { ip: string; key: SigningKey }, kind: ReportKind, o: { claim?: string; atMs?: number } = {}): Buffer {
  const body = encodeReportBody({ agent: agent.ip, sequence: ++reportSequence, atMs: o.atMs ?? h.now(), ...kind } as ReportBody);
  return Buffer.from(encodeSignedReport({ agent: o.claim ?? agent.ip, body, signature: agent.key.sign('report', body) }));
}
const heartbeat: ReportKind = { heartbeat: {
  agentVersion: '0.1.0', intervalMs: 20_000, cpuPercent: 1, memTotalBytes: 1, memFreeBytes: 1, diskTotalBytes: 1, diskFreeBytes: 1,
  load1: 0, load5: 0, load15: 0, processes: 1, trustedKeyId: '', cpus: 1, hostname: 'box',
} };

describe('enrolment', () => {
  const enrol = (ip: string, token: string, publicKey: string) => h.inject({ method: 'POST', url: '/api/agents/enrol', payload: { ip, token, publicKey } });
  const key = () => SigningKey.generate().publicKeyRaw.toString('base64');
  const oneAnswer = /the enrolment token for 10\.0\.1\.\d+ is unknown, used or expired: make a new one/;

  test('a well-formed token that was never issued is refused', async () => {
    const keyId = (await h.token('10.0.1.1')).split('.')[1];
    problem(await enrol('10.0.1.1', `msec-agent.${keyId}.${randomBytes(32).toString('base64url')}`, key()), 403, oneAnswer);
    problem(await enrol('10.0.1.1', 'not a token', key()), 403, oneAnswer);
  });

  test('a used token is refused with the same answer', async () => {
    const token = await h.token('10.0.1.2');
    assert.equal((await enrol('10.0.1.2', token, key())).statusCode, 200);
    problem(await enrol('10.0.1.2', token, key()), 403, oneAnswer);
  });

  test('an expired token is refused with the same answer', async () => {
    const token = await h.token('10.0.1.3', 60);
    h.advance(61_000);
    try {
      problem(await enrol('10.0.1.3', token, key()), 403, oneAnswer);
    } finally {
      h.advance(-61_000);
    }
    assert.deepEqual(await h.hostEvents('10.0.1.3'), ['AgentTokenIssued']);
  });

  test('a token of another host is refused', async () => {
    const token = await h.token('10.0.1.4');
    problem(await enrol('10.0.1.5', token, key()), 403, oneAnswer);
  });

  test('a malformed public key is refused, writes nothing, and leaves the token usable', async () => {
    const token = await h.token('10.0.1.6');
    for (const bad of ['', 'AAAA', Buffer.alloc(31).toString('base64'), Buffer.alloc(33, 1).toString('base64'), 'x'.repeat(65)]) {
      const r = await enrol('10.0.1.6', token, bad);
      assert.ok(r.statusCode === 400, `${bad}: ${r.statusCode} ${r.body}`);
    }
    assert.deepEqual(await h.hostEvents('10.0.1.6'), ['AgentTokenIssued']);
    assert.equal((await enrol('10.0.1.6', token, key())).statusCode, 200);
  });

  test('a public key of small order (anyone could sign for it) is refused', async () => {
    const token = await h.token('10.0.1.7');
    for (const weak of smallOrderKeys) problem(await enrol('10.0.1.7', token, weak.toString('base64')), 400, /not a usable Ed25519 public key/);
    assert.deepEqual(await h.hostEvents('10.0.1.7'), ['AgentTokenIssued']);
  });

  test('a bad ip is refused', async () => {
    problem(await enrol('10.0.0.256', 'x', key()), 400, /above 255/);
    problem(await enrol('../../etc', 'x', key()), 400, /not an IPv4 address/);
  });
});

describe('signed agent requests', () => {
  const url = '/api/agent/commands?after=0';

  test('a request signed by the enrolled key passes', async () => {
    assert.equal((await a.request('GET', url)).statusCode, 200);
  });

  test('a request signed by another key is refused', async () => {
    const mallory = h.speaker(a.ip, SigningKey.generate());
    problem(await mallory.request('GET', url), 401, /not signed by the agent key enrolled for 10\.0\.0\.7/);
  });

  test('another agent claiming this agent\'s ip is refused', async () => {
    problem(await b.request('GET', url, { claimIp: a.ip }), 401, /not signed by the agent key enrolled for 10\.0\.0\.7/);
  });

  test('a captured request re-addressed to another host enrolled with the same public key is refused', async () => {
    // A cloned machine image carries its agent key along: two hosts, one key.
    const twin = await h.inject({ method: 'POST', url: '/api/agents/enrol', payload: { ip: '10.0.0.17', token: await h.token('10.0.0.17'), publicKey: a.key.publicKeyRaw.toString('base64') } });
    assert.equal(twin.statusCode, 200, twin.body);
    const headers = agentRequestHeaders(a.key, a.ip, 'GET', url, undefined, h.now());
    const readdressed = { ...headers, authorization: headers.authorization!.replace('ip="10.0.0.7"', 'ip="10.0.0.17"') };
    problem(await h.inject({ method: 'GET', url, headers: readdressed }), 401, /not signed/);
  });

  test('a replayed request (same nonce) is refused', async () => {
    const headers = agentRequestHeaders(a.key, a.ip, 'GET', url, undefined, h.now());
    assert.equal((await h.inject({ method: 'GET', url, headers })).statusCode, 200);
    problem(await h.inject({ method: 'GET', url, headers }), 401, /replayed nonce/);
  });

  test('a request for another url with a captured signature is refused', async () => {
    const headers = agentRequestHeaders(a.key, a.ip, 'GET', url, undefined, h.now());
    problem(await h.inject({ method: 'GET', url: '/api/agent/commands?after=5', headers }), 401, /not signed/);
    problem(await h.inject({ method: 'POST', url: '/api/agent/reports', headers: { ...headers, 'content-type': 'application/octet-stream' }, payload: report(a, heartbeat) }), 401);
  });

  test('time skew beyond a minute is refused either way; within it passes', async () => {
    problem(await a.request('GET', url, { ts: h.now() - 61_000 }), 401, /off the console's clock/);
    problem(await a.request('GET', url, { ts: h.now() + 61_000 }), 401, /off the console's clock/);
    assert.equal((await a.request('GET', url, { ts: h.now() - 55_000 })).statusCode, 200);
  });

  test('malformed credentials are refused', async () => {
    for (const authorization of ['MsecAgent', 'MsecAgent ip="10.0.0.7"', `MsecAgent ip="10.0.0.7", ts="x", nonce="${'a'.repeat(32)}", sig="AA=="`,
      `MsecAgent ip="10.0.0.7", ts="${h.now()}", nonce="short", sig="AA=="`]) {
      problem(await h.inject({ method: 'GET', url, headers: { authorization } }), 401);
    }
  });

  test('an ip with no agent is refused', async () => {
    problem(await h.speaker('10.9.9.9', SigningKey.generate()).request('GET', url), 401, /no agent is enrolled for 10\.9\.9\.9/);
  });

  test('a revoked agent is refused everything', async () => {
    const c = await h.enrol('10.0.0.9');
    assert.equal((await c.request('GET', url)).statusCode, 200);
    assert.equal((await h.call({ method: 'POST', url: '/api/agents/10.0.0.9/revoke' })).statusCode, 200);
    problem(await c.request('GET', url), 403, /revoked/);
    problem(await c.request('POST', '/api/agent/reports', { body: report(c, heartbeat) }), 403, /revoked/);
  });
});

describe('reports', () => {
  test('a heartbeat of the agent goes to the bus', async () => {
    assert.equal((await a.request('POST', '/api/agent/reports', { body: report(a, heartbeat) })).statusCode, 200);
  });

  test('a body that is not the signed one is refused', async () => {
    const signed = report(a, heartbeat);
    const other = report(a, heartbeat);
    const headers = agentRequestHeaders(a.key, a.ip, 'POST', '/api/agent/reports', signed, h.now());
    problem(await h.inject({ method: 'POST', url: '/api/agent/reports', headers: { ...headers, 'content-type': 'application/octet-stream' }, payload: other }), 401, /not the one the agent signed/);
    // ...nor with the digest header changed to the new body's
    const swapped = { ...headers, 'x-msec-body-sha256': sha256Hex(other), 'content-type': 'application/octet-stream' };
    problem(await h.inject({ method: 'POST', url: '/api/agent/reports', headers: swapped, payload: other }), 401, /not signed/);
  });

  test('a report of another agent, posted by this one, is refused', async () => {
    problem(await a.request('POST', '/api/agent/reports', { body: report(b, heartbeat) }), 403, /its own host only/);
  });

  test('a report forged in the agent\'s name is refused', async () => {
    const mallory = { ip: a.ip, key: SigningKey.generate() };
    problem(await a.request('POST', '/api/agent/reports', { body: report(mallory, heartbeat) }), 400, /bad-signature/);
  });

  test('an oversized report is refused before it is read whole', async () => {
    const r = await a.request('POST', '/api/agent/reports', { body: Buffer.alloc(1024 * 1024 + 1, 1) });
    problem(r, 413);
  });

  test('garbage, and a report of another kind of body, are refused', async () => {
    problem(await a.request('POST', '/api/agent/reports', { body: Buffer.from('garbage') }), 400, /malformed/);
    const json = await a.request('POST', '/api/agent/reports', { body: Buffer.from('{}'), headers: { 'content-type': 'application/json' } });
    assert.ok([400, 401, 415].includes(json.statusCode), json.body);
  });

  test('a stale heartbeat is refused', async () => {
    problem(await a.request('POST', '/api/agent/reports', { body: report(a, heartbeat, { atMs: h.now() - 3 * 60_000 }) }), 400, /stale/);
  });

  test('a result the agent queued while the console was away is taken late (else it would block the agent\'s queue forever)', async () => {
    const result: ReportKind = { result: {
      commandId: 'c-queued', sequence: 1, action: 'exec', exitCode: 0, error: '', output: Buffer.from('hi\n'), outputBytes: 3, durationMs: 1,
      timedOut: false, data: new Uint8Array(0), dataSha256: '',
    } };
    const r = await a.request('POST', '/api/agent/reports', { body: report(a, result, { atMs: h.now() - 10 * 60_000 }) });
    assert.equal(r.statusCode, 200, r.body);
  });
});

describe('who may use which routes', () => {
  test('a user (API token or Basic) is refused on agent routes', async () => {
    const issued = await h.call({ method: 'POST', url: '/api/tokens', payload: { label: 'cli' } });
    assert.equal(issued.statusCode, 201, issued.body);
    const bearer = { authorization: `Bearer ${(issued.json() as { token: string }).token}` };
    for (const headers of [bearer, {}]) {
      problem(await h.call({ method: 'GET', url: '/api/agent/commands', headers }), 403, /only a host's enrolled agent may use the agent channel/);
      problem(await h.call({ method: 'GET', url: `/api/agent/blobs/${'a'.repeat(64)}`, headers }), 403);
      problem(await h.call({ method: 'POST', url: '/api/agent/reports', headers: { ...headers, 'content-type': 'application/octet-stream' }, payload: report(a, heartbeat) }), 403);
    }
  });

  test('an agent is refused on user routes', async () => {
    problem(await a.request('GET', '/api/agents'), 403, /an agent may use the agent channel and read routes only/);
    problem(await a.request('GET', '/api/services'), 403);
    problem(await a.request('GET', '/api/audit'), 403);
    const exec = Buffer.from(JSON.stringify({ action: 'exec', argv: ['id'] }));
    problem(await a.request('POST', '/api/agents/10.0.0.8/commands', { body: exec, headers: { 'content-type': 'application/json' } }), 403);
    problem(await a.request('POST', '/api/keys/rotate'), 403);
  });
});

describe('commands, files and output of one agent are not another\'s', () => {
  test('an agent sees only its own commands', async () => {
    const issued = await h.call({ method: 'POST', url: `/api/agents/${b.ip}/commands`, payload: { action: 'exec', argv: ['id'] } });
    assert.equal(issued.statusCode, 201, issued.body);
    const mine = (await a.request('GET', '/api/agent/commands?after=0')).json() as { commands: string[] };
    const theirs = (await b.request('GET', '/api/agent/commands?after=0')).json() as { commands: string[] };
    assert.equal(mine.commands.length, 0);
    assert.equal(theirs.commands.length, 1);
  });

  test('an agent fetches only the files of its own open push commands', async () => {
    const content = Buffer.from('#!/bin/sh\necho pushed\n');
    const push = await h.call({ method: 'PUT', url: `/api/agents/${b.ip}/files?path=bin/run.sh`, headers: { 'content-type': 'application/octet-stream' }, payload: content });
    assert.equal(push.statusCode, 201, push.body);
    const digest = sha256Hex(content);
    problem(await a.request('GET', `/api/agent/blobs/${digest}`), 403, /its own open push_file or release commands/);
    const mine = await b.request('GET', `/api/agent/blobs/${digest}`);
    assert.equal(mine.statusCode, 200);
    assert.deepEqual(mine.rawPayload, content);
    problem(await b.request('GET', `/api/agent/blobs/${'0'.repeat(64)}`), 403);
    problem(await b.request('GET', '/api/agent/blobs/..%2F..%2Fkeys'), 400);
  });

  test('an upload without an open pull_file or ps command is refused and writes nothing', async () => {
    const before = h.blobFiles().length;
    const bytes = Buffer.from('exfiltrated? no: unasked');
    problem(await a.request('PUT', '/api/agent/blobs', { body: bytes }), 403, /only for an open pull_file, ps or release command/);
    problem(await a.request('PUT', '/api/agent/blobs', { body: bytes, headers: { 'x-msec-command-id': 'made-up' } }), 403);
    // b's open exec command is not an upload slot, for b nor for a
    const execId = ((await b.request('GET', '/api/agent/commands?after=0')).json() as { commands: string[] }).commands.length;
    assert.ok(execId > 0);
    assert.equal(h.blobFiles().length, before);
  });

  test('an upload for an open pull_file command of the agent is taken; another agent cannot use that command', async () => {
    const pull = await h.call({ method: 'POST', url: `/api/agents/${b.ip}/commands`, payload: { action: 'pull_file', path: 'etc/app.conf' } });
    assert.equal(pull.statusCode, 201, pull.body);
    const { commandId } = pull.json() as { commandId: string };
    const bytes = Buffer.from('port=7963\n');
    problem(await a.request('PUT', '/api/agent/blobs', { body: bytes, headers: { 'x-msec-command-id': commandId } }), 403);
    const taken = await b.request('PUT', '/api/agent/blobs', { body: bytes, headers: { 'x-msec-command-id': commandId } });
    assert.equal(taken.statusCode, 200, taken.body);
    assert.equal((taken.json() as { sha256: string }).sha256, sha256Hex(bytes));
    // one upload per command: a compromised agent cannot fill the disk under one open command
    const before = h.blobFiles().length;
    problem(await b.request('PUT', '/api/agent/blobs', { body: Buffer.from('more and more'), headers: { 'x-msec-command-id': commandId } }), 409, /has its upload already/);
    assert.equal(h.blobFiles().length, before);
  });

  test('a release command brings back its steps only: an upload over 256 KiB under it is refused and stores nothing', async () => {
    const { commandId } = await issueCommand(h.ctx.commands, h.ctx.agents!.keys, {
      ip: b.ip, action: 'release', summary: 'uninstall Flight.mod_flight', paths: ['msec/Flight/mod_flight'], fileSha256: [],
      payload: { planId: 'p1', service: 'Flight.mod_flight', operation: 'uninstall', releaseType: '', artifact: null, config: null, libraries: [], port: 7963, healthTimeoutMs: 0, stopTimeoutMs: 1000, versionsJson: '' },
    }, { commandId: uuidv7(h.now()), actor: 'admin', reason: '', at: h.now() });
    await h.ctx.projections.waitFor(await h.store.headPosition(), 5000);
    const before = h.blobFiles().length;
    problem(await b.request('PUT', '/api/agent/blobs', { body: Buffer.alloc(256 * 1024 + 1, 1), headers: { 'x-msec-command-id': commandId } }), 413, /a release's steps take at most/);
    assert.equal(h.blobFiles().length, before);
    const steps = Buffer.from('steps');
    assert.equal((await b.request('PUT', '/api/agent/blobs', { body: steps, headers: { 'x-msec-command-id': commandId } })).statusCode, 200);
  });

  test('output chunks naming no running exec of the agent are not kept (ids of its choosing hold no memory)', async () => {
    const pull = await h.call({ method: 'POST', url: `/api/agents/${b.ip}/commands`, payload: { action: 'pull_file', path: 'etc/other.conf' } });
    const { commandId } = pull.json() as { commandId: string };
    assert.equal((await b.request('POST', '/api/agent/reports', { body: report(b, { output: { commandId, offset: 0, data: Buffer.from('junk') } }) })).statusCode, 200);
    const status = await h.call({ method: 'GET', url: `/api/agents/${b.ip}/commands/${commandId}` });
    assert.equal(status.statusCode, 200, status.body);
    assert.equal((status.json() as { status: string; output: string }).output, '', 'not an exec: nothing kept');
  });

  test('an agent cannot put output into another agent\'s command', async () => {
    const issued = await h.call({ method: 'POST', url: `/api/agents/${b.ip}/commands`, payload: { action: 'exec', argv: ['sleep', '1'] } });
    const { commandId } = issued.json() as { commandId: string };
    const chunk = report(a, { output: { commandId, offset: 0, data: Buffer.from('you have been pwned\n') } });
    await a.request('POST', '/api/agent/reports', { body: chunk });
    const status = await h.call({ method: 'GET', url: `/api/agents/${b.ip}/commands/${commandId}` });
    assert.equal((status.json() as { output: string }).output, '');
    // b's own output is shown
    assert.equal((await b.request('POST', '/api/agent/reports', { body: report(b, { output: { commandId, offset: 0, data: Buffer.from('zzz\n') } }) })).statusCode, 200);
    assert.equal(((await h.call({ method: 'GET', url: `/api/agents/${b.ip}/commands/${commandId}` })).json() as { output: string }).output, 'zzz\n');
  });
});

describe('what ran on hosts, through the event API', () => {
  test('argv and output of commands are shown to those who may run commands, not to viewers', async () => {
    const issued = await h.call({ method: 'POST', url: `/api/agents/${b.ip}/commands`, payload: { action: 'exec', argv: ['cat', '/etc/secret-looking'] } });
    assert.equal(issued.statusCode, 201, issued.body);
    const viewer = await h.user('vic', 'viewer');
    const of = async (headers?: Record<string, string>) => {
      const r = await h.call({ method: 'GET', url: '/api/events?after=0&limit=1000', ...(headers ? { headers } : {}) });
      assert.equal(r.statusCode, 200, r.body);
      return (r.json() as { events: { type: string; data: Record<string, unknown> }[] }).events.filter((e) => e.type === 'AgentCommandIssued').at(-1)!.data;
    };
    const seen = await of(viewer);
    assert.equal(seen.summary, '(redacted: needs agents.exec)');
    assert.equal(seen.signed, '(redacted: needs agents.exec)');
    assert.equal(seen.ip, b.ip, 'the rest of the event is there');
    assert.match(String((await of()).summary), /secret-looking/, 'an admin sees it');
  });
});

describe('host metrics', () => {
  const metricsOf = (ip: string, over: Record<string, unknown> = {}) => Buffer.from(encodeReport(reportTopics.metrics, {
    reporter: `agent:${ip}`, reportId: randomBytes(8).toString('hex'), droppedRecords: 0,
    metrics: [{ service: 'RESERVED.monitor', method: '', side: '', attr: 'sys.cpu_percent', minute: Math.floor(h.now() / 60_000) * 60, value: 12.5, kind: 'set', ip, atMs: h.now(), ...over }],
  }));

  test("an agent's sys.* for its own host go to msec.reports.metrics", async () => {
    const before = h.bus.broker.topics.get('msec.reports.metrics')?.length ?? 0;
    const r = await a.request('POST', '/api/agent/metrics', { body: metricsOf(a.ip) });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(h.bus.broker.topics.get('msec.reports.metrics')!.length, before + 1);
  });

  test('metrics for another host, another service or not sys.* are refused, and nothing is published', async () => {
    const before = h.bus.broker.topics.get('msec.reports.metrics')?.length ?? 0;
    problem(await a.request('POST', '/api/agent/metrics', { body: metricsOf(b.ip) }), 403, /its own host/);
    problem(await a.request('POST', '/api/agent/metrics', { body: metricsOf(a.ip, { service: 'Flight.mod_flight' }) }), 403);
    problem(await a.request('POST', '/api/agent/metrics', { body: metricsOf(a.ip, { attr: 'usr.orders' }) }), 403);
    problem(await a.request('POST', '/api/agent/metrics', { body: Buffer.from('not protobuf \u00ff\u00ff', 'latin1') }), 400);
    assert.equal(h.bus.broker.topics.get('msec.reports.metrics')?.length ?? 0, before);
  });
});
