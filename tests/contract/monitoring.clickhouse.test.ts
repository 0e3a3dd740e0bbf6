/** Monitoring on a real ClickHouse 18.16 server (started here on loopback): metric views, alarm evaluation, the console's metric API. */
import { after, before, test } from 'node:test';
import { openClickHouse, type ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { metricViewsContract } from './monitoring/views.contract.ts';
import { alarmEvaluationContract } from './monitoring/alarms.contract.ts';
import { metricApiContract } from './monitoring/api.contract.ts';

const why = clickHouseServerUnavailable();
if (why) {
  test('monitoring on a ClickHouse server', { skip: why }, () => {});
} else {
  let server: ClickHouseServer;
  let ch: ClickHouse;
  let databases = 0;
  before(async () => {
    server = await startClickHouse();
    ch = await openClickHouse({ url: server.url });
  });
  after(async () => {
    await ch?.close();
    await server?.stop();
  });
  const target = () => ({ ch, database: () => `msec_monitoring_${++databases}` });
  metricViewsContract('ClickHouse 18.16 server', target);
  alarmEvaluationContract('ClickHouse 18.16 server', target);
  metricApiContract('ClickHouse 18.16 server', target);
}
