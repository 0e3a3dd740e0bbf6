import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../../domain/events.ts';
import { allRoutes, routeFor, routingProjection, type RoutingState } from '../../../projections/routing.ts';
import { canonicalRouteTable, decodeRouteTable, encodeRouteTable, routeTableFromJson } from '../../../schemas/route-table.ts';
import {
  childLinked, configAdded, firstLevelCreated, foldState, hostAdded, hostDisabled, hostEnabled, hostRemoved, hostWeightSet,
  recorded, serviceCreated, serviceDeleted,
} from './events.ts';

const svc = 'Flight.mod_flight';
const a = '10.0.0.1:7963';
const b = '10.0.0.2:7963';
const given = (...events: DomainEvent[]): RoutingState => foldState(routingProjection, recorded(events));
/** Position n is the n-th event of `given`. */
const base = [firstLevelCreated('Flight'), childLinked('Flight', 'mod_flight'), serviceCreated(svc)]; // positions 1-3

describe('routing projection', () => {
  it('gives a new service an empty table, versioned by its creation', () => {
    assert.deepEqual(routeFor(given(...base), svc), { service: svc, policy: 'standard', version: 3, instances: [] });
  });

  it('routes nothing to a host that was only added (new hosts start disabled)', () => {
    assert.deepEqual(routeFor(given(...base, hostAdded(svc, a)), svc), { service: svc, policy: 'standard', version: 3, instances: [] });
  });

  it('routes to a host once enabled (scale out), with its protocol and weight', () => {
    const state = given(...base, hostAdded(svc, a, { protocol: 'both', weight: 250 }), hostEnabled(svc, a));
    assert.deepEqual(routeFor(state, svc), {
      service: svc, policy: 'standard', version: 5, instances: [{ ip: '10.0.0.1', port: 7963, protocol: 'both', weight: 250 }],
    });
  });

  it('stops routing to a disabled host (scale in) and bumps the version', () => {
    const state = given(...base, hostAdded(svc, a), hostAdded(svc, b), hostEnabled(svc, a), hostEnabled(svc, b), hostDisabled(svc, a));
    assert.deepEqual(routeFor(state, svc)!.instances.map((i) => i.ip), ['10.0.0.2']);
    assert.equal(routeFor(state, svc)!.version, 8);
  });

  it('sorts instances by IP numerically, then port, whatever the order of enabling', () => {
    const hosts = ['10.0.0.10:7963', '10.0.0.9:7964', '10.0.0.9:7963', '9.255.0.1:1'];
    const state = given(...base, ...hosts.map((h) => hostAdded(svc, h)), ...hosts.map((h) => hostEnabled(svc, h)));
    assert.deepEqual(routeFor(state, svc)!.instances.map((i) => `${i.ip}:${i.port}`), ['9.255.0.1:1', '10.0.0.9:7963', '10.0.0.9:7964', '10.0.0.10:7963']);
  });

  it('bumps the version when the weight of an enabled host changes', () => {
    const state = given(...base, hostAdded(svc, a), hostEnabled(svc, a), hostWeightSet(svc, a, 400));
    assert.deepEqual(routeFor(state, svc)!, { service: svc, policy: 'standard', version: 6, instances: [{ ip: '10.0.0.1', port: 7963, protocol: 'tcp', weight: 400 }] });
  });

  it('keeps the version when a disabled host is re-weighted, and routes with the new weight once enabled', () => {
    let state = given(...base, hostAdded(svc, a), hostWeightSet(svc, a, 700));
    assert.equal(routeFor(state, svc)!.version, 3);
    state = given(...base, hostAdded(svc, a), hostWeightSet(svc, a, 700), hostEnabled(svc, a));
    assert.deepEqual(routeFor(state, svc)!.instances, [{ ip: '10.0.0.1', port: 7963, protocol: 'tcp', weight: 700 }]);
  });

  it('keeps the version when a disabled host is removed', () => {
    const state = given(...base, hostAdded(svc, a), hostEnabled(svc, a), hostAdded(svc, b), hostRemoved(svc, b));
    assert.equal(routeFor(state, svc)!.version, 5);
  });

  it('keeps the version for an event that changes nothing served', () => {
    const enabled = [...base, hostAdded(svc, a), hostEnabled(svc, a)];
    const same = [hostEnabled(svc, a), hostWeightSet(svc, a, 100), configAdded(svc, 'v1', 'x')];
    assert.equal(routeFor(given(...enabled, ...same), svc)!.version, 5);
  });

  it('drops the table of a deleted service; created again it starts empty with a new version', () => {
    assert.equal(routeFor(given(...base, hostAdded(svc, a), serviceDeleted(svc)), svc), null);
    const state = given(...base, hostAdded(svc, a), hostEnabled(svc, a), hostDisabled(svc, a), hostRemoved(svc, a), serviceDeleted(svc), serviceCreated(svc));
    assert.deepEqual(routeFor(state, svc), { service: svc, policy: 'standard', version: 9, instances: [] });
    assert.equal(routeFor(given(...base, hostAdded(svc, a), serviceDeleted(svc), serviceCreated(svc), hostEnabled(svc, a)), svc)!.instances.length, 0);
  });

  it('lists every service, also those without an enabled host, by name', () => {
    const state = given(...base, serviceCreated('Alpha.a', { kind: 'odd' }), hostAdded(svc, a), hostEnabled(svc, a));
    assert.deepEqual(allRoutes(state).map((r) => [r.service, r.policy, r.instances.length]), [['Alpha.a', 'odd', 0], [svc, 'standard', 1]]);
  });

  it('serves the same tables and versions on every replay', () => {
    const events = recorded([...base, hostAdded(svc, a), hostAdded(svc, b), hostEnabled(svc, b), hostEnabled(svc, a), hostWeightSet(svc, b, 3)]);
    assert.deepEqual(foldState(routingProjection, events), foldState(routingProjection, events));
    assert.equal(routeFor(foldState(routingProjection, events), svc)!.version, 8);
  });

  it('emits the one route contract: a table every reader takes as it is (schemas/route-table.ts)', () => {
    const state = given(...base, hostAdded(svc, b, { protocol: 'udp', weight: 3 }), hostAdded(svc, a), hostEnabled(svc, b), hostEnabled(svc, a));
    const table = routeFor(state, svc)!;
    assert.deepEqual(canonicalRouteTable(table), table, 'canonical as it is');
    assert.deepEqual(routeTableFromJson(JSON.parse(JSON.stringify(table))), table, 'the console\'s answer reads back the same');
    assert.deepEqual(decodeRouteTable(svc, encodeRouteTable(table)), table, 'so does the ZooKeeper node');
  });

  it('keeps a table that did not change as the same object, so readers find changes by identity', () => {
    const before = given(...base, serviceCreated('Alpha.a'), hostAdded(svc, a), hostEnabled(svc, a));
    const standbyOnly = routingProjection.apply(before, recorded([...base, serviceCreated('Alpha.a'), hostAdded(svc, a), hostEnabled(svc, a), hostAdded(svc, b)])[6]!);
    assert.equal(routeFor(standbyOnly, svc), routeFor(before, svc), 'a disabled host added');
    assert.equal(routeFor(standbyOnly, 'Alpha.a'), routeFor(before, 'Alpha.a'));
    const reweighed = routingProjection.apply(before, recorded([...base, serviceCreated('Alpha.a'), hostAdded(svc, a), hostEnabled(svc, a), hostWeightSet(svc, a, 7)])[6]!);
    assert.notEqual(routeFor(reweighed, svc), routeFor(before, svc));
    assert.equal(routeFor(reweighed, 'Alpha.a'), routeFor(before, 'Alpha.a'), 'another service\'s table');
  });

  it('answers null for an unknown service, also one named like an Object.prototype member', () => {
    assert.equal(routeFor(given(...base), 'Flight.none'), null);
    assert.equal(routeFor(given(...base), 'constructor'), null);
  });

  it('reads service and host events, and whether hosts are down, only', () => {
    assert.deepEqual([...routingProjection.handles].sort(),
      ['AgentDown', 'AgentUp', 'HostAdded', 'HostDisabled', 'HostEnabled', 'HostRemoved', 'HostWeightSet', 'ServiceCreated', 'ServiceDeleted']);
  });
});
