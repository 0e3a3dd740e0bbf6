/** #/services (all services) and #/services/<First> (one first level and its children). */
import { api } from './api.js';
import { h, badge } from './dom.js';
import { loadTree, serviceHref, servicePath } from './services-data.js';

function childTable(children, showFirst) {
  if (!children.length) return h('p', { class: 'muted' }, 'No second-level services yet: create one with "New service" (First.Second).');
  return h('section', { class: 'card' }, h('table', { class: 'grid', id: 'services-table' },
    h('thead', {}, h('tr', {}, ['Service', 'Kind', 'Language', 'Port', 'Hosts', 'Enabled'].map((t) => h('th', {}, t)))),
    h('tbody', {}, children.map((c) => h('tr', { 'data-testid': 'services-row', 'data-name': c.fullName },
      h('td', {}, h('a', { href: serviceHref(c.fullName) }, showFirst ? c.fullName : c.name)),
      h('td', {}, badge(c.kind)),
      h('td', {}, c.lang || '—'),
      h('td', { class: 'num' }, c.port || '—'),
      h('td', { class: 'num' }, c.hosts),
      h('td', { class: 'num' }, c.enabledHosts))))));
}

export async function renderOverview(root) {
  const services = await loadTree();
  const children = services.flatMap((s) => s.children || []);
  root.append(
    h('h1', {}, 'Services'),
    h('p', { class: 'muted' }, `${services.length} first-level, ${children.length} second-level services. `
      + 'Standard services have hosts, config and IDL versions; odd (heterogeneous) services have hosts only.'),
    childTable(children, true));
}

export async function renderFirstLevel(root, name) {
  const s = await api.get(servicePath(name));
  root.append(
    h('div', { id: 'service-page', 'data-name': s.name },
      h('h1', { id: 'service-title' }, s.name, ' ', badge(s.kind, 'service-kind')),
      h('p', { class: 'muted' }, 'First-level service: a folder of second-level services.'),
      childTable((s.children || []).map((c) => ({ ...c, fullName: c.fullName || `${s.name}.${c.name}` })), false)));
}
