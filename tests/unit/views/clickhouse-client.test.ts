import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clickHouseErrorCode, ClickHouseQueryFailed, ClickHouseUnavailable, describeFailure, int64 } from '../../../adapters/views/clickhouse-client.ts';

describe('ClickHouse answers across versions', () => {
  it('reads 64-bit integers sent as strings (18.16) or numbers (26.x)', () => {
    assert.equal(int64('42'), 42);
    assert.equal(int64(42), 42);
    assert.equal(int64('0'), 0);
  });

  it('refuses what is not a safe integer instead of rounding it', () => {
    assert.throws(() => int64('18446744073709551615'), /expected an integer/);
    assert.throws(() => int64('4.5'), RangeError);
    assert.throws(() => int64(null), RangeError);
    assert.throws(() => int64(''), RangeError);
  });

  it('finds the error number in the code field (26.x) or in the message (18.16)', () => {
    assert.equal(clickHouseErrorCode(Object.assign(new Error('x'), { code: '60' })), 60);
    assert.equal(clickHouseErrorCode(new Error('Code: 81, e.displayText() = DB::Exception: Database msec doesn\'t exist')), 81);
    assert.equal(clickHouseErrorCode(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), undefined);
    assert.equal(clickHouseErrorCode('nope'), undefined);
  });
});

describe('ClickHouse failures', () => {
  const where = 'ClickHouse at http://127.0.0.1:8123';

  it('call an unreachable server unavailable and retriable, saying what to do', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    const error = describeFailure(refused, where, 'storing rows of audit_v1');
    assert.ok(error instanceof ClickHouseUnavailable);
    assert.equal(error.retriable, true);
    assert.match(error.message, /^ClickHouse at http:\/\/127\.0\.0\.1:8123 is not answering \(ECONNREFUSED\) while storing rows of audit_v1: start the server/);
    assert.ok(describeFailure(new Error('socket hang up'), where, 'x') instanceof ClickHouseUnavailable);
  });

  it('keep the server\'s error number and first line, with a hint for a missing schema', () => {
    const error = describeFailure(new Error('Code: 60, e.displayText() = DB::Exception: Table msec.view_rows doesn\'t exist\nstack'), where, 'querying rows of audit_v1');
    assert.ok(error instanceof ClickHouseQueryFailed);
    assert.equal(error.code, 60);
    assert.equal(error.retriable, false);
    assert.match(error.message, /refused querying rows of audit_v1: Code: 60, .*doesn't exist \(the views schema is missing/);
    assert.doesNotMatch(error.message, /stack/);
  });

  it('mark transient server errors (too many parts, memory limit) retriable', () => {
    assert.equal((describeFailure(new Error('Code: 252, Too many parts'), where, 'x') as ClickHouseQueryFailed).retriable, true);
    assert.equal((describeFailure(new Error('Code: 241, Memory limit exceeded'), where, 'x') as ClickHouseQueryFailed).retriable, true);
  });
});
