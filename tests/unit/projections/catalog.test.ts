import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  catalogProjection, configVersion, configVersions, findService, idlVersion, idlVersions, listServiceTree, serviceDetail,
  type CatalogState,
} from '../../../projections/catalog.ts';
import type { DomainEvent } from '../../../domain/events.ts';
import {
  childClaimed, childLinked, childUnlinked, configAdded, configDeleted, firstLevelCreated, firstLevelDeleted, foldState, hostAdded,
  hostDisabled, hostEnabled, hostRemoved, hostWeightSet, idlAdded, idlDeleted, recorded, serviceCreated, serviceDeleted,
  userCreated,
} from './events.ts';

const svc = 'Flight.mod_flight';
const given = (...events: DomainEvent[]): CatalogState => foldState(catalogProjection, recorded(events));
const flight = [firstLevelCreated('Flight'), childLinked('Flight', 'mod_flight'), serviceCreated(svc, { lang: 'go', port: 8000 })];

describe('catalog projection', () => {
  it('starts with an empty tree', () => {
    assert.deepEqual(listServiceTree(catalogProjection.initialState()), []);
  });

  it('lists first levels by name with their children', () => {
    const state = given(
      firstLevelCreated('Hotel', 'odd'), ...flight,
      childLinked('Flight', 'mod_booking'), serviceCreated('Flight.mod_booking'),
      hostAdded(svc, '10.0.0.1:7963'), hostAdded(svc, '10.0.0.2:7963'), hostEnabled(svc, '10.0.0.2:7963'),
    );
    assert.deepEqual(listServiceTree(state), [
      {
        name: 'Flight', kind: 'standard', revision: 2, children: [
          { name: 'mod_booking', fullName: 'Flight.mod_booking', kind: 'standard', lang: 'cpp', port: 7963, hosts: 0, enabledHosts: 0, exists: true },
          { name: 'mod_flight', fullName: svc, kind: 'standard', lang: 'go', port: 8000, hosts: 2, enabledHosts: 1, exists: true },
        ],
      },
      { name: 'Hotel', kind: 'odd', revision: 0, children: [] },
    ]);
  });

  it('shows a linked child whose creation did not happen yet, so a blocked delete is explained', () => {
    const state = given(firstLevelCreated('Flight'), childLinked('Flight', 'mod_flight'));
    assert.deepEqual(listServiceTree(state)[0]!.children, [
      { name: 'mod_flight', fullName: svc, kind: 'standard', lang: '', port: 0, hosts: 0, enabledHosts: 0, exists: false },
    ]);
  });

  it('shows a claimed child at once, as not created yet, and once linked as the service it is', () => {
    const claimed = given(firstLevelCreated('Flight'), childClaimed('Flight', 'mod_flight'));
    assert.deepEqual(listServiceTree(claimed)[0]!.children, [
      { name: 'mod_flight', fullName: svc, kind: 'standard', lang: '', port: 0, hosts: 0, enabledHosts: 0, exists: false },
    ]);
    const linked = given(firstLevelCreated('Flight'), childClaimed('Flight', 'mod_flight'), serviceCreated(svc), childLinked('Flight', 'mod_flight'));
    assert.deepEqual(listServiceTree(linked)[0]!.children.map((c) => [c.fullName, c.exists]), [[svc, true]]);
    assert.equal(serviceDetail(linked, 'Flight')!.revision, 2, 'the claim and the link are revisions of the first level');
  });

  it('shows a created child whose link is not written yet', () => {
    const state = given(firstLevelCreated('Flight'), serviceCreated(svc));
    assert.deepEqual(listServiceTree(state)[0]!.children.map((c) => c.fullName), [svc]);
  });

  it('accepts a child named by its full name in the link event', () => {
    const state = given(firstLevelCreated('Flight'), childLinked('Flight', svc), serviceCreated(svc));
    assert.deepEqual(listServiceTree(state)[0]!.children.map((c) => c.name), ['mod_flight']);
  });

  it('drops an unlinked child', () => {
    const state = given(...flight, serviceDeleted(svc), childUnlinked('Flight', 'mod_flight'));
    assert.deepEqual(listServiceTree(state)[0]!.children, []);
    assert.equal(serviceDetail(state, 'Flight')!.revision, 2);
  });

  it('details a second-level service: stream revision, hosts, versions without text', () => {
    const state = given(
      ...flight,
      hostAdded(svc, '10.0.0.1:7963', { protocol: 'udp', weight: 300 }),
      configAdded(svc, 'v1', '[LOG]\nLevel=DEBUG\n', 'first'),
      idlAdded(svc, 'i1', 'syntax = "proto3";', 'api'),
    );
    assert.deepEqual(serviceDetail(state, svc), {
      level: 'second', name: svc, fullName: svc, parent: 'Flight', kind: 'standard', lang: 'go', port: 8000,
      revision: 3, createdAt: '2024-05-01T08:03:00.000Z',
      hosts: [{ ip: '10.0.0.1', port: 7963, protocol: 'udp', weight: 300, enabled: false, addedAt: '2024-05-01T08:04:00.000Z' }],
      configs: [{ tag: 'v1', memo: 'first', size: 18, addedAt: '2024-05-01T08:05:00.000Z', actor: 'admin' }],
      idls: [{ tag: 'i1', memo: 'api', size: 18, addedAt: '2024-05-01T08:06:00.000Z', actor: 'admin' }],
    });
  });

  it('details a first level with its children; unknown names give null', () => {
    const state = given(...flight);
    assert.deepEqual(serviceDetail(state, 'Flight'), { level: 'first', ...listServiceTree(state)[0]! });
    assert.equal(serviceDetail(state, 'Hotel'), null);
    assert.equal(serviceDetail(state, 'Flight.nothing'), null);
  });

  it('never finds a name that only exists on Object.prototype', () => {
    const state = given(...flight);
    for (const name of ['constructor', '__proto__', 'toString', 'Flight.constructor']) {
      assert.equal(serviceDetail(state, name), null);
      assert.equal(findService(state, name), null);
    }
  });

  it('enables, disables, re-weights and removes hosts', () => {
    const at = '10.0.0.1:7963';
    let state = given(...flight, hostAdded(svc, at), hostEnabled(svc, at), hostWeightSet(svc, at, 500));
    assert.deepEqual(findService(state, svc)!.hosts.map(({ enabled, weight }) => ({ enabled, weight })), [{ enabled: true, weight: 500 }]);
    state = given(...flight, hostAdded(svc, at), hostEnabled(svc, at), hostDisabled(svc, at), hostRemoved(svc, at));
    assert.deepEqual(findService(state, svc)!.hosts, []);
    assert.equal(findService(state, svc)!.revision, 4);
  });

  it('keeps hosts of one ip apart by port', () => {
    const state = given(...flight, hostAdded(svc, '10.0.0.1:7963'), hostAdded(svc, '10.0.0.1:7964'), hostEnabled(svc, '10.0.0.1:7964'));
    assert.deepEqual(findService(state, svc)!.hosts.map((h) => [h.port, h.enabled]), [[7963, false], [7964, true]]);
  });

  it('serves a config version with its text, size in UTF-8 bytes and author', () => {
    const events = recorded([...flight, configAdded(svc, 'v1', 'größe=1', 'ü')], { actor: 'alice' });
    const state = foldState(catalogProjection, events);
    assert.deepEqual(configVersion(state, svc, 'v1'), {
      tag: 'v1', memo: 'ü', text: 'größe=1', size: 9, addedAt: '2024-05-01T08:04:00.000Z', actor: 'alice',
    });
    assert.equal(configVersion(state, svc, 'v9'), null);
    assert.equal(configVersion(state, 'Flight.nothing', 'v1'), null);
    assert.equal(configVersions(state, 'Flight.nothing'), null);
  });

  it('lists versions oldest first; a tag saved again after a delete goes last', () => {
    const state = given(
      ...flight, configAdded(svc, 'v1', 'a'), configAdded(svc, 'v2', 'b'), configDeleted(svc, 'v1'), configAdded(svc, 'v1', 'c'),
    );
    assert.deepEqual(configVersions(state, svc)!.map((v) => v.tag), ['v2', 'v1']);
    assert.equal(configVersion(state, svc, 'v1')!.text, 'c');
    assert.ok(configVersions(state, svc)!.every((v) => !('text' in v)));
  });

  it('keeps IDL versions apart from config versions', () => {
    const state = given(...flight, idlAdded(svc, 'v1', 'message A {}'), configAdded(svc, 'v1', '[LOG]'), idlAdded(svc, 'v2', 'x'), idlDeleted(svc, 'v2'));
    assert.deepEqual(idlVersions(state, svc)!.map((v) => v.tag), ['v1']);
    assert.equal(idlVersion(state, svc, 'v1')!.text, 'message A {}');
    assert.equal(configVersion(state, svc, 'v1')!.text, '[LOG]');
    assert.equal(idlVersion(state, svc, 'v2'), null);
  });

  it('forgets a deleted service; created again it starts empty, its revision continuing the stream', () => {
    const state = given(
      ...flight, hostAdded(svc, '10.0.0.1:7963'), configAdded(svc, 'v1', 'x'),
      hostRemoved(svc, '10.0.0.1:7963'), serviceDeleted(svc), serviceCreated(svc, { lang: 'python', port: 9000 }),
    );
    const detail = serviceDetail(state, svc)!;
    assert.equal(detail.level, 'second');
    assert.deepEqual(detail.level === 'second' && [detail.lang, detail.port, detail.hosts, detail.configs, detail.revision],
      ['python', 9000, [], [], 5]);
  });

  it('forgets a deleted first level; created again it has no children', () => {
    const state = given(...flight, serviceDeleted(svc), childUnlinked('Flight', 'mod_flight'), firstLevelDeleted('Flight'), firstLevelCreated('Flight', 'odd'));
    assert.deepEqual(listServiceTree(state), [{ name: 'Flight', kind: 'odd', revision: 4, children: [] }]);
    assert.equal(serviceDetail(given(...flight.slice(0, 2), firstLevelDeleted('Flight')), 'Flight'), null);
  });

  it('ignores events about services it does not know', () => {
    const before = given(...flight);
    const after = foldState(catalogProjection, recorded(
      [hostAdded('Flight.ghost', '10.0.0.1:1'), configAdded('Flight.ghost', 'v1', 'x'), childLinked('Ghost', 'x')], { after: 3 },
    ), before);
    assert.deepEqual(after, before);
  });

  it('reads only service events', () => {
    assert.ok(!catalogProjection.handles.includes(userCreated('a').type));
    assert.equal(catalogProjection.handles.length, 16);
  });

  it('survives a JSON round trip (the runner stores it as JSON)', () => {
    const state = given(...flight, hostAdded(svc, '10.0.0.1:7963'), configAdded(svc, 'v1', 'x'));
    assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
  });
});
