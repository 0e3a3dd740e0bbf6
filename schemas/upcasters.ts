/**
 * Upcasters: pure functions that lift a payload from schema version N to N+1.
 * Events are never rewritten; old payloads are upcast every time they are read.
 * Register one per (type, from-version); the chain runs until the current version.
 */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

const registry = new Map<string, Map<number, Upcaster>>();
let generation = 0;

/** Changes whenever the set of upcasters changes: caches of decoded events compare it. */
export function upcasterGeneration(): number {
  return generation;
}

/** Every payload starts at version 1. */
export function currentSchemaVersion(type: string): number {
  const chain = registry.get(type);
  return chain ? Math.max(...chain.keys()) + 1 : 1;
}

export function registerUpcaster(type: string, fromVersion: number, up: Upcaster): void {
  const chain = registry.get(type) ?? new Map<number, Upcaster>();
  if (chain.has(fromVersion)) throw new Error(`an upcaster for ${type} v${fromVersion} is already registered`);
  chain.set(fromVersion, up);
  registry.set(type, chain);
  generation++;
}

export function upcast(type: string, version: number, data: Record<string, unknown>): { version: number; data: Record<string, unknown> } {
  const chain = registry.get(type);
  let v = version || 1;
  let d = data;
  while (chain?.has(v)) {
    d = chain.get(v)!(d);
    v += 1;
  }
  return { version: v, data: d };
}

/** For tests: forget upcasters registered by a test. */
export function unregisterUpcasters(type: string): void {
  registry.delete(type);
  generation++;
}

