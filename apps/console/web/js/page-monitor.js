/**
 * #/monitor and #/monitor/<First.Second>?day=&compare=&days=&name=&ip=&byIp=&live=&every=
 * MSEC's monitor pages: one chart per metric of a service (or of one of its ips), a day against
 * another day, N days in a row, one metric across the ips, latency percentiles; hover shows the
 * values, each chart downloads as PNG and the page as CSV; today's charts follow each minute.
 */
import { h, replace } from './dom.js';
import { guarded } from './forms.js';
import { loadTree } from './services-data.js';
import { download, makeChart, fileName } from './monitor-chart.js';
import { chartsOf, fromInput, loadCurves, loadLatency, loadNames, today, toCsv, toInput } from './monitor-data.js';
import { alarmSection } from './monitor-alarms.js';

const MAX_CHARTS = 40;
export const monitorHref = (service, params = {}) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '' && v !== false));
  return `#/monitor/${encodeURIComponent(service)}${q.toString() ? `?${q}` : ''}`;
};

export async function renderMonitorIndex(root) {
  const tree = await loadTree();
  const services = tree.flatMap((s) => (s.children || []).map((c) => c.fullName)).sort();
  root.append(h('h1', {}, 'Monitor'),
    h('p', { class: 'muted' }, 'Per-minute metrics of each service: framework (frm.*), business (usr.*) and host (sys.*) metrics.'),
    h('section', { class: 'card' }, services.length
      ? h('ul', { id: 'monitor-services' }, services.map((s) => h('li', {}, h('a', { href: monitorHref(s), 'data-testid': 'monitor-service' }, s))))
      : h('p', { class: 'muted' }, 'No services yet.')));
}

