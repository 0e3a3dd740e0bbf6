/**
 * The alarm part of a service's Monitor page: its rules (MSEC's max, min, diff, diff %; 0 is
 * off; beyond MSEC "for N minutes" and per host), webhooks, and open alarms.
 */
import { api, seg } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { field, guarded, onSubmit, reasonField } from './forms.js';
import { showNotice } from './banner.js';
import { ask } from './dialogs.js';

const off = (n) => (n ? String(n) : '—');
const minuteText = (m) => formatTime(new Date(m * 1000).toISOString());

export async function alarmSection(service) {
  const base = `/api/services/${seg(service)}`;
  const rulesBody = h('tbody');
  const hooks = h('ul', { id: 'alarm-webhooks' });
  const open = h('div', { id: 'alarm-open' });
  const key = h('pre', { id: 'alarm-signing-key', class: 'mono hint', hidden: true });

  const load = async () => {
    const s = await api.get(`${base}/alarm-rules`);
    replace(rulesBody, s.rules.length ? s.rules.map((r) => h('tr', { 'data-testid': 'alarm-rule', 'data-name': r.name },
      h('td', { class: 'mono' }, r.name), h('td', { class: 'num' }, off(r.max)), h('td', { class: 'num' }, off(r.min)),
      h('td', { class: 'num' }, off(r.diff)), h('td', { class: 'num' }, off(r.diffPercent)), h('td', { class: 'num' }, String(r.forMinutes)), h('td', {}, r.scope),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'small danger', 'data-testid': 'alarm-rule-delete',
        onclick: (e) => guarded(e.currentTarget, async () => {
          const answer = await ask({ title: `Delete the rule on ${r.name}?`, message: 'Its open alarms resolve at the next minute.', okLabel: 'Delete', danger: true });
          if (!answer) return;
          await api.del(`${base}/alarm-rules`, { name: r.name, reason: answer.reason });
          await load();
        }),
      }, 'Delete'))))
      : h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No rules: add one below.')));
    replace(hooks, s.webhooks.length ? s.webhooks.map((w) => h('li', { 'data-testid': 'alarm-webhook', class: 'mono' }, w.url, ' ',
      h('button', {
        type: 'button', class: 'small', onclick: (e) => guarded(e.currentTarget, async () => {
          await api.del(`${base}/alarm-webhooks`, { url: w.url });
          await load();
        }),
      }, 'Remove'))) : h('li', { class: 'muted' }, 'No webhooks.'));
    replace(open, s.open.length
      ? h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['Name', 'Type', 'IP', 'Since', 'Value', 'Line'].map((t) => h('th', {}, t)))),
        h('tbody', {}, s.open.map((a) => h('tr', { 'data-testid': 'alarm-open' },
          h('td', { class: 'mono' }, a.name), h('td', {}, a.alarmType), h('td', {}, a.ip || 'service'), h('td', {}, minuteText(a.minute)),
          h('td', { class: 'num' }, String(a.value)), h('td', { class: 'num' }, String(a.threshold))))))
      : h('p', { class: 'muted' }, 'No open alarms.'));
  };

  const ruleForm = h('form', { id: 'alarm-rule-form', class: 'row' },
    field('Metric', h('input', { id: 'alarm-rule-name', name: 'name', required: true, placeholder: 'usr.orders', autocomplete: 'off' }), 'grow'),
    ['max', 'min', 'diff', 'diffPercent'].map((k) => field(k === 'diffPercent' ? 'Diff %' : k[0].toUpperCase() + k.slice(1),
      h('input', { id: `alarm-rule-${k}`, name: k, type: 'number', min: 0, step: 'any', placeholder: '0 = off' }))),
    field('For (min)', h('input', { id: 'alarm-rule-for', name: 'forMinutes', type: 'number', min: 1, max: 60, value: '1' })),
    h('label', { class: 'check' }, h('input', { id: 'alarm-rule-per-host', name: 'perHost', type: 'checkbox' }), ' per host'),
    reasonField('alarm-rule-reason'),
    h('div', { class: 'buttons' }, h('button', { id: 'alarm-rule-submit', type: 'submit', class: 'primary' }, 'Set rule')));
  onSubmit(ruleForm, async (v) => {
    const body = { name: v.name.trim(), forMinutes: Number(v.forMinutes || 1), scope: v.perHost ? 'host' : 'service', reason: v.reason };
    for (const k of ['max', 'min', 'diff', 'diffPercent']) if (v[k] !== '') body[k] = Number(v[k]);
    await api.put(`${base}/alarm-rules`, body);
    showNotice(`Alarm rule on ${body.name} set`);
    await load();
  });
  const hookForm = h('form', { id: 'alarm-webhook-form', class: 'row' },
    field('Webhook URL', h('input', { id: 'alarm-webhook-url', name: 'url', type: 'url', required: true, placeholder: 'https://alerts.example.com/msec' }), 'grow'),
    h('div', { class: 'buttons' }, h('button', { id: 'alarm-webhook-submit', type: 'submit' }, 'Add webhook')));
  onSubmit(hookForm, async (v) => {
    const answer = await api.post(`${base}/alarm-webhooks`, { url: v.url.trim() });
    key.textContent = `Deliveries are signed (${answer.signingKey.header}) over "${answer.signingKey.signs}"; check them with key ${answer.signingKey.keyId}:\n${answer.signingKey.publicKey}`;
    key.hidden = false;
    await load();
  });

  await load();
  return h('section', { class: 'card', id: 'monitor-alarms' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Alarms'), h('a', { href: '#/alarms' }, 'Alarm list')),
    h('p', { class: 'hint' }, 'Judged once a minute on the completed minute: max (≥), min (≤), diff and diff % against the same minute yesterday; 0 is off.'),
    h('table', { class: 'grid', id: 'alarm-rules' }, h('thead', {}, h('tr', {}, ['Metric', 'Max', 'Min', 'Diff', 'Diff %', 'For', 'Scope', ''].map((t) => h('th', {}, t)))), rulesBody),
    ruleForm, h('h3', {}, 'Open alarms'), open, h('h3', {}, 'Webhooks'), hooks, hookForm, key);
}
