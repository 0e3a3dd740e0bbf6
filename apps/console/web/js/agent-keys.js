/**
 * The command keys: which key signs commands now, the chain of keys before it, and which agents
 * trust each (an agent moves to a new key when it has checked the statement announcing it).
 * Admins rotate the key here.
 */
import { api } from './api.js';
import { h, replace, badge, formatTime } from './dom.js';
import { guarded } from './forms.js';
import { showNotice } from './banner.js';
import { ask } from './dialogs.js';

/** keysSection({ admin, changed }) → { el, update(keysAnswer) }. */
export function keysSection({ admin, changed }) {
  const body = h('tbody');
  const behind = h('p', { class: 'hint', id: 'keys-behind' });

  const rotate = (button) => guarded(button, async () => {
    const answer = await ask({
      title: 'Rotate the command key?',
      message: 'A new key signs commands from now on, announced to the agents in a statement signed by the current key. '
        + 'Agents that are down catch up when they return; commands signed by the old key are refused once they have.',
      okLabel: 'Rotate', danger: true,
    });
    if (!answer) return;
    const rotated = await api.post('/api/keys/rotate', { reason: answer.reason });
    showNotice(`Command key ${rotated.keyId} introduced (after ${rotated.previousKeyId || 'none'})`);
    await changed();
  });

  const row = (k) => h('tr', { 'data-testid': 'key-row', 'data-key-id': k.keyId, class: k.current ? 'key-current' : null },
    h('td', { class: 'mono' }, k.keyId, k.current ? [' ', badge('current', 'key-current')] : null),
    h('td', { class: 'mono' }, k.previousKeyId || '—'),
    h('td', { class: 'nowrap' }, formatTime(k.introducedAt)),
    h('td', { 'data-testid': 'key-agents' }, k.agents.length ? k.agents.join(', ') : h('span', { class: 'muted' }, 'no agent')));

  const update = (keys) => {
    replace(body, keys.keys.length ? keys.keys.map(row)
      : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No command key yet: the first enrolment token makes one.')));
    const late = keys.agentsBehind || [];
    behind.textContent = late.length
      ? `Not yet on the current key: ${late.map((a) => `${a.ip} (trusts ${a.trusts || 'no key yet'})`).join(', ')}.`
      : 'Every active agent trusts the current key.';
  };

  const el = h('section', { class: 'card', id: 'keys' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Command keys'),
      admin ? h('button', { type: 'button', id: 'keys-rotate', class: 'danger', onclick: (e) => rotate(e.currentTarget) }, 'Rotate key') : null),
    h('table', { class: 'grid', id: 'keys-table' },
      h('thead', {}, h('tr', {}, ['Key', 'Previous', 'Introduced', 'Trusted by'].map((t) => h('th', {}, t)))), body),
    behind);
  return { el, update };
}
