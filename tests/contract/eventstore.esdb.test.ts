/**
 * The EventStore contract against a real EventStoreDB, when MSEC_TEST_ESDB_URL names one
 * (e.g. esdb://127.0.0.1:2113?tls=false for `docker run -p 2113:2113 eventstore/eventstore
 * --insecure --run-projections=none`). None can be had on the machines this project is built
 * on, so there the suite is one skipped test saying so. The server is shared by every test
 * and every run: streams are unique per test and the suite reads $all from the head it found.
 */
import { test } from 'node:test';
import { EsdbEventStore } from '../../adapters/eventstore/esdb.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import { eventStoreContract, type EventStoreFixture } from './eventstore.contract.ts';
import { quickFollow } from './support.ts';

const url = process.env.MSEC_TEST_ESDB_URL?.trim();

async function esdbFixture(): Promise<EventStoreFixture> {
  const opened: EventStore[] = [];
  const open = () => {
    const store = EsdbEventStore.open(url!, quickFollow);
    opened.push(store);
    return store;
  };
  return {
    store: open(),
    reopen: async () => open(),
    // Nothing to remove: the test streams stay in the server (their names are unique).
    cleanup: async () => {
      for (const s of opened) await s.close();
    },
  };
}

if (url) {
  eventStoreContract('EsdbEventStore', esdbFixture, { emptyAtStart: false });
} else {
  test('EventStore contract: EsdbEventStore', { skip: 'no EventStoreDB server here: set MSEC_TEST_ESDB_URL=esdb://host:2113?tls=false to run the event-store contract suite against it' }, () => {});
}
