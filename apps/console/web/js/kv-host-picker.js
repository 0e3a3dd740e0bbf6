/**
 * Hosts to place KV instances on, picked from the enrolled agents: one checkbox per host with
 * its agent's state. Updated in place on every refresh (rows keyed by IP, ticks kept) so a click
 * never lands on a box that was just replaced. A host whose agent is down or revoked cannot be
 * ticked: the console would refuse it.
 */
import { h, replace, badge } from './dom.js';

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

  const update = (agents) => {
    const skip = new Set(exclude());
    const offered = agents.filter((a) => !skip.has(a.ip) && a.state !== 'revoked');
    const seen = new Set();
    for (const a of offered) {
      seen.add(a.ip);
      let row = rows.get(a.ip);
      if (!row) {
        row = makeRow(a.ip);
        rows.set(a.ip, row);
      }
      const usable = a.state !== 'down';
      row.box.disabled = !usable;
      if (!usable) row.box.checked = false;
      row.label.dataset.state = a.state;
      row.label.title = usable ? (a.hostname || '') : `the agent of ${a.ip} is down`;
      replace(row.state, badge(a.state, 'agent-state'));
    }
    for (const [ip, row] of rows) {
      if (!seen.has(ip)) {
        row.label.remove();
        rows.delete(ip);
      }
    }
    if (!offered.length) {
      replace(el, empty);
      return;
    }
    empty.remove();
    const wanted = offered.map((a) => rows.get(a.ip).label);
    if (wanted.some((label, i) => el.children[i] !== label)) for (const label of wanted) el.append(label);
  };

  const picked = () => [...rows.values()].filter((r) => r.box.checked).map((r) => r.box.value);
  return { el, update, picked };
}
