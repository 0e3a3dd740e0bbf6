import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, RowsDigest, stateDigest } from '../../../apps/projector/digest.ts';

describe('canonical JSON digests', () => {
  it('ignore the order keys were inserted in, at every depth', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'é' } }), '{"a":{"c":"é","d":[1,{"x":1,"y":2}]},"b":1}');
    assert.equal(stateDigest({ b: 1, a: 2 }), stateDigest({ a: 2, b: 1 }));
  });

  it('read a state the way JSON stores it: undefined members left out, in arrays null', () => {
    assert.equal(canonicalJson({ a: undefined, b: [undefined, null] }), '{"b":[null,null]}');
    assert.equal(stateDigest({ a: undefined, b: 1 }), stateDigest(JSON.parse(JSON.stringify({ a: undefined, b: 1 }))));
  });

  it('tell different states apart, including array order', () => {
    assert.notEqual(stateDigest([1, 2]), stateDigest([2, 1]));
    assert.notEqual(stateDigest({ a: '1' }), stateDigest({ a: 1 }));
    assert.match(stateDigest({}), /^sha256:[0-9a-f]{64}$/);
  });

  it('digest rows the same whatever the paging', () => {
    const rows = [{ eventId: 'a', position: 1 }, { position: 2, eventId: 'b' }, { eventId: 'c', position: 3 }];
    const whole = new RowsDigest();
    whole.add(rows);
    const paged = new RowsDigest();
    paged.add(rows.slice(0, 1));
    paged.add(rows.slice(1));
    assert.equal(whole.digest(), paged.digest());
  });
});
