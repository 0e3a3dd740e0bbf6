import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldBatch } from '../../../apps/projector/fold-batch.ts';
import type { RowProjection } from '../../../projections/projection.ts';
import { usersProjection } from '../../../projections/users.ts';
import * as e from '../projections/events.ts';

describe('foldBatch', () => {
  const events = e.recorded([e.hostAdded('A.b', '10.0.0.1:1'), e.userCreated('alice'), e.userCreated('bob')]);

  it('folds the handled events of a batch into a state and says whether any was handled', () => {
    const folded = foldBatch(usersProjection, usersProjection.initialState(), events);
    assert.equal(folded.touched, true);
    assert.equal((folded.state as { users: unknown[] }).users.length, 2);
    assert.equal(foldBatch(usersProjection, usersProjection.initialState(), events.slice(0, 1)).touched, false);
  });

  it('gives rows the position of their event when the projection set none', () => {
    const names: RowProjection<{ eventId: string; name: string }> = {
      kind: 'rows', name: 'names', version: 1, handles: ['UserCreated'],
      rows: (event) => [{ eventId: event.id, name: (event.data as { name: string }).name }],
    };
    assert.deepEqual(foldBatch(names, null, events).rows, [
      { eventId: e.eventId(2), name: 'alice', position: 2 },
      { eventId: e.eventId(3), name: 'bob', position: 3 },
    ]);
  });
});
