/**
 * Building DOM nodes without innerHTML: user-provided text always ends up in text nodes or
 * attribute values, never parsed as HTML.
 */

/** Escapes text for the rare place where an HTML string is unavoidable (none today). */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/**
 * h('button', { id: 'x', class: 'small', onclick: f, 'data-testid': 't' }, 'Text', child…)
 * Properties: on* become listeners; `class`, `text`, `value` (also the input's default), `checked`, `disabled`, `hidden`,
 * `selected`, `open` are set as properties; everything else is an attribute (skipped when null/false).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'value') setValue(el, value);
    else if (['checked', 'disabled', 'hidden', 'selected', 'open', 'required'].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Sets the value and, for inputs, the default value too, so form.reset() comes back to it. */
function setValue(el, value) {
  if (el.tagName === 'INPUT') el.defaultValue = String(value);
  el.value = value;
}

/** Appends strings (as text), nodes and nested arrays; skips null/undefined/false. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof window.Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** "2024-05-01 12:03:04" in local time, or the input when it is not a date. */
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatSize(bytes) {
  if (typeof bytes !== 'number') return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** A small coloured label: badge('standard') → <span class="badge badge-standard">. */
export function badge(text, testid) {
  return h('span', { class: `badge badge-${String(text).replace(/[^a-z0-9-]/gi, '')}`, 'data-testid': testid }, text);
}

/**
 * Keeps `container`'s children one per item, in the items' order, updated in place: `rows`
 * (a Map by key, owned by the caller) keeps each item's row across calls; `make(key)` makes a
 * new row, `fill(row, item)` updates it, `elementOf(row)` is what goes into the container.
 * Rows of items that are gone are removed; with no item, `empty` is shown. Rows move only when
 * the order changed, so focus, ticks and clicks stay put.
 */
export function syncKeyed(container, rows, items, { keyOf, make, fill, elementOf, empty }) {
  const seen = new Set();
  for (const item of items) {
    const key = keyOf(item);
    seen.add(key);
    let row = rows.get(key);
    if (!row) {
      row = make(key);
      rows.set(key, row);
    }
    fill(row, item);
  }
  for (const [key, row] of rows) {
    if (!seen.has(key)) {
      elementOf(row).remove();
      rows.delete(key);
    }
  }
  if (!items.length) {
    replace(container, empty);
    return;
  }
  empty.remove();
  const wanted = items.map((item) => elementOf(rows.get(keyOf(item))));
  if (wanted.some((el, i) => container.children[i] !== el)) for (const el of wanted) container.append(el);
}
