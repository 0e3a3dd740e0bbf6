/**
 * #/releases[?service=First.Second]: release plans, newest first, filtered by service; each
 * links to its plan page. Refreshed every few seconds while shown (plans move by themselves).
 */
import { api } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { canRunCommands } from './session.js';
import { refreshEvery } from './timers.js';
import { loadTree, serviceHref } from './services-data.js';
import { planHref, releasesHref, stateBadge, typeLabel, versionsText, wizardHref, words } from './releases-data.js';

const REFRESH_MS = 5000;

export async function renderReleases(root, { query }, signal) {
  const service = query.get('service') || '';
  const body = h('tbody');
  const state = h('span', { class: 'muted', id: 'releases-refresh' });
  const count = h('span', { class: 'muted', id: 'releases-count' });
  const services = (await loadTree()).flatMap((s) => (s.children || []).map((c) => c.fullName || `${s.name}.${c.name}`));
  if (service && !services.includes(service)) services.push(service);
  const filter = h('select', {
    id: 'releases-service', 'aria-label': 'service',
    onchange: (e) => (location.hash = releasesHref(e.currentTarget.value)),
  }, h('option', { value: '' }, 'all services'), services.sort().map((s) => h('option', { value: s }, s)));
  filter.value = service;

  const cell = (col, ...children) => h('td', { 'data-col': col, class: col === 'hosts' ? 'num' : col === 'created' ? 'nowrap' : null }, children);
  const counts = (p) => Object.entries(p.counts || {}).map(([k, n]) => `${n} ${k}`).join(', ');
  const row = (p) => h('tr', { 'data-testid': 'release-row', 'data-plan': p.planId, 'data-status': p.status, 'data-service': p.service },
    cell('plan', h('a', { href: planHref(p.planId), class: 'mono', 'data-testid': 'release-link' }, p.planId)),
    cell('service', h('a', { href: serviceHref(p.service), class: 'mono' }, p.service)),
    cell('type', h('span', { title: typeLabel(p.type) }, words(p.type))),
    cell('status', stateBadge(p.status, 'release-status')),
    cell('hosts', h('span', { title: counts(p) }, String(p.hosts))),
    cell('versions', versionsText(p) || '—'),
    cell('memo', p.memo || ''),
    cell('created', formatTime(p.createdAt)),
    cell('by', p.createdBy || ''),
    cell('failed', (p.failedIps || []).join(', ')));

  const refresh = async () => {
    const { plans } = await api.get(`/api/releases${service ? `?service=${encodeURIComponent(service)}` : ''}`, { signal });
    if (signal.aborted) return;
    count.textContent = `${plans.length} plan${plans.length === 1 ? '' : 's'}`;
    replace(body, plans.length ? plans.map(row) : h('tr', {}, h('td', { colspan: 10, class: 'muted', id: 'releases-empty' }, 'No release plans yet.')));
    state.textContent = `updated ${formatTime(new Date().toISOString())}`;
    state.classList.remove('stale');
  };

  await refresh();
  root.append(
    h('div', { class: 'section-head' }, h('h1', {}, 'Releases'), count, state,
      h('label', { class: 'inline' }, 'Service ', filter),
      canRunCommands() ? h('a', { class: 'button primary', id: 'releases-new', href: wizardHref(service) }, 'New release…') : null),
    h('p', { class: 'muted' }, 'Release plans: which hosts get which versions and how to roll out; the hosts\' agents carry them out.'),
    h('section', { class: 'card scroll' }, h('table', { class: 'grid', id: 'releases-table' },
      h('thead', {}, h('tr', {}, ['Plan', 'Service', 'Type', 'State', 'Hosts', 'Versions', 'Memo', 'Created', 'By', 'Failed'].map((t) => h('th', {}, t)))),
      body)));

  refreshEvery(REFRESH_MS, signal, refresh, state);
}
