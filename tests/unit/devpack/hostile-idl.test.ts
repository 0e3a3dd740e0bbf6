import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devPackage } from '../../../apps/devpack/index.ts';
import { idlModel } from '../../../apps/devpack/idl-model.ts';
import { fieldsPerGeneration, fieldsPerValue } from '../../../apps/devpack/defaults.ts';
import { chainIdl, recursiveIdl } from './hostile-idls.ts';

/**
 * IDLs written to make the generator's work explode (security review, finding 3): default
 * values used to expand every required message field to depth 8 for every RPC, so a 200-byte
 * IDL produced fields^8 × RPCs of source. The work is now bounded; these fail without it.
 */

const sizeOf = (files: ReadonlyMap<string, string>) => [...files.values()].reduce((n, text) => n + text.length, 0);
const keysIn = (json: string) => (json.match(/"[^"]*":/g) ?? []).length;

test('a tiny recursive IDL: a type is not expanded inside itself, the cut default is cast, the output stays small', () => {
  const idl = recursiveIdl(4, 4);
  assert.ok(idl.length < 260, `the IDL is ${idl.length} bytes`);
  const started = performance.now();
  const files = devPackage({ service: 'Evil.recursive', idlTag: 'v1', idlText: idl, msecRoot: '/x' });
  console.log(`recursive IDL of ${idl.length} bytes: ${sizeOf(files)} bytes generated in ${(performance.now() - started).toFixed(0)} ms`);
  // Before the fix: 5.5 MB (4^8 nested objects per default, for every RPC).
  assert.ok(sizeOf(files) < 50_000, `${sizeOf(files)} bytes generated`);
  const impl = files.get('src/S_impl.ts')!;
  // No finite A exists (every A requires an A): the default leaves the cycle out and says so.
  assert.match(impl, /return \{\} as A;/);
  assert.match(files.get('client.ts')!, /import type \{ A \} from '\.\/src\/types\.ts';/);
  assert.match(files.get('client.ts')!, /await stub\.m0\(\{\} as A, \{ timeoutMs: 800 \}\)/);
});

test('a chain of required messages (no cycle): one default holds at most fieldsPerValue fields', () => {
  // B0 holds 6 B1, each holds 6 B2, … : 6^6 = 46 656 leaves for a complete default.
  const model = idlModel(chainIdl(6, 6, 2));
  const json = model.exampleJson('B0');
  assert.ok(keysIn(json) <= fieldsPerValue, `${keysIn(json)} fields in one default`);
  assert.ok(keysIn(json) > fieldsPerValue / 2, 'the budget is used, not thrown away');
  assert.match(model.defaultOf('B0'), / as B0$/, 'the cut default is cast');
  // A short chain fits: complete, no cast.
  assert.doesNotMatch(idlModel(chainIdl(3, 3, 1)).defaultOf('B0'), / as /);
});

test('many RPCs of a large message: one generation emits at most fieldsPerGeneration default fields', () => {
  const fields = Array.from({ length: 1500 }, (_, i) => `string f${i} = ${i + 1};`).join(' ');
  const rpcs = Array.from({ length: 300 }, (_, i) => `rpc m${i}(W) returns (W);`).join(' ');
  const files = devPackage({ service: 'Evil.wide', idlTag: 'v1', idlText: `syntax = "proto3"; message W { ${fields} } service S { ${rpcs} }`, msecRoot: '/x' });
  const emitted = [...files].filter(([path]) => path !== 'src/types.ts')
    .reduce((n, [, text]) => n + (text.match(/\bf\d+: ''/g) ?? []).length, 0);
  // Before the fix: 300 RPCs × (request + answer) × 1500 = 900 000.
  assert.ok(emitted <= fieldsPerGeneration, `${emitted} default fields emitted`);
  assert.ok(files.get('src/S_impl.ts')!.includes('export async function m299('), 'every RPC still has its handler');
});
