/** Dev packages and caller stubs generated from an IDL version, and the tarball they download as. */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { defaultEsbuildVersion, defaultTsxVersion, devPackage as generateDevPackage, type DevPackageInput, type GeneratedFiles } from './project.ts';

export { protoFileName, type DevPackageInput, type GeneratedFiles } from './project.ts';
export { artifactFile, artifactScriptPath } from './artifact.ts';
export { callerStubs, type CallerStubsInput } from './stubs.ts';
export { tar, tarGz, type TarFiles, type TarOptions } from './tar.ts';

/** The root of this msec installation: what a generated project's `msec` dependency points at. */
export const msecRoot: string = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/+$/, '');

/** The tsx range msec itself depends on, so generated projects run on the same one. */
export const tsxVersion: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(`${msecRoot}/package.json`, 'utf8')) as { dependencies?: Record<string, string> };
    return pkg.dependencies?.tsx ?? defaultTsxVersion;
  } catch {
    return defaultTsxVersion;
  }
})();

/**
 * The esbuild msec itself has (`node_modules/esbuild`, tsx's), as a caret range: a generated
 * project's `npm run artifact` bundles with the same one, and npm installs it once.
 */
export const esbuildVersion: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(`${msecRoot}/node_modules/esbuild/package.json`, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' && /^\d+\.\d+\.\d+$/.test(pkg.version) ? `^${pkg.version}` : defaultEsbuildVersion;
  } catch {
    return defaultEsbuildVersion;
  }
})();

/** Every file of a dev package (project.ts); esbuild's version is msec's own unless given. */
export function devPackage(input: DevPackageInput): GeneratedFiles {
  return generateDevPackage({ ...input, esbuildVersion: input.esbuildVersion ?? esbuildVersion });
}

/** Folder names inside the downloads: `Flight.mod_flight-v1-dev`, `Flight.mod_flight-v1-stubs`. */
export const devPackageRoot = (service: string, tag: string) => `${service}-${safeTag(tag)}-dev`;
export const stubsRoot = (service: string, tag: string) => `${service}-${safeTag(tag)}-stubs`;

/** A tag as part of a file name: anything but letters, digits, `.`, `_`, `-` becomes `_`. */
export function safeTag(tag: string): string {
  return tag.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}
