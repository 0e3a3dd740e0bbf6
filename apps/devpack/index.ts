/** Dev packages and caller stubs generated from an IDL version, and the tarball they download as. */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { defaultTsxVersion } from './project.ts';

export { devPackage, protoFileName, type DevPackageInput, type GeneratedFiles } from './project.ts';
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

/** Folder names inside the downloads: `Flight.mod_flight-v1-dev`, `Flight.mod_flight-v1-stubs`. */
export const devPackageRoot = (service: string, tag: string) => `${service}-${safeTag(tag)}-dev`;
export const stubsRoot = (service: string, tag: string) => `${service}-${safeTag(tag)}-stubs`;

/** A tag as part of a file name: anything but letters, digits, `.`, `_`, `-` becomes `_`. */
export function safeTag(tag: string): string {
  return tag.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}
