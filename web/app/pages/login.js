// Sign-in. There is no open sign-up: accounts come from an admin or an
// invitation link.

import { post, setCsrfToken, ApiError } from '../api.js';
import { h, replace } from '../dom.js';

/** @param {import('../main.js').PageContext} context */
export function render({ root, query, navigate, setUser }) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card narrow', id: 'login' },
    h('h1', null, 'Sign in to Gloss'),
    h('label', null, 'Username', username),
    h('label', null, 'Password', password),
    message,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    h('p', { class: 'muted' }, 'No account? Ask a project manager for an invitation link.'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    try {
      const session = await post('/auth/login', { username: username.value, password: password.value });
      setCsrfToken(session.csrf_token);
      setUser(session.user);
      const next = query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (error) {
      replace(message, error instanceof ApiError ? error.message : String(error));
    }
  });
  replace(root, form);
}
