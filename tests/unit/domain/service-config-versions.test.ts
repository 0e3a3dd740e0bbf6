import { describe, test } from 'node:test';
import { serviceDecider } from '../../../domain/services/index.ts';
import { spec } from '../support/given-when-then.ts';
import { SERVICE, configAdded, configDeleted, serviceCreated } from './fixtures/service-events.ts';

const service = spec(serviceDecider);
const OTHER = 'Flight.mod_price';
const config = '[LOG]\nLevel=INFO\n';
const addConfig = (tag: string, text = config, memo = '', onService = SERVICE) =>
  ({ type: 'AddConfigVersion' as const, service: onService, tag, text, memo });

describe('config versions: add', () => {
  test('a valid INI text is saved under its tag with its memo', () => {
    service.given([serviceCreated()]).when(addConfig('v1', config, 'first release'))
      .then([configAdded('v1', config, 'first release')]);
  });

  test('a tag already used on this service is a conflict', () => {
    service.given([serviceCreated(), configAdded('v1')]).when(addConfig('v1'))
      .thenFails('conflict', /already has config version v1; versions never change, so save under a new tag/);
  });

  test('the same tag on another service is fine', () => {
    // Each service is its own stream: v1 saved on Flight.mod_flight is not in Flight.mod_price's history.
    const streams = { [SERVICE]: [serviceCreated(), configAdded('v1')], [OTHER]: [serviceCreated(OTHER)] };
    service.given(streams[OTHER]).when(addConfig('v1', config, '', OTHER)).then([configAdded('v1', config, '', OTHER)]);
  });

  test('an odd (non-standard) service has no config versions, as in MSEC', () => {
    const oddCreated = { type: 'ServiceCreated' as const, data: { service: 'Legacy.db', kind: 'odd' as const, lang: '', port: 0 } };
    service.given([oddCreated]).when(addConfig('v1', config, '', 'Legacy.db'))
      .thenFails('invalid', /odd \(non-standard\) service: it has hosts and routing only, no config versions/);
    service.given([oddCreated]).when({ type: 'AddIdlVersion', service: 'Legacy.db', tag: 'v1', text: 'message A {}', memo: '' })
      .thenFails('invalid', /no IDL versions/);
  });

  test('a deleted tag can be used again', () => {
    service.given([serviceCreated(), configAdded('v1'), configDeleted('v1')]).when(addConfig('v1')).then([configAdded('v1')]);
  });

  test('an invalid tag is refused with the tag rule', () => {
    service.given([serviceCreated()]).when(addConfig('v 1')).thenFails('invalid', /tag "v 1" is not valid; use 1-64 letters/);
  });

  test('a text that is not INI is refused with the line number', () => {
    service.given([serviceCreated()]).when(addConfig('v1', '[LOG]\nLevel=INFO\noops\n'))
      .thenFails('invalid', /config is not valid INI: line 3: "oops"/);
  });

  test('an empty config is accepted', () => {
    service.given([serviceCreated()]).when(addConfig('v1', '')).then([configAdded('v1', '')]);
  });

  test('a text of exactly 1 MiB is accepted', () => {
    const text = `[A]\nk=${'x'.repeat(1024 * 1024 - 7)}\n`;
    service.given([serviceCreated()]).when(addConfig('v1', text)).then([configAdded('v1', text)]);
  });

  test('a text above 1 MiB is refused', () => {
    const text = `[A]\nk=${'x'.repeat(1024 * 1024)}\n`;
    service.given([serviceCreated()]).when(addConfig('v1', text)).thenFails('invalid', /the limit is 1048576 bytes \(1 MiB\)/);
  });

  test('a memo of 140 characters is accepted', () => {
    const memo = '备'.repeat(140); // characters, not bytes: MSEC's varchar(140) in utf8
    service.given([serviceCreated()]).when(addConfig('v1', config, memo)).then([configAdded('v1', config, memo)]);
  });

  test('a memo of 141 characters is refused', () => {
    service.given([serviceCreated()]).when(addConfig('v1', config, 'm'.repeat(141)))
      .thenFails('invalid', /memo is 141 characters long; shorten it to at most 140/);
  });
});

describe('config versions: delete', () => {
  test('a saved tag is deleted', () => {
    service.given([serviceCreated(), configAdded('v1')]).when({ type: 'DeleteConfigVersion', service: SERVICE, tag: 'v1' })
      .then([configDeleted('v1')]);
  });

  test('an unknown tag is not found', () => {
    service.given([serviceCreated()]).when({ type: 'DeleteConfigVersion', service: SERVICE, tag: 'v9' })
      .thenFails('not_found', /has no config version v9/);
  });

  test('a deleted tag is not found', () => {
    service.given([serviceCreated(), configAdded('v1'), configDeleted('v1')])
      .when({ type: 'DeleteConfigVersion', service: SERVICE, tag: 'v1' })
      .thenFails('not_found', /has no config version v1/);
  });

  test('an IDL tag is not a config tag', () => {
    service.given([serviceCreated(), { type: 'IdlVersionAdded', data: { service: SERVICE, tag: 'v1', text: 'message A {}', memo: '' } }])
      .when({ type: 'DeleteConfigVersion', service: SERVICE, tag: 'v1' })
      .thenFails('not_found', /has no config version v1/);
  });
});
