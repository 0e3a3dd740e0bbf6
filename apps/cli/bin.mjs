#!/usr/bin/env node
// Entry point of `msec` (package.json "bin"). Plain JS so it runs without a build: it teaches
// node TypeScript (tsx), then runs main.ts. import.meta.url is the real path even through
// npm's symlink, so the relative import works from any working directory.
import process from 'node:process';
import { register } from 'tsx/esm/api';

// `msec events tail -f | head`: the reader went away, which is an ordinary way to finish.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
// Exit once stdout is flushed: an idle keep-alive socket or a paused stdin must not hold us.
process.stdout.write('', () => process.exit(code));
