#!/usr/bin/env node
// Runs test files with node's test runner (Node 20 does not expand globs itself).
// Usage: node tests/run.mjs [unit|contract|e2e|browser ...]  (default: all suites)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'contract', 'e2e', 'browser'];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
};
for (const s of suites) walk(join('tests', s));
if (files.length === 0) {
  console.error(`no test files found under ${suites.map((s) => `tests/${s}`).join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
