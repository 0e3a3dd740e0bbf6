/**
 * Hosts to place KV instances on, picked from the enrolled agents: one checkbox per host with
 * its agent's state. Updated in place on every refresh (rows keyed by IP, ticks kept) so a click
 * never lands on a box that was just replaced. A host whose agent is down or revoked cannot be
 * ticked: the console would refuse it.
 */
import { h, replace, badge, syncKeyed } from './dom.js';

/** hostPicker({ id, testid, exclude() → IPs not offered, none: text when none is }) → { el, update(agents), picked() }. */
export function hostPicker({ id, testid, exclude = () => [], none = 'no enrolled agents: enrol one on the Hosts page first' }) {
  const el = h('div', { id, class: 'checks kv-hosts-pick' });
  const rows = new Map();
  const empty = h('span', { class: 'muted', 'data-testid': `${testid}-none` }, none);

  const makeRow = (ip) => {
    const box = h('input', { type: 'checkbox', value: ip, 'data-testid': testid, 'data-ip': ip });
    const state = h('span');
    const label = h('label', { class: 'check' }, box, ' ', h('span', { class: 'mono' }, ip), ' ', state);
    return { label, box, state };
  };

  const fill = (row, a) => {
    const usable = a.state !== 'down';
    row.box.disabled = !usable;
    if (!usable) row.box.checked = false;
    row.label.dataset.state = a.state;
    row.label.title = usable ? (a.hostname || '') : `the agent of ${a.ip} is down`;
    replace(row.state, badge(a.state, 'agent-state'));
  };

  const update = (agents) => {
    const skip = new Set(exclude());
    const offered = agents.filter((a) => !skip.has(a.ip) && a.state !== 'revoked');
    syncKeyed(el, rows, offered, { keyOf: (a) => a.ip, make: makeRow, fill, elementOf: (row) => row.label, empty });
  };

  const picked = () => [...rows.values()].filter((r) => r.box.checked).map((r) => r.box.value);
  return { el, update, picked };
}
