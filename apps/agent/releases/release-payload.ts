/**
 * What a release command may ask for, judged before anything is fetched or touched: names that
 * become paths under the agent's root (service, plan, library file), the operation and release
 * type, and that the signature binds exactly this service's install folder and every file's
 * digest (the console is trusted only through what it signed).
 */
import type { CommandBody, ReleaseFile, ReleasePayload, ReleaseType } from '../../../schemas/agent.ts';

export interface ServiceName {
  service: string;
  first: string;
  second: string;
}

const namePart = /^[A-Za-z0-9_-]{1,64}$/;
// Starts with a letter or digit: never "." or "..", never a hidden or option-like folder.
const planIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const libraryNamePattern = /^(?!\.\.?$)[A-Za-z0-9._+-]{1,128}$/;
const digestPattern = /^[0-9a-f]{64}$/;
const releaseTypes: readonly ReleaseType[] = ['complete', 'only_config', 'only_artifact', 'only_library'];

/** `First.Second`, each part 1 to 64 of [A-Za-z0-9_-], or undefined. */
export function serviceName(service: string): ServiceName | undefined {
  const parts = service.split('.');
  if (parts.length !== 2 || !namePart.test(parts[0]!) || !namePart.test(parts[1]!)) return undefined;
  return { service, first: parts[0]!, second: parts[1]! };
}

/** The install folder of a service, relative to the agent's root: what a release command's `paths` must bind. */
export function installPathOf(name: ServiceName): string {
  return `msec/${name.first}/${name.second}`;
}

/** A payload's artifact or config is absent when unset or empty (protobuf gives null, or a message of defaults). */
export function isSet(f: ReleaseFile | null | undefined): f is ReleaseFile {
  return !!f && f.sha256 !== '';
}

/** Files a payload names: the artifact and config when set, and every library. */
export function filesOf(p: ReleasePayload): ReleaseFile[] {
  return [...[p.artifact, p.config].filter(isSet), ...p.libraries];
}

/** Why this payload cannot be run at all (names, operation, type), or undefined. Nothing about files being there. */
export function payloadProblem(p: ReleasePayload): string | undefined {
  if (!serviceName(p.service)) return `the service name ${JSON.stringify(p.service)} is not First.Second (each part 1 to 64 letters, digits, _ or -)`;
  if (!planIdPattern.test(p.planId)) return `the plan id ${JSON.stringify(p.planId)} is not one (letters, digits, ., _ or -, at most 128)`;
  if (!['install', 'rollback', 'uninstall'].includes(p.operation)) return `unknown release operation ${JSON.stringify(p.operation)}: install, rollback or uninstall`;
  if (p.operation === 'install' && !releaseTypes.includes(p.releaseType as ReleaseType)) {
    return `unknown release type ${JSON.stringify(p.releaseType)}: ${releaseTypes.join(', ')}`;
  }
  if (p.operation === 'install' && !(p.port >= 1 && p.port <= 65535)) return `the port ${p.port} is not one (1 to 65535): the service listens on it and its health is checked there`;
  for (const f of filesOf(p)) if (!digestPattern.test(f.sha256)) return `${JSON.stringify(f.sha256)} is not a sha256 digest`;
  const names = new Set<string>();
  for (const lib of p.libraries) {
    if (!libraryNamePattern.test(lib.name)) return `the library file name ${JSON.stringify(lib.name)} is not one file name (letters, digits, ., _, + or -)`;
    if (names.has(lib.name)) return `the library file ${lib.name} is named twice`;
    names.add(lib.name);
  }
  return undefined;
}

/** Why the signed body does not bind this payload (or the payload is not runnable), or undefined. */
export function releaseCommandProblem(body: Pick<CommandBody, 'paths' | 'fileSha256'>, p: ReleasePayload): string | undefined {
  const problem = payloadProblem(p);
  if (problem) return problem;
  const path = installPathOf(serviceName(p.service)!);
  if (body.paths.length !== 1 || body.paths[0] !== path) return `the signature binds the paths ${JSON.stringify(body.paths)}, not [${JSON.stringify(path)}]: nothing was touched`;
  const unbound = filesOf(p).filter((f) => !body.fileSha256.includes(f.sha256));
  if (unbound.length) return `the signature does not bind the file digest ${unbound[0]!.sha256}: nothing was touched`;
  return undefined;
}

/** The files an install of this type uses (others the payload names are neither fetched nor written). */
export function filesUsedBy(p: ReleasePayload): { artifact?: ReleaseFile; config?: ReleaseFile; libraries: ReleaseFile[] } {
  const t = p.releaseType;
  return {
    ...(isSet(p.artifact) && (t === 'complete' || t === 'only_artifact') ? { artifact: p.artifact } : {}),
    ...(isSet(p.config) && (t === 'complete' || t === 'only_config') ? { config: p.config } : {}),
    libraries: t === 'complete' || t === 'only_library' ? p.libraries : [],
  };
}

/** Why an install of this type lacks a file it needs (the `pushed` step fails on it), or undefined. */
export function missingFileProblem(p: ReleasePayload): string | undefined {
  const has = isSet;
  switch (p.releaseType) {
    case 'complete':
      if (!has(p.artifact) || !has(p.config)) return `a complete release needs the artifact and the config file; this one has ${[has(p.artifact) && 'the artifact', has(p.config) && 'the config'].filter(Boolean).join(' and ') || 'neither'}: nothing was touched`;
      return undefined;
    case 'only_config':
      return has(p.config) ? undefined : 'an only_config release needs the config file, and has none: nothing was touched';
    case 'only_artifact':
      return has(p.artifact) ? undefined : 'an only_artifact release needs the artifact, and has none: nothing was touched';
    case 'only_library':
      return p.libraries.length ? undefined : 'an only_library release needs at least one library file, and has none: nothing was touched';
    default:
      return `unknown release type ${JSON.stringify(p.releaseType)}`;
  }
}
