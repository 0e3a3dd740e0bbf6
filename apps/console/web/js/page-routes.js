/**
 * #/routes: the routing table of every service (enabled instances + version). "Watch" long-polls
 * GET /api/routes/:name?wait=25 with If-None-Match and redraws on each change.
 */
import { api, request, seg } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { showError } from './banner.js';
import { loadTree, protocolLabel, serviceHref } from './services-data.js';

/** Browsers allow ~6 connections per host over HTTP/1.1; leave room for the rest of the UI. */
const MAX_WATCHES = 4;
const WAIT_SECONDS = 25;

export async function renderRoutes(root, _params, pageSignal) {
  const [{ routes }, tree] = await Promise.all([api.get('/api/routes'), loadTree()]);
  const byName = new Map(routes.map((r) => [r.service, r]));
  const names = [...new Set([...tree.flatMap((s) => (s.children || []).map((c) => c.fullName)), ...byName.keys()])].sort();
  const watches = new Map();

  const card = (name) => {
    const version = h('span', { class: 'muted', 'data-testid': 'route-version' });
    const state = h('span', { class: 'watch-state', 'data-testid': 'route-watch-state' });
    const body = h('tbody');
    const button = h('button', { type: 'button', 'data-testid': 'route-watch' }, 'Watch');
    const el = h('section', { class: 'card route', 'data-testid': 'route', 'data-service': name },
      h('div', { class: 'section-head' }, h('h2', {}, h('a', { href: serviceHref(name) }, name)), version, button, state),
      h('table', { class: 'grid fixed' },
        h('thead', {}, h('tr', {}, ['IP:port', 'Protocol', 'Weight'].map((t) => h('th', {}, t)))), body));
    const draw = (route) => {
      version.textContent = route ? `version ${route.version}` : 'no routing table';
      const list = route ? route.instances : [];
      replace(body, list.length
        ? list.map((i) => h('tr', { 'data-testid': 'route-instance', 'data-addr': `${i.ip}:${i.port}` },
          h('td', { class: 'mono' }, `${i.ip}:${i.port}`), h('td', {}, protocolLabel(i.protocol)), h('td', { class: 'num' }, i.weight)))
        : h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No enabled instance: callers of this service get no route.')));
    };
    draw(byName.get(name));
    button.addEventListener('click', () => {
      if (watches.has(name)) return stop(name);
      if (watches.size >= MAX_WATCHES) return showError(`watch at most ${MAX_WATCHES} services at once (browser connection limit): stop one first`);
      const controller = new window.AbortController();
      watches.set(name, controller);
      button.textContent = 'Stop';
      button.classList.add('active');
      watch(name, byName.get(name), controller.signal, draw, state)
        .catch((err) => {
          if (!controller.signal.aborted) showError(err);
        })
        .finally(() => {
          if (watches.get(name) === controller) stop(name);
        });
    });
    const stop = (n) => {
      watches.get(n)?.abort();
      watches.delete(n);
      button.textContent = 'Watch';
      button.classList.remove('active');
      state.textContent = '';
    };
    return el;
  };

  pageSignal.addEventListener('abort', () => watches.forEach((c) => c.abort()));
  root.append(
    h('h1', {}, 'Routing'),
    h('p', { class: 'muted' }, 'Enabled instances per service, as callers resolve them. Watch follows changes live.'),
    h('div', { id: 'routes' }, names.length ? names.map(card) : h('p', { class: 'muted' }, 'No services yet.')));
}

async function watch(name, route, signal, draw, state) {
  let etag = route ? `"${route.version}"` : null;
  state.textContent = 'watching…';
  while (!signal.aborted) {
    const headers = etag ? { 'If-None-Match': etag } : {};
    const res = await request('GET', `/api/routes/${seg(name)}?wait=${WAIT_SECONDS}`, { headers, signal });
    if (res.status === 304) continue;
    etag = res.etag || `"${res.data.version}"`;
    draw(res.data);
    state.textContent = `watching · updated ${formatTime(new Date().toISOString())}`;
  }
}
