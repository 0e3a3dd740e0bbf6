/**
 * The hosts table: one row per enrolled agent, updated in place on every refresh (rows keyed by
 * IP, action buttons rebuilt only when the state changes) so a click never lands on a row that
 * was just replaced.
 */
import { h, replace, badge, formatTime, formatSize, syncKeyed } from './dom.js';

const COLUMNS = ['IP', 'Host name', 'State', 'Last seen', 'CPU', 'Memory', 'Load 1 5 15', 'Procs', 'Disk free', 'KV', 'Agent', ''];

const percent = (n) => (typeof n === 'number' ? `${n.toFixed(1)} %` : '—');
const loadText = (l) => `${l.load1.toFixed(2)} ${l.load5.toFixed(2)} ${l.load15.toFixed(2)}`;
/** A percentage, red from 90 % (a busy host stands out in a long list). */
const usage = (n) => h('span', { class: typeof n === 'number' && n >= 90 ? 'hot' : null }, percent(n));

/** "12:03:04" today, else "2024-05-01 12:03". */
function shortTime(iso) {
  const full = formatTime(iso);
  return full.slice(0, 10) === formatTime(new Date().toISOString()).slice(0, 10) ? full.slice(11) : full.slice(0, 16);
}

/** "3 s ago" (as of the last refresh), the time when only that is known, or "never". */
function lastSeen(a) {
  if (!a.lastSeenAt) return 'never';
  const s = a.secondsSinceSeen;
  if (typeof s !== 'number') return shortTime(a.lastSeenAt);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** The Redis instances the agent supervises: cluster:port each, marked when not running. */
function kvInstances(list = []) {
  if (!list.length) return h('span', { class: 'muted' }, '—');
  return list.map((i) => h('span', {
    class: `mono kv-instance${i.state === 'running' ? '' : ' hot'}`, 'data-testid': 'agent-kv', 'data-state': i.state,
    title: `${i.state}${i.pid ? `, pid ${i.pid}` : ''}, ${i.restarts} restart${i.restarts === 1 ? '' : 's'}${i.since ? `, since ${formatTime(i.since)}` : ''}`,
  }, `${i.cluster}:${i.port}${i.state === 'running' ? '' : ` ${i.state}`} `));
}

/**
 * agentTable({ actions(agent) → nodes }) → { el, update(agents) }.
 * `actions` is called when a row appears and whenever its state changes.
 */
export function agentTable({ actions }) {
  const body = h('tbody');
  const rows = new Map();
  const empty = h('tr', { id: 'agents-empty' }, h('td', { colspan: COLUMNS.length, class: 'muted' },
    'No agents yet: make an enrolment token and start msec agent on the host with it.'));

  const makeRow = (ip) => {
    const cells = Object.fromEntries(['ip', 'hostname', 'state', 'seen', 'cpu', 'mem', 'load', 'procs', 'disk', 'kv', 'agent', 'actions']
      .map((col) => [col, h('td', { 'data-col': col })]));
    cells.ip.className = 'mono';
    cells.actions.className = 'actions';
    for (const col of ['cpu', 'mem', 'procs', 'disk']) cells[col].className = 'num';
    const tr = h('tr', { 'data-testid': 'agent-row', 'data-ip': ip }, Object.values(cells));
    return { tr, cells, state: null };
  };

  const fill = (row, a) => {
    const { cells } = row;
    const l = a.load;
    row.tr.dataset.state = a.state;
    row.tr.className = `agent-${a.state}`;
    cells.ip.textContent = a.ip;
    replace(cells.hostname, h('span', { class: 'hostname', title: a.hostname || null }, a.hostname || '—'));
    replace(cells.state, badge(a.state, 'agent-state'));
    cells.seen.textContent = lastSeen(a);
    cells.seen.title = a.lastSeenAt ? formatTime(a.lastSeenAt) : '';
    replace(cells.cpu, l ? usage(l.cpuPercent) : '—');
    cells.cpu.title = l ? `${l.cpus} CPUs` : '';
    replace(cells.mem, l ? usage(l.memUsedPercent) : '—');
    cells.mem.title = l ? `${formatSize(l.memTotalBytes - l.memFreeBytes)} used of ${formatSize(l.memTotalBytes)}` : '';
    cells.load.textContent = l ? loadText(l) : '—';
    cells.procs.textContent = l ? String(l.processes) : '—';
    cells.disk.textContent = l ? formatSize(l.diskFreeBytes) : '—';
    replace(cells.kv, kvInstances(a.kvInstances));
    replace(cells.agent, h('span', { 'data-testid': 'agent-version' }, a.agentVersion || '—'), ' ',
      h('span', { class: 'mono muted', 'data-testid': 'agent-key', title: `agent key ${a.agentKeyId}; trusts command key ${a.trustedKeyId || 'none yet'}` },
        (a.agentKeyId || '').slice(0, 8)));
    if (row.state !== a.state) {
      row.state = a.state;
      replace(cells.actions, actions(a));
    }
  };

  // The server's order (by IP); rows are moved only when it changed, so focus and clicks stay put.
  const update = (agents) => syncKeyed(body, rows, agents, { keyOf: (a) => a.ip, make: makeRow, fill, elementOf: (row) => row.tr, empty });

  const el = h('table', { class: 'grid', id: 'agents-table' },
    h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', {}, t)))), body);
  return { el, update };
}
