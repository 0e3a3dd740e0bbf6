import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseIdl, serviceDecider } from '../../../domain/services/index.ts';
import { spec } from '../support/given-when-then.ts';
import { SERVICE, idlAdded, idlDeleted, serviceCreated } from './fixtures/service-events.ts';

/** MSEC's example IDL, verbatim: proto2 without a `syntax` line, with `};` after messages. */
const flightProto = readFileSync(new URL('../../fixtures/flight.proto', import.meta.url), 'utf8');

const service = spec(serviceDecider);
const OTHER = 'Flight.mod_price';
const addIdl = (tag: string, text = flightProto, memo = '', onService = SERVICE) =>
  ({ type: 'AddIdlVersion' as const, service: onService, tag, text, memo });

describe('IDL parsing', () => {
  test('MSEC\'s flight.proto parses with its package, messages and service', () => {
    assert.deepEqual(parseIdl(flightProto), {
      package: 'flight',
      messages: ['flight.queryFlightRequest', 'flight.queryFlightResponse'],
      enums: [],
      services: ['flight.flight_service'],
    });
  });

  test('a proto3 file parses', () => {
    assert.deepEqual(parseIdl('syntax = "proto3";\nmessage Ping { string id = 1; }\n').messages, ['Ping']);
  });
});

describe('IDL versions: add', () => {
  test('MSEC\'s flight.proto is accepted', () => {
    service.given([serviceCreated()]).when(addIdl('v1', flightProto, 'flight query'))
      .then([idlAdded('v1', flightProto, 'flight query')]);
  });

  test('a proto with messages only is accepted', () => {
    const text = 'package common;\nmessage Money { required int64 cents = 1; }\n';
    service.given([serviceCreated()]).when(addIdl('v1', text)).then([idlAdded('v1', text)]);
  });

  test('a syntax error is refused with protobufjs\' line number', () => {
    const text = 'package p;\nmessage A {\n  required string x = 1\n}\n';
    service.given([serviceCreated()]).when(addIdl('v1', text))
      .thenFails('invalid', /IDL is not a valid \.proto: illegal token '}', ';' expected \(line 4\); fix the \.proto/);
  });

  test('a misspelt type name is refused, naming the type', () => {
    const text = flightProto.replace('returns (queryFlightResponse)', 'returns (queryFlightRespons)');
    service.given([serviceCreated()]).when(addIdl('v1', text)).thenFails('invalid', /no such type: queryFlightRespons; define that type/);
  });

  test('a proto that defines nothing is refused', () => {
    service.given([serviceCreated()]).when(addIdl('v1', 'package empty;\n')).thenFails('invalid', /defines no message, enum or service/);
  });

  test('a tag already used on this service is a conflict', () => {
    service.given([serviceCreated(), idlAdded('v1', flightProto)]).when(addIdl('v1'))
      .thenFails('conflict', /already has IDL version v1/);
  });

  test('the same tag on another service is fine', () => {
    // Each service is its own stream: v1 saved on Flight.mod_flight is not in Flight.mod_price's history.
    const streams = { [SERVICE]: [serviceCreated(), idlAdded('v1', flightProto)], [OTHER]: [serviceCreated(OTHER)] };
    service.given(streams[OTHER]).when(addIdl('v1', flightProto, '', OTHER)).then([idlAdded('v1', flightProto, '', OTHER)]);
  });

  test('a config tag does not block the same IDL tag', () => {
    service.given([serviceCreated(), { type: 'ConfigVersionAdded', data: { service: SERVICE, tag: 'v1', text: '', memo: '' } }])
      .when(addIdl('v1')).then([idlAdded('v1', flightProto)]);
  });

  test('an invalid tag is refused', () => {
    service.given([serviceCreated()]).when(addIdl('../v1')).thenFails('invalid', /tag "\.\.\/v1" is not valid/);
  });

  test('a memo of 141 characters is refused', () => {
    service.given([serviceCreated()]).when(addIdl('v1', flightProto, 'm'.repeat(141))).thenFails('invalid', /at most 140/);
  });

  test('a text above 1 MiB is refused', () => {
    const text = `${flightProto}//${'x'.repeat(1024 * 1024)}\n`;
    service.given([serviceCreated()]).when(addIdl('v1', text)).thenFails('invalid', /IDL is .* bytes; the limit is 1048576 bytes/);
  });
});

describe('IDL versions: delete', () => {
  test('a saved tag is deleted', () => {
    service.given([serviceCreated(), idlAdded('v1', flightProto)]).when({ type: 'DeleteIdlVersion', service: SERVICE, tag: 'v1' })
      .then([idlDeleted('v1')]);
  });

  test('an unknown tag is not found', () => {
    service.given([serviceCreated()]).when({ type: 'DeleteIdlVersion', service: SERVICE, tag: 'v1' })
      .thenFails('not_found', /has no IDL version v1/);
  });
});

describe('IDL size caps (a hostile IDL must not freeze the console while it is checked)', () => {
  const big = (n: number) => `syntax = "proto3";\nmessage Big {\n${Array.from({ length: n }, (_, i) => `  int32 f${i} = ${i + 1};`).join('\n')}\n}\n`;

  test('a message of 20 000 fields (400 KB, under the body limit) is refused at once, before protobufjs sees it', () => {
    const started = performance.now();
    assert.throws(() => parseIdl(big(20_000)), /message Big has more than 1000 fields; split it into smaller messages/);
    const ms = performance.now() - started;
    console.log(`refused a 20 000-field message in ${ms.toFixed(1)} ms`);
  });

  test('fields in a oneof count for their message; comments and strings cannot hide braces', () => {
    const oneof = `message M {\n oneof o {\n${Array.from({ length: 1001 }, (_, i) => `  int32 f${i} = ${i + 1};`).join('\n')}\n }\n}\n`;
    assert.throws(() => parseIdl(oneof), /message M has more than 1000/);
    const hidden = `message M { // }\n /* } */ option (x) = "}"; ${Array.from({ length: 1001 }, (_, i) => `int32 f${i} = ${i + 1};`).join(' ')} }`;
    assert.throws(() => parseIdl(hidden), /message M has more than 1000/);
  });

  test('too many definitions are refused; a real IDL at the caps still parses', () => {
    const many = Array.from({ length: 2001 }, (_, m) => `message M${m} { optional int32 a = 1; }`).join('\n');
    assert.throws(() => parseIdl(many), /more than 2000 messages, enums and services/);
    assert.equal(parseIdl(big(1000)).messages.length, 1);
  });
});
