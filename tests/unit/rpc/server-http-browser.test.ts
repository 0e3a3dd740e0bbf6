/**
 * HTTP/JSON against a web page that makes its visitor's browser call the service
 * (security review, finding 5): a `text/plain` POST with a foreign Origin used to run the
 * handler. Cross-site requests and anything but JSON are refused before the handler runs,
 * in MSEC's answer shape; programs (no Origin) and same-origin pages still call it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import type { RpcServer } from '../../../apps/rpc/server/serve.ts';
import { bison, bisonFlights, queryFlightHandler, serveFlight } from './server-harness.ts';

interface Answer {
  status: number;
  body: { ret: number; errmsg: string; result: number; resultObj: unknown };
}

/** A POST with exactly these headers (fetch would add or forbid some). */
function post(port: number, headers: Record<string, string>, body = JSON.stringify(bison), path = '/flight.flight_service.queryFlight'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Answer['body'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP/JSON and browsers', () => {
  let server: RpcServer;
  let runs = 0;
  let port = 0;
  before(async () => {
    server = await serveFlight({
      handlers: { queryFlight: async (req, ctx) => { runs++; return queryFlightHandler(req, ctx); } },
    });
    port = server.address.port;
  });
  after(() => server.close());

  /** Asserts the request was refused with `status` in MSEC's shape and the handler did not run. */
  async function refused(headers: Record<string, string>, status: number, message: RegExp, body?: string) {
    const before = runs;
    const answer = await post(port, headers, body);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.deepEqual(Object.keys(answer.body).sort(), ['errmsg', 'result', 'resultObj', 'ret']);
    assert.equal(answer.body.ret, RpcErrorCode.BAD_REQUEST);
    assert.equal(answer.body.resultObj, null);
    assert.match(answer.body.errmsg, message);
    assert.equal(runs, before, `the handler did not run for ${JSON.stringify(headers)}`);
  }

  test('a cross-site text/plain POST (an HTML form or no-cors fetch) is refused unrun: 403', async () => {
    await refused({ 'content-type': 'text/plain', origin: 'http://evil.example' }, 403, /browser request from http:\/\/evil\.example \(Origin\) is refused/);
    await refused({ 'content-type': 'text/plain;charset=UTF-8', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, 403, /cross-site browser request/);
  });

  test('a foreign Origin or Sec-Fetch-Site is refused even with JSON', async () => {
    const json = { 'content-type': 'application/json' };
    await refused({ ...json, origin: 'http://evil.example' }, 403, /Origin/);
    await refused({ ...json, origin: 'null' }, 403, /Origin/);
    await refused({ ...json, origin: `https://127.0.0.1:${port}` }, 403, /Origin/); // another scheme is another origin
    await refused({ ...json, origin: `http://127.0.0.1:${port + 1}` }, 403, /Origin/);
    await refused({ ...json, 'sec-fetch-site': 'cross-site' }, 403, /Sec-Fetch-Site/);
    await refused({ ...json, 'sec-fetch-site': 'same-site' }, 403, /Sec-Fetch-Site/);
  });

  test('anything but application/json is 415, whatever the origin; so is no Content-Type', async () => {
    await refused({ 'content-type': 'text/plain' }, 415, /Content-Type "text\/plain" is not served; send the request message as JSON with Content-Type: application\/json/);
    await refused({ 'content-type': 'application/x-www-form-urlencoded' }, 415, /Content-Type/);
    await refused({ 'content-type': 'multipart/form-data; boundary=x' }, 415, /Content-Type/);
    await refused({ 'content-type': 'application/jsonp' }, 415, /Content-Type/);
    await refused({}, 415, /Content-Type is missing/);
    await refused({}, 415, /Content-Type is missing/, ''); // an empty body, as a bodiless no-cors POST sends
  });

  test('programs (no Origin), the same origin, and Sec-Fetch-Site same-origin or none are served', async () => {
    const served: Record<string, string>[] = [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json; charset=utf-8' },
      { 'content-type': 'Application/JSON' },
      { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
      { 'content-type': 'application/json', 'sec-fetch-site': 'none' },
    ];
    for (const headers of served) {
      const before = runs;
      const answer = await post(port, headers);
      assert.equal(answer.status, 200, `${JSON.stringify(headers)}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(answer.body, { ret: 0, errmsg: '', result: 0, resultObj: bisonFlights });
      assert.equal(runs, before + 1);
    }
  });
});
