/** Small form helpers: labelled fields, the optional reason field, and safe submit handling. */
import { h } from './dom.js';
import { showError } from './banner.js';

/** <label class="field"><span>Label</span><input…></label> */
export function field(label, control, extraClass = '') {
  return h('label', { class: `field ${extraClass}`.trim() }, h('span', { class: 'field-label' }, label), control);
}

/** The optional "reason" every mutating form carries (recorded with the events, shown in Audit). */
export function reasonField(id) {
  return field('Reason', h('input', { id, name: 'reason', maxlength: 500, placeholder: 'optional, recorded in audit', autocomplete: 'off' }), 'reason');
}

/** The form's named controls as a plain object (strings; checkboxes as booleans). */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return out;
}

/**
 * Runs `handler(values)` on submit with the buttons disabled; errors go to the banner and the
 * form keeps its input. On success the form is reset unless the handler returns false.
 */
export function onSubmit(form, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach((b) => (b.disabled = true));
    try {
      const keep = await handler(formValues(form));
      if (keep !== false) form.reset();
    } catch (err) {
      showError(err);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
  return form;
}

/** Runs an async action from a button, reporting failures in the banner. */
export async function guarded(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}
