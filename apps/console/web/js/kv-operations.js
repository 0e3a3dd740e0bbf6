/**
 * The operations on a KV cluster, each confirmed before it is sent and carried out by the
 * console as a task: Expand (sets, extra hosts), Shrink (a set), Recover, Fail over (from a
 * replica's box), Delete (the name typed to confirm). One task at a time: the buttons wait while
 * one is under way. The console's refusal shows in the banner.
 */
import { api } from './api.js';
import { h, replace } from './dom.js';
import { field, guarded, onSubmit } from './forms.js';
import { inputError } from './banner.js';
import { ask } from './dialogs.js';
import { hostPicker } from './kv-host-picker.js';
import { addrOf, kvPath, plural } from './kv-data.js';

/** operationsView(name, onStarted(taskId, what)) → { el, update(cluster, agents, busy), failover(instance, button) }. */
export function operationsView(name, onStarted) {
  const base = kvPath(name);
  let cluster = null;

  // ---- expand -----------------------------------------------------------------------------------
  const extra = hostPicker({
    id: 'kv-expand-hosts', testid: 'kv-expand-host', exclude: () => cluster?.hosts || [],
    none: 'none: every enrolled agent\'s host is in the cluster already (enrol more on the Hosts page)',
  });
  const expandForm = h('form', { id: 'kv-expand-form', class: 'inline-form' },
    field('Sets to add', h('input', { id: 'kv-expand-sets', name: 'sets', type: 'number', min: 1, max: 64, value: 1, required: true })),
    h('div', { class: 'field grow' }, h('span', { class: 'field-label' }, 'Extra hosts (besides the cluster\'s)'), extra.el),
    h('button', { id: 'kv-expand-submit', type: 'submit', class: 'primary' }, 'Expand…'));
  onSubmit(expandForm, async (v) => {
    const sets = Number(v.sets);
    const hosts = extra.picked();
    const answer = await ask({
      title: `Expand ${name} by ${plural(sets, 'set')}?`,
      message: `New sets of ${1 + (cluster?.settings?.replicas ?? 0)} instance(s) each, placed on ${[...(cluster?.hosts || []), ...hosts].join(', ')}; `
        + 'slots are then moved to them live, keys and all, the fewest that balance the cluster.',
      okLabel: 'Expand',
    });
    if (!answer) return false;
    const started = await api.post(`${base}/expand`, { sets, hosts: hosts.length ? hosts : undefined, reason: answer.reason });
    onStarted(started.taskId, `expand by ${plural(sets, 'set')}`);
    return true;
  });

  // ---- shrink -----------------------------------------------------------------------------------
  const shrinkSet = h('select', { id: 'kv-shrink-set', name: 'set', 'aria-label': 'set to remove' });
  const shrinkForm = h('form', { id: 'kv-shrink-form', class: 'inline-form' },
    field('Set to remove', shrinkSet),
    h('button', { id: 'kv-shrink-submit', type: 'submit', class: 'danger' }, 'Shrink…'));
  onSubmit(shrinkForm, async (v) => {
    if (!v.set) throw inputError('pick the set to remove');
    const members = (cluster?.layout || []).filter((i) => String(i.setId) === v.set).map(addrOf);
    const answer = await ask({
      title: `Remove set ${v.set} of ${name}?`,
      message: `Its slots and keys move to the other sets first; then its instances (${members.join(', ')}) are stopped and removed by their agents.`,
      okLabel: 'Shrink', danger: true,
    });
    if (!answer) return false;
    const started = await api.post(`${base}/shrink`, { set: Number(v.set), reason: answer.reason });
    onStarted(started.taskId, `shrink: set ${v.set}`);
    return false;
  });

  // ---- recover, delete --------------------------------------------------------------------------
  const recover = h('button', { type: 'button', id: 'kv-recover', onclick: (e) => guarded(e.currentTarget, async () => {
    const down = (cluster?.live?.instances || []).filter((i) => i.role === 'down').map(addrOf);
    const answer = await ask({
      title: `Recover ${name}?`,
      message: down.length
        ? `${down.join(', ')} ${down.length === 1 ? 'does' : 'do'} not answer: each is replaced by a new replica on another host (a dead master's replica is promoted first).`
        : 'Every instance answers now: the console will say there is nothing to recover.',
      okLabel: 'Recover',
    });
    if (!answer) return;
    const started = await api.post(`${base}/recover`, { reason: answer.reason });
    onStarted(started.taskId, 'recover');
  }) }, 'Recover…');

  const remove = h('button', { type: 'button', id: 'kv-delete', class: 'danger', onclick: (e) => guarded(e.currentTarget, async () => {
    const answer = await ask({
      title: `Delete KV cluster ${name}?`,
      message: `Every instance (${plural(cluster?.layout.length ?? 0, 'instance')}) is stopped and removed by its agent, with its data. Type the name of the cluster to confirm.`,
      okLabel: 'Delete', danger: true,
      fields: [{ name: 'confirmName', label: `Type ${name}`, required: true }],
    });
    if (!answer) return;
    if (answer.confirmName.trim() !== name) throw inputError(`the name typed is not ${name}: nothing deleted`);
    const started = await api.del(base, { reason: answer.reason });
    onStarted(started.taskId, 'delete');
  }) }, 'Delete…');

  // ---- fail over (from a replica's box) ---------------------------------------------------------
  const failover = (instance, button) => guarded(button, async () => {
    const addr = addrOf(instance);
    const master = instance.live?.master;
    const answer = await ask({
      title: `Fail over to ${addr}?`,
      message: `${addr} becomes the master of set ${instance.setId}${master ? `; ${master} becomes its replica` : ''} (CLUSTER FAILOVER, in step with the master: no write is lost).`,
      okLabel: 'Fail over',
    });
    if (!answer) return;
    const started = await api.post(`${base}/failover`, { instance: addr, reason: answer.reason });
    onStarted(started.taskId, `fail over to ${addr}`);
  });

  const buttons = [expandForm, shrinkForm].flatMap((f) => [...f.querySelectorAll('button')]).concat([recover, remove]);
  const el = h('section', { class: 'card', id: 'kv-ops' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Operations'), h('span', { class: 'muted', id: 'kv-ops-busy', hidden: true }, 'a task is under way: one at a time'),
      h('div', { class: 'actions' }, recover, remove)),
    expandForm, shrinkForm);

  const update = (c, agents, busy) => {
    cluster = c;
    extra.update(agents);
    const sets = [...new Set(c.layout.map((i) => i.setId))].sort((a, b) => a - b);
    const keep = shrinkSet.value;
    replace(shrinkSet, sets.map((s) => h('option', { value: String(s) }, `set ${s} (${c.layout.filter((i) => i.setId === s).map(addrOf).join(', ')})`)));
    if (sets.map(String).includes(keep)) shrinkSet.value = keep;
    for (const b of buttons) b.disabled = busy;
    el.querySelector('#kv-ops-busy').hidden = !busy;
  };
  return { el, update, failover };
}
