/**
 * Loading a service's IDL at run time and the message conventions handlers and callers
 * share: plain objects, lowerCamelCase names, required fields enforced.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcError, RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import {
  decodeMessage, encodeMessage, findMethod, findService, loadProto, messageFromJson, messageToJson, missingRequired,
} from '../../../apps/rpc/proto.ts';
import { flightProtoPath, flightRoot, queryFlight } from './server-harness.ts';

const proto3 = `syntax = "proto3";
package shop.v1;
message Item { string sku_code = 1; int64 cents = 2; }
message Order { repeated Item items = 1; map<string, Item> by_sku = 2; Kind kind = 3; bytes note = 4; }
enum Kind { KIND_UNSPECIFIED = 0; EXPRESS = 1; }
service Orders { rpc place(Order) returns (Order); rpc cancel(Order) returns (Order); }
service Admin { rpc purge(Item) returns (Item); }`;

const nestedRequired = `package trip;
message Leg { required string origin = 1; optional string note = 2; }
message Trip { required Leg first = 1; repeated Leg more = 2; }
service Trips { rpc plan(Trip) returns (Trip); }`;

const badRequestMatching = (pattern: RegExp) => (e: unknown) => e instanceof RpcError && e.code === RpcErrorCode.BAD_REQUEST && pattern.test(e.message);

describe('loading', () => {
  test('MSEC\'s proto2 flight.proto from a path: the method by its full name', () => {
    const method = findMethod(loadProto(flightProtoPath), 'flight.flight_service.queryFlight');
    assert.equal(method.fullName, 'flight.flight_service.queryFlight');
    assert.equal(method.service, 'flight.flight_service');
    assert.equal(method.requestType.name, 'queryFlightRequest');
    assert.equal(method.responseType.name, 'queryFlightResponse');
  });

  test('proto3 text with several services: each found by full or bare name', () => {
    const root = loadProto(proto3);
    assert.equal(findService(root, 'shop.v1.Orders').name, 'Orders');
    assert.equal(findService(root, 'Admin').name, 'Admin');
    assert.throws(() => findService(root), /defines 2 services \(shop\.v1\.Orders, shop\.v1\.Admin\); say which one/);
    assert.equal(findMethod(root, 'shop.v1.Orders.cancel').name, 'cancel');
    assert.throws(() => findMethod(root, 'shop.v1.Orders.refund'), /shop\.v1\.Orders has no method "refund"; it has place, cancel/);
    assert.throws(() => findMethod(root, 'shop.v1.Basket.add'), /no service "shop\.v1\.Basket"; it has shop\.v1\.Orders, shop\.v1\.Admin/);
  });

  test('broken IDL is refused, saying where', () => {
    assert.throws(() => loadProto('package p;\nmessage A {\n  required string x = 1\n}\n'), /cannot load the \.proto text: .*line 4/);
    assert.throws(() => loadProto('package p; service S { rpc m(Missing) returns (Missing); }'), /no such type/);
    assert.throws(() => loadProto('/nowhere/flight.proto'), /cannot load \/nowhere\/flight\.proto: .*ENOENT/);
    assert.throws(() => loadProto('import "common.proto";\nmessage A { optional string x = 1; }'), /imports common\.proto.*pass the file's path/);
  });
});

describe('messages', () => {
  test('protobuf bytes ↔ plain objects with every field present', () => {
    const bytes = encodeMessage(queryFlight.requestType, { name: 'bison', password: '123456', departureCity: 'SZ', destinationCity: 'SH' });
    assert.deepEqual(decodeMessage(queryFlight.requestType, bytes), { name: 'bison', password: '123456', departureCity: 'SZ', destinationCity: 'SH' });
    const root = loadProto(proto3);
    const order = root.lookupType('shop.v1.Order');
    const decoded = decodeMessage(order, encodeMessage(order, { items: [{ skuCode: 'a', cents: '9007199254740993' }], kind: 'EXPRESS' }));
    assert.deepEqual(decoded, { items: [{ skuCode: 'a', cents: '9007199254740993' }], bySku: {}, kind: 'EXPRESS', note: Buffer.alloc(0) });
  });

  test('a missing required field: BAD_REQUEST on decode, a TypeError on encode, both naming it', () => {
    const partial = loadProto('package t; message R { optional string name = 1; }').lookupType('t.R');
    assert.throws(() => decodeMessage(queryFlight.requestType, encodeMessage(partial, { name: 'bison' })), badRequestMatching(/"password" is missing in flight\.queryFlightRequest/));
    assert.throws(() => encodeMessage(queryFlight.responseType, { errcode: 0 }), /required field "errmsg" of flight\.queryFlightResponse is not set/);
  });

  test('required fields are checked inside nested and repeated messages', () => {
    const trip = loadProto(nestedRequired).lookupType('trip.Trip');
    assert.equal(missingRequired(trip, trip.fromObject({ first: { origin: 'SZ' } }) as never), null);
    assert.equal(missingRequired(trip, trip.fromObject({}) as never), 'first');
    assert.equal(missingRequired(trip, trip.fromObject({ first: {} }) as never), 'first.origin');
    assert.equal(missingRequired(trip, trip.fromObject({ first: { origin: 'SZ' }, more: [{ origin: 'a' }, { note: 'b' }] }) as never), 'more[1].origin');
    assert.throws(() => messageFromJson(trip, { first: { origin: 'SZ' }, more: [{}] }), badRequestMatching(/"more\[0\]\.origin" is missing/));
  });

  test('JSON values must have the JSON type of their field (no silent conversion)', () => {
    const r = loadProto('syntax = "proto3"; package t; enum K { A = 0; B = 1; } message R { int32 n = 1; string s = 2; bool b = 3; repeated int64 ids = 4; K k = 5; double d = 6; bytes raw = 7; }').lookupType('t.R');
    for (const [json, why] of [
      [{ n: 'abc' }, /"n" must be an integer/], [{ n: 1.7 }, /"n" must be an integer/], [{ s: { x: 1 } }, /"s" must be a JSON string/],
      [{ b: 'no' }, /"b" must be a JSON boolean/], [{ ids: [1, 'x'] }, /"ids\[1\]" must be an integer/], [{ ids: 5 }, /"ids\[0\]" must be an integer/],
      [{ k: 'C' }, /"k" must be one of the enum's names/], [{ d: 'fast' }, /"d" must be a JSON number/], [{ raw: 5 }, /"raw" must be a JSON string/],
    ] as const) {
      assert.throws(() => messageFromJson(r, json), badRequestMatching(why), JSON.stringify(json));
    }
    assert.deepEqual(messageFromJson(r, { n: '-5', s: 'x', b: false, ids: ['9007199254740993', 2], k: 'B', d: 'Infinity' }),
      { n: -5, s: 'x', b: false, ids: ['9007199254740993', '2'], k: 'B', d: Infinity, raw: Buffer.alloc(0) });
  });

  test('JSON takes names as written in the .proto or in lowerCamelCase, and refuses unknown ones', () => {
    const order = loadProto(proto3).lookupType('shop.v1.Order');
    const viaProtoNames = messageFromJson(order, { items: [{ sku_code: 'a', cents: 5 }], by_sku: { a: { sku_code: 'a' } } });
    const viaCamel = messageFromJson(order, { items: [{ skuCode: 'a', cents: '5' }], bySku: { a: { skuCode: 'a' } } });
    assert.deepEqual(viaProtoNames, viaCamel);
    assert.throws(() => messageFromJson(order, { items: [{ sku: 'a' }] }), badRequestMatching(/unknown field "items\[0\]\.sku" in shop\.v1\.Item/));
    assert.throws(() => messageFromJson(order, [1, 2]), badRequestMatching(/must be a JSON object/));
    assert.throws(() => messageFromJson(flightRoot.lookupType('flight.queryFlightRequest'), { name: 'x' }), badRequestMatching(/"password" is missing/));
  });

  test('JSON out: protobuf\'s mapping (64-bit as strings, bytes as base64, enums by name)', () => {
    const order = loadProto(proto3).lookupType('shop.v1.Order');
    assert.deepEqual(messageToJson(order, { items: [{ skuCode: 'a', cents: 5 }], kind: 1, note: Buffer.from('hi') }),
      { items: [{ skuCode: 'a', cents: '5' }], bySku: {}, kind: 'EXPRESS', note: 'aGk=' });
  });
});
