/**
 * The schema migration runner on both real engines (a ClickHouse 18.16 server, embedded chdb):
 * applies what is new once, refuses an edited or unknown migration, and finishes a migration
 * that was cut short.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { int64, openClickHouse, type ClickHouse, type ClickHouseTarget } from '../../adapters/views/clickhouse-client.ts';
import { loadMigrations, migrate } from '../../adapters/views/clickhouse-migrate.ts';
import { sql, sqlIdentifier } from '../../adapters/views/clickhouse-sql.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { tempDir } from './support.ts';

const one = 'CREATE TABLE IF NOT EXISTS {database}.one (n UInt8) ENGINE = MergeTree ORDER BY n;\n';
const two = 'CREATE TABLE IF NOT EXISTS {database}.two (s String) ENGINE = MergeTree ORDER BY s;\n';

function migrationSuite(engine: string, target: () => ClickHouseTarget, skip: string | false): void {
  describe(`ClickHouse migrations on ${engine}`, { skip }, () => {
    let ch: ClickHouse;
    let databases = 0;
    const folders: (() => void)[] = [];
    const migrationsDir = (files: Record<string, string>) => {
      const { dir, remove } = tempDir('msec-migrations-');
      folders.push(remove);
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      return dir;
    };
    const tables = async (database: string) => (await ch.select<{ name: string }>(
      sql`SELECT name FROM system.tables WHERE database = ${database} ORDER BY name`, 'listing tables')).map((t) => t.name);

    before(async () => {
      ch = await openClickHouse(target());
    });
    after(async () => {
      await ch?.close();
      for (const remove of folders) remove();
    });

    it('applies the shipped migrations to a new database once', async () => {
      const database = `msec_migrate_${++databases}`;
      const first = await migrate(ch, database);
      assert.deepEqual(first.applied, loadMigrations().map((m) => m.version));
      assert.deepEqual(await tables(database), [
        'call_edges', 'log_drops', 'logs', 'logs_requests', 'logs_requests_mv', 'metrics_ip_minute', 'metrics_service_minute',
        'schema_migrations', 'view_checkpoints', 'view_keys', 'view_row_checkpoints', 'view_rows', 'view_states',
      ]);
      const second = await migrate(ch, database);
      assert.deepEqual(second.applied, []);
      assert.equal(second.current, first.current);
    });

    it('applies only what is new, in order', async () => {
      const database = `msec_migrate_${++databases}`;
      assert.deepEqual((await migrate(ch, database, loadMigrations(migrationsDir({ '001_one.sql': one })))).applied, [1]);
      const both = loadMigrations(migrationsDir({ '001_one.sql': one, '002_two.sql': two }));
      assert.deepEqual((await migrate(ch, database, both)).applied, [2]);
      assert.deepEqual(await tables(database), ['one', 'schema_migrations', 'two']);
      const [recorded] = await ch.select<{ n: string | number }>(sql`SELECT count() AS n FROM ${sqlIdentifier(database)}.schema_migrations`, 'counting');
      assert.equal(int64(recorded!.n), 2);
    });

    it('refuses a migration edited after it was applied, and one it does not know', async () => {
      const database = `msec_migrate_${++databases}`;
      await migrate(ch, database, loadMigrations(migrationsDir({ '001_one.sql': one, '002_two.sql': two })));
      const edited = loadMigrations(migrationsDir({ '001_one.sql': `${one}-- edited\n`, '002_two.sql': two }));
      await assert.rejects(migrate(ch, database, edited), /migration 1_one was changed after it was applied to msec_migrate_\d+; restore the file and add a new migration/);
      const older = loadMigrations(migrationsDir({ '001_one.sql': one }));
      await assert.rejects(migrate(ch, database, older), /has migrations this program does not know \(2\): it was migrated by a newer msec/);
    });

    it('runs a migration cut short again from its first statement', async () => {
      const database = `msec_migrate_${++databases}`;
      const broken = loadMigrations(migrationsDir({ '001_one.sql': `${one}CREATE TABLE {database}.broken (n NoSuchType) ENGINE = Log;\n` }));
      await assert.rejects(migrate(ch, database, broken), /refused applying migration 1_one to msec_migrate_\d+/);
      assert.deepEqual(await tables(database), ['one', 'schema_migrations']);
      const fixed = loadMigrations(migrationsDir({ '001_one.sql': `${one}${two}` }));
      assert.deepEqual((await migrate(ch, database, fixed)).applied, [1]);
      assert.deepEqual(await tables(database), ['one', 'schema_migrations', 'two']);
    });
  });
}

const why = clickHouseServerUnavailable();
let server: ClickHouseServer | undefined;
before(async () => {
  if (!why) server = await startClickHouse();
});
after(() => server?.stop());
migrationSuite('a ClickHouse 18.16 server', () => ({ url: server!.url }), why ?? false);

const chdbData = tempDir('msec-chdb-migrate-');
after(() => chdbData.remove());
migrationSuite('embedded chdb (ClickHouse 26.x)', () => ({ chdbPath: chdbData.dir }), false);
