/**
 * The ViewStore contract on a real ClickHouse 18.16 server (Debian's clickhouse-server, started
 * by the test on free loopback ports). Each store gets a fresh database on the one server.
 */
import { after, before, test } from 'node:test';
import { ClickHouseViewStore } from '../../adapters/views/clickhouse.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { viewStoreContract } from './viewstore.contract.ts';

const why = clickHouseServerUnavailable();
if (why) {
  test('ViewStore contract: ClickHouse server', { skip: why }, () => {});
} else {
  let server: ClickHouseServer;
  before(async () => {
    server = await startClickHouse();
  });
  after(() => server?.stop());

  let databases = 0;
  const names = new WeakMap<object, string>();
  const open = async (database = `msec_contract_${++databases}`) => {
    const store = await ClickHouseViewStore.open({ url: server.url }, { database });
    names.set(store, database);
    return store;
  };
  viewStoreContract('ClickHouse 18.16 server', {
    open: () => open(),
    reopen: (closed) => open(names.get(closed)),
  });
}
