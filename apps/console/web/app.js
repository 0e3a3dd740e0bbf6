/**
 * msec console web UI: bootstrap and hash router.
 * Routes: #/login  #/services  #/services/<First>  #/services/<First.Second>  #/services/<First.Second>/log-settings
 *         #/hosts  #/capacity  #/releases[?service=]  #/releases/<planId>  #/release/new?service=<First.Second>  #/routes  #/kv  #/kv/<name>  #/monitor[/<First.Second>]  #/alarms  #/logs  #/callgraph/<requestId>  #/audit  #/users
 */
import { setUnauthorizedHandler } from './js/api.js';
import { h } from './js/dom.js';
import { clearError, clearStaleNotice, installBanner, showError } from './js/banner.js';
import { installDialogs } from './js/dialogs.js';
import { forget, loadSession, logout, session } from './js/session.js';
import { highlight, installNewServiceForm, refreshTree } from './js/tree.js';
import { renderLogin } from './js/page-login.js';
import { renderFirstLevel, renderOverview } from './js/page-services.js';
import { renderService } from './js/page-service.js';
import { renderHosts } from './js/page-hosts.js';
import { renderCapacity } from './js/page-capacity.js';
import { renderRoutes } from './js/page-routes.js';
import { renderAudit } from './js/page-audit.js';
import { renderUsers } from './js/page-users.js';
import { renderLogs } from './js/page-logs.js';
import { renderCallGraph } from './js/page-callgraph.js';
import { renderLogSettings } from './js/page-log-settings.js';
import { renderMonitor, renderMonitorIndex } from './js/page-monitor.js';
import { renderAlarms } from './js/page-alarms.js';
import { renderReleases } from './js/page-releases.js';
import { renderRelease } from './js/page-release.js';
import { renderReleaseWizard } from './js/release-wizard.js';
import { renderKvList } from './js/page-kv.js';
import { renderKvCluster } from './js/page-kv-cluster.js';

const byId = (id) => document.getElementById(id);

/** [pattern, nav id, title, render(root, { match, query }, signal)] */
const pages = [
  [/^\/services$/, 'nav-services', 'Services', (root) => renderOverview(root)],
  [/^\/services\/([^/]+)$/, 'nav-services', null, (root, { match }, signal) => {
    const name = decodeURIComponent(match[1]);
    document.title = `${name} · msec console`;
    highlight(name);
    return name.includes('.') ? renderService(root, name, signal) : renderFirstLevel(root, name);
  }],
  [/^\/hosts$/, 'nav-hosts', 'Hosts', (root, params, signal) => renderHosts(root, params, signal)],
  [/^\/capacity$/, 'nav-capacity', 'Capacity', (root, params, signal) => renderCapacity(root, params, signal)],
  [/^\/releases$/, 'nav-releases', 'Releases', (root, params, signal) => renderReleases(root, params, signal)],
  [/^\/releases\/([^/]+)$/, 'nav-releases', null, (root, params, signal) => {
    highlight(null);
    return renderRelease(root, params, signal);
  }],
  [/^\/release\/new$/, 'nav-releases', 'New release', (root, params, signal) => {
    const name = params.query.get('service');
    if (name) highlight(name);
    return renderReleaseWizard(root, params, signal);
  }],
  [/^\/services\/([^/]+)\/log-settings$/, 'nav-services', null, (root, params) => {
    highlight(decodeURIComponent(params.match[1]));
    return renderLogSettings(root, params);
  }],
  [/^\/routes$/, 'nav-routes', 'Routing', (root, params, signal) => renderRoutes(root, params, signal)],
  [/^\/kv$/, 'nav-kv', 'KV', (root, params, signal) => renderKvList(root, params, signal)],
  [/^\/kv\/([^/]+)$/, 'nav-kv', null, (root, params, signal) => {
    highlight(null);
    return renderKvCluster(root, params, signal);
  }],
  [/^\/logs$/, 'nav-logs', 'Logs', (root, params, signal) => renderLogs(root, params, signal)],
  [/^\/callgraph\/([^/]+)$/, 'nav-logs', null, (root, params) => renderCallGraph(root, params)],
  [/^\/monitor$/, 'nav-monitor', 'Monitor', (root) => renderMonitorIndex(root)],
  [/^\/monitor\/([^/]+)$/, 'nav-monitor', null, (root, { match, query }, signal) => {
    const name = decodeURIComponent(match[1]);
    document.title = `Monitor ${name} · msec console`;
    highlight(name);
    return renderMonitor(root, name, query, signal);
  }],
  [/^\/alarms$/, 'nav-alarms', 'Alarms', (root) => renderAlarms(root)],
  [/^\/audit$/, 'nav-audit', 'Audit', (root, params) => renderAudit(root, params)],
  [/^\/users$/, 'nav-users', 'Users', (root) => renderUsers(root)],
];

