/**
 * Two consoles on one event store, played in one process: each "console" is its own store
 * object over one shared log with a command bus of its own (its own cache and queues), and every
 * read and append either console makes waits at a gate. A seeded scheduler opens one gate at a
 * time, so each run is one interleaving of the two consoles' requests, down to single reads
 * and appends. Thousands of runs then check the service tree's rules on the log
 * (tests/unit/support/service-tree-oracle.ts) and that every request ends in an answer the
 * API sends as success or a clean 4xx.
 * MSEC_FUZZ_SEED=<n> replays one seed; MSEC_INTERLEAVINGS=<n> sets the number of runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEventLog, MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { WrongExpectedRevision, type EventStore } from '../../../adapters/eventstore/port.ts';
import { createService, deleteService } from '../../../apps/console/service-workflows.ts';
import { createCommandBus, type CommandBus, type CommandMeta } from '../../../apps/console/command-bus.ts';
import { DomainError } from '../../../domain/decider.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { emptyFacts, foldTree, quiescentProblems } from '../support/service-tree-oracle.ts';

/** Opens one gate at a time, chosen by the seeded generator. */
class Gates {
  private readonly waiting: (() => void)[] = [];
  steps = 0;
  pass(): Promise<void> {
    return new Promise((open) => this.waiting.push(open));
  }
  get pending(): number {
    return this.waiting.length;
  }
  openOne(rnd: () => number): void {
    const [open] = this.waiting.splice(Math.floor(rnd() * this.waiting.length), 1);
    this.steps++;
    open!();
  }
}

/** A console's view of the shared log: every read and append waits for its gate. */
function gated(log: MemoryEventLog, gates: Gates): EventStore {
  const inner = new MemoryEventStore({ log });
  return {
    append: async (stream, expected, events) => { await gates.pass(); return inner.append(stream, expected, events); },
    readStream: async (stream, from) => { await gates.pass(); return inner.readStream(stream, from); },
    readAll: (after, limit) => inner.readAll(after, limit),
    headPosition: () => inner.headPosition(),
    subscribeAll: (after, handler) => inner.subscribeAll(after, handler),
    close: () => inner.close(),
  };
}

type Request = { what: string; run: (commands: CommandBus, meta: CommandMeta) => Promise<unknown> };

const standard = { kind: 'standard' as const, lang: 'typescript', port: 7963 };
const requests: Request[] = [
  { what: 'create Race.x', run: (s, m) => createService(s, { name: 'Race.x', ...standard }, m, noWait) },
  { what: 'create Race.x on port 8000', run: (s, m) => createService(s, { name: 'Race.x', ...standard, port: 8000 }, m, noWait) },
  { what: 'create Race.y', run: (s, m) => createService(s, { name: 'Race.y', ...standard }, m, noWait) },
  { what: 'delete Race.x', run: (s, m) => deleteService(s, 'Race.x', m, noWait) },
  { what: 'delete Race.y', run: (s, m) => deleteService(s, 'Race.y', m, noWait) },
  { what: 'delete Race', run: (s, m) => deleteService(s, 'Race', m, noWait) },
  { what: 'create Race', run: (s, m) => createService(s, { name: 'Race', ...standard }, m, noWait) },
];
/** Retries between the steps of a workflow pause for nothing here: the scheduler is the clock. */
const noWait = { pause: () => Promise.resolve() };

type Answer = 'ok' | 'refused' | 'stale' | 'broken';

function answerOf(error: unknown): Answer {
  if (error instanceof DomainError) return 'refused';
  if (error instanceof WrongExpectedRevision) return 'stale';
  return 'broken';
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One interleaving: a random start, then two consoles running three random requests each. */
async function playOnce(seed: number) {
  const rnd = seededRandom(seed);
  const pick = () => requests[Math.floor(rnd() * requests.length)]!;
  const log = new MemoryEventLog();
  const meta = (id: string, actor: string): CommandMeta => ({ commandId: `${seed}-${id}`, actor, reason: '', at: 1_700_000_000_000 });
  const setup = new MemoryEventStore({ log });
  const setupCommands = createCommandBus({ store: setup });
  const history: string[] = [];
  for (let i = Math.floor(rnd() * 3); i > 0; i--) {
    const r = pick();
    history.push(`before: ${r.what}`);
    await r.run(setupCommands, meta(`setup-${i}`, 'setup')).catch(() => undefined);
  }
  const gates = new Gates();
  const answers: { console: number; what: string; answer: Answer; error?: unknown }[] = [];
  let running = 2;
  const consoles = [0, 1].map(async (c) => {
    const commands = createCommandBus({ store: gated(log, gates) });
    for (let i = 0; i < 3; i++) {
      const r = pick();
      history.push(`console ${c}: ${r.what}`);
      try {
        await r.run(commands, meta(`${c}-${i}`, `console${c}`));
        answers.push({ console: c, what: r.what, answer: 'ok' });
      } catch (error) {
        answers.push({ console: c, what: r.what, answer: answerOf(error), error });
      }
    }
    running--;
  });
  for (;;) {
    await turn();
    if (running === 0) break;
    if (gates.pending === 0) throw new Error(`seed ${seed}: both consoles wait for something other than the store`);
    if (gates.steps > 5000) throw new Error(`seed ${seed}: no end after 5000 store calls`);
    gates.openOne(rnd);
  }
  await Promise.all(consoles);
  const events = await setup.readAll(0, 100_000);
  const facts = foldTree(emptyFacts(), events);
  return { history, answers, facts, problems: [...facts.violations, ...quiescentProblems(facts)] };
}

/** A rule broken, without positions and names, to count runs per kind of breakage. */
const kindOf = (problem: string) => problem.replace(/^position \d+ /, '').replace(/Race\.[xy]/g, 'Race.?').replace(/\b[xy]\b/g, '?');

test('two consoles interleaving service-tree requests keep the tree whole and answer cleanly', async () => {
  const given = process.env.MSEC_FUZZ_SEED;
  const seeds = given ? [Number(given)] : Array.from({ length: Number(process.env.MSEC_INTERLEAVINGS ?? 3000) }, (_, i) => i + 1);
  const tally = new Map<string, number>();
  const kinds = new Map<string, number>();
  const failures: string[] = [];
  for (const seed of seeds) {
    const { history, answers, problems } = await playOnce(seed);
    for (const a of answers) tally.set(a.answer, (tally.get(a.answer) ?? 0) + 1);
    const broken = answers.filter((a) => a.answer === 'broken');
    for (const kind of new Set([...problems, ...broken.map((b) => `${b.what}: ${String(b.error)}`)].map(kindOf))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (problems.length || broken.length) {
      failures.push(`seed ${seed} (MSEC_FUZZ_SEED=${seed}): ${[...problems, ...broken.map((b) => `${b.what} on console ${b.console} failed with ${String(b.error)}`)].join('; ')}\n    ${history.join('\n    ')}`);
    }
  }
  console.log(`# ${seeds.length} interleavings, answers: ${[...tally].map(([k, v]) => `${k} ${v}`).join(', ')}; runs breaking a rule: ${failures.length}`);
  for (const [kind, runs] of kinds) console.log(`#   ${runs} runs: ${kind}`);
  assert.equal(failures.length, 0, `${failures.length} of ${seeds.length} interleavings broke the tree, the first ones:\n${failures.slice(0, 3).join('\n')}`);
});
