/**
 * Two modal dialogs: #confirm (an action with extra fields and the optional reason) and
 * #viewer (read-only text or a diff).
 */
import { h, replace } from './dom.js';
import { field } from './forms.js';

const byId = (id) => document.getElementById(id);

/**
 * ask({ title, message, okLabel, danger, fields: [{ name, label, type, value, required }] })
 * → Promise of the entered values ({ reason, ...fields }) or null when cancelled.
 */
export function ask({ title, message = '', okLabel = 'OK', danger = false, fields = [] }) {
  const dialog = byId('confirm');
  const form = byId('confirm-form');
  byId('confirm-title').textContent = title;
  byId('confirm-message').textContent = message;
  replace(byId('confirm-fields'), fields.map((f) => field(f.label, h('input', {
    name: f.name, type: f.type || 'text', value: f.value ?? '', required: !!f.required, autocomplete: 'off',
    'data-testid': `confirm-${f.name}`, min: f.min, max: f.max,
  }))));
  byId('confirm-reason').value = '';
  const ok = byId('confirm-ok');
  ok.textContent = okLabel;
  ok.className = danger ? 'danger' : 'primary';
  return new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener('submit', submit);
      dialog.removeEventListener('close', cancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const submit = (e) => {
      e.preventDefault();
      const values = {};
      for (const el of form.elements) if (el.name) values[el.name] = el.value;
      done(values);
    };
    const cancel = () => done(null);
    form.addEventListener('submit', submit);
    dialog.addEventListener('close', cancel);
    dialog.showModal();
    (form.querySelector('#confirm-fields input') || byId('confirm-reason')).focus();
  });
}

/** Shows `content` (a node) in the viewer dialog. */
export function view(title, content) {
  byId('viewer-title').textContent = title;
  replace(byId('viewer-body'), content);
  byId('viewer').showModal();
}

export function installDialogs() {
  byId('confirm-cancel').addEventListener('click', () => byId('confirm').close());
  byId('viewer-close').addEventListener('click', () => byId('viewer').close());
}
