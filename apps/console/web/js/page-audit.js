/**
 * #/audit?stream=&actor=&type=&since=&until= : who did what, when, why, to which stream.
 * Newest first; "Load more" pages back with `before` = the oldest position shown.
 */
import { api } from './api.js';
import { h, append, formatTime } from './dom.js';
import { field, guarded, onSubmit } from './forms.js';

const PAGE = 50;
const TEXT_FILTERS = [['stream', 'Stream', 'service-Flight.mod_flight'], ['actor', 'Actor', 'admin'], ['type', 'Type', 'HostEnabled']];

/** ISO → the value a datetime-local input shows (local time, minutes). */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function renderAudit(root, { query }) {
  const filters = {};
  for (const key of ['stream', 'actor', 'type', 'since', 'until']) if (query.get(key)) filters[key] = query.get(key);

  const form = h('form', { id: 'audit-filter-form' },
    TEXT_FILTERS.map(([key, label, example]) =>
      field(label, h('input', { id: `audit-${key}`, name: key, value: filters[key] || '', placeholder: example, autocomplete: 'off' }))),
    field('Since', h('input', { id: 'audit-since', name: 'since', type: 'datetime-local', value: filters.since ? toLocalInput(filters.since) : '' })),
    field('Until', h('input', { id: 'audit-until', name: 'until', type: 'datetime-local', value: filters.until ? toLocalInput(filters.until) : '' })),
    h('div', { class: 'buttons' },
      h('button', { id: 'audit-apply', type: 'submit', class: 'primary' }, 'Filter'),
      h('a', { id: 'audit-clear', class: 'button', href: '#/audit' }, 'Clear')));
  onSubmit(form, async (v) => {
    const q = new URLSearchParams();
    for (const [key] of TEXT_FILTERS) if (v[key].trim()) q.set(key, v[key].trim());
    for (const key of ['since', 'until']) if (v[key]) q.set(key, new Date(v[key]).toISOString());
    const next = `#/audit${q.toString() ? `?${q}` : ''}`;
    if (location.hash === next) window.dispatchEvent(new window.HashChangeEvent('hashchange'));
    else location.hash = next;
    return false;
  });

  const body = h('tbody');
  const count = h('span', { id: 'audit-count', class: 'muted' });
  const more = h('button', { id: 'audit-more', type: 'button', hidden: true }, 'Load more');
  let shown = 0;
  let oldest = null;

  const load = async () => {
    const q = new URLSearchParams({ ...filters, limit: String(PAGE) });
    if (oldest !== null) q.set('before', String(oldest));
    const { entries } = await api.get(`/api/audit?${q}`);
    append(body, entries.map((e) => h('tr', { 'data-testid': 'audit-row', 'data-position': e.position },
      h('td', { class: 'nowrap', 'data-col': 'time', title: `position ${e.position}` }, formatTime(e.time)),
      h('td', { 'data-col': 'actor' }, e.actor),
      h('td', { class: 'mono nowrap', 'data-col': 'stream' }, h('a', { href: `#/audit?stream=${encodeURIComponent(e.stream)}`, title: 'only this stream' }, e.stream)),
      h('td', { 'data-col': 'type' }, e.type),
      h('td', { 'data-col': 'summary' }, e.summary || ''),
      h('td', { 'data-col': 'reason', class: 'reason' }, e.reason || ''))));
    shown += entries.length;
    if (entries.length) oldest = entries[entries.length - 1].position;
    more.hidden = entries.length < PAGE;
    count.textContent = shown ? `${shown} entr${shown === 1 ? 'y' : 'ies'}${more.hidden ? '' : ' (more available)'}` : 'No entries match.';
  };
  more.addEventListener('click', () => guarded(more, load));

  await load();
  root.append(
    h('h1', {}, 'Audit'),
    h('section', { class: 'card' }, form),
    h('section', { class: 'card' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Events, newest first'), count),
      h('table', { class: 'grid', id: 'audit-table' },
        h('thead', {}, h('tr', {}, ['Time', 'Actor', 'Stream', 'Type', 'Summary', 'Reason'].map((t) => h('th', {}, t)))), body),
      h('div', { class: 'more' }, more)));
}
