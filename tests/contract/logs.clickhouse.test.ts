/** The logs views on a real ClickHouse 18.16 server (Debian's clickhouse-server, started on a free loopback port). */
import { after, before, test } from 'node:test';
import { ClickHouseViewStore } from '../../adapters/views/clickhouse.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { logsContract } from './logs.contract.ts';

const why = clickHouseServerUnavailable();
if (why) {
  test('logs views: ClickHouse server', { skip: why }, () => {});
} else {
  let server: ClickHouseServer;
  before(async () => {
    server = await startClickHouse();
  });
  after(() => server?.stop());
  logsContract('ClickHouse 18.16 server', { open: (database) => ClickHouseViewStore.open({ url: server.url }, { database }) });
}
