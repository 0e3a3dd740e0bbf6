/** Request ids (MSEC's flow_id): random, non-zero, 64-bit, as decimal strings. */
import { randomFillSync } from 'node:crypto';

// Drawn 256 at a time: one call into the system's random source per call made is most of a
// small RPC's CPU time on some machines.
const ids = new BigUint64Array(256);
let next = ids.length;

export function newRequestId(): string {
  for (;;) {
    if (next === ids.length) {
      randomFillSync(ids);
      next = 0;
    }
    const id = ids[next++]!;
    if (id !== 0n) return id.toString();
  }
}
