/** The logs views on embedded chdb (ClickHouse 26.x in this process; one chdb per process, so its own file). */
import { after } from 'node:test';
import { ClickHouseViewStore } from '../../adapters/views/clickhouse.ts';
import { tempDir } from './support.ts';
import { logsContract } from './logs.contract.ts';

const data = tempDir('msec-chdb-logs-');
after(() => data.remove());
logsContract('chdb (embedded ClickHouse 26.x)', { open: (database) => ClickHouseViewStore.open({ chdbPath: data.dir }, { database }) });
