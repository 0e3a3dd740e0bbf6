import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackendUrlError, backendUrls, redactUrl } from '../../../apps/config/backend-urls.ts';

describe('backend URLs (MSEC_EVENTSTORE, MSEC_BUS, MSEC_VIEWS, MSEC_REGISTRY)', () => {
  test('everything is embedded when nothing is given', () => {
    assert.deepEqual(backendUrls({}), { eventstore: 'embedded', bus: 'embedded', views: 'embedded', registry: 'embedded' });
  });

  test('flags win over the environment; multi-host Kafka and ZooKeeper URLs are accepted', () => {
    const urls = backendUrls(
      { MSEC_BUS: 'kafka://env:9092', MSEC_REGISTRY: 'zk://msec:pw@z1:2181,z2:2181/chroot', MSEC_VIEWS: 'sqlite' },
      { bus: 'kafka://k1:9092,k2:9092?acks=all', eventstore: 'esdb://es:2113?tls=false' },
    );
    assert.deepEqual(urls, {
      eventstore: 'esdb://es:2113?tls=false', bus: 'kafka://k1:9092,k2:9092?acks=all', views: 'sqlite', registry: 'zk://msec:pw@z1:2181,z2:2181/chroot',
    });
  });

  test('a wrong scheme, a missing host or a bad host is refused with the accepted forms', () => {
    assert.throws(() => backendUrls({ MSEC_BUS: 'http://k:9092' }), (e: Error) => e instanceof BackendUrlError && /MSEC_BUS.*scheme http.*kafka:\/\/host:9092/.test(e.message));
    assert.throws(() => backendUrls({ MSEC_VIEWS: 'clickhouse' }), /MSEC_VIEWS="clickhouse" is not a URL: use embedded, sqlite or http/);
    assert.throws(() => backendUrls({ MSEC_REGISTRY: 'zk://' }), /names no host/);
    assert.throws(() => backendUrls({ MSEC_BUS: 'kafka://k1:9092,,k2' }), /names no host/);
    assert.throws(() => backendUrls({ MSEC_BUS: 'kafka://k 1:9092' }), /bad host "k 1:9092"/);
  });

  test('passwords never show in messages', () => {
    assert.equal(redactUrl('zk://msec:s3cret@z1:2181/x'), 'zk://msec:***@z1:2181/x');
    assert.equal(redactUrl('http://h:8123/?password=s3cret&x=1'), 'http://h:8123/?password=***&x=1');
    assert.throws(() => backendUrls({ MSEC_REGISTRY: 'http://msec:s3cret@z1:2181' }), (e: Error) => !e.message.includes('s3cret'));
  });
});
