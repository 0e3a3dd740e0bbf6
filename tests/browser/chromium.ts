/** Debian's chromium for the browser tests, headless, and where their screenshots go. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'tests', 'artifacts');

/** Launches headless chromium (no network chatter of its own) and makes sure ARTIFACTS exists. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run \`bash tests/setup/install-system-deps.sh\` (installs Debian's chromium) and run the browser tests again`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

