/** The pure parts of the EventStoreDB adapter: URL, envelope mapping, expected revisions, positions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { START, WrongExpectedVersionError, type AllStreamRecordedEvent, type Position } from '@eventstore/db-client';
import {
  appendError,
  comparePositions,
  esdbEventId,
  esdbPositionAfter,
  fromEsdbEvent,
  globalPosition,
  toEsdbEvent,
  toEsdbExpectedRevision,
} from '../../../adapters/eventstore/esdb-mapping.ts';
import { esdbChannel, EsdbUrlError, parseEsdbUrl, redactEsdbUrl } from '../../../adapters/eventstore/esdb-url.ts';
import { WrongExpectedRevision } from '../../../adapters/eventstore/port.ts';
import type { NewEvent } from '../../../domain/events.ts';
import { decodeEnvelope, encodeEnvelope } from '../../../schemas/codec.ts';
import { registerUpcaster, unregisterUpcasters } from '../../../schemas/upcasters.ts';
import { command, hostAdded, serviceCreated } from '../../contract/support.ts';

describe('MSEC_EVENTSTORE URL', () => {
  test('one node: host and port, TLS on unless tls=false, no credentials', () => {
    const c = parseEsdbUrl('esdb://eventstore:2113?tls=false');
    assert.deepEqual(c.settings, { throwOnAppendFailure: true, endpoint: { address: 'eventstore', port: 2113 } });
    assert.equal(c.tls, false);
    assert.equal(c.credentials, undefined);
    assert.deepEqual(esdbChannel(c, () => assert.fail('nothing to read')), { insecure: true });
    const secure = parseEsdbUrl('esdb://db.example');
    assert.deepEqual(secure.settings, { throwOnAppendFailure: true, endpoint: { address: 'db.example', port: 2113 } });
    assert.equal(secure.tls, true);
  });

  test('several nodes are gossip seeds; esdb+discover is one DNS name; options reach the settings', () => {
    const cluster = parseEsdbUrl('esdb://h1:2113,h2:2114,[::1]:2115/?nodePreference=follower&keep-alive-interval=5000&defaultDeadline=20000');
    assert.deepEqual(cluster.settings, {
      throwOnAppendFailure: true,
      nodePreference: 'follower',
      keepAliveInterval: 5000,
      defaultDeadline: 20000,
      endpoints: [{ address: 'h1', port: 2113 }, { address: 'h2', port: 2114 }, { address: '[::1]', port: 2115 }],
    });
    const dns = parseEsdbUrl('esdb+discover://cluster.internal:2113?tls=true&tlsCAFile=/etc/ca.crt&maxDiscoverAttempts=3');
    assert.deepEqual(dns.settings, { throwOnAppendFailure: true, maxDiscoverAttempts: 3, discover: { address: 'cluster.internal', port: 2113 } });
    const read: string[] = [];
    const channel = esdbChannel(dns, (path) => (read.push(path), Buffer.from('PEM')));
    assert.deepEqual(read, ['/etc/ca.crt']);
    assert.equal(channel.insecure, false);
    assert.deepEqual(channel.rootCertificate, Buffer.from('PEM'));
  });

  test('credentials come from the URL (percent-decoded) or else from the environment', () => {
    assert.deepEqual(parseEsdbUrl('esdb://ops:p%40ss%3Aw0rd@h:2113').credentials, { username: 'ops', password: 'p@ss:w0rd' });
    const env = { MSEC_EVENTSTORE_USERNAME: 'admin', MSEC_EVENTSTORE_PASSWORD: 'changeit' };
    assert.deepEqual(parseEsdbUrl('esdb://h:2113', env).credentials, { username: 'admin', password: 'changeit' });
    assert.deepEqual(parseEsdbUrl('esdb://ops:secret@h:2113', env).credentials, { username: 'ops', password: 'secret' }, 'the URL wins');
    assert.throws(() => parseEsdbUrl('esdb://h:2113', { MSEC_EVENTSTORE_USERNAME: 'admin' }), /both MSEC_EVENTSTORE_USERNAME and MSEC_EVENTSTORE_PASSWORD/);
  });

  test('errors name the problem and never show the password', () => {
    const bad: [string, RegExp][] = [
      ['http://ops:hunter2@h:2113', /not an EventStoreDB URL/],
      ['esdb://ops:hunter2@h:2113?colour=blue', /unknown option "colour"; accepted: tls,/],
      ['esdb://ops:hunter2@h:99999', /port 99999/],
      ['esdb://ops:hunter2@h?tls=maybe', /tls must be true or false/],
      ['esdb://ops:hunter2@h?tlsVerifyCert=false', /tlsCAFile/],
      ['esdb://ops:hunter2@h?defaultDeadline=soon', /whole number/],
      ['esdb://ops:hunter2@h?userCertFile=/a.pem', /go together/],
      ['esdb+discover://ops:hunter2@a:2113,b:2113', /one DNS name/],
      ['esdb://ops:hunter2@', /names no host/],
      ['esdb://ops@h', /user:password@/],
    ];
    for (const [url, message] of bad) {
      assert.throws(() => parseEsdbUrl(url), (err: unknown) => {
        assert.ok(err instanceof EsdbUrlError, `${url}: ${String(err)}`);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    }
    assert.equal(redactEsdbUrl('esdb://ops:hunter2@h:2113?tls=false'), 'esdb://ops:***@h:2113?tls=false');
    assert.equal(redactEsdbUrl('esdb://ops:hun@ter2@h:2113'), 'esdb://ops:***@h:2113');
    assert.equal(redactEsdbUrl('esdb://h:2113?tls=false'), 'esdb://h:2113?tls=false');
  });
});

/** What the server hands back for an appended event: metadata through JSON, data as bytes. */
function storedAndReadBack(event: NewEvent, stream: string, revision: number, position: Position): AllStreamRecordedEvent {
  const sent = toEsdbEvent(event);
  return {
    streamId: stream,
    id: sent.id,
    revision: BigInt(revision),
    type: sent.type,
    created: new Date(),
    isJson: false,
    data: new Uint8Array(sent.data),
    metadata: JSON.parse(JSON.stringify(sent.metadata)),
    position,
  } as AllStreamRecordedEvent;
}

