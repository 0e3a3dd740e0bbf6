import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { devPackage } from '../../../apps/devpack/index.ts';
import { functionNames, literalKey } from '../../../apps/devpack/names.ts';
import { serve } from '../../../apps/rpc/server/serve.ts';
import type { Handler } from '../../../apps/rpc/server/handler-context.ts';
import { awkwardIdl, awkwardRpcs, linkMsec, signedImpl, tempDir, typeCheck, writeTree } from './support.ts';

/**
 * RPCs named like what the generated code declares (`handlers`) or what every object has
 * (`constructor`, `toString`…), or like JavaScript words (`default`, `delete`): the dev
 * package's handler module must still load, and serve() must route each RPC to its own
 * function. `rpc handlers(…)` used to declare `handlers` twice: the project did not start.
 */

test('function names: reserved, inherited and declared names are renamed, never onto another RPC', () => {
  const names = functionNames(['handlers', 'handlers_', 'constructor', '__proto__', 'default', 'delete', 'delete_', 'ok', 'NaN'], ['handlers']);
  assert.deepEqual([...names], [
    ['handlers', 'handlers__'], ['handlers_', 'handlers_'], ['constructor', 'constructor_'], ['__proto__', '__proto___'],
    ['default', 'default_'], ['delete', 'delete__'], ['delete_', 'delete_'], ['ok', 'ok'], ['NaN', 'NaN_'],
  ]);
  assert.equal(new Set(names.values()).size, names.size, 'every function has its own name');
  // `'__proto__': f` in an object literal sets the prototype; a computed key makes a property.
  const made = new Function('f', `return { ${literalKey('__proto__')}: f };`)(1) as object;
  assert.deepEqual(Object.getOwnPropertyDescriptor(made, '__proto__')?.value, 1);
});

test('a dev package whose RPCs are named handlers, constructor, toString, default, delete…: serve() runs each RPC\'s own function, and it type-checks', async () => {
  const files = devPackage({ service: 'Names.svc', idlTag: 'v1', idlText: awkwardIdl, msecRoot: '/unused' });
  const t = tempDir('msec-devpack-names-');
  const server = { close: async () => {} };
  try {
    writeTree(t.dir, files);
    linkMsec(t.dir);
    const implPath = join(t.dir, 'src', 'S_impl.ts');
    writeTree(t.dir, new Map([['src/S_impl.ts', signedImpl(files.get('src/S_impl.ts')!)]]));
    const { handlers } = await import(pathToFileURL(implPath).href) as { handlers: Record<string, Handler> };
    assert.deepEqual(Object.keys(handlers).sort(), [...awkwardRpcs].sort());
    const running = await serve({
      proto: join(t.dir, 'proto', 'names.proto'), name: 'Names.svc', listen: { host: '127.0.0.1', port: 0 }, logger: pino({ level: 'silent' }), handlers,
    });
    server.close = () => running.close();
    for (const name of awkwardRpcs) {
      const res = await fetch(`http://127.0.0.1:${running.address.port}/names.S.${name}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}',
      });
      const answer = await res.json() as { ret: number; errmsg: string; resultObj: { text: string } | null };
      assert.equal(answer.ret, 0, `${name}: ${answer.errmsg}`);
      assert.equal(answer.resultObj?.text, name, `${name} ran its own function`);
    }
    assert.deepEqual(typeCheck(t.dir), []);
  } finally {
    await server.close();
    t.remove();
  }
});

test('serve(): an RPC without a handler is METHOD_NOT_FOUND even when Object.prototype has its name', async () => {
  const proto = 'syntax = "proto3"; package p; message M { string text = 1; } service S { rpc ok(M) returns (M); rpc constructor(M) returns (M); rpc toString(M) returns (M); }';
  const running = await serve({
    proto, listen: { host: '127.0.0.1', port: 0 }, logger: pino({ level: 'silent' }),
    handlers: { ok: async (req: { text: string }) => ({ text: req.text }) },
  });
  try {
    for (const name of ['constructor', 'toString']) {
      const res = await fetch(`http://127.0.0.1:${running.address.port}/p.S.${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
      const answer = await res.json() as { ret: number; errmsg: string };
      assert.equal(answer.ret, 1001, `${name}: ${JSON.stringify(answer)}`);
      assert.match(answer.errmsg, new RegExp(`has no handler for "p\\.S\\.${name}"`));
    }
  } finally {
    await running.close();
  }
});
