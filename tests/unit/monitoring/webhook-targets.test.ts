/** Which addresses alarm webhooks may reach (apps/monitor/webhook-targets.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { embeddedV4, WebhookTargets } from '../../../apps/monitor/webhook-targets.ts';

describe('WebhookTargets', () => {
  const none = WebhookTargets.allowing('');

  test('public addresses are called; private, loopback, link-local, metadata and special ones are refused, in every spelling', () => {
    for (const ok of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(none.refusal(ok), undefined, ok);
    for (const bad of [
      '127.0.0.1', '127.9.9.9', '10.0.0.5', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
      '::1', '::', 'fd00::1', 'fe80::1', 'ff02::1', '[::1]',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::127.0.0.1', '64:ff9b::a00:5', '64:ff9b::10.0.0.5', '2002:a00:5::1', '2002:7f00:1::',
    ]) assert.match(none.refusal(bad) ?? '', /private address.*MSEC_WEBHOOK_ALLOW/, bad);
  });

  test('an admin allows the receivers\' networks: addresses and CIDR blocks, IPv4 and IPv6, also in their IPv6 spellings', () => {
    const some = WebhookTargets.allowing('10.20.0.0/16, 192.168.7.5 ,fd12::/16');
    assert.equal(some.refusal('10.20.3.4'), undefined);
    assert.equal(some.refusal('::ffff:10.20.3.4'), undefined);
    assert.equal(some.refusal('192.168.7.5'), undefined);
    assert.equal(some.refusal('fd12::9'), undefined);
    assert.match(some.refusal('10.21.0.1')!, /now "10\.20\.0\.0\/16,192\.168\.7\.5,fd12::\/16"/);
    assert.match(some.refusal('192.168.7.6')!, /private/);
    assert.match(some.refusal('169.254.169.254')!, /private/);
  });

  test('a malformed allow list is refused at start, saying what to write', () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '10.0.0.0/x', 'fd00::/129']) {
      assert.throws(() => WebhookTargets.allowing(bad), /MSEC_WEBHOOK_ALLOW: .* is not an address or CIDR block; write e\.g\./, bad);
    }
    assert.throws(() => WebhookTargets.fromEnv({ MSEC_WEBHOOK_ALLOW: 'nope' }), /MSEC_WEBHOOK_ALLOW/);
  });

  test('the IPv4 address an IPv6 one carries', () => {
    assert.equal(embeddedV4('::ffff:a9fe:a9fe'), '169.254.169.254');
    assert.equal(embeddedV4('64:ff9b::a00:5'), '10.0.0.5');
    assert.equal(embeddedV4('2002:c0a8:101::1'), '192.168.1.1');
    assert.equal(embeddedV4('2606:4700:4700::1111'), undefined);
    assert.equal(embeddedV4('::1'), undefined);
  });
});