let pageController = null;
let chromeReady = false;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/services';
  const q = raw.indexOf('?');
  return { path: q >= 0 ? raw.slice(0, q) : raw, query: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '') };
}

function showChrome(loggedIn) {
  byId('nav').hidden = !loggedIn;
  byId('session').hidden = !loggedIn;
  byId('tree-pane').hidden = !loggedIn;
  byId('layout').classList.toggle('logged-out', !loggedIn);
  byId('whoami').textContent = loggedIn ? session.user : '';
}

async function enterApp() {
  showChrome(true);
  if (!chromeReady) {
    installNewServiceForm();
    chromeReady = true;
  }
  await refreshTree();
}

async function navigate() {
  pageController?.abort();
  pageController = new window.AbortController();
  const signal = pageController.signal;
  const { path, query } = parseHash();
  clearError();
  clearStaleNotice();
  const root = h('div', { class: 'page' });
  byId('main').replaceChildren(root);

  if (path === '/login' || !session.user) {
    if (session.user) {
      location.hash = '#/services';
      return;
    }
    if (path !== '/login') {
      location.hash = `#/login?next=${encodeURIComponent(`#${path}${query.toString() ? `?${query}` : ''}`)}`;
      return;
    }
    showChrome(false);
    document.title = 'Log in · msec console';
    renderLogin(root, {
      next: query.get('next'),
      onLoggedIn: async (next) => {
        await enterApp();
        location.hash = next && next.startsWith('#/') && !next.startsWith('#/login') ? next : '#/services';
      },
    });
    return;
  }

  for (const a of byId('nav').querySelectorAll('a')) a.classList.remove('active');
  const found = pages.map(([re, nav, title, render]) => ({ match: re.exec(path), nav, title, render })).find((p) => p.match);
  if (!found) {
    root.append(h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '#/services' }, 'Back to the services')));
    return;
  }
  byId(found.nav).classList.add('active');
  if (found.title) {
    document.title = `${found.title} · msec console`;
    highlight(null);
  }
  root.classList.add('loading');
  try {
    await found.render(root, { match: found.match, query }, signal);
  } catch (err) {
    if (!signal.aborted) showError(err);
  } finally {
    root.classList.remove('loading');
  }
}

async function start() {
  installBanner();
  installDialogs();
  setUnauthorizedHandler(() => {
    if (!session.user) return;
    forget();
    const here = location.hash || '#/services';
    location.hash = `#/login?next=${encodeURIComponent(here)}`;
    setTimeout(() => showError('Your session has expired: log in again.'));
  });
  byId('logout').addEventListener('click', async () => {
    try {
      await logout();
    } catch (err) {
      showError(err);
    }
    showChrome(false);
    location.hash = '#/login';
  });
  try {
    if (await loadSession()) await enterApp();
  } catch (err) {
    showError(err);
  }
  window.addEventListener('hashchange', navigate);
  await navigate();
}

start();
