/** Stubs, calls by full method name, parallel calls, protocol choice, close. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createClient } from '../../../apps/rpc/client/client.ts';
import { parallel } from '../../../apps/rpc/client/parallel.ts';
import { chooseProtocol, maxUdpBodyBytes } from '../../../apps/rpc/client/policy.ts';
import { parseTarget } from '../../../apps/rpc/client/targets.ts';
import { loadProto } from '../../../apps/rpc/proto.ts';
import { addr, decodeRequest, FakeTransport, flightProto, flightRequest, queryFlight, RpcError, RpcErrorCode, table, testClient } from './client-support.ts';

test('a stub has one async method per RPC, calling the full method name', async () => {
  const t = testClient([table({ a: 1 })]);
  const stub = t.client.stub<{ queryFlight(r: object): Promise<{ flightsInfo: string }> }>('Flight.mod_flight', flightProto, 'flight_service');
  const answer = await stub.queryFlight(flightRequest);
  assert.equal(answer.flightsInfo, addr('a'));
  const frame = t.transport.sent[0]!.frame;
  assert.equal(frame.method, queryFlight);
  assert.deepEqual(decodeRequest(frame), flightRequest);
});

test('a stub takes the .proto as text or as a Root, and the service by full name or none when there is one', async () => {
  const t = testClient([table({ a: 1 })]);
  const fromText = t.client.stub('Flight.mod_flight', readFileSync(flightProto, 'utf8'));
  const fromRoot = t.client.stub('Flight.mod_flight', loadProto(flightProto), 'flight.flight_service');
  assert.deepEqual(Object.keys(fromText), ['queryFlight']);
  assert.equal((await fromRoot.queryFlight!(flightRequest)).flightsInfo, addr('a'));
  assert.throws(() => t.client.stub('Flight.mod_flight', flightProto, 'nope'), /no service "nope"/);
  assert.throws(() => t.client.stub('not a target', flightProto), /not a call target/);
});

test('a stub\'s methods named like Object\'s own (ToString → toString, constructor) call their RPC', async () => {
  const t = testClient([table({ a: 1 })]);
  const proto = 'syntax = "proto3"; package p; message M {} service S { rpc ToString(M) returns (M); rpc constructor(M) returns (M); rpc ValueOf(M) returns (M); }';
  const stub = t.client.stub<Record<string, (r: object) => Promise<object>>>('10.0.0.1:7963', proto);
  assert.deepEqual(Object.keys(stub).sort(), ['ToString', 'ValueOf', 'constructor', 'toString', 'valueOf']);
  for (const name of ['toString', 'constructor', 'valueOf']) {
    assert.ok(Object.hasOwn(stub, name), `${name} is the stub's own method`);
    await stub[name]!({});
  }
  assert.deepEqual(t.transport.sent.map((s) => s.frame.method), ['p.S.ToString', 'p.S.constructor', 'p.S.ValueOf']);
});

test('call() needs the method\'s .proto loaded; a request missing a required field is refused before sending', async () => {
  const bare = createClient({ transport: new FakeTransport(), name: 'x' });
  await assert.rejects(bare.call('10.0.0.1:7963', queryFlight, flightRequest), (e: RpcError) => e.code === RpcErrorCode.METHOD_NOT_FOUND && /load its \.proto/.test(e.message));
  const t = testClient([table({ a: 1 })]);
  await assert.rejects(t.client.call('Flight.mod_flight', queryFlight, { name: 'n' }), (e: RpcError) => e.code === RpcErrorCode.BAD_REQUEST && /password/.test(e.message));
  assert.equal(t.transport.sent.length, 0);
});

test('a framework error in the answer becomes an RpcError with its code and message', async () => {
  const t = testClient([table({ a: 1 })]);
  t.transport.behaviour.set(addr('a'), { err: RpcErrorCode.HANDLER_ERROR });
  await assert.rejects(t.call(), (e: RpcError) => e instanceof RpcError && e.code === 1005 && e.message === 'fake error 1005' && e.details.target === 'Flight.mod_flight');
});

test('parallel: every result comes back in order, failures included', async () => {
  const t = testClient([table({ a: 1 })]);
  t.transport.behaviour.set('10.9.9.9:1', { throws: RpcErrorCode.CONNECT_FAILED });
  const [one, two, three, four] = await t.client.parallel([
    t.call(),
    () => t.call({}, '10.9.9.9:1'),
    () => Promise.resolve(42),
    () => {
      throw new Error('sync');
    },
  ] as const);
  assert.equal(one.ok && one.value.flightsInfo, addr('a'));
  assert.equal(!two.ok && (two.error as RpcError).code, RpcErrorCode.CONNECT_FAILED);
  assert.deepEqual(three, { ok: true, value: 42 });
  assert.equal(!four.ok && four.error.message, 'sync');
  assert.deepEqual(await parallel([]), []);
  const [odd] = await parallel([Promise.reject('text')]);
  assert.equal(!odd.ok && odd.error.message, 'text');
});

test('protocol: `both` → TCP unless UDP is asked for; UDP-only → UDP; big requests and TCP-only → TCP', () => {
  assert.equal(chooseProtocol('both'), 'tcp');
  assert.equal(chooseProtocol('both', 'auto'), 'tcp');
  assert.equal(chooseProtocol('both', 'udp'), 'udp');
  assert.equal(chooseProtocol('udp'), 'udp');
  assert.equal(chooseProtocol('udp', 'tcp'), 'tcp');
  assert.equal(chooseProtocol('tcp', 'udp'), 'tcp');
  assert.equal(chooseProtocol('udp', 'auto', maxUdpBodyBytes), 'udp');
  assert.equal(chooseProtocol('udp', 'auto', maxUdpBodyBytes + 1), 'tcp');
  assert.equal(chooseProtocol('both', 'udp', 70_000), 'tcp');
});

test('the route\'s protocol and the address suffix reach the transport', async () => {
  const t = testClient([{ ...table({ a: 1 }), instances: [{ ip: '10.0.0.1', port: 7963, protocol: 'udp', weight: 1 }] }]);
  await t.call();
  await t.call({}, '10.0.0.5:80@udp');
  await t.call({}, '10.0.0.5:80@tcp');
  await t.call({ protocol: 'udp' }, '10.0.0.5:80');
  await t.call({}, '10.0.0.5:80');
  assert.deepEqual(t.transport.sent.map((s) => s.protocol), ['udp', 'udp', 'tcp', 'udp', 'tcp']);
});

test('targets: service names and ip:port[@tcp|@udp], IPv6 in brackets', () => {
  assert.deepEqual(parseTarget('Flight.mod_flight'), { kind: 'service', service: 'Flight.mod_flight' });
  assert.deepEqual(parseTarget('10.0.0.1:7963@udp'), { kind: 'address', endpoint: { ip: '10.0.0.1', port: 7963 }, key: '10.0.0.1:7963', protocol: 'udp' });
  assert.deepEqual(parseTarget('[::1]:7963'), { kind: 'address', endpoint: { ip: '::1', port: 7963 }, key: '::1:7963', protocol: 'both' });
  for (const bad of ['Flight', '10.0.0.1:0', '10.0.0.1:70000', 'a.b:1@sctp', '']) assert.throws(() => parseTarget(bad), /not a call target/, bad);
});

test('close() closes what the client made, not what it was given', async () => {
  const t = testClient([table({ a: 1 })]);
  await t.call();
  await t.client.close();
  assert.equal(t.transport.closed, false);
  await assert.rejects(t.call(), /closed/);
});
