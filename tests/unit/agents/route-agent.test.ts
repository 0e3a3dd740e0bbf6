/** The agent's UDP route lookup (apps/agent/route-agent.ts) against names anyone can send. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { RouteAgent, routeAgentResults } from '../../../apps/agent/route-agent.ts';
import { ConsoleError, type ConsoleLink } from '../../../apps/agent/console-link.ts';

const lookup = (name: string) => {
  const n = Buffer.from(name);
  const msg = Buffer.alloc(4 + n.length);
  msg.writeUInt32BE(n.length, 0);
  n.copy(msg, 4);
  return msg;
};
const resultOf = (reply: Buffer | undefined) => reply!.readInt32BE(4);

const asked: string[] = [];
const polls: { resolve: () => void }[] = [];
const link = {
  async request(_method: string, path: string, o: { timeoutMs?: number } = {}) {
    asked.push(path);
    if (path.startsWith('/api/routes/Flight.mod_old')) {
      // A console of before the one route contract: `kind`, no `policy`, no service name.
      return new Response(JSON.stringify({ kind: 'standard', version: 1, instances: [{ ip: '10.0.0.6', port: 7963, protocol: 'tcp', weight: 100 }] }), { status: 200 });
    }
    if (!path.startsWith('/api/routes/Flight.mod_flight')) throw new ConsoleError(404, 'no such service');
    if (path.includes('wait=')) {
      // a long-poll that ends when the test is over (no change meanwhile)
      await new Promise<void>((resolve) => polls.push({ resolve }));
      return new Response(null, { status: 304 });
    }
    void o;
    return new Response(JSON.stringify({ service: 'Flight.mod_flight', policy: 'standard', version: 1, instances: [{ ip: '10.0.0.5', port: 7963, protocol: 'tcp', weight: 100 }] }), { status: 200 });
  },
} as unknown as ConsoleLink;

const agent = await RouteAgent.start({ ip: '127.0.0.1', port: 0, link, logger: pino({ level: 'silent' }), random: () => 0.5 });
after(async () => {
  for (const p of polls) p.resolve();
  await agent.close();
});

test('given a flood of made-up names, then each is asked of the console once, none is watched, and real services still answer', async () => {
  const names = Array.from({ length: 300 }, (_, i) => `Made.up_${i}`);
  for (const name of [...names, ...names]) assert.equal(resultOf(await agent.answer(lookup(name))), routeAgentResults.unknownService);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(asked.filter((p) => p.startsWith('/api/routes/Made.up_')).length, names.length, 'one question per name, no watch loop');
  const real = await agent.answer(lookup('Flight.mod_flight'));
  assert.equal(resultOf(real), routeAgentResults.ok);
  assert.equal(real!.readUInt16BE(12), 7963);
});

test('given an answer that is not a route table, then no instance is made up from it: the lookup says to ask again', async () => {
  assert.equal(resultOf(await agent.answer(lookup('Flight.mod_old'))), routeAgentResults.unavailable);
});
