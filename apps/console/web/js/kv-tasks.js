/**
 * A KV cluster's tasks: the one under way with its steps as the console records them, and the
 * history (kind, started, outcome, summary, error), each row opening onto its steps. Step
 * details come from Redis and the agents: text, never markup.
 */
import { h, replace } from './dom.js';
import { duration, msTime, outcomeBadge } from './kv-data.js';

/** The steps of a task, in the order recorded. */
export function stepsList(task) {
  if (!task.steps.length) return h('p', { class: 'muted', 'data-testid': 'kv-steps-none' }, task.outcome ? 'No steps recorded.' : 'Waiting for the first step…');
  return h('ol', { class: 'steps', 'data-testid': 'kv-steps', 'data-task': task.taskId },
    task.steps.map((s) => h('li', { 'data-testid': 'kv-step', 'data-step': s.step, 'data-ok': String(s.ok), class: s.ok ? 'ok' : 'failed' },
      h('span', { class: 'mono nowrap' }, msTime(s.atMs).slice(11)), ' ',
      h('strong', {}, s.step), s.ok ? '' : ' failed', s.detail ? [': ', h('span', { class: 'step-detail' }, s.detail)] : '')));
}

/** The task followed live (the one under way, or the last one started here): { el, show(task) }. */
export function currentTaskView() {
  const el = h('section', { class: 'card kv-task', id: 'kv-task', hidden: true });
  const show = (task) => {
    el.hidden = !task;
    if (!task) return;
    el.dataset.task = task.taskId;
    el.dataset.kind = task.kind;
    el.dataset.outcome = task.outcome || 'running';
    replace(el,
      h('div', { class: 'section-head' },
        h('h2', {}, task.outcome ? 'Last task: ' : 'Task under way: ', h('span', { id: 'kv-task-kind' }, task.kind)),
        h('span', { id: 'kv-task-outcome' }, outcomeBadge(task)),
        h('span', { class: 'muted', id: 'kv-task-duration' }, duration(task))),
      h('p', { class: 'kv-task-summary', id: 'kv-task-summary' }, task.summary),
      task.error ? h('p', { class: 'error-text', id: 'kv-task-error' }, task.error) : null,
      stepsList(task));
  };
  return { el, show };
}

/** The task history, newest first: { el, update(tasks) }; the rows opened stay open across refreshes. */
export function taskHistory() {
  const body = h('tbody');
  const open = new Set();
  const COLUMNS = ['Kind', 'Started', 'Took', 'Outcome', 'Summary', 'Error', ''];

  const rows = (t) => {
    const shown = open.has(t.taskId);
    const detail = h('tr', { class: 'kv-task-detail', 'data-testid': 'kv-task-detail', 'data-task': t.taskId, hidden: !shown },
      h('td', { colspan: COLUMNS.length }, stepsList(t)));
    const toggle = h('button', {
      type: 'button', class: 'link', 'data-testid': 'kv-task-toggle', 'aria-expanded': String(shown),
      onclick: () => {
        if (open.has(t.taskId)) open.delete(t.taskId);
        else open.add(t.taskId);
        detail.hidden = !open.has(t.taskId);
        toggle.setAttribute('aria-expanded', String(!detail.hidden));
        toggle.textContent = detail.hidden ? `steps (${t.steps.length})` : 'hide steps';
      },
    }, shown ? 'hide steps' : `steps (${t.steps.length})`);
    const cell = (col, ...children) => h('td', { 'data-col': col }, children);
    return [h('tr', { 'data-testid': 'kv-task-row', 'data-task': t.taskId, 'data-kind': t.kind, 'data-outcome': t.outcome || 'running' },
      cell('kind', h('strong', {}, t.kind)),
      cell('started', h('span', { class: 'nowrap' }, msTime(t.startedAtMs))),
      cell('took', h('span', { class: 'nowrap' }, duration(t))),
      cell('outcome', outcomeBadge(t)),
      cell('summary', t.summary),
      cell('error', t.error ? h('span', { class: 'error-text' }, t.error) : ''),
      h('td', { class: 'actions' }, toggle)), detail];
  };

  const update = (tasks) => replace(body, tasks.length ? tasks.map(rows)
    : h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, 'No tasks yet.')));
  const el = h('section', { class: 'card scroll', id: 'kv-tasks' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Tasks')),
    h('table', { class: 'grid', id: 'kv-tasks-table' }, h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', {}, c)))), body));
  return { el, update };
}
