/**
 * The "New cluster" form of #/kv: name, sets, replicas per set, memory per instance, the hosts
 * (picked from the enrolled agents), an optional base port and, folded, Redis's settings. A
 * confirmation says what will be started where before anything is sent; the console's refusal
 * (a name taken, a host without an agent) shows in the banner and the form keeps its input.
 */
import { api } from './api.js';
import { h } from './dom.js';
import { field, onSubmit } from './forms.js';
import { inputError, showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { hostPicker } from './kv-host-picker.js';
import { KV_SLOTS, kvHref, MAXMEMORY_POLICIES, plural } from './kv-data.js';

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/** createClusterForm() → { el, update(agents) }. */
export function createClusterForm() {
  const hosts = hostPicker({ id: 'kv-new-hosts', testid: 'kv-new-host' });
  const number = (id, name, value, min, max) => h('input', { id, name, type: 'number', value, min, max, required: value !== '' });
  const form = h('form', { id: 'kv-new-form', class: 'stack' },
    h('div', { class: 'row' },
      field('Name', h('input', { id: 'kv-new-name', name: 'name', required: true, maxlength: 40, placeholder: 'sessions', autocomplete: 'off' }), 'grow'),
      field('Sets (masters)', number('kv-new-sets', 'sets', 3, 1, 64)),
      field('Replicas per set', number('kv-new-replicas', 'replicas', 1, 0, 4)),
      field('Memory per instance', h('input', { id: 'kv-new-memory', name: 'memory', required: true, value: '64mb', maxlength: 20, autocomplete: 'off' })),
      field('Base port', h('input', { id: 'kv-new-port', name: 'port', type: 'number', min: 1024, max: 55436, placeholder: 'next free', autocomplete: 'off' }))),
    h('div', { class: 'field' }, h('span', { class: 'field-label' }, 'Hosts (their agents start the instances)'), hosts.el),
    h('details', { class: 'add', id: 'kv-new-more' }, h('summary', {}, 'Redis settings'),
      h('div', { class: 'row' },
        field('maxmemory policy', h('select', { id: 'kv-new-policy', name: 'policy' }, MAXMEMORY_POLICIES.map((p) => h('option', { value: p }, p)))),
        field('Node timeout (ms)', number('kv-new-timeout', 'nodeTimeoutMs', 5000, 500, 60000)),
        h('label', { class: 'check' }, h('input', { id: 'kv-new-appendonly', name: 'appendonly', type: 'checkbox', checked: true }), ' append-only file'))),
    field('Memo', h('input', { id: 'kv-new-memo', name: 'memo', maxlength: 140, autocomplete: 'off' })),
    h('div', { class: 'actions' }, h('button', { id: 'kv-new-submit', type: 'submit', class: 'primary' }, 'Create…')));
  // The checkbox defaults are what reset() comes back to.
  form.querySelector('#kv-new-appendonly').defaultChecked = true;

  onSubmit(form, async (v) => {
    const name = v.name.trim();
    if (!NAME.test(name)) throw inputError('a cluster name is a lowercase letter, then up to 39 lowercase letters, digits, "-" or "_"');
    const picked = hosts.picked();
    if (!picked.length) throw inputError('tick the hosts to place the instances on');
    const sets = Number(v.sets);
    const replicas = Number(v.replicas);
    const answer = await ask({
      title: `Create KV cluster ${name}?`,
      message: `${plural(sets, 'set')} × ${1 + replicas} instance(s) (${sets * (1 + replicas)} redis-server in all, ${v.memory} each) `
        + `started by the agents of ${picked.join(', ')}${v.port ? ` from port ${v.port}` : ''}, joined into one Redis cluster, `
        + `its ${KV_SLOTS} slots spread over the ${plural(sets, 'master')}.`,
      okLabel: 'Create',
    });
    if (!answer) return false;
    const started = await api.post('/api/kv', {
      name, sets, replicas, memory: v.memory.trim(), hosts: picked, port: v.port === '' ? undefined : Number(v.port),
      policy: v.policy, nodeTimeoutMs: Number(v.nodeTimeoutMs), appendonly: v.appendonly, memo: v.memo, reason: answer.reason,
    });
    showNotice(`KV cluster ${name}: creation started (task ${started.taskId})`);
    location.hash = kvHref(name);
    return true;
  });

  const el = h('section', { class: 'card', id: 'kv-new' },
    h('div', { class: 'section-head' }, h('h2', {}, 'New cluster')),
    h('p', { class: 'hint' }, 'Each set is a master and its replicas, never two of a set on one host when there are enough hosts. '
      + 'The instances listen on the hosts\' addresses from the base port up (the cluster bus on port + 10000).'),
    form);
  return { el, update: hosts.update };
}
