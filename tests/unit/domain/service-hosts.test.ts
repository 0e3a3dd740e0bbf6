import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serviceDecider, type HostProtocol } from '../../../domain/services/index.ts';
import { spec, stateAfter } from '../support/given-when-then.ts';
import {
  IP, PORT, SERVICE, hostAdded, hostDisabled, hostEnabled, hostRemoved, hostWeightSet, serviceCreated,
} from './fixtures/service-events.ts';

const service = spec(serviceDecider);
const at = { service: SERVICE, ip: IP, port: PORT };
const addHost = (over: Partial<{ ip: string; port: number; protocol: HostProtocol; weight: number }> = {}) =>
  ({ type: 'AddHost' as const, ...at, protocol: 'udp' as const, ...over });

describe('hosts: add', () => {
  test('a new host is added disabled, with weight 100 by default', () => {
    service.given([serviceCreated()]).when(addHost()).then([hostAdded(IP, PORT, 'udp', 100)]);
  });

  test('a new host is not enabled until someone enables it', () => {
    const state = stateAfter(serviceDecider, [serviceCreated(), hostAdded()]);
    assert.equal(state.hosts.get(`${IP}:${PORT}`)?.enabled, false);
  });

  test('an explicit weight is kept', () => {
    service.given([serviceCreated()]).when(addHost({ weight: 250 })).then([hostAdded(IP, PORT, 'udp', 250)]);
  });

  test('tcp and both are protocols too', () => {
    service.given([serviceCreated()]).when(addHost({ protocol: 'both' })).then([hostAdded(IP, PORT, 'both')]);
  });

  test('an unknown protocol is refused', () => {
    service.given([serviceCreated()]).when(addHost({ protocol: 'http' as HostProtocol }))
      .thenFails('invalid', /protocol "http" is unknown; use udp, tcp or both/);
  });

  test('an invalid IP is refused', () => {
    service.given([serviceCreated()]).when(addHost({ ip: '10.0.0.300' })).thenFails('invalid', /above 255/);
  });

  test('an invalid port is refused', () => {
    service.given([serviceCreated()]).when(addHost({ port: 70000 })).thenFails('invalid', /host port 70000 is out of range/);
  });

  test('weight 1 is the lowest weight', () => {
    service.given([serviceCreated()]).when(addHost({ weight: 1 })).then([hostAdded(IP, PORT, 'udp', 1)]);
  });

  test('weight 10000 is the highest weight (the NLB cap)', () => {
    service.given([serviceCreated()]).when(addHost({ weight: 10000 })).then([hostAdded(IP, PORT, 'udp', 10000)]);
  });

  test('weight 0 is refused', () => {
    service.given([serviceCreated()]).when(addHost({ weight: 0 })).thenFails('invalid', /weight 0 is out of range; use a whole number from 1 to 10000/);
  });

  test('weight 10001 is refused', () => {
    service.given([serviceCreated()]).when(addHost({ weight: 10001 })).thenFails('invalid', /weight 10001 is out of range/);
  });

  test('the same ip:port twice is a conflict', () => {
    service.given([serviceCreated(), hostAdded()]).when(addHost()).thenFails('conflict', /10\.0\.0\.12:7963 is already in Flight\.mod_flight/);
  });

  test('the same ip on another port is another host', () => {
    service.given([serviceCreated(), hostAdded()]).when(addHost({ port: 7964 })).then([hostAdded(IP, 7964)]);
  });

  test('a removed host can be added again', () => {
    service.given([serviceCreated(), hostAdded(), hostRemoved()]).when(addHost()).then([hostAdded()]);
  });
});

describe('hosts: enable and disable (scale out and in)', () => {
  test('a disabled host is enabled', () => {
    service.given([serviceCreated(), hostAdded()]).when({ type: 'EnableHost', ...at }).then([hostEnabled()]);
  });

  test('enabling an enabled host decides nothing', () => {
    service.given([serviceCreated(), hostAdded(), hostEnabled()]).when({ type: 'EnableHost', ...at }).thenNothing();
  });

  test('an enabled host is disabled', () => {
    service.given([serviceCreated(), hostAdded(), hostEnabled()]).when({ type: 'DisableHost', ...at }).then([hostDisabled()]);
  });

  test('disabling a disabled host decides nothing', () => {
    service.given([serviceCreated(), hostAdded()]).when({ type: 'DisableHost', ...at }).thenNothing();
  });

  test('enabling an unknown host is not found', () => {
    service.given([serviceCreated()]).when({ type: 'EnableHost', ...at })
      .thenFails('not_found', /Flight\.mod_flight has no host 10\.0\.0\.12:7963; add it first/);
  });

  test('disabling an unknown host is not found', () => {
    service.given([serviceCreated()]).when({ type: 'DisableHost', ...at }).thenFails('not_found', /has no host/);
  });
});

describe('hosts: remove', () => {
  test('a disabled host is removed', () => {
    service.given([serviceCreated(), hostAdded()]).when({ type: 'RemoveHost', ...at }).then([hostRemoved()]);
  });

  test('an enabled host cannot be removed', () => {
    service.given([serviceCreated(), hostAdded(), hostEnabled()]).when({ type: 'RemoveHost', ...at })
      .thenFails('conflict', /disable \(scale in\) the host first/);
  });

  test('a host enabled then disabled can be removed', () => {
    service.given([serviceCreated(), hostAdded(), hostEnabled(), hostDisabled()]).when({ type: 'RemoveHost', ...at })
      .then([hostRemoved()]);
  });

  test('removing an unknown host is not found', () => {
    service.given([serviceCreated()]).when({ type: 'RemoveHost', ...at }).thenFails('not_found', /has no host/);
  });

  test('removing a removed host is not found', () => {
    service.given([serviceCreated(), hostAdded(), hostRemoved()]).when({ type: 'RemoveHost', ...at }).thenFails('not_found', /has no host/);
  });
});

describe('hosts: weight', () => {
  test('a new weight is set', () => {
    service.given([serviceCreated(), hostAdded()]).when({ type: 'SetHostWeight', ...at, weight: 300 }).then([hostWeightSet(300)]);
  });

  test('the same weight decides nothing', () => {
    service.given([serviceCreated(), hostAdded()]).when({ type: 'SetHostWeight', ...at, weight: 100 }).thenNothing();
  });

  test('the weight after a change is the new one', () => {
    service.given([serviceCreated(), hostAdded(), hostWeightSet(300)]).when({ type: 'SetHostWeight', ...at, weight: 300 }).thenNothing();
  });

  test('a weight out of range is refused', () => {
    service.given([serviceCreated(), hostAdded()]).when({ type: 'SetHostWeight', ...at, weight: 20000 })
      .thenFails('invalid', /weight 20000 is out of range/);
  });

  test('a fractional weight is refused', () => {
    service.given([serviceCreated(), hostAdded()]).when({ type: 'SetHostWeight', ...at, weight: 1.5 }).thenFails('invalid', /whole number/);
  });

  test('the weight of an unknown host is not found', () => {
    service.given([serviceCreated()]).when({ type: 'SetHostWeight', ...at, weight: 300 }).thenFails('not_found', /has no host/);
  });
});
