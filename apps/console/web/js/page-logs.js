/**
 * #/logs?service=&level=&since=&until=&requestId=&ip=&field=NAME=VALUE&grep=&limit= : business
 * log records (GET /api/logs), newest `limit` shown oldest first. Request ids link to the call
 * graph; "Live tail" polls every two seconds and appends what is new (records arrive a few
 * seconds after they are written, so each poll looks 30 s back and skips what it showed).
 */
import { api } from './api.js';
import { h, append, replace, formatTime } from './dom.js';
import { field, onSubmit } from './forms.js';
import { showError } from './banner.js';
import { loadTree } from './services-data.js';

const LEVELS = ['', 'TRACE', 'DEBUG', 'INFO', 'ERROR', 'FATAL'];
const TEXT = [['ip', 'IP', '10.0.0.12'], ['grep', 'Text', 'in the message'], ['since', 'Since', '1h, 15m or ISO'], ['until', 'Until', 'now'], ['limit', 'Limit', '100']];
const TAIL_MS = 2000;

export const callGraphHref = (requestId) => `#/callgraph/${encodeURIComponent(requestId)}`;

export function logsHref(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v) q.set(k, v);
  }
  return `#/logs${q.toString() ? `?${q}` : ''}`;
}

function time(record) {
  const ms = String(record.timeMs % 1000).padStart(3, '0');
  return `${formatTime(record.time)}.${ms}`;
}

/** One record as a table row: every value a text node. */
function row(r) {
  const fields = Object.entries(r.fields || {});
  return h('tr', { 'data-testid': 'log-row', 'data-id': r.id, 'data-service': r.service, 'data-level': r.level, class: `level-${r.level.toLowerCase()}` },
    h('td', { class: 'nowrap mono', 'data-col': 'time', title: r.time }, time(r)),
    h('td', { 'data-col': 'level' }, h('span', { class: `badge badge-level-${r.level.toLowerCase()}` }, r.level)),
    h('td', { class: 'nowrap', 'data-col': 'service' }, r.service),
    h('td', { class: 'mono nowrap', 'data-col': 'request' }, r.requestId
      ? h('a', { href: callGraphHref(r.requestId), 'data-testid': 'log-request', title: 'call graph of this request' }, r.requestId)
      : '—', r.coloring ? h('span', { class: 'badge badge-colored', title: 'colored request: kept at every level' }, 'colored') : null),
    h('td', { class: 'mono', 'data-col': 'rpc' }, r.rpcName || '—', r.caller ? h('div', { class: 'muted' }, `from ${r.caller}`) : null),
    h('td', { class: 'mono nowrap', 'data-col': 'ips' }, `${r.clientIp || '—'} → ${r.serverIp || '—'}`),
    h('td', { class: 'message', 'data-col': 'message' }, r.message),
    h('td', { class: 'mono', 'data-col': 'fields' }, fields.map(([k, v]) => h('div', {}, `${k}=${v}`))));
}

