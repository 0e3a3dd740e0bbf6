import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadMigrations, migrationStatements } from '../../../adapters/views/clickhouse-migrate.ts';

describe('ClickHouse migration files', () => {
  it('are numbered, in order, and every statement is idempotent and names its database', () => {
    const migrations = loadMigrations();
    assert.ok(migrations.length >= 1);
    assert.deepEqual(migrations.map((m) => m.version), [...migrations.map((m) => m.version)].sort((a, b) => a - b));
    for (const migration of migrations) {
      for (const statement of migrationStatements(migration, 'msec_x')) {
        assert.match(statement.text, /^(CREATE (TABLE|DATABASE|MATERIALIZED VIEW) IF NOT EXISTS|ALTER TABLE \S+ (ADD|DROP|MODIFY) COLUMN IF (NOT )?EXISTS)/, `not idempotent: ${statement.text.slice(0, 80)}`);
        assert.match(statement.text, /msec_x\./, 'tables are named with their database');
        assert.doesNotMatch(statement.text, /\{database\}/);
      }
    }
  });

  it('use only SQL that ClickHouse 18.16 and 26.x both run', () => {
    for (const migration of loadMigrations()) {
      for (const statement of migrationStatements(migration, 'msec')) {
        assert.doesNotMatch(statement.text, /DateTime64|\bMap\(|LowCardinality|\bTTL\b|\bWITH\b|DELETE FROM|\{\w+:\w+\}|JSONCompactEachRow/i, migration.name);
      }
    }
  });

  it('split at semicolons ending a line, without comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'msec-migrations-'));
    try {
      writeFileSync(join(dir, '002_two.sql'), '-- a comment; with a semicolon\nCREATE TABLE IF NOT EXISTS {database}.a (s String) ENGINE = Log;\n\nCREATE TABLE IF NOT EXISTS {database}.b (s String DEFAULT \'x;y\') ENGINE = Log;');
      writeFileSync(join(dir, '001_one.sql'), 'CREATE TABLE IF NOT EXISTS {database}.c (n UInt8) ENGINE = Log');
      const [one, two] = loadMigrations(dir);
      assert.equal(one!.version, 1);
      assert.deepEqual(migrationStatements(two!, 'db').map((s) => s.text), [
        'CREATE TABLE IF NOT EXISTS db.a (s String) ENGINE = Log',
        "CREATE TABLE IF NOT EXISTS db.b (s String DEFAULT 'x;y') ENGINE = Log",
      ]);
      assert.throws(() => migrationStatements(one!, 'bad-name'), /not a usable ClickHouse name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse a badly named file or two files with one version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'msec-migrations-'));
    try {
      writeFileSync(join(dir, '001_a.sql'), '');
      writeFileSync(join(dir, '001_b.sql'), '');
      assert.throws(() => loadMigrations(dir), /two migrations .* have version 1: renumber one/);
      writeFileSync(join(dir, 'oops.sql'), '');
      assert.throws(() => loadMigrations(dir), /oops\.sql is not named NNN_name\.sql/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
