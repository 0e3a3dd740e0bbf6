/**
 * A KV cluster drawn per host: one card per host, in it a box per instance with its set, port,
 * role as Redis reports it (master, replica, down; coloured), slots of a master, keys, memory
 * used of its maxmemory, ops/s, hit ratio, a replica's master and lag. A replica's box has the
 * "Fail over" button. Cards and boxes are keyed (by IP, by ip:port) and updated in place, so a
 * click never lands on a box that was just replaced.
 */
import { h, replace } from './dom.js';
import { addrOf, byAddress, bytesText, plural, roleBadge } from './kv-data.js';

const stat = (key, label, value, title) => h('span', { class: 'kv-stat', 'data-testid': 'kv-stat', 'data-key': key, title: title || null },
  h('span', { class: 'kv-stat-label' }, label), ' ', h('span', { class: 'kv-stat-value' }, value));

const hitText = (r) => (typeof r === 'number' && r >= 0 ? `${(r * 100).toFixed(1)} %` : '—');
const opsText = (n) => (typeof n === 'number' ? String(n) : '—');

/** layoutView({ onFailover(instance, button) }) → { el, update(cluster, { busy, operator }) }. */
export function layoutView({ onFailover }) {
  const el = h('div', { id: 'kv-layout', class: 'kv-hosts' });
  const cards = new Map();
  const boxes = new Map();
  const empty = h('p', { class: 'muted', id: 'kv-layout-empty' }, 'No instances placed.');

  const makeCard = (ip) => {
    const count = h('span', { class: 'muted', 'data-testid': 'kv-host-count' });
    const list = h('div', { class: 'kv-instances' });
    const card = h('section', { class: 'card kv-host', 'data-testid': 'kv-host', 'data-ip': ip },
      h('div', { class: 'kv-host-head' }, h('h2', { class: 'mono' }, ip), count), list);
    return { card, count, list };
  };

  const makeBox = (addr) => {
    const head = h('div', { class: 'kv-instance-head' });
    const stats = h('div', { class: 'kv-stats' });
    const error = h('p', { class: 'error-text kv-instance-error', 'data-testid': 'kv-instance-error', hidden: true });
    const failover = h('button', { type: 'button', class: 'small', 'data-testid': 'kv-failover', 'data-addr': addr, hidden: true }, 'Fail over…');
    const box = h('div', { class: 'kv-instance', 'data-testid': 'kv-instance', 'data-addr': addr }, head, stats, error, h('div', { class: 'kv-instance-actions' }, failover));
    const view = { box, head, stats, error, failover, instance: null };
    failover.addEventListener('click', () => onFailover(view.instance, failover));
    return view;
  };

  const fill = (view, i, { busy, operator }) => {
    view.instance = i;
    const role = i.live ? i.live.role : 'unknown';
    const b = view.box;
    b.dataset.role = role;
    b.dataset.set = String(i.setId);
    b.dataset.placed = i.role;
    b.className = `kv-instance kv-${role}`;
    replace(view.head,
      h('strong', { 'data-testid': 'kv-instance-set' }, `set ${i.setId}`), ' ',
      h('span', { class: 'mono', 'data-testid': 'kv-instance-port' }, `:${i.port}`), ' ',
      roleBadge(role));
    const l = i.live;
    replace(view.stats, l ? [
      l.role === 'master' ? stat('slots', 'slots', String(l.slots), l.ranges || 'no slots') : null,
      l.role === 'replica' ? stat('master', 'of', h('span', { class: 'mono' }, l.master || '?')) : null,
      stat('keys', 'keys', String(l.keys)),
      stat('memory', 'memory', `${bytesText(l.memoryBytes)} / ${bytesText(l.maxmemoryBytes)}`),
      stat('ops', 'ops/s', opsText(l.opsPerSec)),
      stat('hit', 'hits', hitText(l.hitRatio)),
      l.role === 'replica' ? stat('lag', 'lag', l.linkUp ? bytesText(Math.max(0, l.lagBytes)) : 'link down') : null,
      l.placedRole && l.placedRole !== l.role && l.role !== 'down' ? h('span', { class: 'muted kv-placed' }, `(placed as ${l.placedRole})`) : null,
    ] : h('span', { class: 'muted' }, 'not read'));
    view.error.textContent = l?.error || '';
    view.error.hidden = !l?.error;
    view.failover.hidden = !operator || role !== 'replica';
    view.failover.disabled = busy;
    view.failover.title = busy ? 'a task is under way: one at a time' : `promote ${addrOf(i)} to master of set ${i.setId}`;
  };

  /** `cluster`: GET /api/kv/:name. */
  const update = (cluster, options) => {
    const live = new Map((cluster.live?.instances || []).map((x) => [addrOf(x), x]));
    const instances = cluster.layout.map((i) => ({ ...i, live: live.get(addrOf(i)) }));
    const ips = [...new Set([...(cluster.hosts || []), ...instances.map((i) => i.ip)])].sort(byAddress);
    const seenCards = new Set();
    const seenBoxes = new Set();
    for (const ip of ips) {
      seenCards.add(ip);
      let card = cards.get(ip);
      if (!card) {
        card = makeCard(ip);
        cards.set(ip, card);
      }
      const here = instances.filter((i) => i.ip === ip).sort((a, b) => a.port - b.port);
      const masters = here.filter((i) => i.live?.role === 'master').length;
      card.count.textContent = here.length ? `${plural(here.length, 'instance')}, ${plural(masters, 'master')}` : 'no instances';
      card.card.dataset.masters = String(masters);
      const wanted = here.map((i) => {
        const addr = addrOf(i);
        seenBoxes.add(addr);
        let view = boxes.get(addr);
        if (!view) {
          view = makeBox(addr);
          boxes.set(addr, view);
        }
        fill(view, i, options);
        return view.box;
      });
      if (wanted.length !== card.list.children.length || wanted.some((b, n) => card.list.children[n] !== b)) replace(card.list, wanted);
    }
    for (const [addr, view] of boxes) {
      if (!seenBoxes.has(addr)) {
        view.box.remove();
        boxes.delete(addr);
      }
    }
    for (const [ip, card] of cards) {
      if (!seenCards.has(ip)) {
        card.card.remove();
        cards.delete(ip);
      }
    }
    const wantedCards = ips.map((ip) => cards.get(ip).card);
    if (!wantedCards.length) {
      replace(el, empty);
      return;
    }
    empty.remove();
    if (wantedCards.length !== el.children.length || wantedCards.some((c, n) => el.children[n] !== c)) replace(el, wantedCards);
  };
  return { el, update };
}
