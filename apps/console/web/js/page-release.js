/**
 * #/releases/<planId>: one release plan, live. The plan is long-polled (GET /api/releases/:id
 * ?after=<revision>&wait=25) while the page shows; every host's install or rollback command is
 * followed for its output as the agent streams it. Buttons follow the plan's state. The agent's
 * output is text in a <pre>, never markup.
 */
import { api, seg } from './api.js';
import { h, replace, formatSize, formatTime } from './dom.js';
import { guarded } from './forms.js';
import { showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { canRunCommands } from './session.js';
import { sleep } from './timers.js';
import { agentPath } from './agent-commands.js';
import { serviceHref } from './services-data.js';
import { FINAL, planPath, releasesHref, stateBadge, typeLabel } from './releases-data.js';

const WAIT_SECONDS = 25;
const RETRY_MS = 2000;

export async function renderRelease(root, { match }, signal) {
  const id = decodeURIComponent(match[1]);
  document.title = `Release ${id} · msec console`;
  const operator = canRunCommands();
  let plan = await api.get(planPath(id), { signal });

  const status = h('span', { id: 'plan-status' });
  const live = h('span', { class: 'muted', id: 'plan-live' });
  const detail = h('p', { id: 'plan-detail', class: 'plan-detail' });
  const facts = h('dl', { id: 'plan-summary', class: 'summary' });
  const hostsBody = h('tbody');
  const links = h('p', { class: 'links' });

  // ---- actions ----------------------------------------------------------------------------------
  const act = (button, verb, confirm) => guarded(button, async () => {
    let reason = '';
    if (confirm) {
      const answer = await ask(confirm);
      if (!answer) return;
      reason = answer.reason;
    }
    await api.post(`${planPath(id)}/${verb}`, { reason });
    showNotice(`Release plan ${id}: ${verb} asked`);
    show(await api.get(planPath(id), { signal }));
  });
  const button = (verb, label, cls, confirm) => h('button', {
    type: 'button', id: `plan-${verb}`, class: cls, hidden: true,
    onclick: (e) => act(e.currentTarget, verb, typeof confirm === 'function' ? confirm() : confirm),
  }, label);
  const buttons = {
    start: button('start', 'Start', 'primary'),
    pause: button('pause', 'Pause', null),
    resume: button('resume', 'Resume', 'primary'),
    cancel: button('cancel', 'Cancel', 'danger', {
      title: `Cancel release plan ${id}?`, message: 'No new host starts; hosts under way finish, then the plan ends.', okLabel: 'Cancel the plan', danger: true,
    }),
    rollback: button('rollback', 'Roll back…', 'danger', () => ({
      title: `Roll back release plan ${id}?`,
      message: `Every host this plan released (${plan.hosts.filter((x) => x.installCommand).map((x) => x.ip).join(', ')}) goes back to what it ran before `
        + 'the plan; a host where the service was not installed before has it removed.',
      okLabel: 'Roll back', danger: true,
    })),
  };
  const actions = h('div', { id: 'plan-actions', class: 'actions plan-actions' }, Object.values(buttons));

  // ---- hosts ------------------------------------------------------------------------------------
  /** Per host: its row, its steps and output, and the text of each command followed (by command id). */
  const hostViews = new Map();
  const outputs = new Map();
  let outputNote = '';
  const hostView = (x) => {
    let v = hostViews.get(x.ip);
    if (v) return v;
    const cell = (col) => h('td', { 'data-col': col });
    v = {
      addr: cell('addr'), state: cell('state'), step: cell('step'), error: cell('error'),
      steps: h('ol', { class: 'steps', 'data-testid': 'plan-host-steps', 'data-ip': x.ip }),
      output: h('pre', { class: 'file output', 'data-testid': 'plan-host-output', 'data-ip': x.ip }),
    };
    v.row = h('tr', { 'data-testid': 'plan-host', 'data-ip': x.ip, class: 'plan-host' }, v.addr, v.state, v.step, v.error);
    v.detail = h('tr', { 'data-testid': 'plan-host-detail', 'data-ip': x.ip, class: 'plan-host-detail' },
      h('td', { colspan: 4 }, h('div', { class: 'host-detail' }, v.steps, v.output)));
    hostViews.set(x.ip, v);
    hostsBody.append(v.row, v.detail);
    return v;
  };

  const renderOutput = (x) => {
    const v = hostView(x);
    const parts = [['install', x.installCommand], ['rollback', x.rollbackCommand]].filter(([, c]) => c && outputs.has(c));
    let text = parts.map(([label, c]) => `${parts.length > 1 ? `── ${label} ──\n` : ''}${outputs.get(c).text}`).join('\n');
    // What the plan kept of a failed host's output, when the command's own is not (or no longer) at hand.
    if (!text.trim() && x.output) text = x.output;
    if (!text && outputNote && (x.installCommand || x.rollbackCommand)) text = outputNote;
    if (v.output.textContent !== text) {
      // Follows the end while the agent writes, unless the reader scrolled up.
      const atEnd = v.output.scrollTop + v.output.clientHeight >= v.output.scrollHeight - 4;
      v.output.textContent = text;
      if (atEnd) v.output.scrollTop = v.output.scrollHeight;
    }
    v.output.hidden = !text;
    v.output.dataset.state = x.state;
  };

  const updateHost = (x) => {
    const v = hostView(x);
    v.row.dataset.state = x.state;
    v.detail.dataset.state = x.state;
    replace(v.addr, h('span', { class: 'mono' }, `${x.ip}:${x.port}`));
    replace(v.state, stateBadge(x.state, 'plan-host-state'));
    const last = x.steps[x.steps.length - 1];
    replace(v.step, last ? `${last.operation} ${last.step}${last.ok ? '' : ' (failed)'}` : '');
    v.step.dataset.step = last ? `${last.operation}:${last.step}` : '';
    replace(v.error, x.error ? h('span', { class: 'error-text' }, x.error) : '');
    replace(v.steps, x.steps.map((s) => h('li', { 'data-testid': 'plan-step', 'data-step': s.step, 'data-operation': s.operation, 'data-ok': String(s.ok), class: s.ok ? 'ok' : 'failed' },
      h('span', { class: 'mono nowrap' }, formatTime(s.at)), ' ',
      h('strong', {}, `${s.operation} ${s.step}`), s.ok ? '' : ' failed', s.detail ? [': ', h('span', { class: 'step-detail' }, s.detail)] : '')));
    renderOutput(x);
  };

  // ---- the plan ---------------------------------------------------------------------------------
  const fact = (key, label, ...value) => [h('dt', {}, label), h('dd', { 'data-testid': 'plan-fact', 'data-key': key }, value)];
  const show = (p) => {
    if (p.revision < plan.revision) return; // an older answer that came late
    plan = p;
    const v = p.plan;
    const s = p.status;
    replace(status, stateBadge(s, 'plan-status-badge'));
    status.dataset.status = s;
    const notes = [];
    if (s === 'paused') notes.push(p.pausedWhy === 'canary' ? 'The canary is healthy: Resume to release the other hosts.' : 'Paused: hosts under way finish, no new host starts until Resume.');
    if (p.cancelled && !FINAL.has(s)) notes.push('Cancelled: the plan ends once the hosts under way finish.');
    if (p.rollbackReason && !String(p.detail).includes(p.rollbackReason)) notes.push(`Rollback: ${p.rollbackReason}`);
    if (p.detail) notes.push(p.detail);
    detail.textContent = notes.join(' · ');
    detail.hidden = !notes.length;
    const libs = v.libraries || [];
    replace(facts,
      fact('service', 'Service', h('a', { href: serviceHref(v.service), class: 'mono', id: 'plan-service' }, v.service)),
      fact('type', 'Type', typeLabel(v.releaseType)),
      fact('config', 'Config', v.configTag || '—'),
      fact('idl', 'IDL', v.idlTag || '—'),
      fact('artifact', 'Artifact', v.artifactTag ? `${v.artifactTag} (${formatSize(v.artifactSize)})` : '—'),
      fact('libraries', 'Library files', libs.length ? libs.map((l) => l.name).join(', ') : '—'),
      fact('rollout', 'Rollout', `${v.canary ? `canary ${v.canary}${v.canaryAutoSeconds ? ` (goes on after ${v.canaryAutoSeconds} s)` : ''}, then ` : ''}${v.batch ? `${v.batch} at a time` : 'all at once'}`),
      fact('enable', 'Routing follows', v.enable ? 'yes' : 'no'),
      fact('autoRollback', 'Automatic rollback', v.autoRollback ? 'yes' : 'no'),
      fact('memo', 'Memo', v.memo || '—'),
      fact('created', 'Created', `${formatTime(p.createdAt)} by ${p.createdBy}`),
      fact('started', 'Started', p.startedAt ? formatTime(p.startedAt) : '—'),
      fact('ended', 'Ended', p.endedAt ? formatTime(p.endedAt) : '—'));
    replace(links, h('a', { href: releasesHref(v.service), id: 'plan-service-releases' }, `Plans of ${v.service}`), ' · ',
      h('a', { href: `#/audit?stream=${encodeURIComponent(`release-${p.planId}`)}` }, 'Audit trail'));
    const released = p.hosts.some((x) => x.installCommand);
    const visible = {
      start: s === 'created',
      pause: s === 'carrying_out',
      resume: s === 'paused',
      cancel: ['created', 'carrying_out', 'paused'].includes(s) && !p.cancelled,
      rollback: released && ['carrying_out', 'paused', 'succeeded', 'failed', 'partially_failed', 'cancelled'].includes(s),
    };
    for (const [verb, b] of Object.entries(buttons)) b.hidden = !operator || !visible[verb];
    buttons.resume.textContent = s === 'paused' && p.pausedWhy === 'canary' ? 'Resume (after the canary)' : 'Resume';
    p.hosts.forEach(updateHost);
    for (const x of p.hosts) followHost(x);
  };

  // ---- the hosts' commands, followed for their output ------------------------------------------
  const following = new Set();
  const followHost = (x) => {
    if (!operator) return; // a command's output needs the right to run commands
    for (const [operation, commandId] of [['install', x.installCommand], ['rollback', x.rollbackCommand]]) {
      if (!commandId || following.has(commandId)) continue;
      following.add(commandId);
      outputs.set(commandId, { text: '' });
      followCommand(x.ip, operation, commandId);
    }
  };
  const hostNow = (ip) => plan.hosts.find((x) => x.ip === ip);
  const stillRunning = (ip, operation) => hostNow(ip)?.state === (operation === 'install' ? 'installing' : 'rolling-back');
  const followCommand = async (ip, operation, commandId) => {
    const out = outputs.get(commandId);
    let offset = 0;
    let misses = 0;
    while (!signal.aborted) {
      let s;
      try {
        s = await api.get(`${agentPath(ip)}/commands/${seg(commandId)}?after=${offset}&wait=${WAIT_SECONDS}`, { signal });
      } catch (err) {
        if (signal.aborted) return;
        // Recorded on the plan a moment before the console issues it; forgotten some time after it ended.
        if (err.status === 404 && stillRunning(ip, operation) && misses++ < 30) {
          await sleep(1000, signal);
          continue;
        }
        if (err.status === 403) outputNote = `(the output needs the right to run commands: ${err.message})`;
        else if (err.status !== 404) out.text += `\n[lost the output: ${err.message}]\n`;
        renderOutput(hostNow(ip));
        return;
      }
      if (s.output) out.text += s.output;
      offset = s.outputOffset ?? offset;
      renderOutput(hostNow(ip));
      if (s.status === 'completed' || s.status === 'refused') {
        if (s.status === 'refused') out.text += `[refused by the agent: ${s.reason}${s.detail ? ` (${s.detail})` : ''}]\n`;
        else if (s.error) out.text += `${out.text && !out.text.endsWith('\n') ? '\n' : ''}[${s.error}]\n`;
        renderOutput(hostNow(ip));
        return;
      }
    }
  };

  // ---- the page ---------------------------------------------------------------------------------
  root.append(h('div', { id: 'plan-page', 'data-plan': id },
    h('div', { class: 'section-head' }, h('h1', {}, 'Release plan ', h('span', { class: 'mono', id: 'plan-id' }, id)), status, live, actions),
    detail,
    h('section', { class: 'card' }, facts),
    h('section', { class: 'card scroll' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Hosts')),
      h('table', { class: 'grid', id: 'plan-hosts' },
        h('thead', {}, h('tr', {}, ['Host', 'State', 'Last step', 'Error'].map((t) => h('th', {}, t)))),
        hostsBody)),
    links));
  show(plan);

  // Long-polls for the plan's next revision while the page shows; a failure is shown in place and retried.
  (async () => {
    while (!signal.aborted) {
      live.textContent = FINAL.has(plan.status) ? 'ended (still watched)' : 'live';
      live.classList.remove('stale');
      try {
        show(await api.get(`${planPath(id)}?after=${plan.revision}&wait=${WAIT_SECONDS}`, { signal }));
      } catch (err) {
        if (signal.aborted) return;
        live.textContent = `refresh failed: ${err.message} (trying again)`;
        live.classList.add('stale');
        await sleep(RETRY_MS, signal);
      }
    }
  })();
}
