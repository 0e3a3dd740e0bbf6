import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from '../../../domain/decider.ts';
import { firstLevelDecider, serviceDecider, type ServiceEvent, type ServiceEventType } from '../../../domain/services/index.ts';
import {
  planCreateFirstLevel, planCreateService, planDeleteFirstLevel, planDeleteService,
  type CreateServiceCommand, type TreeView, type WorkflowPlan, type WorkflowStep,
} from '../../../domain/services/tree-workflows.ts';
import { assertRefused } from '../support/given-when-then.ts';

const svc = 'Flight.mod_flight';
const settings = { kind: 'standard' as const, lang: 'go', port: 7963 };
const create: CreateServiceCommand = { type: 'CreateService', service: svc, ...settings };

const firstCreated: ServiceEvent = { type: 'FirstLevelServiceCreated', data: { name: 'Flight', kind: 'standard' } };
const claimed = (over: Partial<typeof settings> = {}): ServiceEvent => ({ type: 'ChildServiceClaimed', data: { parent: 'Flight', child: 'mod_flight', ...settings, ...over } });
const linked: ServiceEvent = { type: 'ChildServiceLinked', data: { parent: 'Flight', child: 'mod_flight' } };
const unlinked: ServiceEvent = { type: 'ChildServiceUnlinked', data: { parent: 'Flight', child: 'mod_flight' } };
const created: ServiceEvent = { type: 'ServiceCreated', data: { service: svc, ...settings } };
const deleted: ServiceEvent = { type: 'ServiceDeleted', data: { service: svc } };
const hostAdded: ServiceEvent = { type: 'HostAdded', data: { service: svc, ip: '10.0.0.1', port: 7963, protocol: 'tcp', weight: 100 } };

/** A live Flight.mod_flight: the parent's history and the service's. */
const live = { parent: [firstCreated, claimed(), linked], service: [created] };

/**
 * given(parent events, service events, what this request wrote).whenCreating(command)
 *   .thenNext('claim', command) | .thenDone() | .thenFails(code, message)
 */
function given(parent: ServiceEvent[], service: ServiceEvent[] = [], wrote: ServiceEventType[] = []) {
  const view: TreeView = { parent: fold(firstLevelDecider, parent), service: fold(serviceDecider, service), wrote: new Set(wrote) };
  const then = (plan: () => WorkflowPlan) => ({
    thenNext(step: WorkflowStep['step'], command: WorkflowStep['command']): void {
      assert.deepEqual(plan(), { done: false, next: { on: ['create', 'delete'].includes(step) ? 'service' : 'parent', step, command } });
    },
    thenDone(): void {
      assert.deepEqual(plan(), { done: true });
    },
    thenFails(code: Parameters<typeof assertRefused>[1], message: RegExp): void {
      assertRefused(plan, code, message);
    },
  });
  return {
    whenCreating: (command: CreateServiceCommand = create) => then(() => planCreateService(command, view)),
    whenDeleting: (name = svc) => then(() => planDeleteService(name, view)),
    whenDeletingFirstLevel: () => then(() => planDeleteFirstLevel('Flight', view)),
    whenCreatingFirstLevel: () => then(() => planCreateFirstLevel({ type: 'CreateFirstLevelService', name: 'Flight', kind: 'standard' }, view)),
  };
}

/** Runs a workflow alone, step by step through the deciders, and returns the events it wrote. */
function walk(plan: (view: TreeView) => WorkflowPlan, parent: ServiceEvent[] = [], service: ServiceEvent[] = []): ServiceEvent[] {
  const streams = { parent: [...parent], service: [...service] };
  const wrote: ServiceEvent[] = [];
  for (let steps = 0; steps < 10; steps++) {
    const view: TreeView = {
      parent: fold(firstLevelDecider, streams.parent), service: fold(serviceDecider, streams.service), wrote: new Set(wrote.map((e) => e.type)),
    };
    const planned = plan(view);
    if (planned.done) return wrote;
    const { next } = planned;
    const events = next.on === 'parent' ? firstLevelDecider.decide(next.command, view.parent) : serviceDecider.decide(next.command, view.service);
    assert.ok(events.length > 0, `step ${next.step} decided nothing`);
    streams[next.on].push(...events);
    wrote.push(...events);
  }
  throw new Error('the workflow did not end within 10 steps');
}

const types = (events: ServiceEvent[]) => events.map((e) => e.type);