export async function renderMonitor(root, service, query, signal) {
  const q = {
    day: query.get('day') || today(),
    compare: query.get('compare') || '',
    days: Number(query.get('days') || 1) || 1,
    name: query.get('name') || '',
    ip: query.get('ip') || '',
    byIp: query.get('byIp') === 'true',
    live: query.get('live') !== 'false',
    // Seconds between live updates: 60 (each minute, a few seconds after it ends) unless told.
    every: Math.max(2, Number(query.get('every')) || 60),
  };
  const [tree, listing] = await Promise.all([loadTree(), loadNames(service, q.day)]);
  const services = tree.flatMap((s) => (s.children || []).map((c) => c.fullName)).sort();

  const ipChoice = h('select', { id: 'monitor-ip', name: 'ip' },
    h('option', { value: '', selected: !q.ip && !q.byIp }, 'whole service'),
    h('option', { value: '*', selected: q.byIp }, 'every ip (one curve each)'),
    listing.ips.map((ip) => h('option', { value: ip, selected: q.ip === ip }, ip)));
  const form = h('form', { id: 'monitor-form', class: 'row' },
    field('Service', h('select', { id: 'monitor-service', name: 'service' }, services.map((s) => h('option', { value: s, selected: s === service }, s)))),
    field('Day', h('input', { id: 'monitor-day', name: 'day', type: 'date', value: toInput(q.day), required: true })),
    field('Compare with', h('input', { id: 'monitor-compare', name: 'compare', type: 'date', value: toInput(q.compare) })),
    field('Days', h('input', { id: 'monitor-days', name: 'days', type: 'number', min: 1, max: 31, value: String(q.days) })),
    field('Names (regex)', h('input', { id: 'monitor-name', name: 'name', value: q.name, placeholder: '^usr\\.|frm.requests', autocomplete: 'off' }), 'grow'),
    field('View', ipChoice),
    h('label', { class: 'check' }, h('input', { id: 'monitor-live', name: 'live', type: 'checkbox', checked: q.live }), ' live'),
    h('div', { class: 'buttons' }, h('button', { id: 'monitor-apply', type: 'submit', class: 'primary' }, 'Show'),
      h('button', { id: 'monitor-csv', type: 'button' }, 'CSV')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(form).entries());
    const next = monitorHref(v.service, {
      day: fromInput(v.day), compare: fromInput(v.compare), days: Number(v.days) > 1 ? v.days : '', name: v.name.trim(),
      ip: v.ip && v.ip !== '*' ? v.ip : '', byIp: v.ip === '*' ? 'true' : '', live: v.live ? '' : 'false', every: q.every === 60 ? '' : String(q.every),
    });
    if (location.hash === next) window.dispatchEvent(new window.HashChangeEvent('hashchange'));
    else location.hash = next;
  });

  const status = h('span', { id: 'monitor-status', class: 'muted' });
  const charts = h('div', { id: 'monitor-charts' });
  const latency = h('div', { id: 'monitor-latency' });
  const names = h('p', { id: 'monitor-names', class: 'muted hint' },
    `${listing.names.length} metric${listing.names.length === 1 ? '' : 's'} on ${q.day}` + (listing.ips.length ? `, ips ${listing.ips.join(' ')}` : ''));
  root.append(
    h('div', { id: 'monitor-page', 'data-service': service },
      h('div', { class: 'section-head' }, h('h1', {}, `Monitor · ${service}`), status),
      h('section', { class: 'card' }, form, names),
      charts,
      h('h2', { class: 'spaced' }, 'Latency percentiles'),
      latency,
      await alarmSection(service)));

  let answer = null;
  let drawn = [];
  const width = () => Math.max(320, (root.clientWidth || 900) - 40);

  const draw = async () => {
    answer = await loadCurves(service, q);
    const wanted = chartsOf(answer, q).slice(0, MAX_CHARTS);
    const sameShape = drawn.length === wanted.length && drawn.every((c, i) => c.title === wanted[i].name && c.seriesCount === wanted[i].series.length);
    if (sameShape) {
      drawn.forEach((c, i) => c.update(wanted[i].x, wanted[i].series));
    } else {
      replace(charts);
      if (wanted.length === 0) charts.append(h('p', { class: 'card muted', id: 'monitor-empty' }, `No metrics of ${service} on ${q.day}${q.name ? ` match ${q.name}` : ''}.`));
      drawn = wanted.map((c) => Object.assign(makeChart(charts, { title: c.name, x: c.x, series: c.series, width: width(), multiDay: c.multiDay }), { seriesCount: c.series.length }));
      const total = new Set(answer.series.map((s) => s.name)).size;
      if (total > MAX_CHARTS) charts.append(h('p', { class: 'muted' }, `${total - MAX_CHARTS} more metrics: narrow the name filter.`));
    }
    const lat = await loadLatency(service, q);
    replace(latency);
    if (lat.methods.length === 0) latency.append(h('p', { class: 'muted card' }, 'No calls with latency buckets on this day.'));
    for (const m of lat.methods.slice(0, 10)) {
      const x = m.p50.map((_, i) => lat.from + i * 60);
      makeChart(latency, { title: `${m.side === 'client' ? 'callers of ' : ''}${m.method} (ms)`, testid: 'latency-chart', x, width: width(),
        series: [{ label: 'p50', values: m.p50 }, { label: 'p90', values: m.p90 }, { label: 'p99', values: m.p99 }] });
    }
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    root.querySelector('#monitor-page').dataset.updated = String(Date.now());
  };

  root.querySelector('#monitor-csv').addEventListener('click', () => {
    if (answer) download(new Blob([toCsv(answer)], { type: 'text/csv' }), `${fileName(service)}-${q.day}.csv`);
  });

  await draw();
  // Today's curves grow every minute: fetch again a few seconds after each minute ends.
  if (q.live && q.day === today() && q.days <= 1) {
    const schedule = () => {
      const wait = q.every === 60 ? 60_000 - (Date.now() % 60_000) + 3_000 : q.every * 1000;
      const timer = setTimeout(() => {
        if (signal.aborted) return;
        guarded(null, draw).finally(() => !signal.aborted && schedule());
      }, wait);
      signal.addEventListener('abort', () => window.clearTimeout(timer), { once: true });
    };
    schedule();
  }
}

function field(label, control, extra = '') {
  return h('label', { class: `field ${extra}`.trim() }, h('span', { class: 'field-label' }, label), control);
}
