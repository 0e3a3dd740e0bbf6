/**
 * #/capacity: MSEC's capacity page. Per second-level service: its hosts, how many run an agent,
 * how many are alive or down, and the average CPU and memory of the alive ones. Refreshed every
 * few seconds like the hosts view.
 */
import { api } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { agentState } from './agent-state.js';
import { serviceHref } from './services-data.js';
import { refreshEvery } from './timers.js';

const REFRESH_MS = 5000;
const pct = (n) => (typeof n === 'number' ? `${n.toFixed(1)} %` : '—');

/** One host of a service with its agent's state: "10.0.0.1 alive cpu 12.5 %, mem 40.1 %". */
const hostChip = (d) => h('span', { class: 'host-agent', 'data-testid': 'capacity-host', 'data-ip': d.ip, 'data-state': d.state },
  h('span', { class: 'mono' }, d.ip), ' ', agentState(d));

export async function renderCapacity(root, _params, signal) {
  const body = h('tbody');
  const state = h('span', { class: 'muted', id: 'capacity-refresh' });
  const cell = (col, ...children) => h('td', { 'data-col': col, class: col === 'service' || col === 'detail' ? null : 'num' }, children);

  const row = (c) => h('tr', { 'data-testid': 'capacity-row', 'data-service': c.service },
    cell('service', h('a', { href: serviceHref(c.service) }, c.service)),
    cell('hosts', c.hosts), cell('enabled', c.enabledHosts), cell('agents', c.withAgent),
    cell('alive', c.alive), cell('down', c.down),
    cell('cpu', pct(c.avgCpuPercent)), cell('mem', pct(c.avgMemUsedPercent)),
    cell('detail', c.hostsDetail.length ? c.hostsDetail.map((d) => [hostChip(d), ' ']) : h('span', { class: 'muted' }, 'no hosts')));

  const refresh = async () => {
    const { services } = await api.get('/api/capacity', { signal });
    if (signal.aborted) return;
    replace(body, services.length ? services.map(row) : h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No second-level services yet.')));
    state.textContent = `updated ${formatTime(new Date().toISOString())}`;
  };

  await refresh();
  root.append(
    h('div', { class: 'section-head' }, h('h1', {}, 'Capacity'), state),
    h('p', { class: 'muted' }, 'Per service: its hosts, those with an agent, alive and down, and the average load of the alive ones. '
      + 'Scale a service with the capacity wizard on its page (add hosts: they get its current release and enter routing; or take hosts out); '
      + 'enrol their agents on the Hosts page.'),
    h('section', { class: 'card scroll' }, h('table', { class: 'grid', id: 'capacity-table' },
      h('thead', {}, h('tr', {}, ['Service', 'Hosts', 'Enabled', 'With agent', 'Alive', 'Down', 'Avg CPU', 'Avg memory', 'Hosts and agents']
        .map((t) => h('th', {}, t)))), body)));

  refreshEvery(REFRESH_MS, signal, refresh, state, { stale: false });
}
