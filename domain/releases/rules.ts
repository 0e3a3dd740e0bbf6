/** Rules shared by the release aggregates: types, names, limits, and the config a host gets. */
import { refuse } from '../decider.ts';
import { parseIni } from '../services/ini.ts';

export type ReleaseType = 'complete' | 'only_config' | 'only_artifact' | 'only_library';
export const releaseTypes: readonly ReleaseType[] = ['complete', 'only_config', 'only_artifact', 'only_library'];

/** An artifact is a service build: large enough for a bundled runtime, small enough to push to hundreds of hosts. */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;
export const MAX_LIBRARY_BYTES = 64 * 1024 * 1024;
export const MAX_PLAN_HOSTS = 1000;
export const MAX_LIBRARY_FILES = 100;

export function checkReleaseType(type: string): ReleaseType {
  if (!(releaseTypes as readonly string[]).includes(type)) {
    return refuse('invalid', `release type "${type}" is unknown; use complete, only_config, only_artifact or only_library`);
  }
  return type as ReleaseType;
}

/** A library file lands in bin/lib/<name> on every host: one plain file name, no path. */
export function checkLibraryName(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/.test(name)) {
    return refuse('invalid', `library file name "${String(name).slice(0, 140)}" is not valid; use 1-128 letters, digits, ".", "_", "+" or "-" (a file name, no folders)`);
  }
  return name;
}

export function checkDigest(sha256: string, what: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) return refuse('invalid', `${what} needs a sha256 (64 hex digits)`);
  return sha256;
}

export function checkFileSize(size: number, max: number, what: string): number {
  if (!Number.isSafeInteger(size) || size <= 0) return refuse('invalid', `${what} is empty: upload the file itself`);
  if (size > max) return refuse('invalid', `${what} is ${size} bytes; the limit is ${max} bytes (${Math.round(max / 1048576)} MiB)`);
  return size;
}

/** Plan ids are MSEC's `yyyyMMddHHmmss_<random>`, made by the console. */
export function checkPlanId(id: string): string {
  if (typeof id !== 'string' || !/^\d{14}_[0-9a-z]{6}$/.test(id)) return refuse('invalid', `"${String(id).slice(0, 40)}" is not a release plan id (yyyyMMddHHmmss_xxxxxx)`);
  return id;
}

export function newPlanId(nowMs: number, random: string): string {
  const d = new Date(nowMs);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}_${random}`;
}

/**
 * The config a host gets: the saved version with `[SRPC] listen` set to the host's port on TCP
 * and UDP (MSEC's console did the same), whatever the version said; every other line as written.
 */
export function configForHost(text: string, port: number): string {
  parseIni(text); // a saved version parses; checked again so a broken one never reaches a host
  const listen = `listen=${port}/tcp ${port}/udp`;
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  let section = '';
  let written = false;
  const sectionOf = (line: string) => /^\s*\[([^\]]*)\]/.exec(line)?.[1]?.trim() ?? null;
  for (const line of lines) {
    const next = sectionOf(line);
    if (next !== null) {
      if (section.toUpperCase() === 'SRPC' && !written) {
        out.push(listen);
        written = true;
      }
      section = next;
      out.push(line);
      continue;
    }
    if (section.toUpperCase() === 'SRPC' && /^\s*listen\s*=/i.test(line)) {
      if (!written) out.push(listen);
      written = true;
      continue;
    }
    out.push(line);
  }
  if (!written) {
    if (section.toUpperCase() === 'SRPC') out.push(listen);
    else out.push(...(out.length ? [''] : []), '[SRPC]', listen);
  }
  return `${out.join('\n')}\n`;
}
