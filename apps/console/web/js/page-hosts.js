/**
 * #/hosts: every enrolled agent (alive, down or revoked, last seen, load), refreshed every few
 * seconds; enrolment tokens and revocation (admins); running a command and the process view
 * (operators and admins); the command keys. The API checks every permission again.
 */
import { api } from './api.js';
import { h, append, formatTime } from './dom.js';
import { guarded } from './forms.js';
import { showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { canRunCommands, isAdmin } from './session.js';
import { refreshEvery } from './timers.js';
import { agentPath } from './agent-commands.js';
import { agentTable } from './agent-table.js';
import { tokenSection } from './agent-token.js';
import { keysSection } from './agent-keys.js';
import { execPanel } from './agent-exec.js';
import { processesPanel } from './agent-processes.js';

const REFRESH_MS = 3000;

export async function renderHosts(root, _params, signal) {
  const admin = isAdmin();
  const operator = canRunCommands();
  const summary = h('span', { class: 'muted', id: 'hosts-summary' });
  const refreshState = h('span', { class: 'muted', id: 'hosts-refresh' });
  const exec = execPanel(signal);
  const processes = processesPanel(signal);

  const revoke = (button, a) => guarded(button, async () => {
    const answer = await ask({
      title: `Revoke the agent of ${a.ip}?`,
      message: 'It is refused everything from now on (commands, reports, files); its pending commands are dropped. '
        + 'To bring the host back, make a new enrolment token and start the agent with it.',
      okLabel: 'Revoke', danger: true,
    });
    if (!answer) return;
    await api.post(`${agentPath(a.ip)}/revoke`, { reason: answer.reason });
    showNotice(`Revoked the agent of ${a.ip}`);
    if (exec.el.dataset.ip === a.ip) exec.close();
    if (processes.el.dataset.ip === a.ip) processes.close();
    await refresh();
  });

  const actions = (a) => {
    if (a.state === 'revoked') return h('span', { class: 'muted' }, 'refused everything');
    return [
      operator ? h('button', { type: 'button', class: 'small', 'data-testid': 'agent-processes', onclick: () => processes.open(a.ip) }, 'Processes') : null,
      operator ? h('button', { type: 'button', class: 'small', 'data-testid': 'agent-exec', onclick: () => exec.open(a.ip) }, 'Run…') : null,
      admin ? h('button', { type: 'button', class: 'small danger', 'data-testid': 'agent-revoke', onclick: (e) => revoke(e.currentTarget, a) }, 'Revoke') : null,
    ];
  };

  const table = agentTable({ actions });
  const keys = keysSection({ admin, changed: () => refresh() });
  const token = admin ? tokenSection(() => refresh()) : null;

  const refresh = async () => {
    const [{ agents }, keyAnswer] = await Promise.all([api.get('/api/agents', { signal }), api.get('/api/keys', { signal })]);
    if (signal.aborted) return;
    table.update(agents);
    keys.update(keyAnswer);
    const count = (state) => agents.filter((a) => a.state === state).length;
    summary.textContent = `${agents.length} agent${agents.length === 1 ? '' : 's'}: ${count('alive')} alive, ${count('down')} down, `
      + `${count('revoked')} revoked${count('unknown') ? `, ${count('unknown')} not heard from yet` : ''}`;
    refreshState.textContent = `updated ${formatTime(new Date().toISOString())}`;
    refreshState.classList.remove('stale');
  };

  await refresh();
  append(root, [
    h('div', { class: 'section-head' }, h('h1', {}, 'Hosts'), summary, refreshState),
    h('p', { class: 'muted' }, 'Each host runs msec agent; it checks the console\'s signature on every command and sends a heartbeat with its load. '
      + 'A host is down after 3 missed heartbeats.'),
    token?.el,
    h('section', { class: 'card scroll' }, table.el),
    exec.el,
    processes.el,
    keys.el,
    h('p', { class: 'links' }, h('a', { href: '#/capacity' }, 'Capacity per service'), ' · ',
      h('a', { href: `#/audit?type=${encodeURIComponent('AgentCommandIssued')}` }, 'Commands in the audit'))]);
  refreshEvery(REFRESH_MS, signal, refresh, refreshState);
}
