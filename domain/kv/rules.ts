/** Limits and checks of the KV's inputs, with messages that say what to write instead. */
import { refuse } from '../decider.ts';

export const KV_SLOTS = 16_384;
export const MAX_SETS = 64;
export const MAX_REPLICAS = 4;
export const MAX_INSTANCE_PORTS = 100;
export const MIN_MEMORY_BYTES = 1 << 20;
export const MAX_MEMORY_BYTES = 64 * 2 ** 30;
export const MIN_BASE_PORT = 1024;
/** The cluster bus listens on port + 10000: the last instance port must stay under 65536. */
export const MAX_BASE_PORT = 65_535 - 10_000 - (MAX_INSTANCE_PORTS - 1);
export const maxmemoryPolicies = ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl'] as const;
const namePattern = /^[a-z][a-z0-9_-]{0,39}$/;

export function checkClusterName(name: unknown): string {
  if (typeof name !== 'string' || !namePattern.test(name)) {
    return refuse('invalid', `a KV cluster name is 1 to 40 characters: a lowercase letter, then lowercase letters, digits, "-" or "_" (not ${JSON.stringify(String(name).slice(0, 60))})`);
  }
  return name;
}

export function checkCount(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return refuse('invalid', `${what} must be a whole number from ${min} to ${max} (not ${String(value)})`);
  }
  return value;
}

/** "64mb", "1gb", "512kb", "1048576" → bytes (Redis's own units, powers of 1024). */
export function parseMemory(text: unknown): number {
  const m = typeof text === 'string' ? /^(\d{1,12})\s*(b|kb|k|mb|m|gb|g)?$/i.exec(text.trim()) : null;
  if (!m) return refuse('invalid', `memory per instance is a size such as 64mb or 1gb (not ${JSON.stringify(String(text).slice(0, 40))})`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const bytes = Number(m[1]) * ({ b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[unit]!;
  return checkMemoryBytes(bytes);
}

export function checkMemoryBytes(bytes: unknown): number {
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < MIN_MEMORY_BYTES || bytes > MAX_MEMORY_BYTES) {
    return refuse('invalid', `memory per instance must be from 1mb to 64gb (not ${String(bytes)} bytes)`);
  }
  return bytes;
}

export function checkPolicy(policy: unknown): string {
  if (typeof policy !== 'string' || !(maxmemoryPolicies as readonly string[]).includes(policy)) {
    return refuse('invalid', `the maxmemory policy must be one of ${maxmemoryPolicies.join(', ')} (not ${JSON.stringify(String(policy).slice(0, 40))})`);
  }
  return policy;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}gb`;
  if (bytes >= 1024 ** 2) return `${Math.round((bytes / 1024 ** 2) * 10) / 10}mb`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)}kb`;
  return `${bytes}b`;
}

/** "ip:port" → its parts, or a refusal naming the expected form. */
export function parseInstance(text: unknown): { ip: string; port: number } {
  const m = typeof text === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text) : null;
  if (!m || m[1]!.split('.').some((o) => Number(o) > 255) || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    return refuse('invalid', `an instance is written IP:PORT, such as 127.0.0.2:7000 (not ${JSON.stringify(String(text).slice(0, 40))})`);
  }
  return { ip: m[1]!, port: Number(m[2]) };
}