export async function renderLogs(root, { query }, pageSignal) {
  const filters = {};
  for (const key of ['service', 'level', 'requestId', 'ip', 'grep', 'since', 'until', 'limit']) if (query.get(key)) filters[key] = query.get(key);
  const fieldFilters = query.getAll('field');
  const tree = await loadTree().catch(() => []);
  const services = tree.flatMap((f) => (f.children || []).map((c) => c.fullName)).sort();

  const form = h('form', { id: 'logs-filter-form' },
    field('Service', h('select', { id: 'logs-service', name: 'service' }, h('option', { value: '' }, '(any, with a request id)'),
      services.map((s) => h('option', { value: s, selected: s === filters.service }, s)))),
    field('Level ≥', h('select', { id: 'logs-level', name: 'level' }, LEVELS.map((l) => h('option', { value: l, selected: l === (filters.level || '').toUpperCase() }, l || '(all)')))),
    field('Request id', h('input', { id: 'logs-request', name: 'requestId', value: filters.requestId || '', placeholder: 'flow id', autocomplete: 'off' })),
    TEXT.map(([key, label, example]) => field(label, h('input', { id: `logs-${key}`, name: key, value: filters[key] || '', placeholder: example, autocomplete: 'off' }))),
    field('Fields', h('input', { id: 'logs-fields', name: 'fields', value: fieldFilters.join(' '), placeholder: 'orderId=42 Caller=Shop.gate', autocomplete: 'off' })),
    h('div', { class: 'buttons' },
      h('button', { id: 'logs-apply', type: 'submit', class: 'primary' }, 'Search'),
      h('a', { id: 'logs-clear', class: 'button', href: '#/logs' }, 'Clear')));
  onSubmit(form, async (v) => {
    const next = logsHref({
      service: v.service, level: v.level, requestId: v.requestId.trim(), ip: v.ip.trim(), grep: v.grep, since: v.since.trim(), until: v.until.trim(), limit: v.limit.trim(),
      field: v.fields.split(/\s+/).filter(Boolean),
    });
    if (location.hash === next) window.dispatchEvent(new window.HashChangeEvent('hashchange'));
    else location.hash = next;
    return false;
  });

  const body = h('tbody', { id: 'logs-body' });
  const count = h('span', { id: 'logs-count', class: 'muted' });
  const note = h('p', { id: 'logs-note', class: 'muted' });
  const tailButton = h('button', { id: 'logs-tail', type: 'button' }, 'Live tail');
  const tailState = h('span', { id: 'logs-tail-state', class: 'muted' });
  const shown = new Set();
  const searchable = Boolean(filters.service || filters.requestId);

  const params = (extra = {}) => {
    const q = new URLSearchParams({ ...filters, ...extra });
    fieldFilters.forEach((f) => q.append('field', f));
    return q;
  };
  const add = (records) => {
    const fresh = records.filter((r) => !shown.has(r.id));
    fresh.forEach((r) => shown.add(r.id));
    append(body, fresh.map(row));
    count.textContent = shown.size ? `${shown.size} record${shown.size === 1 ? '' : 's'}` : 'No records match.';
    return fresh.length;
  };

  if (searchable) {
    const answer = await api.get(`/api/logs?${params()}`);
    add(answer.records);
    const notes = [`From ${formatTime(answer.since)} to ${formatTime(answer.until)}.`];
    if (answer.truncated) notes.push(`More records match: these are the newest ${answer.records.length}; narrow the filters or raise the limit (at most 1000).`);
    if (answer.dropped) notes.push(`${answer.dropped} records were dropped by the service's processes in this range (their buffer was full while the bus was away).`);
    note.textContent = notes.join(' ');
  } else {
    replace(note, 'Choose a service, or give a request id (every service it went through).');
    tailButton.disabled = true;
  }

  let tail = null;
  tailButton.addEventListener('click', () => {
    if (tail) return stopTail();
    tail = new window.AbortController();
    tailButton.textContent = 'Stop tail';
    tailButton.classList.add('active');
    void runTail(tail.signal);
  });
  const stopTail = () => {
    tail?.abort();
    tail = null;
    tailButton.textContent = 'Live tail';
    tailButton.classList.remove('active');
    tailState.textContent = '';
  };
  pageSignal.addEventListener('abort', () => tail?.abort());
  const runTail = async (signal) => {
    let since = new Date(Date.now() - 60_000).toISOString();
    while (!signal.aborted) {
      try {
        const answer = await api.get(`/api/logs?${params({ since, until: '', limit: '1000' })}`, { signal });
        const fresh = add(answer.records);
        const last = answer.records[answer.records.length - 1];
        if (last) since = new Date(Math.max(Date.parse(last.time) - 30_000, Date.parse(answer.since))).toISOString();
        tailState.textContent = `following · ${fresh} new at ${formatTime(new Date().toISOString())}`;
        if (fresh) body.lastElementChild?.scrollIntoView({ block: 'nearest' });
      } catch (err) {
        if (signal.aborted) return;
        showError(err);
        return stopTail();
      }
      await new Promise((r) => setTimeout(r, TAIL_MS));
    }
  };

  root.append(
    h('h1', {}, 'Logs'),
    h('section', { class: 'card' }, form),
    h('section', { class: 'card' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Records, oldest first'), count, tailButton, tailState,
        filters.requestId ? h('a', { id: 'logs-callgraph', href: callGraphHref(filters.requestId) }, 'Call graph of this request') : null),
      note,
      h('table', { class: 'grid', id: 'logs-table' },
        h('thead', {}, h('tr', {}, ['Time', 'Level', 'Service', 'Request', 'RPC', 'Client → server', 'Message', 'Fields'].map((t) => h('th', {}, t)))), body)));
}
