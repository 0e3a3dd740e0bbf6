/**
 * The process view of one host (operators and admins): the agent lists its host's processes on
 * a signed `ps` command; shown busiest first, filtered by text. Command lines are plain text.
 */
import { h, replace, formatTime, formatSize } from './dom.js';
import { guarded } from './forms.js';
import { processList } from './agent-commands.js';

const COLUMNS = ['PID', 'PPID', 'User', 'CPU %', 'RSS', 'State', 'Started', 'Command'];

/** processesPanel(pageSignal) → { el, open(ip) }. */
export function processesPanel(pageSignal) {
  let ip = null;
  let processes = [];
  let loading = null;
  const title = h('h2', { id: 'processes-title' });
  const summary = h('span', { class: 'muted', id: 'processes-summary' });
  const body = h('tbody');
  const filter = h('input', { id: 'processes-filter', type: 'search', placeholder: 'filter: command, user or pid', autocomplete: 'off' });
  const reload = h('button', { type: 'button', id: 'processes-refresh', onclick: (e) => load(e.currentTarget) }, 'Refresh');

  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? processes.filter((p) => `${p.pid} ${p.user} ${p.command}`.toLowerCase().includes(q)) : processes;
    summary.textContent = `${processes.length} processes${q ? `, ${shown.length} shown` : ''}`;
    replace(body, shown.length ? shown.map((p) => h('tr', { 'data-testid': 'process-row', 'data-pid': p.pid },
      h('td', { class: 'num' }, p.pid), h('td', { class: 'num' }, p.ppid), h('td', {}, p.user),
      h('td', { class: 'num' }, p.cpuPercent.toFixed(1)), h('td', { class: 'num' }, formatSize(p.rssBytes)),
      h('td', {}, p.state), h('td', { class: 'nowrap' }, p.startedAtMs ? formatTime(new Date(p.startedAtMs).toISOString()) : ''),
      h('td', { class: 'mono command', 'data-col': 'command', title: p.command }, p.command)))
      : h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, processes.length ? 'No process matches the filter.' : 'No processes.')));
  };
  filter.addEventListener('input', draw);

  const load = (button) => guarded(button, async () => {
    loading?.abort();
    const controller = new window.AbortController();
    loading = controller;
    const target = ip;
    summary.textContent = 'asking the agent…';
    try {
      const list = await processList(target, controller.signal);
      if (controller.signal.aborted || target !== ip) return;
      processes = [...list].sort((a, b) => b.cpuPercent - a.cpuPercent || a.pid - b.pid);
      el.dataset.loadedIp = target;
      draw();
    } catch (err) {
      if (controller.signal.aborted) return;
      summary.textContent = 'no process list';
      throw err;
    } finally {
      if (loading === controller) loading = null;
    }
  });
  pageSignal.addEventListener('abort', () => loading?.abort());

  const el = h('section', { class: 'card', id: 'processes-panel', hidden: true },
    h('div', { class: 'section-head' }, title, summary, filter, reload,
      h('button', { type: 'button', id: 'processes-close', onclick: () => close() }, 'Close')),
    h('div', { class: 'scroll tall' }, h('table', { class: 'grid fixed-command', id: 'processes-table' },
      h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', {}, t)))), body)));

  const open = (target) => {
    ip = target;
    processes = [];
    delete el.dataset.loadedIp;
    el.dataset.ip = target;
    title.textContent = `Processes of ${target}`;
    filter.value = '';
    replace(body);
    el.hidden = false;
    el.scrollIntoView({ block: 'nearest' });
    return load(reload);
  };
  const close = () => {
    loading?.abort();
    el.hidden = true;
  };
  return { el, open, close };
}
