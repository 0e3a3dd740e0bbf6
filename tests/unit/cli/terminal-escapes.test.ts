/**
 * Hostile text from the console or the bus never reaches the terminal as control sequences:
 * report fields, event fields, error details, JSON lines. A file's bytes written to a pipe
 * stay exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, problem, withConsole } from './helpers.ts';
import { terminalSafe, terminalSafeKeepingStyles } from '../../../apps/cli/terminal-safe.ts';

// Clipboard write (OSC 52), window title (OSC 0), CSI via C1, carriage return, bidi override, DEL, BEL.
const hostile = 'svc\u001b]52;c;cm0gLXJmIH4=\u0007\u001b]0;pwned\u0007\u009b2J\rOK\u202egnp.exe\u007f\u2028';
// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('terminalSafe makes every control visible and keeps ordinary text (CJK, accents, tabs, newlines)', () => {
  assert.equal(terminalSafe('a\u001bb\rc\u009bd'), 'a\\u001bb\\u000dc\\u009bd');
  assert.equal(terminalSafe('航班 Zürich\tok\n'), '航班 Zürich\tok\n');
  assert.doesNotMatch(terminalSafe(hostile), controls);
  assert.equal(terminalSafeKeepingStyles('\u001b[1mNAME\u001b[0m \u001b[31mred\u001b]0;x\u0007'), '\u001b[1mNAME\u001b[0m \\u001b[31mred\\u001b]0;x\\u0007');
});

test('events tail --topic: hostile report fields are printed as visible escapes, in text and in JSON', async () => {
  const message = {
    offset: 1, key: hostile, timestamp: Date.parse('2024-05-01T10:00:00Z'),
    value: {
      calls: [{ caller: hostile, callee: 'A.b', method: `m${hostile}`, requestId: hostile, err: 0, latencyMs: 1, atMs: Date.parse('2024-05-01T10:00:00Z'), instance: hostile, side: 'client' }],
    },
  };
  const other = { offset: 2, key: hostile, timestamp: 0, value: { weird: hostile } };
  const instances = { offset: 3, key: 'k', timestamp: 0, value: { instances: [{ service: hostile, ip: hostile, port: 1, requests: 1, failures: 0, latencyMsSum: 1 }] } };
  await withConsole({
    'GET /api/topics/msec.reports.calls/tail': { body: { group: 'tail-1', messages: [message, other, instances] } },
  }, async (_c, env) => {
    const text = await runCli(['events', 'tail', '--topic', 'msec.reports.calls'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.doesNotMatch(text.stdout.replaceAll('\n', ''), controls);
    assert.match(text.stdout, /\\u001b\]52;c;/);
    const json = await runCli(['events', 'tail', '--topic', 'msec.reports.calls', '--json'], { env });
    assert.doesNotMatch(json.stdout.replaceAll('\n', ''), controls);
    for (const line of json.stdout.trimEnd().split('\n')) JSON.parse(line); // still valid JSON
    assert.equal(JSON.parse(json.stdout.split('\n')[0]!).key, hostile, 'JSON keeps the value, escaped');
  });
});

test('events tail and a refused command: event fields and problem details are made safe on stdout and stderr', async () => {
  const event = { position: 6, id: 'x', type: `HostAdded${hostile}`, stream: hostile, revision: 0, occurredAt: '2024-05-01T10:00:06Z', actor: hostile, reason: hostile, data: {} };
  await withConsole({
    'GET /api/events': { body: { events: [event], head: 6 } },
    'POST /api/services': problem(409, `service exists ${hostile}`),
  }, async (_c, env) => {
    const tail = await runCli(['events', 'tail', '--after', '5'], { env });
    assert.equal(tail.code, 0, tail.stderr);
    assert.doesNotMatch(tail.stdout.replaceAll('\n', ''), controls);
    const refused = await runCli(['service', 'create', 'A.b'], { env });
    assert.equal(refused.code, 1);
    assert.doesNotMatch(refused.stderr.replaceAll('\n', ''), controls);
    assert.match(refused.stderr, /service exists svc/);
  });
});

test('config get writes the exact bytes to a pipe', async () => {
  const text = '[LOG]\nLevel=INFO\r\n# \u001b odd but stored\n';
  await withConsole({
    'GET /api/services/A.b/configs/v1/raw': { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text },
  }, async (_c, env) => {
    const r = await runCli(['config', 'get', 'A.b', 'v1'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, text);
  });
});
