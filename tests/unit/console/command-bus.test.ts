/**
 * The command bus as an object: its folded-state cache, its idempotency records, its queues
 * per stream, and deciding again when another process appended first (without If-Match).
 * "Another process" is a second bus over the same log.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEventLog, MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { WrongExpectedRevision, type EventStore } from '../../../adapters/eventstore/port.ts';
import { createCommandBus, type CommandBus, type CommandMeta } from '../../../apps/console/command-bus.ts';
import { DomainError } from '../../../domain/decider.ts';
import { serviceDecider, type ServiceCommand } from '../../../domain/services/index.ts';

const svc = 'Bus.svc';
const stream = `service-${svc}`;
const create: ServiceCommand = { type: 'CreateService', service: svc, kind: 'standard', lang: 'go', port: 7963 };
const addHost = (ip: string): ServiceCommand => ({ type: 'AddHost', service: svc, ip, port: 80, protocol: 'tcp' });

let ids = 0;
const meta = (more: Partial<CommandMeta> = {}): CommandMeta => ({
  commandId: `01900000-0000-7000-8000-${String(++ids).padStart(12, '0')}`, actor: 'alice', reason: '', at: 1_700_000_000_000, ...more,
});

/** A store over `log` that records the revision each stream read starts at, and can let another writer in before an append. */
function watchedStore(log: MemoryEventLog) {
  const inner = new MemoryEventStore({ log });
  const reads: { stream: string; from: number }[] = [];
  const hooks = { beforeAppend: undefined as undefined | ((attempt: number) => Promise<void>) };
  let appends = 0;
  const store: EventStore = {
    append: async (s, expected, events) => {
      await hooks.beforeAppend?.(++appends);
      return inner.append(s, expected, events);
    },
    readStream: async (s, from = 0) => {
      reads.push({ stream: s, from });
      return inner.readStream(s, from);
    },
    readAll: (after, limit) => inner.readAll(after, limit),
    headPosition: () => inner.headPosition(),
    subscribeAll: (after, handler) => inner.subscribeAll(after, handler),
    close: () => inner.close(),
  };
  return { store, reads, hooks };
}

const hostsOf = async (commands: CommandBus) => [...(await commands.state(stream, serviceDecider)).hosts.values()].map((h) => h.ip).sort();
/** What the log holds, as any reader sees it. */
const logged = async (log: MemoryEventLog) => new MemoryEventStore({ log }).readAll(0, 1000);

describe('command bus: cache', () => {
  it('folds its own events, so the next command on a stream reads only what came after', async () => {
    const { store, reads } = watchedStore(new MemoryEventLog());
    const commands = createCommandBus({ store });
    await commands.execute(stream, serviceDecider, create, meta());
    await commands.execute(stream, serviceDecider, addHost('10.0.0.1'), meta());
    await commands.execute(stream, serviceDecider, addHost('10.0.0.2'), meta());
    assert.deepEqual(reads.map((r) => r.from), [0, 1, 2]);
  });

  it("reads another process's appends before deciding on them", async () => {
    const log = new MemoryEventLog();
    const here = createCommandBus({ store: new MemoryEventStore({ log }) });
    const there = createCommandBus({ store: new MemoryEventStore({ log }) });
    await here.execute(stream, serviceDecider, create, meta());
    await there.execute(stream, serviceDecider, addHost('10.0.0.1'), meta());
    await assert.rejects(here.execute(stream, serviceDecider, addHost('10.0.0.1'), meta()), (e) => e instanceof DomainError && e.code === 'conflict');
    assert.deepEqual(await hostsOf(here), ['10.0.0.1']);
  });

  it('keeps at most cacheLimit streams per decider, the least recently used leaving first', async () => {
    const { store, reads } = watchedStore(new MemoryEventLog());
    const commands = createCommandBus({ store, cacheLimit: 2 });
    const created = (name: string): ServiceCommand => ({ ...create, service: name } as ServiceCommand);
    for (const name of ['A.a', 'B.b', 'C.c']) await commands.execute(`service-${name}`, serviceDecider, created(name), meta());
    reads.length = 0;
    await commands.state('service-C.c', serviceDecider);
    await commands.state('service-B.b', serviceDecider);
    await commands.state('service-A.a', serviceDecider);
    assert.deepEqual(reads.map((r) => `${r.stream}@${r.from}`), ['service-C.c@1', 'service-B.b@1', 'service-A.a@0'], 'A.a left first and is read whole');
  });

  it('is its own: a second bus on the same store keeps nothing of the first', async () => {
    const { store, reads } = watchedStore(new MemoryEventLog());
    await createCommandBus({ store }).execute(stream, serviceDecider, create, meta());
    reads.length = 0;
    await createCommandBus({ store }).state(stream, serviceDecider);
    assert.deepEqual(reads.map((r) => r.from), [0]);
  });
});

