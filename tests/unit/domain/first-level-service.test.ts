import { describe, test } from 'node:test';
import { firstLevelDecider, type ServiceEvent } from '../../../domain/services/index.ts';
import { spec } from '../support/given-when-then.ts';

const created = (name = 'Flight', kind: 'standard' | 'odd' = 'standard'): ServiceEvent =>
  ({ type: 'FirstLevelServiceCreated', data: { name, kind } });
const deleted = (name = 'Flight'): ServiceEvent => ({ type: 'FirstLevelServiceDeleted', data: { name } });
const claimed = (child: string, parent = 'Flight', settings: { kind: 'standard' | 'odd'; lang: string; port: number } = { kind: 'standard', lang: 'go', port: 7963 }): ServiceEvent =>
  ({ type: 'ChildServiceClaimed', data: { parent, child, ...settings } });
const linked = (child: string, parent = 'Flight'): ServiceEvent => ({ type: 'ChildServiceLinked', data: { parent, child } });
const unlinked = (child: string, parent = 'Flight'): ServiceEvent => ({ type: 'ChildServiceUnlinked', data: { parent, child } });

const firstLevel = spec(firstLevelDecider);

describe('first-level service: create', () => {
  test('a new first level is created with its kind', () => {
    firstLevel.given([]).when({ type: 'CreateFirstLevelService', name: 'Flight', kind: 'standard' })
      .then([created('Flight', 'standard')]);
  });

  test('creating an existing first level is a conflict', () => {
    firstLevel.given([created()]).when({ type: 'CreateFirstLevelService', name: 'Flight', kind: 'standard' })
      .thenFails('conflict', /Flight already exists/);
  });

  test('a deleted first level can be created again, even with the other kind', () => {
    firstLevel.given([created(), deleted()]).when({ type: 'CreateFirstLevelService', name: 'Flight', kind: 'odd' })
      .then([created('Flight', 'odd')]);
  });

  test('an invalid name is refused', () => {
    firstLevel.given([]).when({ type: 'CreateFirstLevelService', name: '9lives', kind: 'standard' })
      .thenFails('invalid', /must start with a letter/);
  });

  test('a two-level name is not a first level', () => {
    firstLevel.given([]).when({ type: 'CreateFirstLevelService', name: 'Flight.mod', kind: 'standard' })
      .thenFails('invalid', /first-level name has no dot/);
  });

  test('an unknown kind is refused', () => {
    firstLevel.given([]).when({ type: 'CreateFirstLevelService', name: 'Flight', kind: 'weird' as 'odd' })
      .thenFails('invalid', /use "standard" or "odd"/);
  });

  test('users cannot create RESERVED', () => {
    firstLevel.given([]).when({ type: 'CreateFirstLevelService', name: 'RESERVED', kind: 'odd' })
      .thenFails('forbidden', /RESERVED is reserved .*choose another first-level name/);
  });

  test('the system creates RESERVED', () => {
    firstLevel.given([]).when({ type: 'CreateFirstLevelService', name: 'RESERVED', kind: 'odd', system: true })
      .then([created('RESERVED', 'odd')]);
  });
});

describe('first-level service: delete', () => {
  test('an empty first level is deleted', () => {
    firstLevel.given([created()]).when({ type: 'DeleteFirstLevelService', name: 'Flight' }).then([deleted()]);
  });

  test('a missing first level is not found', () => {
    firstLevel.given([]).when({ type: 'DeleteFirstLevelService', name: 'Flight' }).thenFails('not_found', /Flight does not exist/);
  });

  test('a deleted first level is not found', () => {
    firstLevel.given([created(), deleted()]).when({ type: 'DeleteFirstLevelService', name: 'Flight' })
      .thenFails('not_found', /does not exist/);
  });

  test('children block the delete, and are named', () => {
    firstLevel.given([created(), linked('mod_b'), linked('mod_a')]).when({ type: 'DeleteFirstLevelService', name: 'Flight' })
      .thenFails('conflict', /still has second-level services \(Flight\.mod_a, Flight\.mod_b\); delete them first/);
  });

  test('a child being created blocks the delete too', () => {
    firstLevel.given([created(), claimed('mod_a')]).when({ type: 'DeleteFirstLevelService', name: 'Flight' })
      .thenFails('conflict', /still has second-level services \(Flight\.mod_a \(being created\)\)/);
  });

  test('once its children are unlinked the first level can be deleted', () => {
    firstLevel.given([created(), linked('mod_a'), unlinked('mod_a')]).when({ type: 'DeleteFirstLevelService', name: 'Flight' })
      .then([deleted()]);
  });

  test('RESERVED cannot be deleted', () => {
    firstLevel.given([created('RESERVED', 'odd')]).when({ type: 'DeleteFirstLevelService', name: 'RESERVED' })
      .thenFails('forbidden', /RESERVED is required by the monitor and log services and cannot be deleted/);
  });
});

