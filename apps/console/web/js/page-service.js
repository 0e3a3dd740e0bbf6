/**
 * #/services/<First.Second>: header (with Release… for operators), hosts (with their agents'
 * state), what the hosts run now, config versions, IDL versions, artifacts, library files and
 * the capacity wizard. What the hosts run is refreshed every few seconds while the page shows.
 */
import { api, seg } from './api.js';
import { h, append, replace, badge } from './dom.js';
import { hostsSection } from './hosts.js';
import { versionsSection } from './versions.js';
import { servicePath } from './services-data.js';
import { refreshTree } from './tree.js';
import { canRunCommands } from './session.js';
import { fileSection } from './service-artifacts.js';
import { installedSection } from './service-installed.js';
import { scaleSection } from './capacity-wizard.js';
import { releasesHref, wizardHref } from './releases-data.js';

const INSTALLED_REFRESH_MS = 5000;

export async function renderService(root, name, signal) {
  const header = h('div', { class: 'service-head' });
  const page = h('div', { id: 'service-page', 'data-name': name }, header);
  const operator = canRunCommands();
  /** The service and the state of its hosts' agents, read together so they agree. */
  const load = async () => {
    const [s, capacity] = await Promise.all([api.get(servicePath(name)), api.get(`/api/capacity/${seg(name)}`)]);
    return { ...s, agents: capacity.hostsDetail };
  };
  const loadPlans = async () => (await api.get(`/api/releases?service=${encodeURIComponent(name)}&limit=50`)).plans;

  let standard = true;
  // Everything is read first and shown at once: the forms that called this reset right after,
  // so a change shows no earlier than it used to.
  const changed = async () => {
    const [s, plans] = await Promise.all([load(), standard ? loadPlans() : [], standard ? installed.quietRefresh() : null]);
    update(s);
    if (standard) scale.update(s, plans);
    await refreshTree();
  };
  const hosts = hostsSection(name, changed);
  const configs = versionsSection('config', name, changed);
  const idls = versionsSection('idl', name, changed);
  const installed = installedSection(name);
  const artifacts = fileSection('artifact', name, () => installed.quietRefresh());
  const libraries = fileSection('library', name);
  const scale = scaleSection(name, changed);

  const update = (s) => {
    replace(header,
      h('h1', { id: 'service-title' }, s.name),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Kind'), h('dd', { id: 'service-kind' }, badge(s.kind)),
        h('dt', {}, 'Language'), h('dd', { id: 'service-lang' }, s.lang || '—'),
        h('dt', {}, 'Port'), h('dd', { id: 'service-port' }, s.port || '—'),
        h('dt', {}, 'Revision'), h('dd', { id: 'service-revision' }, s.revision ?? '—')),
      s.kind !== 'odd' && operator
        ? h('a', { class: 'button primary', id: 'service-release', href: wizardHref(s.name) }, 'Release…') : null,
      h('p', { class: 'links' },
        h('a', { href: '#/routes' }, 'Routing table'), ' · ',
        h('a', { href: `#/monitor/${encodeURIComponent(s.name)}`, id: 'service-monitor' }, 'Monitor'), ' · ',
        s.kind !== 'odd' ? [h('a', { id: 'service-releases', href: releasesHref(s.name) }, 'Releases'), ' · '] : null,
        h('a', { href: `#/audit?stream=${encodeURIComponent(`service-${s.name}`)}` }, 'Audit trail'), ' · ',
        h('a', { id: 'service-logs', href: `#/logs?service=${encodeURIComponent(s.name)}` }, 'Logs'), ' · ',
        h('a', { id: 'service-log-settings', href: `#/services/${encodeURIComponent(s.name)}/log-settings` }, 'Log settings')));
    hosts.update(s, s.agents);
    configs.update(s.configs || []);
    idls.update(s.idls || []);
  };

  const s = await load();
  standard = s.kind !== 'odd';
  if (standard) {
    const [plans] = await Promise.all([loadPlans(), installed.quietRefresh(), artifacts.refresh(), libraries.refresh()]);
    scale.update(s, plans);
  }
  append(page, [hosts.el, standard ? [installed.el, configs.el, idls.el, artifacts.el, libraries.el, operator ? scale.el : null]
    : h('p', { class: 'muted card' }, 'Odd (heterogeneous) service: the console manages its IP:port list and scaling only.')]);
  update(s);
  root.append(page);

  if (standard && signal) {
    const tick = async () => {
      if (signal.aborted) return;
      await installed.quietRefresh();
      if (!signal.aborted) timer = setTimeout(tick, INSTALLED_REFRESH_MS);
    };
    let timer = setTimeout(tick, INSTALLED_REFRESH_MS);
    signal.addEventListener('abort', () => window.clearTimeout(timer), { once: true });
  }
}
