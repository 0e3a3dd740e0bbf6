/**
 * #/services/<First.Second>/log-settings: what the service's processes keep of their business
 * logs (MSEC's SetBusinessLog page): the level, the coloring rules, the custom fields. Every
 * change is an event (with its reason, in Audit); running services apply it within seconds.
 * What the newest config version says ([LOG] Level, [COLOR] pairs) is shown beside.
 */
import { api, seg } from './api.js';
import { h, replace } from './dom.js';
import { field, guarded, onSubmit, reasonField } from './forms.js';
import { showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { serviceHref } from './services-data.js';
import { logsHref } from './page-logs.js';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'ERROR', 'FATAL'];

export async function renderLogSettings(root, { match }) {
  const name = decodeURIComponent(match[1]);
  document.title = `Log settings of ${name} · msec console`;
  const base = `/api/services/${seg(name)}/log-settings`;
  const levelInfo = h('p', { id: 'log-level-current', class: 'muted' });
  const rulesBody = h('tbody', { id: 'log-rules' });
  const fieldsBody = h('tbody', { id: 'log-fields' });
  const configInfo = h('p', { id: 'log-config', class: 'muted' });
  const levelSelect = h('select', { id: 'log-level', name: 'level' }, h('option', { value: '' }, "config version's"), LEVELS.map((l) => h('option', { value: l }, l)));
  const ruleField = h('select', { id: 'log-rule-field', name: 'field' });

  const draw = (settings) => {
    levelSelect.value = settings.level || '';
    const fromConfig = settings.config?.level ? `${settings.config.level} (config ${settings.config.tag})` : 'INFO (default)';
    levelInfo.textContent = `Records are kept at ${settings.level ? `${settings.level} (set here)` : fromConfig} and above, and at every level for colored requests.`;
    replace(rulesBody, [
      ...settings.colorRules.map((r) => h('tr', { 'data-testid': 'log-rule', 'data-field': r.field, 'data-value': r.value },
        h('td', { class: 'mono' }, r.field), h('td', { class: 'mono' }, r.value), h('td', {}, 'console'),
        h('td', { class: 'actions' }, h('button', { type: 'button', class: 'danger', 'data-testid': 'log-rule-remove', onclick: (e) => removeRule(e.currentTarget, r) }, 'Remove')))),
      ...(settings.config?.colorRules || []).map((r) => h('tr', { 'data-testid': 'log-config-rule' },
        h('td', { class: 'mono' }, r.field), h('td', { class: 'mono' }, r.value), h('td', {}, `config ${settings.config.tag}`), h('td', { class: 'muted' }, 'change it with a new config version'))),
    ]);
    if (!rulesBody.children.length) rulesBody.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No coloring rules.')));
    replace(fieldsBody, settings.fields.length
      ? settings.fields.map((f) => h('tr', { 'data-testid': 'log-field', 'data-name': f.name },
        h('td', { class: 'mono' }, f.name), h('td', {}, f.type),
        h('td', { class: 'actions' }, h('button', { type: 'button', class: 'danger', 'data-testid': 'log-field-delete', onclick: (e) => deleteField(e.currentTarget, f) }, 'Delete'))))
      : h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No custom fields: records carry the headers only.')));
    replace(ruleField, ['ReqID', 'ClientIP', 'ServerIP', 'RPCName', 'Caller'].map((f) => h('option', { value: f }, f)),
      settings.fields.map((f) => h('option', { value: f.name, selected: true }, `${f.name} (${f.type})`)));
    configInfo.textContent = settings.config ? `Newest config version: ${settings.config.tag}.` : 'No config version yet.';
  };
  const reload = async () => draw(await api.get(base));

  const removeRule = (button, r) => guarded(button, async () => {
    const answer = await ask({ title: `Remove the rule ${r.field}=${r.value}?`, message: 'Requests matching it are no longer logged at every level.', okLabel: 'Remove', danger: true });
    if (!answer) return;
    await api.del(`${base}/color-rules`, { field: r.field, value: r.value, reason: answer.reason });
    showNotice(`Removed the rule ${r.field}=${r.value}`);
    await reload();
  });
  const deleteField = (button, f) => guarded(button, async () => {
    const answer = await ask({ title: `Delete the field ${f.name}?`, message: 'Records stored so far keep it; new records carry it in the message.', okLabel: 'Delete', danger: true });
    if (!answer) return;
    await api.del(`${base}/fields/${seg(f.name)}`, { reason: answer.reason });
    showNotice(`Deleted the field ${f.name}`);
    await reload();
  });

  const levelForm = onSubmit(h('form', { id: 'log-level-form', class: 'inline-form' },
    field('Level', levelSelect), reasonField('log-level-reason'), h('button', { id: 'log-level-submit', type: 'submit', class: 'primary' }, 'Set level')), async (v) => {
    await api.put(`${base}/level`, { level: v.level, reason: v.reason });
    showNotice(v.level ? `${name} keeps records at ${v.level} and above` : `${name} keeps records at its config version's level`);
    await reload();
  });
  const ruleForm = onSubmit(h('form', { id: 'log-rule-form', class: 'inline-form' },
    field('Field', ruleField), field('Value', h('input', { id: 'log-rule-value', name: 'value', required: true, maxlength: 1024, autocomplete: 'off' })),
    reasonField('log-rule-reason'), h('button', { id: 'log-rule-submit', type: 'submit', class: 'primary' }, 'Add rule')), async (v) => {
    await api.post(`${base}/color-rules`, { field: v.field, value: v.value, reason: v.reason });
    showNotice(`Requests with ${v.field}=${v.value} are logged at every level`);
    await reload();
  });
  const fieldForm = onSubmit(h('form', { id: 'log-field-form', class: 'inline-form' },
    field('Name', h('input', { id: 'log-field-name', name: 'name', required: true, maxlength: 64, placeholder: 'orderId', autocomplete: 'off' })),
    field('Type', h('select', { id: 'log-field-type', name: 'type' }, h('option', { value: 'string' }, 'string'), h('option', { value: 'int' }, 'int'))),
    reasonField('log-field-reason'), h('button', { id: 'log-field-submit', type: 'submit', class: 'primary' }, 'Add field')), async (v) => {
    await api.post(`${base}/fields`, { name: v.name, type: v.type, reason: v.reason });
    showNotice(`${name} records carry the ${v.type} field ${v.name}`);
    await reload();
  });

  await reload();
  root.append(
    h('h1', { id: 'log-settings-title' }, `Log settings of ${name}`),
    h('p', { class: 'links' }, h('a', { href: serviceHref(name) }, name), ' · ', h('a', { href: logsHref({ service: name }) }, 'Its logs'), ' · ',
      h('a', { href: `#/audit?stream=${encodeURIComponent(`logs-${name}`)}` }, 'Changes (audit)')),
    h('section', { class: 'card' }, h('h2', {}, 'Level'), levelInfo, levelForm, configInfo),
    h('section', { class: 'card' }, h('h2', {}, 'Coloring rules'),
      h('p', { class: 'muted' }, 'A request whose header or custom field equals a rule\'s value is logged at every level, here and in every service it calls.'),
      h('table', { class: 'grid', id: 'log-rules-table' }, h('thead', {}, h('tr', {}, ['Field', 'Value', 'From', ''].map((t) => h('th', {}, t)))), rulesBody), ruleForm),
    h('section', { class: 'card' }, h('h2', {}, 'Custom fields'),
      h('p', { class: 'muted' }, 'Keys of the object a record is logged with (ctx.log.info({ orderId }, …)) stored as typed fields you can filter on.'),
      h('table', { class: 'grid', id: 'log-fields-table' }, h('thead', {}, h('tr', {}, ['Name', 'Type', ''].map((t) => h('th', {}, t)))), fieldsBody), fieldForm));
}
