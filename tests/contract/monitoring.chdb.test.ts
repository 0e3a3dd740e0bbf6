/**
 * Monitoring on embedded chdb (ClickHouse 26.x in this process): metric views, alarm evaluation and
 * the console's metric API. This file owns its chdb directory (one per process).
 */
import { after, before } from 'node:test';
import { openClickHouse, type ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { tempDir } from './support.ts';
import { metricViewsContract } from './monitoring/views.contract.ts';
import { alarmEvaluationContract } from './monitoring/alarms.contract.ts';
import { metricApiContract } from './monitoring/api.contract.ts';

const data = tempDir('msec-chdb-monitoring-');
let ch: ClickHouse;
let databases = 0;
before(async () => {
  ch = await openClickHouse({ chdbPath: data.dir });
});
after(async () => {
  await ch?.close();
  data.remove();
});
const target = () => ({ ch, database: () => `msec_monitoring_${++databases}` });
metricViewsContract('chdb (embedded ClickHouse 26.x)', target);
alarmEvaluationContract('chdb (embedded ClickHouse 26.x)', target);
metricApiContract('chdb (embedded ClickHouse 26.x)', target);