describe('command bus: idempotency', () => {
  it('answers a retried command id as the first time and writes nothing', async () => {
    const store = new MemoryEventStore();
    const commands = createCommandBus({ store });
    await commands.execute(stream, serviceDecider, create, meta());
    const once = meta();
    const first = await commands.execute(stream, serviceDecider, addHost('10.0.0.1'), once);
    const head = await store.headPosition();
    const again = await commands.execute(stream, serviceDecider, addHost('10.0.0.1'), once);
    assert.deepEqual(again, first);
    assert.equal(await store.headPosition(), head);
  });

  it('answers a retry sent to another process (which learns the command from the log) the same', async () => {
    const log = new MemoryEventLog();
    const here = createCommandBus({ store: new MemoryEventStore({ log }) });
    const there = createCommandBus({ store: new MemoryEventStore({ log }) });
    await here.execute(stream, serviceDecider, create, meta());
    const once = meta();
    const first = await here.execute(stream, serviceDecider, addHost('10.0.0.1'), once);
    const again = await there.execute(stream, serviceDecider, addHost('10.0.0.1'), once);
    assert.deepEqual({ ...again, revision: first.revision }, first);
    assert.equal((await logged(log)).length, 2);
  });

  it('refuses a command id reused for another request, or by another actor', async () => {
    const commands = createCommandBus({ store: new MemoryEventStore() });
    await commands.execute(stream, serviceDecider, create, meta());
    const once = meta();
    await commands.execute(stream, serviceDecider, addHost('10.0.0.1'), once);
    const reused = (e: unknown) => e instanceof DomainError && e.code === 'conflict' && /Idempotency-Key .* different request/.test(e.message);
    await assert.rejects(commands.execute(stream, serviceDecider, addHost('10.0.0.2'), once), reused);
    await assert.rejects(commands.execute(stream, serviceDecider, addHost('10.0.0.1'), { ...once, actor: 'mallory' }), reused);
    await assert.rejects(commands.snapshot(stream, serviceDecider, { ...once, actor: 'mallory' }), reused);
  });
});