const at = (n: number): Position => ({ commit: BigInt(n), prepare: BigInt(n) });

describe('msec event <-> EventStoreDB event', () => {
  test('an event reads back exactly as the embedded stores decode it', () => {
    const events = command([serviceCreated('Flight.mod_x', 8001), hostAdded('Flight.mod_x', '10.1.2.3', 8001)], {
      actor: 'alice',
      reason: 'new backend',
      causationId: 'cmd-parent',
      at: Date.parse('2026-03-04T05:06:07.089Z'),
    });
    events.forEach((event, i) => {
      const sent = toEsdbEvent(event);
      assert.equal(sent.id, event.id, 'a UUID event id is the ESDB event id');
      assert.equal(sent.type, event.type);
      assert.equal(sent.contentType, 'application/octet-stream');
      assert.deepEqual(sent.metadata, {
        msecEnvelope: 1,
        eventId: event.id,
        occurredAt: '2026-03-04T05:06:07.089Z',
        actor: 'alice',
        reason: 'new backend',
        $correlationId: event.correlationId,
        $causationId: 'cmd-parent',
        schemaVersion: 1,
      });
      const embedded = decodeEnvelope(encodeEnvelope(event, 'service-Flight.mod_x', { revision: i, position: 4242 + i }));
      assert.deepEqual(fromEsdbEvent(storedAndReadBack(event, 'service-Flight.mod_x', i, at(4242 + i))), embedded);
    });
  });

  test('old payloads are upcast on read, as in the embedded stores', () => {
    const [event] = command([hostAdded('Up.s', '10.0.0.1')], { schemaVersion: 1 });
    registerUpcaster('HostAdded', 1, (data) => ({ ...data, weight: 7 }));
    try {
      const read = fromEsdbEvent(storedAndReadBack(event!, 'service-Up.s', 0, at(99)))!;
      assert.equal(read.schemaVersion, 2);
      assert.equal((read.data as { weight: number }).weight, 7);
    } finally {
      unregisterUpcasters('HostAdded');
    }
  });

  test('an id that is not a UUID gets a stable UUID for ESDB and is kept in the metadata', () => {
    const [event] = command([serviceCreated('Id.s')]);
    const odd = { ...event!, id: 'legacy-42' };
    const sent = toEsdbEvent(odd);
    assert.match(sent.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(esdbEventId('legacy-42'), sent.id, 'a retry sends the same id, so ESDB dedupes it');
    assert.notEqual(esdbEventId('legacy-43'), sent.id);
    assert.equal(fromEsdbEvent(storedAndReadBack(odd, 'service-Id.s', 0, at(7)))!.id, 'legacy-42');
  });

  test('a payload that does not match its schema is refused before anything is sent', () => {
    const [event] = command([serviceCreated('Bad.s')]);
    const bad = { ...event!, data: { service: 'Bad.s', kind: 'standard', lang: 'cpp', port: 'eighty' } } as unknown as NewEvent;
    assert.throws(() => toEsdbEvent(bad), /does not match its schema/);
  });

  test('system events and events other applications wrote are not msec events', () => {
    const [event] = command([serviceCreated('Sys.s')]);
    const mine = storedAndReadBack(event!, 'service-Sys.s', 0, at(10));
    assert.equal(fromEsdbEvent({ ...mine, type: '$statsCollected' } as AllStreamRecordedEvent), null);
    assert.equal(fromEsdbEvent({ ...mine, streamId: '$$service-Sys.s' } as AllStreamRecordedEvent), null);
    assert.equal(fromEsdbEvent({ ...mine, metadata: { $correlationId: 'x' } } as AllStreamRecordedEvent), null);
    assert.equal(fromEsdbEvent({ ...mine, metadata: undefined } as AllStreamRecordedEvent), null);
    assert.throws(() => fromEsdbEvent({ ...mine, metadata: { ...(mine.metadata as object), msecEnvelope: 2 } } as AllStreamRecordedEvent), /newer msec/);
  });
});

describe('expected revisions and errors', () => {
  test('any, no_stream and revisions map to the client\'s values; nonsense is refused', () => {
    assert.equal(toEsdbExpectedRevision('any'), 'any');
    assert.equal(toEsdbExpectedRevision('no_stream'), 'no_stream');
    assert.equal(toEsdbExpectedRevision(0), 0n);
    assert.equal(toEsdbExpectedRevision(41), 41n);
    assert.throws(() => toEsdbExpectedRevision(-1), /none of 'any', 'no_stream'/);
    assert.throws(() => toEsdbExpectedRevision(1.5), /none of 'any', 'no_stream'/);
  });

  test('WrongExpectedVersionError becomes WrongExpectedRevision with the caller\'s expectation', () => {
    const stale = appendError(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 2n }), 's', 0);
    assert.ok(stale instanceof WrongExpectedRevision);
    assert.deepEqual([stale.stream, stale.expected, stale.actual], ['s', 0, 2]);
    const missing = appendError(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 4n, current: 'no_stream' }), 's', 4);
    assert.ok(missing instanceof WrongExpectedRevision);
    assert.equal(missing.actual, 'no_stream');
    const minusOne = appendError(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 'no_stream', current: -1n }), 's', 'no_stream');
    assert.ok(minusOne instanceof WrongExpectedRevision);
    assert.equal(minusOne.actual, 'no_stream');
    const other = new Error('unavailable');
    assert.equal(appendError(other, 's', 'any'), other);
  });
});

