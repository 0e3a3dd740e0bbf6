import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members left out (as
 * JSON.stringify does). Two read models that mean the same thing give the same text, whatever
 * order their keys were inserted in, so their digests can be compared after a replay.
 */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON(): unknown }).toJSON());
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined && typeof record[k] !== 'function').sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function stateDigest(state: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(state)).digest('hex')}`;
}

/** Digest of rows fed in position order, one canonical JSON line each, page by page. */
export class RowsDigest {
  private readonly hash = createHash('sha256');

  add(rows: readonly unknown[]): void {
    for (const row of rows) this.hash.update(`${canonicalJson(row)}\n`);
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
