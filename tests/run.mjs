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
// Two files at a time by default (CI has 2 cores); MSEC_TEST_CONCURRENCY=1 runs them one by one.
const concurrency = Number(process.env.MSEC_TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`MSEC_TEST_CONCURRENCY must be a whole number of at least 1, not ${process.env.MSEC_TEST_CONCURRENCY}`);
  process.exit(2);
}
// Each file gets at most 15 minutes (MSEC_TEST_FILE_TIMEOUT_S): a file that hangs, or whose
// process cannot exit because something it started still runs, is cancelled and reported as
// failed with its name, instead of holding the whole run until CI gives up on it.
const fileTimeoutS = Number(process.env.MSEC_TEST_FILE_TIMEOUT_S ?? 900);
if (!Number.isInteger(fileTimeoutS) || fileTimeoutS < 1) {
  console.error(`MSEC_TEST_FILE_TIMEOUT_S must be a whole number of seconds, at least 1, not ${process.env.MSEC_TEST_FILE_TIMEOUT_S}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${fileTimeoutS * 1000}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
