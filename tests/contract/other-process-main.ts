/** Entry point of the child processes started by other-process.ts. */
import { once } from 'node:events';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { WrongExpectedRevision } from '../../adapters/eventstore/port.ts';
import type { OtherProcessTask } from './other-process.ts';
import { command, hostAdded, quickFollow } from './support.ts';

const task = JSON.parse(process.argv[2] ?? '{}') as OtherProcessTask;

/** Tells the parent the database is open, then waits for its "go" so all writers start together. */
async function readyThenWait(): Promise<void> {
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
}

if (task.action === 'appendEvents') {
  const store = SqliteEventStore.open(task.file, quickFollow);
  await readyThenWait();
  for (let i = 0; i < task.count * task.streams.length; i++) {
    const stream = task.streams[i % task.streams.length]!;
    await store.append(stream, 'any', command([hostAdded('Other.process', `10.9.${process.pid & 255}.${i & 255}`)]));
  }
  await store.close();
} else if (task.action === 'publishMessages') {
  const bus = SqliteMessageBus.open(task.file, quickFollow);
  await readyThenWait();
  for (let i = 0; i < task.count; i++) {
    await bus.publish(task.topic, [{ key: task.key, value: Buffer.from(`${task.key}:${i}`) }]);
  }
  await bus.close();
} else if (task.action === 'countWithExpectedRevision') {
  const store = SqliteEventStore.open(task.file, quickFollow);
  await readyThenWait();
  for (let done = 0; done < task.count; ) {
    const past = await store.readStream(task.stream);
    const next = past.length + 1; // the number this writer believes comes next
    const expected = past.length ? past[past.length - 1]!.revision : 'no_stream';
    try {
      await store.append(task.stream, expected, command([hostAdded('Counter.svc', `10.0.${next >> 8}.${next & 255}`)]));
      done++;
    } catch (err) {
      if (!(err instanceof WrongExpectedRevision)) throw err;
    }
  }
  await store.close();
} else {
  throw new Error(`unknown task ${JSON.stringify(task)}`);
}
