import { h, login, t } from '../lib.js';

export function loginView(main) {
  const name = h('input', { type: 'text', id: 'login-name', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', id: 'login-error', role: 'alert' });
  const form = h('form', { class: 'login', onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await login(name.value, password.value);
      location.hash = '#/search';
    } catch (e) {
      error.textContent = e.message;
    }
  } },
  h('h2', {}, t('login.title')),
  h('label', { for: 'login-name' }, t('login.name')), name,
  h('label', { for: 'login-password' }, t('login.password')), password,
  h('button', { class: 'primary', type: 'submit', id: 'login-submit' }, t('login.title')),
  error);
  main.append(form);
  name.focus();
}
