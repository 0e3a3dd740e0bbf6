/**
 * Line diff by longest common subsequence. Pure (no DOM), so it can be tested on its own.
 * diffLines(a, b) → [{ op: 'same' | 'del' | 'add', text, a?: lineNo, b?: lineNo }]
 * Within a changed block, removed lines come before added ones.
 */

/** Above this many table cells the middle part is shown as "all removed, all added". */
const MAX_CELLS = 4_000_000;

export function splitLines(text) {
  if (!text) return [];
  const lines = String(text).split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function diffLines(aText, bText) {
  const a = splitLines(aText);
  const b = splitLines(bText);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops = [];
  for (let i = 0; i < start; i++) ops.push({ op: 'same', text: a[i] });
  ops.push(...middleOps(a.slice(start, endA), b.slice(start, endB)));
  for (let i = endA; i < a.length; i++) ops.push({ op: 'same', text: a[i] });
  return number(ops);
}

function middleOps(a, b) {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    return [...a.map((text) => ({ op: 'del', text })), ...b.map((text) => ({ op: 'add', text }))];
  }
  // L[i][j] = length of the LCS of a[i..] and b[j..], stored row-major in one typed array.
  const w = m + 1;
  const L = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i * w + j] = a[i] === b[j] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
    }
  }
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ op: 'same', text: a[i] });
      i++;
      j++;
    } else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) {
      ops.push({ op: 'del', text: a[i++] });
    } else {
      ops.push({ op: 'add', text: b[j++] });
    }
  }
  while (i < n) ops.push({ op: 'del', text: a[i++] });
  while (j < m) ops.push({ op: 'add', text: b[j++] });
  return ops;
}

/** Adds old (a) and new (b) line numbers. */
function number(ops) {
  let a = 0;
  let b = 0;
  for (const op of ops) {
    if (op.op !== 'add') op.a = ++a;
    if (op.op !== 'del') op.b = ++b;
  }
  return ops;
}

export function diffStats(ops) {
  let added = 0;
  let removed = 0;
  for (const op of ops) {
    if (op.op === 'add') added++;
    else if (op.op === 'del') removed++;
  }
  return { added, removed };
}
