/**
 * #/users: console users, their roles (admins manage them), your password and your API tokens.
 * A user who is not an admin sees only their own password and token forms.
 */
import { api, seg } from './api.js';
import { h, replace, formatTime } from './dom.js';
import { field, guarded, onSubmit, reasonField } from './forms.js';
import { showNotice } from './banner.js';
import { ask } from './dialogs.js';
import { isAdmin, session } from './session.js';

const roleText = (g) => (g.service ? `${g.role} of ${g.service}` : g.role);
const roleOptions = () => ['viewer', 'operator', 'admin'].map((r) => h('option', { value: r }, r));

export async function renderUsers(root) {
  const body = h('tbody');
  const userPick = h('select', { id: 'password-user', name: 'user' });
  const oldField = field('Current password', h('input', { id: 'password-old', name: 'oldPassword', type: 'password', autocomplete: 'current-password' }));

  const admin = isAdmin();
  const reload = async () => {
    if (!admin) {
      replace(userPick, h('option', { value: session.user }, session.user));
      syncOld();
      return;
    }
    const { users } = await api.get('/api/users');
    replace(body, users.map(row));
    const keep = userPick.value || session.user;
    replace(userPick, users.map((u) => h('option', { value: u.name }, u.name)));
    userPick.value = users.some((u) => u.name === keep) ? keep : session.user;
    syncOld();
  };
  const syncOld = () => (oldField.hidden = userPick.value !== session.user);
  userPick.addEventListener('change', syncOld);

  const removeUser = (button, name) => guarded(button, async () => {
    const answer = await ask({ title: `Remove user ${name}?`, message: 'The user can no longer log in; their API tokens stop working.', okLabel: 'Remove', danger: true });
    if (!answer) return;
    await api.del(`/api/users/${seg(name)}`, { reason: answer.reason });
    showNotice(`Removed user ${name}`);
    await reload();
  });

  const revoke = (button, token) => guarded(button, async () => {
    const answer = await ask({ title: `Revoke token "${token.label}"?`, message: 'Programs using it get 401 from now on.', okLabel: 'Revoke', danger: true });
    if (!answer) return;
    await api.del(`/api/tokens/${seg(token.tokenId)}`, { reason: answer.reason });
    showNotice(`Revoked token ${token.label}`);
    await reload();
  });

  const revokeRole = (button, name, grant) => guarded(button, async () => {
    const answer = await ask({ title: `Revoke ${roleText(grant)} from ${name}?`, message: 'It takes effect at once.', okLabel: 'Revoke', danger: true });
    if (!answer) return;
    await api.del(`/api/users/${seg(name)}/roles`, { role: grant.role, ...(grant.service ? { service: grant.service } : {}), reason: answer.reason });
    showNotice(`Revoked ${roleText(grant)} from ${name}`);
    await reload();
  });

  const row = (u) => {
    const mine = u.name === session.user;
    return h('tr', { 'data-testid': 'user-row', 'data-name': u.name },
      h('td', {}, u.name, mine ? h('span', { class: 'muted' }, ' (you)') : null),
      h('td', {}, (u.roles || []).length ? h('ul', { class: 'tokens' }, u.roles.map((g) => h('li', { 'data-testid': 'role', 'data-role': roleText(g) },
        h('span', {}, roleText(g)), ' ',
        h('button', { type: 'button', class: 'link danger', 'data-testid': 'role-revoke', onclick: (e) => revokeRole(e.currentTarget, u.name, g) }, 'revoke'))))
        : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'nowrap' }, formatTime(u.createdAt)),
      h('td', {}, (u.tokens || []).length ? h('ul', { class: 'tokens' }, u.tokens.map((t) => h('li', { 'data-testid': 'token', 'data-token-id': t.tokenId },
        h('span', { class: 'mono' }, t.label), t.scope === 'routes' ? h('span', { class: 'muted' }, ' (routes only)') : null, ' ',
        mine ? h('button', { type: 'button', class: 'link danger', 'data-testid': 'token-revoke', onclick: (e) => revoke(e.currentTarget, t) }, 'revoke') : null)))
        : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'actions' }, mine ? null
        : h('button', { type: 'button', class: 'danger', 'data-testid': 'user-delete', onclick: (e) => removeUser(e.currentTarget, u.name) }, 'Remove')));
  };

  const addForm = h('form', { id: 'add-user-form', class: 'stack' },
    h('h2', {}, 'Add user'),
    field('Name', h('input', { id: 'add-user-name', name: 'name', required: true, maxlength: 64, autocomplete: 'off' })),
    field('Password', h('input', { id: 'add-user-password', name: 'password', type: 'password', required: true, autocomplete: 'new-password' })),
    field('Role', h('select', { id: 'add-user-role', name: 'role' }, roleOptions())),
    field('Only on service', h('input', { id: 'add-user-service', name: 'service', maxlength: 32, placeholder: 'first level, e.g. Flight (empty: every service)', autocomplete: 'off' })),
    reasonField('add-user-reason'),
    h('div', {}, h('button', { id: 'add-user-submit', type: 'submit', class: 'primary' }, 'Add user')));
  onSubmit(addForm, async (v) => {
    const service = v.service.trim();
    await api.post('/api/users', { name: v.name.trim(), password: v.password, role: v.role, ...(service ? { service } : {}), reason: v.reason });
    showNotice(`Added user ${v.name.trim()}`);
    await reload();
  });

  const grantForm = h('form', { id: 'grant-form', class: 'stack' },
    h('h2', {}, 'Grant a role'),
    field('User', h('input', { id: 'grant-user', name: 'user', required: true, maxlength: 64, autocomplete: 'off' })),
    field('Role', h('select', { id: 'grant-role', name: 'role' }, roleOptions())),
    field('Only on service', h('input', { id: 'grant-service', name: 'service', maxlength: 32, placeholder: 'first level (empty: every service)', autocomplete: 'off' })),
    reasonField('grant-reason'),
    h('div', {}, h('button', { id: 'grant-submit', type: 'submit', class: 'primary' }, 'Grant')));
  onSubmit(grantForm, async (v) => {
    const service = v.service.trim();
    await api.post(`/api/users/${seg(v.user.trim())}/roles`, { role: v.role, ...(service ? { service } : {}), reason: v.reason });
    showNotice(`Granted ${roleText({ role: v.role, service })} to ${v.user.trim()}`);
    await reload();
  });

  const passwordForm = h('form', { id: 'password-form', class: 'stack' },
    h('h2', {}, 'Change password'),
    field('User', userPick),
    oldField,
    field('New password', h('input', { id: 'password-new', name: 'password', type: 'password', required: true, autocomplete: 'new-password' })),
    reasonField('password-reason'),
    h('div', {}, h('button', { id: 'password-submit', type: 'submit', class: 'primary' }, 'Change password')));
  onSubmit(passwordForm, async (v) => {
    const body = { password: v.password, reason: v.reason };
    if (v.user === session.user) body.oldPassword = v.oldPassword;
    await api.put(`/api/users/${seg(v.user)}/password`, body);
    showNotice(`Password of ${v.user} changed`);
    for (const id of ['password-old', 'password-new', 'password-reason']) passwordForm.querySelector(`#${id}`).value = '';
    return false;
  });

  const tokenOut = h('div', { id: 'token-result', hidden: true });
  const tokenForm = h('form', { id: 'token-form', class: 'stack' },
    h('h2', {}, 'Create API token'),
    h('p', { class: 'hint' }, `A token for ${session.user}, for the msec CLI and scripts (Authorization: Bearer …).`),
    field('Label', h('input', { id: 'token-label', name: 'label', maxlength: 64, placeholder: 'cli', autocomplete: 'off' })),
    field('Route-read only (for services and agents)', h('input', { id: 'token-routes', name: 'routes', type: 'checkbox' }), 'check'),
    reasonField('token-reason'),
    h('div', {}, h('button', { id: 'token-submit', type: 'submit', class: 'primary' }, 'Create token')));
  onSubmit(tokenForm, async (v) => {
    const { token, tokenId } = await api.post('/api/tokens', { label: v.label.trim(), ...(v.routes ? { scope: 'routes' } : {}), reason: v.reason });
    replace(tokenOut,
      h('p', {}, 'Copy it now: it is shown only once.'),
      h('input', { id: 'token-value', class: 'mono', readonly: true, value: token, 'data-token-id': tokenId, onfocus: (e) => e.currentTarget.select() }));
    tokenOut.hidden = false;
    await reload();
  });

  await reload();
  root.append(h('h1', {}, 'Users'));
  if (admin) {
    root.append(
      h('section', { class: 'card' },
        h('table', { class: 'grid', id: 'users-table' },
          h('thead', {}, h('tr', {}, ['User', 'Roles', 'Created', 'API tokens', ''].map((t) => h('th', {}, t)))), body)),
      h('div', { class: 'columns' },
        h('section', { class: 'card' }, addForm),
        h('section', { class: 'card' }, grantForm)));
  } else {
    root.append(h('p', { class: 'hint', id: 'my-roles' }, `You are ${session.user}: ${session.roles.map(roleText).join(', ') || 'no role yet (ask an admin)'}.`));
  }
  root.append(
    h('div', { class: 'columns' },
      h('section', { class: 'card' }, passwordForm),
      h('section', { class: 'card' }, tokenForm, tokenOut)));
}
