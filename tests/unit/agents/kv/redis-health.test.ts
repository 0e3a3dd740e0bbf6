/**
 * Reading redis's answer to the agent's health probe (apps/agent/kv/redis-health.ts): given
 * the bytes of PING + INFO server as they come, then +PONG and -LOADING count as up (with the
 * pid INFO names), anything else as not redis, and a partial answer waits for more.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readAnswer } from '../../../../apps/agent/kv/redis-health.ts';

const info = (body: string) => `$${Buffer.byteLength(body)}\r\n${body}\r\n`;
const server = '# Server\r\nredis_version:7.0.15\r\nprocess_id:4242\r\ntcp_port:7001\r\n';

describe('the health probe\'s answer', () => {
  test('given +PONG and INFO, then it is up, and the pid is INFO\'s', () => {
    assert.deepEqual(readAnswer(Buffer.from(`+PONG\r\n${info(server)}`)), { ok: true, loading: false, processId: 4242 });
  });

  test('given -LOADING (an AOF being read), then it is up, loading', () => {
    assert.deepEqual(readAnswer(Buffer.from(`-LOADING Redis is loading the dataset in memory\r\n${info(server)}`)), { ok: true, loading: true, processId: 4242 });
  });

  test('given INFO refused, then PING alone says it is up (no pid to compare)', () => {
    assert.deepEqual(readAnswer(Buffer.from('+PONG\r\n-ERR unknown command\r\n')), { ok: true, loading: false, processId: undefined });
  });

  test('given another answer to PING, then it is not up, saying what came', () => {
    assert.deepEqual(readAnswer(Buffer.from('-NOAUTH Authentication required.\r\n')), { ok: false, why: 'PING was answered "-NOAUTH Authentication required."' });
    assert.deepEqual(readAnswer(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), { ok: false, why: 'PING was answered "HTTP/1.1 400 Bad Request"' });
  });

  test('given part of the answer, then it waits for the rest', () => {
    const whole = `+PONG\r\n${info(server)}`;
    for (const cut of [0, 3, 7, 12, whole.length - 10]) assert.equal(readAnswer(Buffer.from(whole.slice(0, cut))), undefined, `cut at ${cut}`);
  });
});
