/**
 * #/kv: the KV's Redis clusters (sets, instances, memory per instance, hosts, the task under
 * way), each linking to its page, and the "New cluster" form. Refreshed every few seconds while
 * shown: tasks move by themselves, and agents come and go.
 */
import { api } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { canRunCommands } from './session.js';
import { refreshEvery } from './timers.js';
import { createClusterForm } from './kv-create-form.js';
import { bytesText, kvHref, loadAgents, outcomeBadge, plural } from './kv-data.js';

const REFRESH_MS = 5000;
const COLUMNS = ['Name', 'Sets', 'Instances', 'Memory each', 'Hosts', 'Task under way', 'Memo', 'Created', 'By'];

export async function renderKvList(root, _params, signal) {
  const body = h('tbody');
  const count = h('span', { class: 'muted', id: 'kv-count' });
  const state = h('span', { class: 'muted', id: 'kv-refresh' });
  const operator = canRunCommands();
  const create = operator ? createClusterForm() : null;

  const cell = (col, ...children) => h('td', { 'data-col': col, class: ['sets', 'instances', 'memory'].includes(col) ? 'num' : null }, children);
  const running = (t) => (t ? h('span', { 'data-testid': 'kv-running', 'data-kind': t.kind }, outcomeBadge(t), ' ', h('strong', {}, t.kind), ' ', h('span', { class: 'muted' }, t.summary)) : '—');
  const row = (c) => h('tr', { 'data-testid': 'kv-row', 'data-name': c.name, 'data-running': c.running ? c.running.kind : '' },
    cell('name', h('a', { href: kvHref(c.name), class: 'mono', 'data-testid': 'kv-link' }, c.name)),
    cell('sets', String(c.sets)),
    cell('instances', String(c.instances)),
    cell('memory', bytesText(c.settings?.memoryBytes)),
    cell('hosts', h('span', { class: 'mono' }, (c.hosts || []).join(', '))),
    cell('task', running(c.running)),
    cell('memo', c.settings?.memo || ''),
    cell('created', formatTime(c.createdAt)),
    cell('by', c.createdBy || ''));

  const refresh = async () => {
    const [{ clusters }, agents] = await Promise.all([api.get('/api/kv', { signal }), operator ? loadAgents(signal) : []]);
    if (signal.aborted) return;
    count.textContent = plural(clusters.length, 'cluster');
    replace(body, clusters.length ? clusters.map(row)
      : h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted', id: 'kv-empty' }, 'No KV clusters yet.')));
    create?.update(agents);
    state.textContent = `updated ${formatTime(new Date().toISOString())}`;
    state.classList.remove('stale');
  };

  await refresh();
  root.append(
    h('div', { class: 'section-head' }, h('h1', {}, 'KV'), count, state),
    h('p', { class: 'muted' }, 'Redis clusters: sets of a master and its replicas, spread over hosts whose agents run the redis-server instances; '
      + 'the console joins them, assigns the slots and carries out every change as a task.'),
    h('section', { class: 'card scroll' }, h('table', { class: 'grid', id: 'kv-table' },
      h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', {}, t)))), body)),
    create?.el);

  refreshEvery(REFRESH_MS, signal, refresh, state);
}
