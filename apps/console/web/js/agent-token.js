/**
 * Enrolment (admins): a one-time, expiring token for the agent of one host, shown once with the
 * command line that starts the agent. The console keeps only its hash.
 */
import { api } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { field, onSubmit, reasonField } from './forms.js';
import { inputError, showNotice } from './banner.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The shell line an operator pastes on the host (POSIX single quotes: the token is base64url anyway). */
export function agentCommandLine(consoleUrl, ip, token) {
  const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
  return `MSEC_CONSOLE=${q(consoleUrl)} msec agent --ip ${q(ip)} --root /var/lib/msec-agent --token ${q(token)}`;
}

/** tokenSection(changed) → the card; `changed()` refreshes the hosts view after a token is made. */
export function tokenSection(changed) {
  const out = h('div', { id: 'agent-token-result', class: 'secret', hidden: true });
  const form = h('form', { id: 'agent-token-form', class: 'inline-form' },
    field('Host IP', h('input', { id: 'agent-token-ip', name: 'ip', required: true, maxlength: 15, placeholder: '10.0.0.1', autocomplete: 'off' })),
    field('Valid for (minutes)', h('input', { id: 'agent-token-ttl', name: 'ttl', type: 'number', min: 1, max: 1440, value: 60 })),
    reasonField('agent-token-reason'),
    h('button', { id: 'agent-token-submit', type: 'submit', class: 'primary' }, 'Make enrolment token'));

  onSubmit(form, async (v) => {
    const ip = v.ip.trim();
    if (!IPV4.test(ip)) throw inputError(`"${v.ip}" is not an IPv4 address (e.g. 10.0.0.1): the agent's --ip is the host's address`);
    const minutes = v.ttl === '' ? undefined : Number(v.ttl);
    const answer = await api.post('/api/agents/tokens', { ip, ttlSeconds: minutes === undefined ? undefined : Math.round(minutes * 60), reason: v.reason });
    const line = agentCommandLine(window.location.origin, answer.ip, answer.token);
    const select = (e) => e.currentTarget.select();
    replace(out,
      h('p', {}, h('strong', {}, `Enrolment token for ${answer.ip}`), ` (usable once, until ${formatTime(answer.expiresAt)}). `,
        'Copy it now: it is shown only once and the console keeps only its hash.'),
      field('Token', h('input', { id: 'agent-token-value', class: 'mono', readonly: true, value: answer.token, 'data-ip': answer.ip, onfocus: select })),
      field('Start the agent on the host with', h('textarea', { id: 'agent-token-command', readonly: true, rows: 2, onfocus: select }, line)),
      h('div', { class: 'actions' }, h('button', { type: 'button', id: 'agent-token-done', onclick: () => forget() }, 'Done (hide the token)')));
    out.hidden = false;
    showNotice(`Made an enrolment token for ${answer.ip}`);
    await changed();
  });

  /** Drops the token from the page: nothing shows it again. */
  const forget = () => {
    replace(out);
    out.hidden = true;
  };

  const el = h('section', { class: 'card', id: 'agent-token' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Enrol a host')),
    h('p', { class: 'hint' }, 'The agent generates its own key on its first start and registers it with this token; later starts need none. '
      + 'The IP is the host\'s identity and the address it reports.'),
    form, out);
  return { el, forget };
}
