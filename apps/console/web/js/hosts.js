/**
 * The IP:port list of a service: enable (scale out), disable (scale in), weight, remove, add; and
 * the state of each host's agent (alive, down, revoked, none), from the capacity view.
 */
import { api, seg } from './api.js';
import { h, replace, badge } from './dom.js';
import { agentState } from './agent-state.js';
import { field, guarded, onSubmit, reasonField } from './forms.js';
import { inputError, showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { DEFAULT_WEIGHT, PROTOCOLS, protocolLabel, servicePath } from './services-data.js';

/** "10.0.0.1:7963" → { ip, port }; a missing port falls back to the service port. */
export function parseAddress(text, defaultPort) {
  const t = text.trim();
  const i = t.lastIndexOf(':');
  const ip = i >= 0 ? t.slice(0, i) : t;
  const portText = i >= 0 ? t.slice(i + 1) : String(defaultPort || '');
  const port = Number(portText);
  if (!ip || !/^\d+$/.test(portText)) throw inputError(`"${text}" is not ip:port (e.g. 10.0.0.1:7963)`);
  return { ip, port };
}

/** Builds the hosts section; returns { el, update(service) }. `changed()` reloads the page. */
export function hostsSection(name, changed) {
  const summary = h('span', { class: 'muted', id: 'hosts-summary' });
  const body = h('tbody');
  const base = `${servicePath(name)}/hosts`;

  const act = async (button, host, verb) => {
    const addr = `${host.ip}:${host.port}`;
    const texts = {
      enable: [`Enable ${addr}?`, 'Scale out: the host enters the routing table and starts receiving requests.', 'Enable'],
      disable: [`Disable ${addr}?`, 'Scale in: the host leaves the routing table.', 'Disable'],
      remove: [`Remove ${addr}?`, 'The host is removed from the service.', 'Remove'],
    }[verb];
    await guarded(button, async () => {
      const answer = await ask({ title: texts[0], message: texts[1], okLabel: texts[2], danger: verb !== 'enable' });
      if (!answer) return;
      if (verb === 'remove') await api.del(`${base}/${seg(addr)}`, { reason: answer.reason });
      else await api.post(`${base}/${seg(addr)}/${verb}`, { reason: answer.reason });
      showNotice(`${texts[2]}d ${addr}`);
      await changed();
    });
  };

  const setWeight = (button, host) => guarded(button, async () => {
    const addr = `${host.ip}:${host.port}`;
    const answer = await ask({
      title: `Weight of ${addr}`, message: 'Static weight for the load balancer (1–10000, default 100).', okLabel: 'Set weight',
      fields: [{ name: 'weight', label: 'Weight', type: 'number', value: host.weight, required: true, min: 1, max: 10000 }],
    });
    if (!answer) return;
    await api.put(`${base}/${seg(addr)}/weight`, { weight: Number(answer.weight), reason: answer.reason });
    showNotice(`Weight of ${addr} set to ${answer.weight}`);
    await changed();
  });

  let agentOf = new Map();
  const agentCell = (ip) => {
    const d = agentOf.get(ip) ?? { state: 'no agent' };
    return h('td', { 'data-testid': 'host-agent', 'data-state': d.state }, agentState(d));
  };

  const row = (host) => {
    const addr = `${host.ip}:${host.port}`;
    const status = host.enabled ? 'enabled' : 'disabled';
    return h('tr', { 'data-testid': 'host-row', 'data-addr': addr, class: `host-${status}` },
      h('td', { class: 'mono' }, addr),
      h('td', {}, protocolLabel(host.protocol)),
      h('td', { class: 'num' }, host.weight, ' ',
        h('button', { type: 'button', class: 'link', 'data-testid': 'host-weight', onclick: (e) => setWeight(e.currentTarget, host) }, 'edit')),
      h('td', {}, badge(status, 'host-status')),
      agentCell(host.ip),
      h('td', { class: 'actions' },
        host.enabled
          ? h('button', { type: 'button', 'data-testid': 'host-disable', onclick: (e) => act(e.currentTarget, host, 'disable') }, 'Disable (scale in)')
          : [
            h('button', { type: 'button', class: 'primary', 'data-testid': 'host-enable', onclick: (e) => act(e.currentTarget, host, 'enable') }, 'Enable (scale out)'),
            h('button', { type: 'button', class: 'danger', 'data-testid': 'host-remove', onclick: (e) => act(e.currentTarget, host, 'remove') }, 'Remove'),
          ]));
  };

  let servicePort = 0;
  const protocol = h('select', { id: 'add-host-protocol', name: 'protocol' }, PROTOCOLS.map(([v, label]) => h('option', { value: v }, label)));
  const form = h('form', { id: 'add-host-form', class: 'inline-form' },
    field('IP:port', h('input', { id: 'add-host-addr', name: 'addr', required: true, placeholder: '10.0.0.1:7963', autocomplete: 'off' })),
    field('Protocol', protocol),
    field('Weight', h('input', { id: 'add-host-weight', name: 'weight', type: 'number', min: 1, max: 10000, value: DEFAULT_WEIGHT })),
    reasonField('add-host-reason'),
    h('button', { id: 'add-host-submit', type: 'submit', class: 'primary' }, 'Add host'));
  onSubmit(form, async (v) => {
    const { ip, port } = parseAddress(v.addr, servicePort);
    await api.post(base, { ip, port, protocol: v.protocol, weight: v.weight === '' ? undefined : Number(v.weight), reason: v.reason });
    form.reset(); // before the redraw: what is typed once the new row shows is kept
    showNotice(`Added ${ip}:${port} (disabled: enable it to scale out)`);
    await changed();
    return false;
  });

  const el = h('section', { class: 'card', id: 'hosts' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Hosts (IP:port)'), summary),
    h('table', { class: 'grid', id: 'hosts-table' },
      h('thead', {}, h('tr', {}, ['IP:port', 'Protocol', 'Weight', 'Status', 'Agent', ''].map((t) => h('th', {}, t)))),
      body),
    h('p', { class: 'hint' }, 'New hosts start disabled. Only a disabled host can be removed.'),
    form);

  /** `agents`: the service's hosts with their agent's state (GET /api/capacity/:name `hostsDetail`). */
  const update = (service, agents = []) => {
    agentOf = new Map(agents.map((d) => [d.ip, d]));
    servicePort = service.port;
    const hosts = service.hosts || [];
    const enabled = hosts.filter((x) => x.enabled).length;
    summary.textContent = `${hosts.length} host${hosts.length === 1 ? '' : 's'}, ${enabled} enabled`;
    replace(body, hosts.length ? hosts.map(row) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No hosts yet.')));
  };
  return { el, update };
}
