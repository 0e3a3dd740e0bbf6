/**
 * Where the KV's instances go, as specifications: never two of a set on one host when the hosts
 * allow, masters and instances spread evenly, hosts to avoid left alone, ports the lowest free.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, placeReplacement, placeSets, withPorts, type Placed } from '../../../../domain/kv/index.ts';
import { assertRefused } from '../../support/given-when-then.ts';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);
const countBy = (placed: readonly Placed[], on: readonly string[], which: (p: Placed) => boolean = () => true) =>
  on.map((ip) => placed.filter((p) => p.ip === ip && which(p)).length);
const isMaster = (p: Placed) => p.role === 'master';
const spread = (counts: number[]) => Math.max(...counts) - Math.min(...counts);
const setsOf = (placed: readonly Placed[]) => [...new Set(placed.map((p) => p.setId))];

describe('placing new sets', () => {
  test('given 3 hosts, when 3 sets with 1 replica each are placed, then no set has two instances on a host and each host has one master and two instances', () => {
    const on = hosts(3);
    const placed = placeSets({ hosts: on, existing: [], sets: 3, replicas: 1, firstSetId: 1 });
    assert.equal(placed.length, 6);
    for (const setId of [1, 2, 3]) {
      const members = placed.filter((p) => p.setId === setId);
      assert.deepEqual(members.map((p) => p.role), ['master', 'replica']);
      assert.equal(new Set(members.map((p) => p.ip)).size, 2, `set ${setId} has two instances on one host`);
    }
    assert.deepEqual(countBy(placed, on, isMaster), [1, 1, 1]);
    assert.deepEqual(countBy(placed, on), [2, 2, 2]);
  });

  test('given 1 to 8 hosts, when 1 to 10 sets with 0 to 3 replicas are placed, then masters and instances differ by at most one per host, and a set shares a host only when there are too few', () => {
    for (let h = 1; h <= 8; h++) {
      for (let sets = 1; sets <= 10; sets++) {
        for (let replicas = 0; replicas <= 3; replicas++) {
          const on = hosts(h);
          const placed = placeSets({ hosts: on, existing: [], sets, replicas, firstSetId: 1 });
          const what = `${sets} set(s) × ${1 + replicas} on ${h} host(s)`;
          assert.equal(placed.length, sets * (1 + replicas), what);
          assert.ok(spread(countBy(placed, on, isMaster)) <= 1, `${what}: masters ${countBy(placed, on, isMaster).join('/')}`);
          assert.ok(spread(countBy(placed, on)) <= 1, `${what}: instances ${countBy(placed, on).join('/')}`);
          for (const setId of setsOf(placed)) {
            const ips = placed.filter((p) => p.setId === setId).map((p) => p.ip);
            assert.equal(new Set(ips).size, Math.min(ips.length, h), `${what}: set ${setId} on ${ips.join(', ')}`);
          }
        }
      }
    }
  });

  test('given fewer hosts than instances per set, then a set shares hosts but still spreads over all of them', () => {
    const placed = placeSets({ hosts: hosts(2), existing: [], sets: 1, replicas: 2, firstSetId: 1 });
    assert.deepEqual(placed.map((p) => p.role), ['master', 'replica', 'replica']);
    assert.deepEqual(countBy(placed, hosts(2)).sort(), [1, 2]);
    const alone = placeSets({ hosts: ['10.0.0.9'], existing: [], sets: 2, replicas: 1, firstSetId: 1 });
    assert.ok(alone.every((p) => p.ip === '10.0.0.9'));
  });

  test('given set ids so far, then the new sets are numbered from firstSetId', () => {
    const placed = placeSets({ hosts: hosts(3), existing: [], sets: 2, replicas: 0, firstSetId: 7 });
    assert.deepEqual(placed.map((p) => p.setId), [7, 8]);
  });

  test('given hosts to avoid, then nothing is placed on them; avoiding every host is refused', () => {
    const placed = placeSets({ hosts: hosts(4), existing: [], sets: 3, replicas: 1, firstSetId: 1, avoid: ['10.0.0.2'] });
    assert.ok(placed.every((p) => p.ip !== '10.0.0.2'));
    assert.deepEqual(countBy(placed, ['10.0.0.1', '10.0.0.3', '10.0.0.4'], isMaster), [1, 1, 1]);
    assertRefused(() => placeSets({ hosts: hosts(2), existing: [], sets: 1, replicas: 1, firstSetId: 1, avoid: hosts(2) }), 'invalid', /no host to place instances on/);
  });

  test('given a cluster on 3 hosts, when a set is added with a 4th host, then its master goes to the new host', () => {
    const existing = placeSets({ hosts: hosts(3), existing: [], sets: 3, replicas: 1, firstSetId: 1 });
    const added = placeSets({ hosts: hosts(4), existing, sets: 1, replicas: 1, firstSetId: 4 });
    assert.deepEqual(added.find(isMaster), { setId: 4, ip: '10.0.0.4', role: 'master' });
    assert.notEqual(added[1]!.ip, '10.0.0.4');
  });
});

describe('placing a replacement', () => {
  // Set 1: master on .1, replica on .2; set 2: master on .3, replica on .1.
  const layout: Placed[] = [
    { setId: 1, ip: '10.0.0.1', role: 'master' }, { setId: 1, ip: '10.0.0.2', role: 'replica' },
    { setId: 2, ip: '10.0.0.3', role: 'master' }, { setId: 2, ip: '10.0.0.1', role: 'replica' },
  ];

  test('given a lost replica, then the replacement goes to a host holding no member of its set', () => {
    const existing = layout.filter((p) => !(p.setId === 1 && p.ip === '10.0.0.2'));
    assert.equal(placeReplacement({ hosts: hosts(3), existing, setId: 1, avoid: ['10.0.0.2'] }), '10.0.0.3');
  });

  test('given only hosts holding the set are left, then the replacement shares one, the least loaded', () => {
    assert.equal(placeReplacement({ hosts: hosts(3), existing: layout, setId: 2, avoid: ['10.0.0.2'] }), '10.0.0.3');
  });

  test('given every host avoided, then it is refused with what to do', () => {
    assertRefused(() => placeReplacement({ hosts: hosts(2), existing: layout, setId: 1, avoid: hosts(2) }), 'conflict', /no live host is left to place a replica of set 1 on: add hosts/);
  });
});

describe('ports', () => {
  test('given ports taken, then the lowest free from the base port', () => {
    assert.equal(freePort(7000, new Set()), 7000);
    assert.equal(freePort(7000, new Set([7000, 7001, 7003])), 7002);
  });

  test('given all 100 ports of the block taken, then it is refused', () => {
    const all = new Set(Array.from({ length: 100 }, (_, i) => 7000 + i));
    assert.equal(freePort(7000, new Set([...all].filter((p) => p !== 7099))), 7099);
    assertRefused(() => freePort(7000, all), 'conflict', /every port from 7000 to 7099 is taken/);
  });

  test('given instances on hosts, then each new one takes the lowest free port of its own host', () => {
    const placed = withPorts(7000, [{ ip: '10.0.0.1', port: 7000 }, { ip: '10.0.0.1', port: 7002 }], [
      { setId: 3, ip: '10.0.0.1', role: 'master' }, { setId: 3, ip: '10.0.0.2', role: 'replica' },
      { setId: 4, ip: '10.0.0.1', role: 'replica' }, { setId: 4, ip: '10.0.0.2', role: 'master' },
    ]);
    assert.deepEqual(placed.map((p) => `${p.ip}:${p.port}`), ['10.0.0.1:7001', '10.0.0.2:7000', '10.0.0.1:7003', '10.0.0.2:7001']);
    assert.deepEqual(placed[0], { setId: 3, ip: '10.0.0.1', role: 'master', port: 7001 });
  });

  test('given 100 instances on one host, then the 101st is refused', () => {
    const many: Placed[] = Array.from({ length: 100 }, (_, i) => ({ setId: i + 1, ip: '10.0.0.1', role: 'master' }));
    assert.equal(withPorts(7000, [], many).at(-1)!.port, 7099);
    assertRefused(() => withPorts(7000, [], [...many, { setId: 101, ip: '10.0.0.1', role: 'master' }]), 'conflict', /every port from 7000 to 7099/);
  });
});