describe('positions', () => {
  test('the global position is the commit position', () => {
    assert.equal(globalPosition(at(1234), 'e'), 1234);
    assert.equal(globalPosition(at(Number.MAX_SAFE_INTEGER), 'e'), Number.MAX_SAFE_INTEGER);
  });

  test('positions a number cannot hold, missing ones and shared commit positions are refused clearly', () => {
    assert.throws(() => globalPosition({ commit: 2n ** 53n, prepare: 2n ** 53n }, 'event x'), /event x has commit position 9007199254740992, past Number.MAX_SAFE_INTEGER/);
    assert.throws(() => globalPosition(undefined, 'event x'), /22\.10 or later/);
    assert.throws(() => globalPosition({ commit: 500n, prepare: 420n }, 'event x'), /explicit transaction/);
    assert.throws(() => globalPosition(at(0), 'event x'), /start at 1/);
  });

  test('reads start at the start for 0, else at the given position; ordering is by commit then prepare', () => {
    assert.equal(esdbPositionAfter(0), START);
    assert.deepEqual(esdbPositionAfter(77), at(77));
    assert.throws(() => esdbPositionAfter(-1), /whole number/);
    assert.throws(() => esdbPositionAfter(2 ** 53), /whole number/);
    assert.equal(comparePositions(at(5), at(6)), -1);
    assert.equal(comparePositions({ commit: 6n, prepare: 2n }, { commit: 6n, prepare: 1n }), 1);
    assert.equal(comparePositions(at(6), at(6)), 0);
  });
});
