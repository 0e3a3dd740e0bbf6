/** #/alarms: MSEC's alarm list — counts per service, metric, type and (UTC) day, newest first — and the open alarms. */
import { api } from './api.js';
import { h, formatTime } from './dom.js';
import { monitorHref } from './page-monitor.js';

const time = (m) => formatTime(new Date(m * 1000).toISOString());

export async function renderAlarms(root) {
  const { rows, open } = await api.get('/api/alarms');
  root.append(h('h1', {}, 'Alarms'),
    h('section', { class: 'card' }, h('h2', {}, 'Open'), open.length
      ? h('table', { class: 'grid', id: 'alarms-open' }, h('thead', {}, h('tr', {}, ['Service', 'Metric', 'Type', 'IP', 'Since', 'Value', 'Line'].map((t) => h('th', {}, t)))),
        h('tbody', {}, open.map((a) => h('tr', { 'data-testid': 'alarms-open-row' },
          h('td', {}, h('a', { href: monitorHref(a.service) }, a.service)), h('td', { class: 'mono' }, a.name), h('td', {}, a.alarmType),
          h('td', {}, a.ip || 'service'), h('td', {}, time(a.minute)), h('td', { class: 'num' }, String(a.value)), h('td', { class: 'num' }, String(a.threshold))))))
      : h('p', { class: 'muted' }, 'No open alarms.')),
    h('section', { class: 'card' }, h('h2', {}, 'By day'), rows.length
      ? h('table', { class: 'grid', id: 'alarms-list' }, h('thead', {}, h('tr', {}, ['Day (UTC)', 'Service', 'Metric', 'Type', 'Count', 'First', 'Last', 'Max value'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows.map((r) => h('tr', { 'data-testid': 'alarms-row' },
          h('td', {}, r.day), h('td', {}, h('a', { href: monitorHref(r.service) }, r.service)), h('td', { class: 'mono' }, r.name), h('td', {}, r.alarmType),
          h('td', { class: 'num' }, String(r.count)), h('td', {}, time(r.firstMinute)), h('td', {}, time(r.lastMinute)), h('td', { class: 'num' }, String(r.maxValue))))))
      : h('p', { class: 'muted' }, 'No alarms yet.')));
}
