/** IDLs that make a generator's work explode if it is not bounded (hostile-idl tests). */

/** `message A { required A f0 = 1; … }` and `rpcs` RPCs taking and answering A: about 200 bytes. */
export function recursiveIdl(fields: number, rpcs: number): string {
  const f = Array.from({ length: fields }, (_, i) => `required A f${i}=${i + 1};`).join('');
  const r = Array.from({ length: rpcs }, (_, i) => `rpc m${i}(A)returns(A);`).join('');
  return `syntax="proto2";message A{${f}}service S{${r}}\n`;
}

/** B0 requires `width` B1, each B1 `width` B2, … down to B`depth` (a string): no cycle, width^depth leaves. */
export function chainIdl(width: number, depth: number, rpcs: number): string {
  const messages = Array.from({ length: depth }, (_, level) =>
    `message B${level} { ${Array.from({ length: width }, (_, j) => `required B${level + 1} f${j} = ${j + 1};`).join(' ')} }`);
  const r = Array.from({ length: rpcs }, (_, i) => `rpc m${i}(B0) returns (B0);`).join(' ');
  return `syntax = "proto2"; ${messages.join(' ')} message B${depth} { required string s = 1; } service S { ${r} }\n`;
}

/** One message of `fields` string fields: protobufjs parses it in time quadratic in `fields`. */
export function wideIdl(fields: number): string {
  const f = Array.from({ length: fields }, (_, i) => `string f${i} = ${i + 1};`).join(' ');
  return `syntax = "proto3"; message W { ${f} } service S { rpc m(W) returns (W); }\n`;
}
