/** #/login: user name and password → POST /api/login. */
import { h } from './dom.js';
import { field, onSubmit } from './forms.js';
import { login } from './session.js';

export function renderLogin(root, { next, onLoggedIn }) {
  const form = h('form', { id: 'login-form', class: 'card login', autocomplete: 'on' },
    h('h1', {}, 'Log in to msec console'),
    field('User', h('input', { id: 'login-user', name: 'user', required: true, autocomplete: 'username', placeholder: 'admin' })),
    field('Password', h('input', { id: 'login-password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' })),
    h('div', { class: 'actions' }, h('button', { id: 'login-submit', type: 'submit', class: 'primary' }, 'Log in')));
  onSubmit(form, async ({ user, password }) => {
    await login(user.trim(), password);
    onLoggedIn(next);
  });
  root.append(form);
  form.querySelector('#login-user').focus();
}
