/**
 * #/kv/<name>: one Redis cluster of the KV as Redis reports it now: its state, slots covered,
 * keys, the risk flags (at the top), the seeds a client starts from, its layout drawn per host,
 * the operations, and its tasks. A task under way is followed live (its steps polled every
 * 500 ms); when it ends the cluster is read again. The rest refreshes every few seconds.
 */
import { api, seg } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { showNotice } from './banner.js';
import { canRunCommands } from './session.js';
import { refreshEvery, sleep } from './timers.js';
import { layoutView } from './kv-layout.js';
import { operationsView } from './kv-operations.js';
import { currentTaskView, taskHistory } from './kv-tasks.js';
import { bytesText, clusterStateBadge, KV_SLOTS, kvPath, loadAgents, plural } from './kv-data.js';

const REFRESH_MS = 5000;
const TASK_POLL_MS = 500;
const RETRY_MS = 2000;

export async function renderKvCluster(root, { match }, signal) {
  const name = decodeURIComponent(match[1]);
  document.title = `KV ${name} · msec console`;
  const operator = canRunCommands();
  const path = kvPath(name);

  const state = h('span', { id: 'kv-state' });
  const live = h('span', { class: 'muted', id: 'kv-live' });
  const risks = h('section', { class: 'kv-risks', id: 'kv-risks', role: 'alert', hidden: true });
  const facts = h('dl', { class: 'summary', id: 'kv-facts' });
  const seeds = h('p', { class: 'mono kv-seeds', id: 'kv-seeds' });
  const current = currentTaskView();
  const history = taskHistory();
  const ops = operator ? operationsView(name, (taskId, what) => {
    showNotice(`KV cluster ${name}: ${what} started (task ${taskId})`);
    void follow(taskId);
    void refresh().catch(() => undefined);
  }) : null;
  const layout = layoutView({ onFailover: (instance, button) => ops?.failover(instance, button) });

  // ---- the cluster ------------------------------------------------------------------------------
  const fact = (key, label, ...value) => [h('dt', {}, label), h('dd', { 'data-testid': 'kv-fact', 'data-key': key }, value)];
  const show = (c, endpoints, agents) => {
    const l = c.live;
    const s = c.settings || {};
    const busy = !!c.running;
    replace(state, clusterStateBadge(l ? l.state : 'unknown'));
    state.dataset.state = l ? l.state : 'unknown';
    const flags = l?.risks || [];
    risks.hidden = !flags.length;
    replace(risks, h('h2', {}, `⚠ ${plural(flags.length, 'risk')}`), h('ul', {}, flags.map((r) => h('li', { 'data-testid': 'kv-risk' }, r))));
    const masters = (l?.instances || []).filter((i) => i.role === 'master');
    const sets = new Set(c.layout.map((i) => i.setId)).size;
    replace(facts,
      fact('state', 'State', l ? l.state : 'not read'),
      fact('slots', 'Slots covered', l ? `${l.slotsCovered} / ${KV_SLOTS}` : '—'),
      fact('keys', 'Keys', l ? String(masters.reduce((n, i) => n + i.keys, 0)) : '—'),
      fact('sets', 'Sets', `${sets} × ${1 + (s.replicas ?? 0)} (${plural(s.replicas ?? 0, 'replica')} each)`),
      fact('instances', 'Instances', `${c.layout.length} (${masters.length} master${masters.length === 1 ? '' : 's'} live)`),
      fact('memory', 'Memory each', `${bytesText(s.memoryBytes)}, ${s.maxmemoryPolicy || '—'}`),
      fact('port', 'Base port', String(s.basePort ?? '—')),
      fact('redis', 'Node timeout', `${s.nodeTimeoutMs ?? '—'} ms, append-only ${s.appendonly ? 'on' : 'off'}`),
      fact('hosts', 'Hosts', h('span', { class: 'mono' }, (c.hosts || []).join(', ') || '—')),
      fact('memo', 'Memo', s.memo || '—'),
      fact('created', 'Created', `${formatTime(c.createdAt)} by ${c.createdBy || '?'}`),
      l?.strangers?.length ? fact('strangers', 'Not in the layout', h('span', { class: 'mono' }, l.strangers.join(', '))) : null);
    if (endpoints instanceof Error) replace(seeds, h('span', { class: 'error-text' }, `seeds unavailable: ${endpoints.message}`));
    else replace(seeds, endpoints.seeds.length ? endpoints.seeds.map((a, n) => [n ? ', ' : '', h('span', { 'data-testid': 'kv-seed' }, a)]) : h('span', { class: 'muted' }, 'no instance answers'));
    layout.update(c, { busy, operator });
    ops?.update(c, agents, busy);
    history.update(c.tasks);
    if (c.running && !ended.has(c.running)) void follow(c.running);
  };

  let shownSeq = 0;
  let nextSeq = 0;
  const refresh = async () => {
    const seq = ++nextSeq;
    const [c, endpoints, agents] = await Promise.all([
      api.get(path, { signal }),
      api.get(`${path}/endpoints`, { signal }).catch((err) => err),
      operator ? loadAgents(signal) : [],
    ]);
    if (signal.aborted || seq < shownSeq) return; // an older answer that came late
    shownSeq = seq;
    show(c, endpoints, agents);
    live.textContent = `updated ${formatTime(new Date().toISOString())}`;
    live.classList.remove('stale');
  };

  // ---- the task under way, followed live --------------------------------------------------------
  let following = '';
  const ended = new Set();
  const follow = async (taskId) => {
    if (following === taskId || ended.has(taskId)) return;
    following = taskId;
    while (!signal.aborted && following === taskId) {
      let task;
      try {
        ({ task } = await api.get(`${path}/tasks/${seg(taskId)}`, { signal }));
      } catch (err) {
        if (signal.aborted) return;
        live.textContent = `following task ${taskId} failed: ${err.message} (trying again)`;
        live.classList.add('stale');
        await sleep(RETRY_MS, signal);
        continue;
      }
      if (signal.aborted || following !== taskId) return;
      current.show(task);
      if (task.outcome) {
        ended.add(taskId);
        following = '';
        if (task.kind === 'delete' && task.outcome === 'succeeded') {
          showNotice(`KV cluster ${name} deleted`);
          location.hash = '#/kv';
          return;
        }
        await refresh().catch(() => undefined);
        return;
      }
      await sleep(TASK_POLL_MS, signal);
    }
  };

  // ---- the page ---------------------------------------------------------------------------------
  const first = await Promise.all([
    api.get(path, { signal }),
    api.get(`${path}/endpoints`, { signal }).catch((err) => err),
    operator ? loadAgents(signal) : [],
  ]);
  root.append(h('div', { id: 'kv-page', 'data-name': name },
    h('div', { class: 'section-head' }, h('h1', {}, 'KV cluster ', h('span', { class: 'mono', id: 'kv-name' }, name)), state, live),
    risks,
    current.el,
    h('div', { class: 'kv-overview' },
      h('section', { class: 'card' }, facts),
      h('section', { class: 'card', id: 'kv-endpoints' },
        h('div', { class: 'section-head' }, h('h2', {}, 'Seeds')),
        h('p', { class: 'hint' }, 'Where a Redis cluster client starts (live masters first).'), seeds)),
    h('h2', { class: 'spaced' }, 'Layout per host'),
    layout.el,
    ops?.el,
    history.el,
    h('p', { class: 'links' }, h('a', { href: '#/kv' }, 'All clusters'), ' · ',
      h('a', { href: `#/audit?stream=${encodeURIComponent(`kvcluster-${name}`)}` }, 'Audit trail'))));
  show(...first);
  live.textContent = `updated ${formatTime(new Date().toISOString())}`;

  refreshEvery(REFRESH_MS, signal, refresh, live, {
    finalFailure: (err) => (err.status === 404 && !following ? 'this cluster no longer exists' : undefined),
  });
}
