/**
 * The capacity wizard of a service (MSEC's scale out / scale in): add hosts — they join the
 * service, the current versions (those of the newest succeeded complete release, or of a plan
 * chosen) are released to them and they are enabled once healthy; or take hosts out — out of
 * routing, drained, uninstalled by their agents and removed from the service.
 */
import { api } from './api.js';
import { h, replace } from './dom.js';
import { field, onSubmit, reasonField } from './forms.js';
import { inputError, showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { servicePath } from './services-data.js';
import { planHref, versionsText } from './releases-data.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** "10.0.0.1, 10.0.0.2 10.0.0.3" → the IPs, checked. */
export function parseIpList(text) {
  const ips = String(text).split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  if (!ips.length) throw inputError('name at least one host IP (e.g. 10.0.0.1, 10.0.0.2)');
  for (const ip of ips) if (!IPV4.test(ip)) throw inputError(`"${ip}" is not an IPv4 address`);
  return [...new Set(ips)];
}

/** scaleSection(service, changed) → { el, update(service, plans) }. */
export function scaleSection(name, changed) {
  const base = `${servicePath(name)}/scale`;
  const template = h('select', { id: 'scale-add-template', name: 'template' });
  const port = h('input', { id: 'scale-add-port', name: 'port', type: 'number', min: 1, max: 65535, autocomplete: 'off' });
  const addForm = h('form', { id: 'scale-add-form', class: 'inline-form' },
    field('Hosts to add (IPs)', h('input', { id: 'scale-add-ips', name: 'ips', required: true, placeholder: '10.0.0.5, 10.0.0.6', autocomplete: 'off' }), 'grow'),
    field('Port', port),
    field('Versions of', template),
    reasonField('scale-add-reason'),
    h('button', { id: 'scale-add-submit', type: 'submit', class: 'primary' }, 'Add and release'));
  onSubmit(addForm, async (v) => {
    const add = parseIpList(v.ips);
    const answer = await api.post(base, { add, port: v.port === '' ? undefined : Number(v.port), template: v.template, reason: v.reason });
    showNotice(`Adding ${add.join(', ')} to ${name}: release plan ${answer.planId}`);
    location.hash = planHref(answer.planId);
  });

  const removeList = h('div', { id: 'scale-remove-hosts', class: 'checks' });
  const result = h('p', { id: 'scale-remove-result', class: 'hint', hidden: true });
  const removeForm = h('form', { id: 'scale-remove-form', class: 'inline-form' },
    h('div', { class: 'field grow' }, h('span', { class: 'field-label' }, 'Hosts to take out'), removeList),
    field('Drain (s)', h('input', { id: 'scale-remove-drain', name: 'drain', type: 'number', min: 0, max: 600, value: 3 })),
    h('button', { id: 'scale-remove-submit', type: 'submit', class: 'danger' }, 'Take out…'));
  onSubmit(removeForm, async (v) => {
    const remove = [...removeList.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
    if (!remove.length) throw inputError('tick the hosts to take out');
    const answer = await ask({
      title: `Take ${remove.join(', ')} out of ${name}?`,
      message: `Out of routing, drained for ${v.drain || 0} s, uninstalled by their agents and removed from the service.`,
      okLabel: 'Take out', danger: true,
    });
    if (!answer) return false;
    const done = await api.post(base, { remove, drainSeconds: v.drain === '' ? undefined : Number(v.drain), reason: answer.reason });
    const sent = (done.uninstall || []).map((u) => u.ip);
    result.textContent = `Removed ${(done.removed || []).join(', ')}${sent.length ? `; uninstall sent to ${sent.join(', ')}` : ''}.`;
    result.hidden = false;
    removeForm.reset();
    showNotice(`Removed ${(done.removed || []).join(', ')} from ${name}`);
    await changed();
    return false;
  });

  const el = h('section', { class: 'card', id: 'capacity-wizard' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Capacity wizard')),
    h('p', { class: 'hint' }, 'Add: the hosts join the service, the current versions are released to them, and they enter routing once healthy '
      + '(each needs an enrolled agent). Take out: the reverse.'),
    addForm, removeForm, result);

  /** `plans`: the service's plans (GET /api/releases?service=), for the versions to copy. */
  const update = (service, plans = []) => {
    port.placeholder = String(service.port || '');
    const keep = template.value;
    const succeeded = plans.filter((p) => p.status === 'succeeded' && p.type === 'complete');
    replace(template,
      h('option', { value: '' }, 'the newest succeeded release'),
      succeeded.map((p) => h('option', { value: p.planId }, `${p.planId} (${versionsText(p) || 'no versions'})`)));
    if (succeeded.some((p) => p.planId === keep)) template.value = keep;
    const hosts = service.hosts || [];
    replace(removeList, hosts.length
      ? hosts.map((x) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: x.ip, 'data-testid': 'scale-remove-host', 'data-ip': x.ip }), ' ', h('span', { class: 'mono' }, `${x.ip}:${x.port}`)))
      : h('span', { class: 'muted' }, 'no hosts'));
  };
  return { el, update };
}
