/** #/services/<First.Second>: header, hosts (with their agents' state), config versions, IDL versions. */
import { api, seg } from './api.js';
import { h, append, replace, badge } from './dom.js';
import { hostsSection } from './hosts.js';
import { versionsSection } from './versions.js';
import { servicePath } from './services-data.js';
import { refreshTree } from './tree.js';

export async function renderService(root, name) {
  const header = h('div', { class: 'service-head' });
  const page = h('div', { id: 'service-page', 'data-name': name }, header);
  /** The service and the state of its hosts' agents, read together so they agree. */
  const load = async () => {
    const [s, capacity] = await Promise.all([api.get(servicePath(name)), api.get(`/api/capacity/${seg(name)}`)]);
    return { ...s, agents: capacity.hostsDetail };
  };

  const changed = async () => {
    const s = await load();
    update(s);
    await refreshTree();
  };
  const hosts = hostsSection(name, changed);
  const configs = versionsSection('config', name, changed);
  const idls = versionsSection('idl', name, changed);

  const update = (s) => {
    replace(header,
      h('h1', { id: 'service-title' }, s.name),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Kind'), h('dd', { id: 'service-kind' }, badge(s.kind)),
        h('dt', {}, 'Language'), h('dd', { id: 'service-lang' }, s.lang || '—'),
        h('dt', {}, 'Port'), h('dd', { id: 'service-port' }, s.port || '—'),
        h('dt', {}, 'Revision'), h('dd', { id: 'service-revision' }, s.revision ?? '—')),
      h('p', { class: 'links' },
        h('a', { href: '#/routes' }, 'Routing table'), ' · ',
        h('a', { href: `#/monitor/${encodeURIComponent(s.name)}`, id: 'service-monitor' }, 'Monitor'), ' · ',
        h('a', { href: `#/audit?stream=${encodeURIComponent(`service-${s.name}`)}` }, 'Audit trail'), ' · ',
        h('a', { id: 'service-logs', href: `#/logs?service=${encodeURIComponent(s.name)}` }, 'Logs'), ' · ',
        h('a', { id: 'service-log-settings', href: `#/services/${encodeURIComponent(s.name)}/log-settings` }, 'Log settings')));
    hosts.update(s, s.agents);
    configs.update(s.configs || []);
    idls.update(s.idls || []);
  };

  const s = await load();
  const standard = s.kind !== 'odd';
  append(page, [hosts.el, standard ? [configs.el, idls.el]
    : h('p', { class: 'muted card' }, 'Odd (heterogeneous) service: the console manages its IP:port list and scaling only.')]);
  update(s);
  root.append(page);
}