describe('service-tree workflow: create a second-level service', () => {
  test('from nothing: claim (creating the first level), create the service, link it', () => {
    assert.deepEqual(types(walk((view) => planCreateService(create, view))),
      ['FirstLevelServiceCreated', 'ChildServiceClaimed', 'ServiceCreated', 'ChildServiceLinked']);
  });

  test('the first step claims the name with the settings the service will have', () => {
    given([firstCreated]).whenCreating()
      .thenNext('claim', { type: 'ClaimChildService', parent: 'Flight', child: 'mod_flight', ...settings });
  });

  test('a creation the service itself would refuse is refused before the claim: nothing is written', () => {
    given([firstCreated]).whenCreating({ ...create, lang: 'cobol' }).thenFails('invalid', /language "cobol" is not supported/);
    given([]).whenCreating({ ...create, service: 'RESERVED.mine', kind: 'odd' }).thenFails('forbidden', /RESERVED is reserved/);
  });

  test('claimed and not created yet: create the service with the claimed settings', () => {
    given([firstCreated, claimed()]).whenCreating().thenNext('create', create);
  });

  test('claimed and created: confirm the link (a creation that stopped half-way is finished by sending it again)', () => {
    given([firstCreated, claimed()], [created]).whenCreating()
      .thenNext('link', { type: 'LinkChildService', parent: 'Flight', child: 'mod_flight' });
  });

  test('claimed by a creation with other settings: refused, the other creation keeps the name', () => {
    given([firstCreated, claimed({ port: 8000 })]).whenCreating()
      .thenFails('conflict', /Flight\.mod_flight is being created by another request with other settings \(standard, go, port 8000\)/);
  });

  test('linked and existing: the service already exists', () => {
    given(live.parent, live.service).whenCreating().thenFails('conflict', /service Flight\.mod_flight already exists/);
  });

  test('linked and existing, created by this very request: done (a retried request answers as before)', () => {
    given(live.parent, live.service, ['ChildServiceClaimed', 'ServiceCreated']).whenCreating().thenDone();
  });

  test('linked but the service is gone (a delete stopped half-way): finish that delete first, then claim', () => {
    given([...live.parent], [created, deleted]).whenCreating()
      .thenNext('unlink', { type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' });
    assert.deepEqual(types(walk((view) => planCreateService(create, view), live.parent, [created, deleted])),
      ['ChildServiceUnlinked', 'ChildServiceClaimed', 'ServiceCreated', 'ChildServiceLinked']);
  });

  test('a service its parent does not link (left by consoles without claims) is not created over', () => {
    given([firstCreated], [created]).whenCreating().thenFails('conflict', /already exists/);
  });

  test('this request claimed before and the name is free again: its creation happened and was deleted since, done', () => {
    given([firstCreated, claimed(), linked, unlinked], [created, deleted], ['ChildServiceClaimed']).whenCreating().thenDone();
  });

  test('this request took part before and another creation holds the name now: done, not refused', () => {
    given([firstCreated, claimed(), linked, unlinked, claimed({ port: 8000 })], [created, deleted], ['ServiceCreated']).whenCreating().thenDone();
  });
});

describe('service-tree workflow: delete a second-level service', () => {
  test('a live service: delete it, then unlink it', () => {
    assert.deepEqual(types(walk((view) => planDeleteService(svc, view), live.parent, live.service)), ['ServiceDeleted', 'ChildServiceUnlinked']);
  });

  test('hosts remain: the service refuses, and nothing is written', () => {
    given(live.parent, [created, hostAdded]).whenDeleting().thenNext('delete', { type: 'DeleteService', service: svc });
    assert.throws(() => walk((view) => planDeleteService(svc, view), live.parent, [created, hostAdded]), /still has 1 host/);
  });

  test('deleted but still linked (this delete, or one that stopped half-way): unlink', () => {
    given(live.parent, [created, deleted]).whenDeleting()
      .thenNext('unlink', { type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' });
  });

  test('nothing there: not found', () => {
    given([firstCreated]).whenDeleting().thenFails('not_found', /service Flight\.mod_flight does not exist/);
    given([]).whenDeleting().thenFails('not_found', /does not exist/);
  });

  test('nothing there after this request deleted and unlinked it: done', () => {
    given([...live.parent, unlinked], [created, deleted], ['ServiceDeleted', 'ChildServiceUnlinked']).whenDeleting().thenDone();
  });

  test('being created and not created yet: refused, so the creation in progress keeps its name', () => {
    given([firstCreated, claimed()]).whenDeleting()
      .thenFails('conflict', /Flight\.mod_flight is being created; wait for that request to finish, or send the same creation again/);
  });

  test('being created and already created: finish that creation (link), then delete', () => {
    given([firstCreated, claimed()], [created]).whenDeleting()
      .thenNext('link', { type: 'LinkChildService', parent: 'Flight', child: 'mod_flight' });
    assert.deepEqual(types(walk((view) => planDeleteService(svc, view), [firstCreated, claimed()], [created])),
      ['ChildServiceLinked', 'ServiceDeleted', 'ChildServiceUnlinked']);
  });

  test('created again after this request deleted it: the new service is not deleted by a retry', () => {
    given([...live.parent, unlinked, claimed(), linked], [created, deleted, created], ['ServiceDeleted']).whenDeleting().thenDone();
  });

  test('a new creation of the name runs after this request finished: done', () => {
    given([...live.parent, unlinked, claimed()], [created, deleted], ['ServiceDeleted', 'ChildServiceUnlinked']).whenDeleting().thenDone();
  });

  test('a service its parent does not link (left by consoles without claims) is deleted all the same', () => {
    given([firstCreated], [created]).whenDeleting().thenNext('delete', { type: 'DeleteService', service: svc });
  });

  test('only two-level names', () => {
    given([firstCreated]).whenDeleting('Flight').thenFails('invalid', /only a first level/);
  });
});

describe('service-tree workflow: first-level services', () => {
  test('deleting a first level is one step, refused by the first level while it holds a child', () => {
    given([firstCreated]).whenDeletingFirstLevel().thenNext('delete first level', { type: 'DeleteFirstLevelService', name: 'Flight' });
    assert.throws(() => walk((view) => planDeleteFirstLevel('Flight', view), [firstCreated, claimed()]), /still has second-level services \(Flight\.mod_flight \(being created\)\)/);
  });

  test('a first-level delete that landed is done', () => {
    given([firstCreated, { type: 'FirstLevelServiceDeleted', data: { name: 'Flight' } }], [], ['FirstLevelServiceDeleted']).whenDeletingFirstLevel().thenDone();
  });

  test('creating a first level is one step; once it landed, done', () => {
    given([]).whenCreatingFirstLevel().thenNext('create first level', { type: 'CreateFirstLevelService', name: 'Flight', kind: 'standard' });
    given([firstCreated], [], ['FirstLevelServiceCreated']).whenCreatingFirstLevel().thenDone();
  });
});
