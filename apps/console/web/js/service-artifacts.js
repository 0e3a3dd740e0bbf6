/**
 * A service's release files: artifacts (versioned builds, a .tgz with an executable `start` at
 * its top; immutable once saved) and library files (unversioned, released to bin/lib/). One
 * shape for both: a table with Download and Delete, and an upload form (the file's bytes go as
 * application/octet-stream). Memos and names are user text: always text nodes.
 */
import { api, seg, upload } from './api.js';
import { h, replace, formatSize, formatTime } from './dom.js';
import { field, guarded, onSubmit, reasonField } from './forms.js';
import { inputError, showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { servicePath } from './services-data.js';

const KINDS = {
  artifact: {
    path: 'artifacts', list: 'artifacts', key: 'tag', title: 'Artifacts', label: 'artifact', plural: 'artifacts',
    accept: '.tgz,.tar.gz,application/gzip',
    hint: 'A build: a gzip tar (.tgz) with an executable `start` at its top (npm run artifact in a dev package builds one). '
      + 'A tag is written once.',
    columns: ['Tag', 'Memo', 'Size', 'SHA-256', 'File', 'Added at', 'By', ''],
  },
  library: {
    path: 'libraries', list: 'libraries', key: 'name', title: 'Library files', label: 'library file', plural: 'library files',
    accept: null,
    hint: 'Released to bin/lib/ with a complete or a library-only release. A file of the same name is replaced.',
    columns: ['Name', 'Memo', 'Size', 'SHA-256', 'Added at', 'By', ''],
  },
};

/** fileSection('artifact' | 'library', service, changed) → { el, refresh(), items() }. */
export function fileSection(kind, name, changed = async () => {}) {
  const k = KINDS[kind];
  const base = `${servicePath(name)}/${k.path}`;
  const body = h('tbody');
  const summary = h('span', { class: 'muted', id: `${k.path}-summary` });
  let items = [];

  const remove = (button, f) => guarded(button, async () => {
    const id = f[k.key];
    const answer = await ask({ title: `Delete ${k.label} ${id}?`, message: `${name} loses this ${k.label}; hosts that run it keep their copy.`, okLabel: 'Delete', danger: true });
    if (!answer) return;
    await api.del(`${base}/${seg(id)}`, { reason: answer.reason });
    showNotice(`Deleted ${k.label} ${id}`);
    await refresh();
    await changed();
  });

  const cell = (col, ...children) => h('td', { 'data-col': col, class: col === 'size' ? 'num' : col === 'added' ? 'nowrap' : null }, children);
  const row = (f) => {
    const id = f[k.key];
    return h('tr', { 'data-testid': `${kind}-row`, [`data-${k.key}`]: id },
      cell(k.key, h('span', { class: 'mono' }, id)),
      cell('memo', f.memo || ''),
      cell('size', formatSize(f.size)),
      cell('sha256', h('span', { class: 'mono', title: f.sha256 }, String(f.sha256 || '').slice(0, 12))),
      kind === 'artifact' ? cell('file', h('span', { class: 'mono' }, f.fileName || '')) : null,
      cell('added', formatTime(f.addedAt)),
      cell('by', f.addedBy || ''),
      h('td', { class: 'actions' },
        h('a', { class: 'button', 'data-testid': `${kind}-download`, href: `${base}/${seg(id)}/content`, download: '' }, 'Download'),
        h('button', { type: 'button', class: 'danger', 'data-testid': `${kind}-delete`, onclick: (e) => remove(e.currentTarget, f) }, 'Delete')));
  };

  const prefix = `upload-${kind}`;
  const fileInput = h('input', { id: `${prefix}-file`, name: 'file', type: 'file', required: true, accept: k.accept });
  const form = h('form', { id: `${prefix}-form`, class: 'inline-form' },
    kind === 'artifact'
      ? field('Tag', h('input', { id: `${prefix}-tag`, name: 'id', required: true, maxlength: 64, placeholder: 'v1', autocomplete: 'off' }))
      : field('Name on the hosts', h('input', { id: `${prefix}-name`, name: 'id', maxlength: 128, placeholder: 'the file\'s name', autocomplete: 'off' })),
    field('Memo', h('input', { id: `${prefix}-memo`, name: 'memo', maxlength: 140, placeholder: 'what it is', autocomplete: 'off' }), 'grow'),
    field(kind === 'artifact' ? 'File (.tgz)' : 'File', fileInput),
    reasonField(`${prefix}-reason`),
    h('button', { id: `${prefix}-submit`, type: 'submit', class: 'primary' }, `Upload ${k.label}`));
  onSubmit(form, async (v) => {
    const file = fileInput.files?.[0];
    if (!file) throw inputError(`choose the ${k.label} to upload`);
    const id = (v.id || '').trim() || (kind === 'library' ? file.name : '');
    if (!id) throw inputError('name a tag for the artifact');
    const query = kind === 'artifact' ? { memo: v.memo, fileName: file.name } : { memo: v.memo };
    const answer = await upload(`${base}/${seg(id)}`, file, { query, reason: v.reason });
    form.reset(); // before the redraw: what is typed once the new row shows is kept
    showNotice(`Uploaded ${k.label} ${id} (${formatSize(answer?.size)})`);
    await Promise.all([refresh(), changed()]);
    return false;
  });

  const el = h('section', { class: 'card', id: k.path },
    h('div', { class: 'section-head' }, h('h2', {}, k.title), summary),
    h('table', { class: 'grid', id: `${k.path}-table` },
      h('thead', {}, h('tr', {}, k.columns.map((t) => h('th', {}, t)))),
      body),
    h('p', { class: 'hint' }, k.hint),
    h('details', { class: 'add', id: `${prefix}` }, h('summary', {}, `Upload ${k.label}`), form));

  const update = (list) => {
    items = list;
    summary.textContent = `${list.length} ${list.length === 1 ? k.label : k.plural}`;
    replace(body, list.length ? list.map(row) : h('tr', {}, h('td', { colspan: k.columns.length, class: 'muted' }, `No ${k.plural} yet.`)));
  };

  const refresh = async () => {
    const answer = await api.get(base);
    const list = answer[k.list] || [];
    update(kind === 'artifact' ? [...list].reverse() : list); // artifacts newest first, library files by name
    if (!items.length) el.querySelector('details').open = true;
  };
  return { el, refresh, items: () => items };
}
