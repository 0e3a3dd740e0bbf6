/** Renders a line diff as a table: old line no., new line no., marker, text. */
import { h } from './dom.js';
import { diffLines, diffStats } from './diff.js';

const marks = { same: ' ', del: '-', add: '+' };

export function diffView(oldLabel, oldText, newLabel, newText) {
  const ops = diffLines(oldText, newText);
  const { added, removed } = diffStats(ops);
  const summary = h('p', { class: 'diff-summary', 'data-testid': 'diff-summary' },
    h('span', { class: 'diff-del-label' }, `− ${oldLabel}`), ' ',
    h('span', { class: 'diff-add-label' }, `+ ${newLabel}`), ' · ',
    added || removed ? `${added} added, ${removed} removed` : 'identical');
  const rows = ops.map((op) => h('tr', { class: `diff-${op.op}`, 'data-testid': 'diff-line', 'data-op': op.op },
    h('td', { class: 'ln' }, op.a ?? ''),
    h('td', { class: 'ln' }, op.b ?? ''),
    h('td', { class: 'mark' }, marks[op.op]),
    h('td', { class: 'code' }, op.text)));
  return h('div', { id: 'diff', class: 'diff' }, summary, h('table', { class: 'diff-table' }, h('tbody', {}, rows)));
}
