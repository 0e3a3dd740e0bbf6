/** The service tree (left pane): first levels with their second levels, and "New service". */
import { api } from './api.js';
import { h, replace, badge } from './dom.js';
import { field, onSubmit, reasonField, guarded } from './forms.js';
import { showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { DEFAULT_PORT, LANGUAGES, deleteService, isReserved, loadTree, serviceHref } from './services-data.js';

let current = null;

/** Re-reads GET /api/services and redraws #tree. */
export async function refreshTree() {
  const services = await loadTree();
  const list = document.getElementById('tree');
  replace(list, services.length ? services.map(firstLevel) : h('li', { class: 'muted' }, 'No services yet.'));
  highlight(current);
  return services;
}

function firstLevel(s) {
  return h('li', { class: 'tree-first', 'data-testid': 'tree-first', 'data-name': s.name },
    h('div', { class: 'tree-row' },
      h('a', { href: serviceHref(s.name), class: 'tree-link', 'data-name': s.name }, s.name),
      badge(s.kind, 'tree-kind'),
      deleteButton(s.name)),
    h('ul', { class: 'tree-children' }, (s.children || []).map((c) =>
      h('li', { class: 'tree-second', 'data-testid': 'tree-service', 'data-name': c.fullName },
        h('div', { class: 'tree-row' },
          h('a', { href: serviceHref(c.fullName), class: 'tree-link', 'data-name': c.fullName }, c.name),
          badge(c.kind, 'tree-kind'),
          h('span', { class: `count ${c.enabledHosts ? 'count-on' : ''}`, 'data-testid': 'tree-counts', title: 'enabled / hosts' },
            `${c.enabledHosts}/${c.hosts}`),
          deleteButton(c.fullName))))));
}

function deleteButton(name) {
  if (isReserved(name)) return h('span', { class: 'lock', title: 'reserved: cannot be deleted' }, '');
  return h('button', {
    type: 'button', class: 'icon', title: `Delete ${name}`, 'aria-label': `Delete ${name}`,
    'data-testid': 'delete-service', 'data-name': name,
    onclick: (e) => guarded(e.currentTarget, async () => {
      if (!(await deleteService(name, ask))) return;
      showNotice(`Deleted ${name}`);
      await refreshTree();
      if (current === name || (current && current.startsWith(`${name}.`))) location.hash = '#/services';
    }),
  }, '×');
}

/** Marks the service being shown. */
export function highlight(name) {
  current = name;
  for (const a of document.querySelectorAll('#tree .tree-link')) a.classList.toggle('active', a.dataset.name === name);
}

/** Builds the "New service" form once (it stays while the tree is redrawn). */
export function installNewServiceForm() {
  const kind = h('select', { id: 'new-service-kind', name: 'kind' }, h('option', { value: 'standard' }, 'standard'), h('option', { value: 'odd' }, 'odd'));
  const lang = h('select', { id: 'new-service-lang', name: 'lang' }, LANGUAGES.map((l) => h('option', { value: l }, l)));
  const port = h('input', { id: 'new-service-port', name: 'port', type: 'number', min: 1, max: 65535, value: DEFAULT_PORT });
  const syncKind = () => {
    lang.disabled = kind.value === 'odd';
    port.disabled = kind.value === 'odd';
  };
  kind.addEventListener('change', syncKind);
  const form = h('form', { id: 'new-service-form', class: 'stack' },
    h('h3', {}, 'New service'),
    field('Name', h('input', { id: 'new-service-name', name: 'name', required: true, placeholder: 'First or First.Second', autocomplete: 'off', maxlength: 49 })),
    h('div', { class: 'row' }, field('Kind', kind), field('Language', lang)),
    h('div', { class: 'row' }, field('Port', port), h('span', { class: 'field' })),
    reasonField('new-service-reason'),
    h('button', { id: 'new-service-submit', type: 'submit', class: 'primary' }, 'Create'));
  form.addEventListener('reset', () => setTimeout(syncKind));
  onSubmit(form, async (v) => {
    const name = v.name.trim();
    const body = { name, kind: v.kind, reason: v.reason };
    if (v.kind === 'standard') body.lang = v.lang;
    if (v.kind === 'standard' && name.includes('.') && v.port !== '') body.port = Number(v.port);
    await api.post('/api/services', body);
    showNotice(`Created ${name}`);
    await refreshTree();
    location.hash = serviceHref(name);
  });
  replace(document.getElementById('new-service'), form);
}
