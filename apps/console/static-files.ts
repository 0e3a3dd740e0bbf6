/** Serves the web UI from apps/console/web (read once, kept in memory: it is small). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
};

export const webRoot = fileURLToPath(new URL('./web/', import.meta.url));

export function loadStaticFiles(root = webRoot): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  const walk = (dir: string) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(`/${relative(root, p).split('\\').join('/')}`, { body: readFileSync(p), type: types[extname(p)] ?? 'application/octet-stream' });
    }
  };
  walk(root);
  return files;
}
