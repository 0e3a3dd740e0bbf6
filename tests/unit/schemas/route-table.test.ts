/** The one route contract (schemas/route-table.ts): what a reader accepts, and when two tables are the same. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalRouteTable, frozenRouteTable, routeTableFromJson, sameRouteTable, type RouteTable } from '../../../schemas/route-table.ts';

const table = (o: Partial<RouteTable> = {}): RouteTable => ({
  service: 'Flight.mod_flight', policy: 'standard', version: 7,
  instances: [{ ip: '10.0.0.9', port: 7963, protocol: 'tcp', weight: 100 }, { ip: '10.0.0.10', port: 7963, protocol: 'both', weight: 50, down: true }],
  ...o,
});

test('given JSON of a table, then the canonical table: instances by IP numerically, no false `down`, no empty tuning', () => {
  const json = {
    service: 'Flight.mod_flight', policy: 'odd', version: 3, tuning: {},
    instances: [{ ip: '10.0.0.10', port: 1, protocol: 'udp', weight: 5, down: false }, { ip: '10.0.0.9', port: 2, protocol: 'tcp', weight: 5 }],
  };
  assert.deepEqual(routeTableFromJson(json), {
    service: 'Flight.mod_flight', policy: 'odd', version: 3,
    instances: [{ ip: '10.0.0.9', port: 2, protocol: 'tcp', weight: 5 }, { ip: '10.0.0.10', port: 1, protocol: 'udp', weight: 5 }],
  });
});

test('given JSON that is not a table, then an error that names what is wrong', () => {
  assert.throws(() => routeTableFromJson(null), /JSON object/);
  assert.throws(() => routeTableFromJson([]), /JSON object/);
  assert.throws(() => routeTableFromJson({ ...table(), policy: undefined, kind: 'standard' }), /policy/);
  assert.throws(() => routeTableFromJson({ ...table(), version: '7' }), /version/);
  assert.throws(() => routeTableFromJson({ ...table(), instances: {} }), /instances must be a list/);
  assert.throws(() => routeTableFromJson({ ...table(), instances: [null] }), /bad IP/);
  assert.throws(() => routeTableFromJson({ ...table(), instances: [{ ip: '10.0.0.1', port: 1, protocol: 'tcp', weight: 1, down: 'yes' }] }), /down/);
  assert.throws(() => routeTableFromJson({ ...table(), tuning: [1] }), /tuning/);
  assert.throws(() => routeTableFromJson({ ...table(), service: 'Flight' }), /First\.Second/);
});

test('given fields a newer console added, then they are left out', () => {
  assert.deepEqual(routeTableFromJson({ ...table(), region: 'eu' }), canonicalRouteTable(table()));
});

test('same tables compare equal whatever their key order; any routed difference makes them differ', () => {
  const a = canonicalRouteTable(table({ tuning: { success_ratio_base: 0.9, dead_retry_ratio: 0.02 } }));
  assert.ok(sameRouteTable(a, routeTableFromJson(JSON.parse(JSON.stringify({ ...a, tuning: { dead_retry_ratio: 0.02, success_ratio_base: 0.9 } })))));
  assert.ok(sameRouteTable(null, null));
  assert.ok(!sameRouteTable(a, null));
  const changed: RouteTable[] = [
    { ...a, version: 8 }, { ...a, policy: 'odd' }, { ...a, tuning: { dead_retry_ratio: 0.02 } },
    { ...a, instances: a.instances.map((i, k) => (k === 0 ? { ...i, weight: 101 } : i)) },
    { ...a, instances: a.instances.map((i, k) => (k === 1 ? { ip: i.ip, port: i.port, protocol: i.protocol, weight: i.weight } : i)) },
  ];
  for (const other of changed) assert.ok(!sameRouteTable(a, other), JSON.stringify(other));
});

test('a frozen table cannot be changed by one of the callers it is shared with', () => {
  const shared = frozenRouteTable(canonicalRouteTable(table()));
  assert.throws(() => {
    shared.instances[0]!.weight = 1;
  }, TypeError);
  assert.throws(() => {
    shared.version = 1;
  }, TypeError);
});
