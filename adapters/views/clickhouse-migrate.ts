/**
 * Versioned schema migrations for the ClickHouse views: `clickhouse-migrations/NNN_name.sql`,
 * applied in order, each recorded in `<database>.schema_migrations` with a checksum of its text.
 *
 * ClickHouse DDL is not transactional, so the rules are: every statement is idempotent
 * (CREATE … IF NOT EXISTS, ADD COLUMN IF NOT EXISTS), a migration is recorded only after all
 * its statements ran, and one cut short is run again from its first statement. A migration
 * already applied is never edited (its checksum would no longer match): add a new one.
 * Two processes migrating at once run the same idempotent statements; the record is a
 * ReplacingMergeTree keyed by version, so it holds one row per migration after merges and
 * reads take DISTINCT versions.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ClickHouse } from './clickhouse-client.ts';
import { int64 } from './clickhouse-client.ts';
import { sql, sqlIdentifier, SqlFragment } from './clickhouse-sql.ts';

export interface Migration {
  version: number;
  name: string;
  /** The file's text, with `{database}` still in it. */
  text: string;
  checksum: string;
}

export const migrationsDir = fileURLToPath(new URL('./clickhouse-migrations/', import.meta.url));

/** Reads `NNN_name.sql` files in version order; refuses two files with one version. */
export function loadMigrations(dir = migrationsDir): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file): Migration => {
      const match = /^(\d{3,})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new Error(`migration file ${join(dir, file)} is not named NNN_name.sql (digits, underscore, lower-case name)`);
      const text = readFileSync(join(dir, file), 'utf8');
      return { version: Number(match[1]), name: match[2]!, text, checksum: createHash('sha256').update(text).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version) throw new Error(`two migrations in ${dir} have version ${m.version}: renumber one`);
  });
  return migrations;
}

/** The statements of a migration for one database: comments removed, split at `;` ending a line. */
export function migrationStatements(migration: Migration, database: string): SqlFragment[] {
  const db = sqlIdentifier(database).text;
  return migration.text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;[ \t]*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter(Boolean)
    .map((statement) => new SqlFragment(statement.replaceAll('{database}', db)));
}

export interface MigrationResult {
  /** Versions applied by this call (empty when the schema was up to date). */
  applied: number[];
  /** The highest version now in the database. */
  current: number;
}

/** Creates the database if needed and applies the migrations it has not seen yet. */
export async function migrate(ch: ClickHouse, database: string, migrations: readonly Migration[] = loadMigrations()): Promise<MigrationResult> {
  const db = sqlIdentifier(database);
  const table = sql`${db}.schema_migrations`;
  await ch.command(sql`CREATE DATABASE IF NOT EXISTS ${db}`, `creating the database ${database}`);
  await ch.command(
    sql`CREATE TABLE IF NOT EXISTS ${table} (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = ReplacingMergeTree ORDER BY version`,
    `creating ${database}.schema_migrations`);
  const done = new Map<number, string>();
  const recorded = await ch.select<{ version: number | string; checksum: string }>(
    sql`SELECT DISTINCT version, checksum FROM ${table}`, `reading ${database}.schema_migrations`);
  for (const row of recorded) done.set(int64(row.version), row.checksum);

  const known = new Set(migrations.map((m) => m.version));
  const unknown = [...done.keys()].filter((v) => !known.has(v));
  if (unknown.length) {
    throw new Error(`the database ${database} has migrations this program does not know (${unknown.join(', ')}): it was migrated by a newer msec; run that version, or use another database`);
  }

  const applied: number[] = [];
  for (const migration of migrations) {
    const checksum = done.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        throw new Error(`migration ${migration.version}_${migration.name} was changed after it was applied to ${database}; restore the file and add a new migration for the change`);
      }
      continue;
    }
    for (const statement of migrationStatements(migration, database)) {
      await ch.command(statement, `applying migration ${migration.version}_${migration.name} to ${database}`);
    }
    await ch.command(
      sql`INSERT INTO ${table} (version, name, checksum, applied_at) SELECT ${migration.version}, ${migration.name}, ${migration.checksum}, now()`,
      `recording migration ${migration.version}_${migration.name}`);
    applied.push(migration.version);
  }
  return { applied, current: Math.max(0, ...migrations.map((m) => m.version)) };
}