describe('command bus: another process appends between the read and the append', () => {
  /** Our bus reads the stream; before its append lands, `other` appends `command` to the same stream. */
  async function racedBy(command: ServiceCommand) {
    const log = new MemoryEventLog();
    const watched = watchedStore(log);
    const commands = createCommandBus({ store: watched.store });
    const other = createCommandBus({ store: new MemoryEventStore({ log }) });
    await commands.execute(stream, serviceDecider, create, meta());
    let raced = false;
    watched.hooks.beforeAppend = async () => {
      if (raced) return;
      raced = true;
      await other.execute(stream, serviceDecider, command, meta());
    };
    return { commands, log };
  }

  it('without If-Match: decides again on the fresh state and appends after the other', async () => {
    const { commands, log } = await racedBy(addHost('10.9.0.1'));
    const outcome = await commands.execute(stream, serviceDecider, addHost('10.0.0.1'), meta());
    assert.deepEqual(outcome.eventTypes, ['HostAdded']);
    assert.equal(outcome.revision, 2, 'after the other process\'s event');
    assert.deepEqual(await hostsOf(commands), ['10.0.0.1', '10.9.0.1']);
    assert.equal((await logged(log)).length, 3);
  });

  it('without If-Match: a decision the fresh state refuses is refused, not answered 409', async () => {
    const { commands, log } = await racedBy({ type: 'DeleteService', service: svc });
    await assert.rejects(commands.execute(stream, serviceDecider, addHost('10.0.0.1'), meta()), (e) => e instanceof DomainError && /deleted|create it/.test(e.message));
    assert.deepEqual((await logged(log)).map((e) => e.type), ['ServiceCreated', 'ServiceDeleted']);
  });

  it('with If-Match: the stale revision is WrongExpectedRevision and nothing is written', async () => {
    const { commands, log } = await racedBy(addHost('10.9.0.1'));
    await assert.rejects(commands.execute(stream, serviceDecider, addHost('10.0.0.1'), meta({ expectedRevision: 0 })), WrongExpectedRevision);
    assert.deepEqual((await logged(log)).map((e) => e.type), ['ServiceCreated', 'HostAdded']);
  });

  it('gives up with WrongExpectedRevision after maxAttempts decisions when the others keep winning', async () => {
    const log = new MemoryEventLog();
    const watched = watchedStore(log);
    const commands = createCommandBus({ store: watched.store, maxAttempts: 3 });
    const other = createCommandBus({ store: new MemoryEventStore({ log }) });
    await commands.execute(stream, serviceDecider, create, meta());
    let raced = 0;
    watched.hooks.beforeAppend = async () => {
      raced++;
      await other.execute(stream, serviceDecider, addHost(`10.9.0.${raced}`), meta());
    };
    await assert.rejects(commands.execute(stream, serviceDecider, addHost('10.0.0.1'), meta()), WrongExpectedRevision);
    assert.equal(raced, 3);
    assert.ok(!(await logged(log)).some((e) => e.type === 'HostAdded' && (e.data as { ip: string }).ip === '10.0.0.1'));
  });

  it('a workflow step (appendStep) is never decided again: its plan was made at that revision', async () => {
    const { commands, log } = await racedBy(addHost('10.9.0.1'));
    await assert.rejects(commands.appendStep(stream, serviceDecider, addHost('10.0.0.1'), 0, meta(), (i) => i), WrongExpectedRevision);
    assert.equal((await logged(log)).length, 2);
  });
});

describe('command bus: queues', () => {
  it('runs the commands of one stream one at a time, in the order sent, and other streams beside them', async () => {
    const order: string[] = [];
    const gate = { open: () => undefined as void, opened: Promise.resolve() };
    gate.opened = new Promise<void>((resolve) => (gate.open = resolve));
    const inner = new MemoryEventStore();
    const store: EventStore = {
      ...inner,
      append: async (s, expected, events) => {
        order.push(`append ${s} ${events[0]!.type}`);
        if (s === stream && events[0]!.type === 'ServiceCreated') await gate.opened;
        return inner.append(s, expected, events);
      },
      readStream: (s, from) => inner.readStream(s, from),
      readAll: (after, limit) => inner.readAll(after, limit),
      headPosition: () => inner.headPosition(),
      subscribeAll: (after, handler) => inner.subscribeAll(after, handler),
      close: () => inner.close(),
    };
    const commands = createCommandBus({ store });
    const first = commands.execute(stream, serviceDecider, create, meta());
    const second = commands.execute(stream, serviceDecider, addHost('10.0.0.1'), meta());
    const elsewhere = commands.execute('service-Other.svc', serviceDecider, { ...create, service: 'Other.svc' } as ServiceCommand, meta());
    await elsewhere;
    assert.deepEqual(order, [`append ${stream} ServiceCreated`, 'append service-Other.svc ServiceCreated'], 'the other stream did not wait; the second command did');
    gate.open();
    await Promise.all([first, second]);
    assert.deepEqual(order.slice(2), [`append ${stream} HostAdded`]);
  });
});
