/**
 * Fuzz of the one literal-escaping function (adapters/views/clickhouse-sql.ts) against both
 * real engines: a ClickHouse 18.16 server and embedded chdb (26.x, which runs several
 * statements in one call, so a literal that broke out would run SQL). Every random text must
 * come back exactly from `SELECT <literal>`, find exactly its own rows in `WHERE s = <literal>`,
 * and a canary table must survive every injection attempt. The seed is printed; replay a
 * failure with MSEC_FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { int64, openClickHouse, type ClickHouse, type ClickHouseTarget } from '../../adapters/views/clickhouse-client.ts';
import { SqlFragment, sql, sqlLiteral, type SqlValue } from '../../adapters/views/clickhouse-sql.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { fuzzSeed, injections, randomText, seededRandom } from '../unit/views/random-text.ts';
import { tempDir } from './support.ts';

const seed = fuzzSeed();
const db = 'msec_fuzz';
const canary = `${db}.canary`;

function texts(count: number): string[] {
  const rnd = seededRandom(seed);
  const hostile = injections.map((text) => text.replaceAll('{canary}', canary));
  return [...hostile, ...Array.from({ length: count }, () => randomText(rnd))];
}

/** Runs `SELECT v0 AS c0, v1 AS c1, …` and returns the columns in order. */
async function selectEach(ch: ClickHouse, values: readonly SqlValue[], wrap = (literal: string) => literal): Promise<unknown[]> {
  const columns = values.map((value, i) => `${wrap(sqlLiteral(value))} AS c${i}`).join(', ');
  const [row] = await ch.select<Record<string, unknown>>(new SqlFragment(`SELECT ${columns}`), 'selecting fuzzed literals');
  return values.map((_, i) => row![`c${i}`]);
}

function literalFuzz(engine: string, target: () => ClickHouseTarget, skip: string | false): void {
  describe(`SQL literals on ${engine}`, { skip }, () => {
    let ch: ClickHouse;
    before(async () => {
      ch = await openClickHouse(target());
      await ch.command(sql`DROP DATABASE IF EXISTS ${new SqlFragment(db)}`, 'dropping the fuzz database');
      await ch.command(sql`CREATE DATABASE ${new SqlFragment(db)}`, 'creating the fuzz database');
      await ch.command(new SqlFragment(`CREATE TABLE ${canary} (n UInt8) ENGINE = MergeTree ORDER BY n`), 'creating the canary');
      await ch.insert(canary, [{ n: 1 }], 'filling the canary');
    });
    after(async () => {
      await ch?.close();
    });

    it('returns every string exactly from SELECT <literal>, byte length included', async (t) => {
      t.diagnostic(`seed ${seed} (replay with MSEC_FUZZ_SEED=${seed})`);
      const all = texts(3000);
      for (let i = 0; i < all.length; i += 100) {
        const batch = all.slice(i, i + 100);
        const values = await selectEach(ch, batch);
        const lengths = await selectEach(ch, batch, (literal) => `length(${literal})`);
        batch.forEach((text, j) => {
          assert.equal(values[j], text, `literal of ${JSON.stringify(text)} came back differently (seed ${seed})`);
          assert.equal(int64(lengths[j]), Buffer.byteLength(text), `byte length of ${JSON.stringify(text)} (seed ${seed})`);
        });
      }
    });

    it('finds exactly the rows of a string stored as JSON (the insert path) with WHERE s = <literal>', async () => {
      const all = texts(1500);
      await ch.command(new SqlFragment(`CREATE TABLE ${db}.texts (i UInt32, s String) ENGINE = MergeTree ORDER BY i`), 'creating the texts table');
      await ch.insert(`${db}.texts`, all.map((s, i) => ({ i, s })), 'inserting fuzzed texts');
      const stored = await ch.select<{ s: string }>(new SqlFragment(`SELECT s FROM ${db}.texts ORDER BY i`), 'reading the texts');
      assert.deepEqual(stored.map((r) => r.s), all, `texts inserted as JSON read back differently (seed ${seed})`);

      const expected = new Map<string, number[]>();
      all.forEach((s, i) => expected.set(s, [...(expected.get(s) ?? []), i]));
      const distinct = [...expected.keys()];
      for (let i = 0; i < distinct.length; i += 200) {
        const batch = distinct.slice(i, i + 200);
        const ids = await selectEach(ch, batch,
          (literal) => `(SELECT arraySort(groupArray(i)) FROM ${db}.texts WHERE s = ${literal})`);
        batch.forEach((text, j) => {
          assert.deepEqual((ids[j] as unknown[]).map(int64), expected.get(text), `WHERE s = literal of ${JSON.stringify(text)} (seed ${seed})`);
        });
      }
    });

    it('returns numbers, bigints, booleans, NULL and nested arrays as written', async () => {
      const rnd = seededRandom(seed);
      const numbers = [0, 1, -1, 0.1, -2.5e-300, 1e21, 1.7976931348623157e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
        ...Array.from({ length: 1000 }, () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 600 - 300)),
        ...Array.from({ length: 300 }, () => Math.floor((rnd() - 0.5) * 2 ** 53))];
      for (let i = 0; i < numbers.length; i += 200) {
        const batch = numbers.slice(i, i + 200);
        const back = await selectEach(ch, batch);
        batch.forEach((n, j) => assert.equal(Number(back[j]), n, `number ${n} (seed ${seed})`));
      }
      const bigints = [0n, 18446744073709551615n, -9223372036854775808n, 9223372036854775807n, 2n ** 53n + 1n, -(2n ** 63n) + 1n];
      const bigBack = await selectEach(ch, bigints, (literal) => `toString(${literal})`);
      assert.deepEqual(bigBack, bigints.map(String));
      assert.deepEqual(await selectEach(ch, [true, false, null]), [1, 0, null]);
      const nested = [['a', "b'c"], [], ['\u0000\\', '🚀']];
      assert.deepEqual((await selectEach(ch, [nested]))[0], nested);
    });

    it('ran none of the injection attempts: the canary table is intact', async () => {
      const [row] = await ch.select<{ n: string | number }>(new SqlFragment(`SELECT count() AS n FROM ${canary}`), 'counting the canary');
      assert.equal(int64(row!.n), 1);
    });
  });
}

const why = clickHouseServerUnavailable();
let server: ClickHouseServer | undefined;
before(async () => {
  if (!why) server = await startClickHouse();
});
after(() => server?.stop());
literalFuzz('a ClickHouse 18.16 server', () => ({ url: server!.url }), why ?? false);

const chdbData = tempDir('msec-chdb-fuzz-');
after(() => chdbData.remove());
literalFuzz('embedded chdb (ClickHouse 26.x)', () => ({ chdbPath: chdbData.dir }), false);
