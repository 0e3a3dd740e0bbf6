import { oneLine } from './errors.ts';
import { styles } from './terminal-safe.ts';

/** Plain-text tables: aligned columns, two spaces apart, no trailing blanks. */

export type Cell = string | number | boolean | null | undefined;

export interface TableOptions {
  /** Bold header (only when writing to a terminal). */
  color?: boolean;
  /** Per column; by default a column whose every non-empty cell is a number is right-aligned. */
  align?: readonly ('left' | 'right')[];
}

export function cellText(c: Cell): string {
  if (c === null || c === undefined || c === '') return '-';
  return oneLine(String(c));
}

/** Columns a string takes on a terminal: CJK and full-width characters take two. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x300 && cp <= 0x36f) continue; // combining marks
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function pad(s: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'right' ? fill + s : s + fill;
}

export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[], o: TableOptions = {}): string {
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])));
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...text.map((r) => displayWidth(r[i]!))));
  const align = headers.map((_, i) => {
    const given = o.align?.[i];
    if (given) return given;
    const filled = rows.map((r) => r[i]).filter((c) => c !== null && c !== undefined && c !== '');
    const numeric = filled.length > 0 && filled.every((c) => typeof c === 'number');
    return numeric ? 'right' : 'left';
  });
  const line = (cells: readonly string[]) => cells.map((c, i) => pad(c, widths[i]!, align[i]!)).join('  ').trimEnd();
  const head = line(headers);
  const out = [o.color ? `${styles.bold}${head}${styles.reset}` : head, ...text.map(line)];
  return out.join('\n') + '\n';
}

/** `2024-05-01T12:03:04.567Z` → `2024-05-01 12:03:04Z`: sortable and short. */
export function shortTime(iso: string | undefined | null): string {
  if (!iso) return '-';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(iso);
  return m ? `${m[1]} ${m[2]}${m[3] ?? ''}` : iso;
}

/** `key: value` lines with the keys aligned, for one object (`msec service show`). */
export function formatFields(fields: readonly (readonly [string, Cell])[]): string {
  const w = Math.max(0, ...fields.map(([k]) => k.length + 1));
  return fields.map(([k, v]) => `${(k + ':').padEnd(w)} ${cellText(v)}`).join('\n') + '\n';
}
