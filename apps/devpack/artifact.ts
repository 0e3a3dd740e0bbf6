/**
 * `scripts/artifact.mjs` of a dev package: `npm run artifact` builds the release artifact, a
 * .tgz with `start` (0755), `server.mjs` (server.ts and its dependencies bundled by esbuild)
 * and the .proto files the code reads at run time, which msec's agent unpacks into
 * `<install>/bin/` and runs as `./start` on hosts that have Node and nothing else. The
 * script is plain JS (node builtins and esbuild only); its source is artifact-script.mjs.
 */
import { readFileSync } from 'node:fs';

export const artifactScriptPath = 'scripts/artifact.mjs';

export const artifactScript: string = readFileSync(new URL('./artifact-script.mjs', import.meta.url), 'utf8');

/** Where `npm run artifact` writes the .tgz, relative to the project (it prints the absolute path). */
export const artifactFile = (packageName: string, version: string) => `dist/${packageName.replace(/[^A-Za-z0-9._-]/g, '_')}-${version}.tgz`;
