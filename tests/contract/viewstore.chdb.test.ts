/**
 * The ViewStore contract on embedded chdb (ClickHouse 26.x in this process). One process may
 * hold a chdb data directory, and node --test runs each file in its own process: this file
 * owns its directory. Each store gets a fresh database in it.
 */
import { after } from 'node:test';
import { ClickHouseViewStore } from '../../adapters/views/clickhouse.ts';
import { tempDir } from './support.ts';
import { viewStoreContract } from './viewstore.contract.ts';

const data = tempDir('msec-chdb-contract-');
after(() => data.remove());

let databases = 0;
const names = new WeakMap<object, string>();
const open = async (database = `msec_contract_${++databases}`) => {
  const store = await ClickHouseViewStore.open({ chdbPath: data.dir }, { database });
  names.set(store, database);
  return store;
};
viewStoreContract('chdb (embedded ClickHouse 26.x)', {
  open: () => open(),
  reopen: (closed) => open(names.get(closed)),
});