describe('first-level service: claim, link and unlink children', () => {
  const claim = (child: string, over: Partial<{ parent: string; kind: 'standard' | 'odd'; lang: string; port: number; system: boolean }> = {}) =>
    ({ type: 'ClaimChildService' as const, parent: 'Flight', child, kind: 'standard' as const, lang: 'go', port: 7963, ...over });

  test('claiming under a missing first level creates it first', () => {
    firstLevel.given([]).when(claim('mod_flight'))
      .then([created('Flight', 'standard'), claimed('mod_flight')]);
  });

  test('claiming under an existing first level claims only', () => {
    firstLevel.given([created()]).when(claim('mod_flight')).then([claimed('mod_flight')]);
  });

  test('the same claim again decides nothing: a creation sent again resumes', () => {
    firstLevel.given([created(), claimed('mod_flight')]).when(claim('mod_flight')).thenNothing();
  });

  test('a claim with other settings is refused while the first one runs', () => {
    firstLevel.given([created(), claimed('mod_flight')]).when(claim('mod_flight', { port: 8000 }))
      .thenFails('conflict', /Flight\.mod_flight is being created by another request with other settings \(standard, go, port 7963\)/);
  });

  test('claiming a linked child is refused: the service exists', () => {
    firstLevel.given([created(), claimed('mod_flight'), linked('mod_flight')]).when(claim('mod_flight'))
      .thenFails('conflict', /Flight\.mod_flight already exists/);
  });

  test('a claim checks the settings the service will be created with', () => {
    firstLevel.given([created()]).when(claim('mod_flight', { lang: 'cobol' })).thenFails('invalid', /language "cobol" is not supported/);
    firstLevel.given([created()]).when(claim('mod_flight', { port: 70000 })).thenFails('invalid', /service port 70000 is out of range/);
  });

  test('an odd child cannot go under a standard first level', () => {
    firstLevel.given([created('Flight', 'standard')]).when(claim('mysql', { kind: 'odd', lang: '', port: 0 }))
      .thenFails('invalid', /Flight is a standard first-level service, so Flight\.mysql \(odd\) cannot go under it; .*create it under an odd/);
  });

  test('a standard child cannot go under an odd first level', () => {
    firstLevel.given([created('Legacy', 'odd')]).when(claim('svc', { parent: 'Legacy' }))
      .thenFails('invalid', /Legacy is an odd \(heterogeneous\) first-level service, so Legacy\.svc \(standard\)/);
  });

  test('users cannot claim children under RESERVED', () => {
    firstLevel.given([created('RESERVED', 'odd')]).when(claim('mine', { parent: 'RESERVED', kind: 'odd', lang: '', port: 0 }))
      .thenFails('forbidden', /RESERVED is reserved/);
  });

  test('the system claims RESERVED.monitor, creating RESERVED', () => {
    firstLevel.given([]).when(claim('monitor', { parent: 'RESERVED', kind: 'odd', lang: '', port: 0, system: true }))
      .then([created('RESERVED', 'odd'), claimed('monitor', 'RESERVED', { kind: 'odd', lang: '', port: 0 })]);
  });

  test('the child must be the second level alone', () => {
    firstLevel.given([created()]).when(claim('Flight.mod')).thenFails('invalid', /second-level name only/);
  });

  test('a claimed child is linked once its service exists', () => {
    firstLevel.given([created(), claimed('mod_flight')]).when({ type: 'LinkChildService', parent: 'Flight', child: 'mod_flight' })
      .then([linked('mod_flight')]);
  });

  test('linking a linked child decides nothing', () => {
    firstLevel.given([created(), claimed('mod_flight'), linked('mod_flight')])
      .when({ type: 'LinkChildService', parent: 'Flight', child: 'mod_flight' }).thenNothing();
  });

  test('a child nobody claimed is not linked', () => {
    firstLevel.given([created()]).when({ type: 'LinkChildService', parent: 'Flight', child: 'mod_flight' })
      .thenFails('not_found', /Flight\.mod_flight is not being created/);
  });

  test('a linked child is unlinked', () => {
    firstLevel.given([created(), claimed('mod_flight'), linked('mod_flight')]).when({ type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' })
      .then([unlinked('mod_flight')]);
  });

  test('a child linked by a log from before claims is unlinked too', () => {
    firstLevel.given([created(), linked('mod_flight')]).when({ type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' })
      .then([unlinked('mod_flight')]);
  });

  test('a claimed child is never unlinked: its creation may be about to create the service', () => {
    firstLevel.given([created(), claimed('mod_flight')]).when({ type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' })
      .thenFails('conflict', /Flight\.mod_flight is being created; wait for that request to finish, or send the same creation again/);
  });

  test('unlinking a child that is not linked decides nothing', () => {
    firstLevel.given([created()]).when({ type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' }).thenNothing();
  });

  test('unlinking under a missing first level decides nothing', () => {
    firstLevel.given([]).when({ type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' }).thenNothing();
  });

  test('children of a deleted first level do not come back with it', () => {
    firstLevel.given([created(), linked('mod_a'), unlinked('mod_a'), deleted(), created()])
      .when({ type: 'DeleteFirstLevelService', name: 'Flight' })
      .then([deleted()]);
  });
});
