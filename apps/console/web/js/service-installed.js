/**
 * What each host of a service runs now (from its agent's heartbeats): the versions installed,
 * the process state, and how that differs from the service's latest config and artifact.
 */
import { api } from './api.js';
import { h, replace, badge, formatTime } from './dom.js';
import { guarded } from './forms.js';
import { servicePath } from './services-data.js';
import { planHref, stateBadge } from './releases-data.js';

const COLUMNS = [['addr', 'Host'], ['routed', 'Routed'], ['agent', 'Agent'], ['state', 'Process'], ['config', 'Config'], ['idl', 'IDL'],
  ['artifact', 'Artifact'], ['restarts', 'Restarts'], ['since', 'Since'], ['plan', 'Plan'], ['behind', 'Behind the latest']];

/** installedSection(service) → { el, refresh() }. */
export function installedSection(name) {
  const body = h('tbody');
  const latest = h('span', { class: 'muted', id: 'installed-latest' });
  const state = h('span', { class: 'muted', id: 'installed-refresh' });

  const cell = (col, ...children) => h('td', { 'data-col': col, class: col === 'restarts' ? 'num' : col === 'since' ? 'nowrap' : null }, children);
  const mono = (text) => (text ? h('span', { class: 'mono' }, text) : h('span', { class: 'muted' }, '—'));
  const row = (x) => {
    const i = x.installed;
    const behind = x.behind || [];
    return h('tr', {
      'data-testid': 'installed-row', 'data-addr': `${x.ip}:${x.port}`, 'data-state': i ? i.state : 'not installed', 'data-behind': behind.join(','),
    },
    cell('addr', h('span', { class: 'mono' }, `${x.ip}:${x.port}`)),
    cell('routed', badge(x.enabled ? 'enabled' : 'disabled')),
    cell('agent', badge(x.agent === 'enrolled' ? 'alive' : x.agent === 'none' ? 'noagent' : x.agent, 'installed-agent')),
    cell('state', i ? stateBadge(i.state, 'installed-state') : h('span', { class: 'muted' }, 'not installed')),
    cell('config', mono(i?.config)),
    cell('idl', mono(i?.idl)),
    cell('artifact', mono(i?.artifact)),
    cell('restarts', i ? String(i.restarts ?? 0) : ''),
    cell('since', i?.since ? formatTime(i.since) : ''),
    cell('plan', i?.planId ? h('a', { href: planHref(i.planId), class: 'mono' }, i.planId) : ''),
    cell('behind', behind.length
      ? behind.map((b) => [h('span', { class: 'badge tone-warn', 'data-testid': 'installed-behind', 'data-what': b }, b === 'not installed' ? b : `${b} behind`), ' '])
      : h('span', { class: 'badge tone-good', 'data-testid': 'installed-current' }, 'up to date')));
  };

  const refresh = async () => {
    const answer = await api.get(`${servicePath(name)}/installed`);
    const l = answer.latest || {};
    latest.textContent = `latest: config ${l.config || '—'}, artifact ${l.artifact || '—'}`;
    const hosts = answer.hosts || [];
    replace(body, hosts.length ? hosts.map(row) : h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, 'No hosts yet.')));
    state.textContent = `updated ${formatTime(new Date().toISOString())}`;
    state.classList.remove('stale');
  };

  const el = h('section', { class: 'card scroll', id: 'installed' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Installed on the hosts'), latest, state,
      h('button', { type: 'button', class: 'small', id: 'installed-refresh-button', onclick: (e) => guarded(e.currentTarget, refresh) }, 'Refresh')),
    h('table', { class: 'grid', id: 'installed-table' },
      h('thead', {}, h('tr', {}, COLUMNS.map(([, t]) => h('th', {}, t)))),
      body),
    h('p', { class: 'hint' }, 'As the hosts\' agents report it with their heartbeats. "Behind" compares with the service\'s newest config version and artifact.'));

  /** Failures while refreshing by itself are shown in place, not in the banner. */
  const quietRefresh = async () => {
    try {
      await refresh();
    } catch (err) {
      state.textContent = `refresh failed: ${err.message} (trying again)`;
      state.classList.add('stale');
    }
  };
  return { el, refresh, quietRefresh };
}
