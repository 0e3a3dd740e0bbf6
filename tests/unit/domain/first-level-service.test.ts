import { describe, test } from 'node:test';
import { firstLevelDecider, type ServiceEvent } from '../../../domain/services/index.ts';
import { spec } from '../support/given-when-then.ts';

const created = (name = 'Flight', kind: 'standard' | 'odd' = 'standard'): ServiceEvent =>
  ({ type: 'FirstLevelServiceCreated', data: { name, kind } });
const deleted = (name = 'Flight'): ServiceEvent => ({ type: 'FirstLevelServiceDeleted', data: { name } });
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

  test('once its children are unlinked the first level can be deleted', () => {
    firstLevel.given([created(), linked('mod_a'), unlinked('mod_a')]).when({ type: 'DeleteFirstLevelService', name: 'Flight' })
      .then([deleted()]);
  });

  test('RESERVED cannot be deleted', () => {
    firstLevel.given([created('RESERVED', 'odd')]).when({ type: 'DeleteFirstLevelService', name: 'RESERVED' })
      .thenFails('forbidden', /RESERVED is required by the monitor and log services and cannot be deleted/);
  });
});

describe('first-level service: link and unlink children', () => {
  test('linking under a missing first level creates it first', () => {
    firstLevel.given([]).when({ type: 'LinkChildService', parent: 'Flight', child: 'mod_flight', kind: 'standard' })
      .then([created('Flight', 'standard'), linked('mod_flight')]);
  });

  test('linking under an existing first level links only', () => {
    firstLevel.given([created()]).when({ type: 'LinkChildService', parent: 'Flight', child: 'mod_flight', kind: 'standard' })
      .then([linked('mod_flight')]);
  });

  test('linking an already linked child decides nothing', () => {
    firstLevel.given([created(), linked('mod_flight')])
      .when({ type: 'LinkChildService', parent: 'Flight', child: 'mod_flight', kind: 'standard' })
      .thenNothing();
  });

  test('an odd child cannot go under a standard first level', () => {
    firstLevel.given([created('Flight', 'standard')]).when({ type: 'LinkChildService', parent: 'Flight', child: 'mysql', kind: 'odd' })
      .thenFails('invalid', /Flight is a standard first-level service, so Flight\.mysql \(odd\) cannot go under it; .*create it under an odd/);
  });

  test('a standard child cannot go under an odd first level', () => {
    firstLevel.given([created('Legacy', 'odd')]).when({ type: 'LinkChildService', parent: 'Legacy', child: 'svc', kind: 'standard' })
      .thenFails('invalid', /Legacy is an odd \(heterogeneous\) first-level service, so Legacy\.svc \(standard\)/);
  });

  test('users cannot link children under RESERVED', () => {
    firstLevel.given([created('RESERVED', 'odd')]).when({ type: 'LinkChildService', parent: 'RESERVED', child: 'mine', kind: 'odd' })
      .thenFails('forbidden', /RESERVED is reserved/);
  });

  test('the system links RESERVED.monitor, creating RESERVED', () => {
    firstLevel.given([]).when({ type: 'LinkChildService', parent: 'RESERVED', child: 'monitor', kind: 'odd', system: true })
      .then([created('RESERVED', 'odd'), linked('monitor', 'RESERVED')]);
  });

  test('the child must be the second level alone', () => {
    firstLevel.given([created()]).when({ type: 'LinkChildService', parent: 'Flight', child: 'Flight.mod', kind: 'standard' })
      .thenFails('invalid', /second-level name only/);
  });

  test('a linked child is unlinked', () => {
    firstLevel.given([created(), linked('mod_flight')]).when({ type: 'UnlinkChildService', parent: 'Flight', child: 'mod_flight' })
      .then([unlinked('mod_flight')]);
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
