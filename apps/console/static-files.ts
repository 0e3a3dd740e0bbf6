/**
 * Serves the web UI from apps/console/web (read once, kept in memory: it is small), plus the
 * browser libraries it uses from node_modules under /vendor/ (bundled with msec: no CDN).
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
};

export const webRoot = fileURLToPath(new URL('./web/', import.meta.url));

/** URL under /vendor/ → file of an npm package (ES modules and their CSS). */
const vendor: Record<string, [pkg: string, file: string]> = {
  '/vendor/uPlot.esm.js': ['uplot', 'dist/uPlot.esm.js'],
  '/vendor/uPlot.min.css': ['uplot', 'dist/uPlot.min.css'],
  '/vendor/dagre.esm.js': ['@dagrejs/dagre', 'dist/dagre.esm.js'],
};

function loadVendor(files: Map<string, { body: Buffer; type: string }>): void {
  const require = createRequire(import.meta.url);
  for (const [url, [pkg, file]] of Object.entries(vendor)) {
    // The package's folder: where its entry point lives, up to node_modules/<pkg> (its exports hide the rest).
    const entry = require.resolve(pkg);
    const root = entry.slice(0, entry.lastIndexOf(`${sep}node_modules${sep}${pkg.split('/').join(sep)}${sep}`) + `${sep}node_modules${sep}${pkg}`.length);
    const path = join(root, file);
    files.set(url, { body: readFileSync(path), type: types[extname(path)] ?? 'application/octet-stream' });
  }
}

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
  if (root === webRoot) loadVendor(files);
  return files;
}
