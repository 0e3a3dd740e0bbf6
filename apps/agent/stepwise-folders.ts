/**
 * Creating folders one level at a time under a start folder, each looked at (lstat) before the
 * next is made under it, so nothing is ever created through a link that leads elsewhere (as
 * `mkdir -p` would). What is already there is judged by the caller: the release's archive
 * reader refuses anything but a real folder, the file writer accepts links that stay inside the
 * agent's root.
 */
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** Makes the missing folders of `parts` under `start`; `existing(at, st)` throws to refuse one that is there. Returns the last folder. */
export function makeFoldersStepwise(start: string, parts: readonly string[], existing: (at: string, st: Stats) => void): string {
  let at = start;
  for (const part of parts) {
    at = join(at, part);
    let st;
    try {
      st = lstatSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(at, { mode: 0o755 });
      continue;
    }
    existing(at, st);
  }
  return at;
}
