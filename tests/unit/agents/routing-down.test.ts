/**
 * Hosts whose agent is down in the routing tables (projections/routing.ts): every served
 * instance on the host is marked in every service and each table that changed gets a new
 * version; a host enabled while its ip is down is served marked; up clears the marks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DomainEvent } from '../../../domain/events.ts';
import { routeFor, routingProjection, type RoutingState } from '../../../projections/routing.ts';
import { agentEv, childLinked, firstLevelCreated, foldState, hostAdded, hostDisabled, hostEnabled, recorded, serviceCreated } from '../projections/events.ts';

const flight = 'Flight.mod_flight';
const hotel = 'Flight.mod_hotel';
const other = 'Flight.mod_other';
const base: DomainEvent[] = [
  firstLevelCreated('Flight'), childLinked('Flight', 'mod_flight'), childLinked('Flight', 'mod_hotel'), childLinked('Flight', 'mod_other'),
  serviceCreated(flight), serviceCreated(hotel), serviceCreated(other),
  hostAdded(flight, '10.0.0.1:7963'), hostEnabled(flight, '10.0.0.1:7963'), hostAdded(flight, '10.0.0.2:7963'), hostEnabled(flight, '10.0.0.2:7963'),
  hostAdded(hotel, '10.0.0.1:8000'), hostEnabled(hotel, '10.0.0.1:8000'), hostAdded(hotel, '10.0.0.1:8001'), hostEnabled(hotel, '10.0.0.1:8001'),
  hostAdded(other, '10.0.0.3:7963'), hostEnabled(other, '10.0.0.3:7963'),
]; // positions 1-17
const given = (...events: DomainEvent[]): RoutingState => foldState(routingProjection, recorded([...base, ...events]));
const down = (ip: string) => agentEv('AgentDown', { ip, lastSeenAtMs: 1 });
const up = (ip: string) => agentEv('AgentUp', { ip });
const marks = (state: RoutingState, service: string) => routeFor(state, service)!.instances.map((i) => `${i.ip}:${i.port}${i.down ? ' down' : ''}`);

describe('routing: hosts that are down', () => {
  test('a host going down marks its instances in every service and bumps those versions only', () => {
    const before = given();
    const state = given(down('10.0.0.1')); // position 18
    assert.deepEqual(marks(state, flight), ['10.0.0.1:7963 down', '10.0.0.2:7963']);
    assert.deepEqual(marks(state, hotel), ['10.0.0.1:8000 down', '10.0.0.1:8001 down']);
    assert.equal(routeFor(state, flight)!.version, 18);
    assert.equal(routeFor(state, hotel)!.version, 18);
    assert.equal(routeFor(state, other)!.version, routeFor(before, other)!.version);
    assert.deepEqual(marks(state, other), ['10.0.0.3:7963']);
  });

  test('down twice changes nothing the second time', () => {
    const state = given(down('10.0.0.1'), down('10.0.0.1'));
    assert.equal(routeFor(state, flight)!.version, 18);
  });

  test('up clears the marks and bumps the versions', () => {
    const state = given(down('10.0.0.1'), up('10.0.0.1')); // 18, 19
    assert.deepEqual(marks(state, flight), ['10.0.0.1:7963', '10.0.0.2:7963']);
    assert.deepEqual(marks(state, hotel), ['10.0.0.1:8000', '10.0.0.1:8001']);
    assert.equal(routeFor(state, hotel)!.version, 19);
    assert.deepEqual(state.downHosts, []);
    assert.equal('down' in routeFor(state, flight)!.instances[0]!, false);
  });

  test('up of a host that was not down changes nothing', () => {
    const state = given(up('10.0.0.1'));
    assert.equal(routeFor(state, flight)!.version, routeFor(given(), flight)!.version);
  });

  test('a host of a down ip enabled later is served marked down', () => {
    const state = given(down('10.0.0.1'), hostAdded(other, '10.0.0.1:9000'), hostEnabled(other, '10.0.0.1:9000'));
    assert.deepEqual(marks(state, other), ['10.0.0.1:9000 down', '10.0.0.3:7963']);
  });

  test('a down host of a service created afterwards is served marked down', () => {
    const state = given(down('10.0.0.5'), childLinked('Flight', 'mod_new'), serviceCreated('Flight.mod_new'), hostAdded('Flight.mod_new', '10.0.0.5:7963'), hostEnabled('Flight.mod_new', '10.0.0.5:7963'));
    assert.deepEqual(marks(state, 'Flight.mod_new'), ['10.0.0.5:7963 down']);
  });

  test('going down while only standing by bumps nothing; disabled and re-enabled while down it is marked again', () => {
    const standby = given(hostAdded(other, '10.0.0.4:7963'), down('10.0.0.4'));
    assert.equal(routeFor(standby, other)!.version, routeFor(given(hostAdded(other, '10.0.0.4:7963')), other)!.version);
    const again = given(down('10.0.0.1'), hostDisabled(flight, '10.0.0.1:7963'), hostEnabled(flight, '10.0.0.1:7963'));
    assert.deepEqual(marks(again, flight), ['10.0.0.1:7963 down', '10.0.0.2:7963']);
    const cleared = given(down('10.0.0.1'), hostDisabled(flight, '10.0.0.1:7963'), up('10.0.0.1'), hostEnabled(flight, '10.0.0.1:7963'));
    assert.deepEqual(marks(cleared, flight), ['10.0.0.1:7963', '10.0.0.2:7963']);
  });

  test('a host down in one service and the same ip under another port: all marked, other ips untouched', () => {
    const state = given(down('10.0.0.2'));
    assert.deepEqual(marks(state, flight), ['10.0.0.1:7963', '10.0.0.2:7963 down']);
    assert.deepEqual(marks(state, hotel), ['10.0.0.1:8000', '10.0.0.1:8001']);
    assert.equal(routeFor(state, hotel)!.version, routeFor(given(), hotel)!.version);
  });
});
