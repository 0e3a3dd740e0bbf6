/** Shared by the devpack tests: the Flight IDL, temp folders, and `tar -xzf` of a download. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const flightProto = readFileSync(new URL('../../fixtures/flight.proto', import.meta.url), 'utf8');

/** An IDL using every shape: enums, 64-bit, maps, bytes, nested, oneof, reserved words, streaming, two services. */
export const richProto = `syntax = "proto3";
package shop.v1;
enum Currency { CNY = 0; USD = 1; }
message Item {
  string sku = 1;
  int64 price_cents = 2;
  Currency currency = 3;
  repeated string tags = 4;
  map<string, int32> stock = 5;
  bytes image = 6;
  message Dim { double w = 1; double h = 2; }
  Dim dim = 7;
  oneof promo { string coupon = 8; uint32 percent = 9; }
  optional bool gift = 10;
}
message ListRequest { uint64 after = 1; }
message ListResponse { repeated Item items = 1; }
message delete { string sku = 1; }
message Nothing {}
service Catalog {
  rpc List(ListRequest) returns (ListResponse);
  rpc delete(delete) returns (Nothing);
  rpc Watch(ListRequest) returns (stream Item);
}
service Admin { rpc Reset(Nothing) returns (Nothing); }
`;

export function tempDir(prefix = 'msec-devpack-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `dir`, by `/`-separated relative path. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p).split('\\').join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** Extracts a .tar.gz with the system's tar into a new folder; answers the folder. */
export function extract(tgz: Uint8Array, into: string): string {
  const file = join(into, 'download.tar.gz');
  writeFileSync(file, tgz);
  const out = join(into, 'out');
  mkdirSync(out, { recursive: true });
  execFileSync('tar', ['-xzf', file, '-C', out]);
  rmSync(file);
  return out;
}

export const msecCheckout = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/+$/, '');

/**
 * Makes `msec/rpc` resolve inside a generated project without npm: node_modules/msec links to
 * this checkout. Until the checkout's package.json exports `./rpc`, a one-file shim package
 * stands in (exports `./rpc` → the checkout's apps/rpc/index.ts). Also links @types for tsc.
 */
export function linkMsec(project: string): void {
  const modules = join(project, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(msecCheckout, 'package.json'), 'utf8')) as { exports?: Record<string, string> };
  if (pkg.exports?.['./rpc']) {
    symlinkSync(msecCheckout, join(modules, 'msec'), 'dir');
  } else {
    const shim = join(modules, 'msec');
    mkdirSync(shim);
    writeFileSync(join(shim, 'package.json'), JSON.stringify({ name: 'msec', type: 'module', exports: { './rpc': './rpc.ts' } }));
    writeFileSync(join(shim, 'rpc.ts'), `export * from '${msecCheckout}/apps/rpc/index.ts';\n`);
  }
  symlinkSync(join(msecCheckout, 'node_modules', '@types'), join(modules, '@types'), 'dir');
}

/** `tsc --noEmit -p project`: the error lines (empty when the project type-checks). */
export function typeCheck(project: string): string[] {
  const tsc = join(msecCheckout, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(project, 'tsconfig.json')], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    return [];
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const lines = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '');
    return lines.length ? lines : [e.message];
  }
}

/** Writes generated files under `dir`. */
export function writeTree(dir: string, files: ReadonlyMap<string, string>): void {
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** RPCs named like what generated code declares, what every object has, and JavaScript words. */
export const awkwardRpcs = ['handlers', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'default', 'delete', 'delete_', 'handlers_', 'Req'];
export const awkwardIdl = `syntax = "proto3";
package names;
message Req { string text = 1; }
message Rsp { string text = 1; }
service S {
${awkwardRpcs.map((name) => `  rpc ${name}(Req) returns (Rsp);`).join('\n')}
}
`;

/** The generated handler module with each TODO answering its RPC's name (throws when one is missing). */
export function signedImpl(impl: string): string {
  let out = impl;
  for (const name of awkwardRpcs) {
    const todo = `// TODO: the business logic of ${name}; \`request\` holds the caller's fields.\n  return { text: '' };`;
    if (!out.includes(todo)) throw new Error(`the handler of ${name} has no TODO:\n${impl}`);
    out = out.replace(todo, `return { text: '${name}' };`);
  }
  return out;
}
