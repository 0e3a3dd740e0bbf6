/**
 * Run a command on one host (operators and admins): the line runs under `sh -c` on the host,
 * its output shows as it streams, then its exit code. Output is text in a <pre>, never markup.
 */
import { h, replace, formatTime } from './dom.js';
import { field, onSubmit, reasonField } from './forms.js';
import { showError } from './banner.js';
import { followCommand, outcomeText, sendCommand } from './agent-commands.js';

/** execPanel(pageSignal) → { el, open(ip) }. */
export function execPanel(pageSignal) {
  let ip = null;
  let following = null;
  const title = h('h2', { id: 'exec-title' });
  const output = h('pre', { id: 'exec-output', class: 'file output' });
  const status = h('p', { id: 'exec-status', class: 'exec-status' });
  const exit = h('span', { id: 'exec-exit', class: 'mono' });
  const sent = h('p', { id: 'exec-sent', class: 'hint mono' });
  const result = h('div', { id: 'exec-result', hidden: true }, sent, output, h('div', { class: 'exec-foot' }, status, exit));
  const input = h('input', { id: 'exec-command', name: 'command', required: true, maxlength: 8000, placeholder: 'uptime', autocomplete: 'off', spellcheck: 'false' });

  const stop = () => {
    following?.abort();
    following = null;
  };
  pageSignal.addEventListener('abort', stop);

  const setStatus = (state, text) => {
    status.dataset.status = state;
    status.textContent = text;
  };

  const form = h('form', { id: 'exec-form', class: 'inline-form' },
    field('Command (runs with sh -c on the host)', input, 'grow'),
    field('Time limit (s)', h('input', { id: 'exec-timeout', name: 'timeout', type: 'number', min: 1, max: 3600, value: 60 })),
    reasonField('exec-reason'),
    h('button', { id: 'exec-submit', type: 'submit', class: 'primary' }, 'Run'));

  onSubmit(form, async (v) => {
    stop();
    const line = v.command;
    const target = ip;
    // The previous run's output and exit code go at once: nothing on screen belongs to another command.
    replace(output);
    exit.textContent = '';
    delete exit.dataset.exitCode;
    sent.textContent = `${target}$ ${line}`;
    result.hidden = false;
    setStatus('sending', 'signing and sending…');
    let issued;
    try {
      issued = await sendCommand(target, {
        action: 'exec', argv: ['sh', '-c', line], timeoutSeconds: v.timeout === '' ? undefined : Number(v.timeout), reason: v.reason,
      });
    } catch (err) {
      setStatus('error', `not sent: ${err.message}`);
      throw err;
    }
    const controller = new window.AbortController();
    following = controller;
    sent.textContent = `${target}$ ${line}   (command ${issued.commandId}, valid until ${formatTime(issued.expiresAt)})`;
    setStatus('waiting', 'waiting for the agent to pick it up…');
    follow(target, issued, controller);
    return false; // keeps the line in the field, to edit and run again
  });

  const follow = (target, issued, controller) => {
    followCommand(target, issued.commandId, {
      signal: controller.signal,
      onStatus: (s) => {
        if (controller.signal.aborted) return;
        if (s.output) output.append(document.createTextNode(s.output));
        if (s.status === 'running') setStatus('running', 'running…');
        if (s.status === 'completed' || s.status === 'refused') {
          setStatus(s.status, outcomeText(s));
          if (s.status === 'completed' && typeof s.exitCode === 'number') {
            exit.dataset.exitCode = String(s.exitCode);
            exit.textContent = `exit code ${s.exitCode}`;
          }
          if ((s.outputBytes ?? 0) > (s.outputKeptBytes ?? 0)) output.append(document.createTextNode(`\n[${s.outputBytes - s.outputKeptBytes} more bytes counted but not kept]\n`));
        }
      },
    }).catch((err) => {
      if (controller.signal.aborted) return;
      // An agent that stays away past the command's lifetime never runs it; the console then forgets it.
      if (err.status === 404 && Date.now() > Date.parse(issued.expiresAt)) {
        setStatus('expired', `expired at ${formatTime(issued.expiresAt)} before the agent picked it up: is the host down?`);
        return;
      }
      setStatus('error', `lost track of the command: ${err.message}`);
      showError(err);
    }).finally(() => {
      if (following === controller) following = null;
    });
  };

  const el = h('section', { class: 'card', id: 'exec-panel', hidden: true },
    h('div', { class: 'section-head' }, title,
      h('button', { type: 'button', id: 'exec-close', onclick: () => close() }, 'Close')),
    form, result);

  const open = (target) => {
    if (ip !== target) {
      stop();
      result.hidden = true;
      replace(output);
    }
    ip = target;
    el.dataset.ip = target;
    title.textContent = `Run a command on ${target}`;
    el.hidden = false;
    el.scrollIntoView({ block: 'nearest' });
    input.focus();
  };
  const close = () => {
    stop();
    el.hidden = true;
  };
  return { el, open, close };
}
