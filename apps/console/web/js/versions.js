/**
 * Versioned files of a service, one shape for two kinds: config versions (INI) and IDL
 * versions (.proto). Table with View / Download / Delete, a two-version diff, and an add form.
 */
import { api, seg } from './api.js';
import { h, replace, formatSize, formatTime } from './dom.js';
import { field, guarded, onSubmit, reasonField } from './forms.js';
import { inputError, showNotice } from './banner.js';
import { ask, view } from './dialogs.js';
import { diffView } from './diff-view.js';
import { servicePath } from './services-data.js';

/** MSEC's config template: a [LOG] level and the [COLOR] (request colouring) section. */
export const CONFIG_TEMPLATE = '[LOG]\nLevel=INFO\n\n[COLOR]\n';

const idlTemplate = (service) => `syntax = "proto3";

package ${service};

message EchoRequest {
  string message = 1;
}

message EchoResponse {
  string message = 1;
}

service EchoService {
  rpc Echo(EchoRequest) returns (EchoResponse);
}
`;

export const KINDS = {
  config: { path: 'configs', title: 'Config versions', label: 'config', textLabel: 'Config file (INI)', template: () => CONFIG_TEMPLATE },
  idl: { path: 'idls', title: 'IDL versions', label: 'IDL', textLabel: 'IDL file (.proto)', template: idlTemplate },
};

/** Builds the section for `kind` ('config' | 'idl'); returns { el, update(versions) }. */
export function versionsSection(kind, name, changed) {
  const k = KINDS[kind];
  const base = `${servicePath(name)}/${k.path}`;
  const body = h('tbody');
  const pickA = h('select', { id: `${kind}-diff-a`, 'aria-label': 'older version' });
  const pickB = h('select', { id: `${kind}-diff-b`, 'aria-label': 'newer version' });
  let picked = false;
  pickA.addEventListener('change', () => (picked = true));
  pickB.addEventListener('change', () => (picked = true));
  let first = true;
  const fetchText = async (tag) => (await api.get(`${base}/${seg(tag)}`)).text;

  const showOne = (button, v) => guarded(button, async () => {
    const full = await api.get(`${base}/${seg(v.tag)}`);
    view(`${name} · ${k.label} ${v.tag}`, h('div', {},
      h('p', { class: 'muted' }, `${full.memo || 'no memo'} · ${formatSize(full.size)} · ${formatTime(full.addedAt)} by ${full.actor || '?'}`),
      h('pre', { class: 'file', id: 'viewer-text' }, full.text)));
  });

  const remove = (button, v) => guarded(button, async () => {
    const answer = await ask({ title: `Delete ${k.label} version ${v.tag}?`, message: `${name} loses this ${k.label} version.`, okLabel: 'Delete', danger: true });
    if (!answer) return;
    await api.del(`${base}/${seg(v.tag)}`, { reason: answer.reason });
    showNotice(`Deleted ${k.label} version ${v.tag}`);
    await changed();
  });

  const diffButton = h('button', {
    type: 'button', id: `${kind}-diff`,
    onclick: (e) => guarded(e.currentTarget, async () => {
      const a = pickA.value;
      const b = pickB.value;
      if (!a || !b) throw inputError(`choose two ${k.label} versions to compare`);
      const [ta, tb] = await Promise.all([fetchText(a), fetchText(b)]);
      view(`${name} · ${k.label} ${a} → ${b}`, diffView(a, ta, b, tb));
    }),
  }, 'Diff');

  const diffBar = h('span', { class: 'diff-bar' }, 'Compare ', pickA, ' → ', pickB, ' ', diffButton);

  const row = (v) => h('tr', { 'data-testid': `${kind}-row`, 'data-tag': v.tag },
    h('td', { class: 'mono' }, v.tag),
    h('td', {}, v.memo || ''),
    h('td', { class: 'num' }, formatSize(v.size)),
    h('td', { class: 'nowrap' }, formatTime(v.addedAt)),
    h('td', {}, v.actor || ''),
    h('td', { class: 'actions' },
      h('button', { type: 'button', 'data-testid': `${kind}-view`, onclick: (e) => showOne(e.currentTarget, v) }, 'View'),
      h('a', { class: 'button', 'data-testid': `${kind}-download`, href: `${base}/${seg(v.tag)}/raw`, download: '' }, 'Download'),
      h('button', { type: 'button', class: 'danger', 'data-testid': `${kind}-delete`, onclick: (e) => remove(e.currentTarget, v) }, 'Delete')));

  const form = h('form', { id: `add-${kind}-form`, class: 'stack' },
    h('div', { class: 'row' },
      field('Tag', h('input', { id: `add-${kind}-tag`, name: 'tag', required: true, maxlength: 64, placeholder: 'v1', autocomplete: 'off' })),
      field('Memo', h('input', { id: `add-${kind}-memo`, name: 'memo', maxlength: 140, placeholder: 'what changed', autocomplete: 'off' }), 'grow')),
    field(k.textLabel, h('textarea', { id: `add-${kind}-text`, name: 'text', rows: kind === 'idl' ? 17 : 8, spellcheck: 'false' }, k.template(name))),
    reasonField(`add-${kind}-reason`),
    h('div', {}, h('button', { id: `add-${kind}-submit`, type: 'submit', class: 'primary' }, `Add ${k.label} version`)));
  onSubmit(form, async (v) => {
    const tag = v.tag.trim();
    await api.put(`${base}/${seg(tag)}`, { text: v.text, memo: v.memo, reason: v.reason });
    showNotice(`Added ${k.label} version ${tag}`);
    await changed();
  });

  const el = h('section', { class: 'card', id: `${kind}s` },
    h('div', { class: 'section-head' }, h('h2', {}, k.title),
      diffBar),
    h('table', { class: 'grid', id: `${kind}-table` },
      h('thead', {}, h('tr', {}, ['Tag', 'Memo', 'Size', 'Added at', 'By', ''].map((t) => h('th', {}, t)))),
      body),
    h('details', { class: 'add', id: `add-${kind}` }, h('summary', {}, `Add ${k.label} version`), form));

  const update = (versions) => {
    replace(body, versions.length ? versions.map(row) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, `No ${k.label} versions yet.`)));
    const byTime = [...versions].sort((x, y) => String(x.addedAt).localeCompare(String(y.addedAt)));
    const keep = picked ? [pickA.value, pickB.value] : [];
    const options = () => byTime.map((v) => h('option', { value: v.tag }, v.tag));
    replace(pickA, options());
    replace(pickB, options());
    const tags = byTime.map((v) => v.tag);
    pickA.value = tags.includes(keep[0]) ? keep[0] : tags[tags.length - 2] ?? tags[0] ?? '';
    pickB.value = tags.includes(keep[1]) ? keep[1] : tags[tags.length - 1] ?? '';
    diffButton.disabled = versions.length < 2;
    diffBar.hidden = versions.length < 2;
    if (first && !versions.length) el.querySelector('details').open = true;
    first = false;
  };
  return { el, update };
}
