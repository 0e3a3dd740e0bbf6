/**
 * What a log query accepts, as an attacker would type it: quotes, SQL fragments, huge ranges,
 * bad levels, control characters. Every refusal is a DomainError('invalid') (HTTP 400, CLI
 * exit 1) saying what to write instead; what passes is a typed filter, never SQL text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLogQuery, parseInstant } from '../../../domain/logs/query.ts';
import { assertRefused } from '../support/given-when-then.ts';

const now = Date.parse('2024-05-01T12:00:00Z');
const declared = new Map([['orderId', 'int' as const], ['user', 'string' as const]]);
const q = (input: Parameters<typeof parseLogQuery>[0]) => parseLogQuery(input, now, declared);
const refused = (input: Parameters<typeof parseLogQuery>[0], message: RegExp) => assertRefused(() => q(input), 'invalid', message);

describe('log query input', () => {
  test('defaults: every level, the last hour (the whole retention with a request id), 100 rows', () => {
    const a = q({ service: 'Shop.front' });
    assert.deepEqual({ min: a.minLevel, since: a.sinceMs, until: a.untilMs, limit: a.limit }, { min: 1, since: now + 300_000 - 3_600_000, until: now + 300_000, limit: 100 });
    const b = q({ requestId: '00042' });
    assert.equal(b.requestId, '42');
    assert.equal(b.untilMs - b.sinceMs, 14 * 86_400_000);
  });

  test('filters come out typed: level at or above, relative times, headers and int fields canonical', () => {
    const a = q({ service: 'Shop.front', level: 'error', since: '15m', until: 'now', ip: '::1', fields: ['orderId=0042', 'user=bob=1', 'caller=Shop.gate'], grep: "it's", limit: '1000' });
    assert.equal(a.minLevel, 4);
    assert.equal(a.sinceMs, now - 900_000);
    assert.deepEqual(a.fields, [{ name: 'orderId', value: '42' }, { name: 'user', value: 'bob=1' }]);
    assert.deepEqual(a.headers, [{ header: 'Caller', value: 'Shop.gate' }]);
    assert.equal(a.grep, "it's", 'quotes are values: they are bound as literals later');
  });

  test('neither service nor request id', () => refused({}, /name a service .* or a request id/));

  test('SQL fragments and quotes where names and numbers go are refused', () => {
    refused({ service: "Shop.front' OR 1=1 --" }, /must start with a letter/);
    refused({ service: 'Shop.front', level: "INFO' OR '1'='1" }, /not a log level/);
    refused({ requestId: '1 OR 1=1' }, /not a request id/);
    refused({ requestId: '18446744073709551616' }, /not a request id/);
    refused({ requestId: '0' }, /not a request id/);
    refused({ service: 'Shop.front', ip: "127.0.0.1' --" }, /not an IPv4 or IPv6/);
    refused({ service: 'Shop.front', fields: ["orderId) OR 1=1 --=1"] }, /not valid/);
    refused({ service: 'Shop.front', fields: ['orderId=1 OR 1=1'] }, /int field: "1 OR 1=1" is not a whole number/);
    refused({ service: 'Shop.front', limit: '10; DROP TABLE logs' }, /limit .* is not a whole number from 1 to 1000/);
    refused({ service: 'Shop.front', since: "2024-05-01'; DROP TABLE msec.logs; --" }, /not a time/);
  });

  test('bad levels, WARN included, are refused with the list', () => {
    refused({ service: 'Shop.front', level: 'WARN' }, /TRACE, DEBUG, INFO, ERROR, FATAL/);
    refused({ service: 'Shop.front', level: '3' }, /not a log level/);
  });

  test('huge and backwards ranges, far dates and huge limits are refused', () => {
    refused({ service: 'Shop.front', since: '2023-01-01T00:00:00Z' }, /spans \d+ days; at most 14/);
    refused({ service: 'Shop.front', since: '30d' }, /at most 14/);
    refused({ service: 'Shop.front', since: 'now', until: '1h' }, /must be before until/);
    refused({ service: 'Shop.front', since: '1999-12-31T00:00:00Z', until: '2000-01-02T00:00:00Z' }, /outside the years/);
    refused({ service: 'Shop.front', until: '9999-12-31T00:00:00Z' }, /outside the years/);
    refused({ service: 'Shop.front', limit: 1001 }, /from 1 to 1000/);
    refused({ service: 'Shop.front', limit: 0 }, /from 1 to 1000/);
    refused({ service: 'Shop.front', since: '999999d' }, /./);
  });

  test('fields: unknown, too many, control characters, too long', () => {
    refused({ service: 'Shop.front', fields: ['nope=1'] }, /nope is not a custom field of Shop.front: its fields are orderId, user/);
    refused({ service: 'Shop.front', fields: ['user'] }, /not NAME=VALUE/);
    refused({ service: 'Shop.front', fields: Array.from({ length: 9 }, () => 'user=x') }, /at most 8/);
    refused({ service: 'Shop.front', fields: ['user=a\u0000b'] }, /control characters/);
    refused({ service: 'Shop.front', fields: [`user=${'x'.repeat(1025)}`] }, /at most 1024/);
    refused({ service: 'Shop.front', fields: ['user=\ud800'] }, /well-formed/);
  });

  test('grep: long, control characters, broken Unicode', () => {
    refused({ service: 'Shop.front', grep: 'x'.repeat(201) }, /longer than 200/);
    refused({ service: 'Shop.front', grep: 'a\nb' }, /control characters/);
    refused({ service: 'Shop.front', grep: '\udc00' }, /well-formed/);
  });

  test('instants: ISO with or without zone (UTC), now, a time ago; nothing else', () => {
    assert.equal(parseInstant('2024-05-01T10:00:00Z', now, 'since'), Date.parse('2024-05-01T10:00:00Z'));
    assert.equal(parseInstant('2024-05-01 10:00', now, 'since'), Date.parse('2024-05-01T10:00:00Z'));
    assert.equal(parseInstant('2024-05-01T12:00:00+02:00', now, 'since'), Date.parse('2024-05-01T10:00:00Z'));
    assert.equal(parseInstant('2h', now, 'since'), now - 7_200_000);
    for (const bad of ['yesterday', '1 h', '-1h', '2024-13-45', '1e9', '']) assertRefused(() => parseInstant(bad, now, 'since'), 'invalid', /not a time|needs a time/);
  });
});
