// Signing up with an invitation link: the only way in without an admin.

import { get, post, setCsrfToken, ApiError } from '../api.js';
import { h, replace } from '../dom.js';

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params, navigate, setUser }) {
  const code = params.code;
  /** @type {any} */
  let invite;
  try {
    invite = await get(`/invites/${encodeURIComponent(code)}`);
  } catch (error) {
    replace(root, h('div', { class: 'card narrow' },
      h('h1', null, 'Invitation'),
      h('p', { class: 'error' }, error instanceof ApiError ? error.message : String(error)),
      h('a', { href: '/login' }, 'Sign in')));
    return;
  }
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true, id: 'invite-username' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, id: 'invite-password' });
  const repeat = h('input', { type: 'password', autocomplete: 'new-password', required: true, id: 'invite-repeat' });
  const message = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card narrow', id: 'accept-invite' },
    h('h1', null, 'Join Gloss'),
    h('p', null, `You are invited as ${invite.role}${invite.project_name ? ` to the project “${invite.project_name}”` : ''}.`),
    h('label', null, 'Choose a username (letters, digits, _ - . @)', username),
    h('label', null, 'Choose a password (at least 8 characters)', password),
    h('label', null, 'Repeat the password', repeat),
    message,
    h('button', { type: 'submit', class: 'primary' }, 'Create account'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    if (password.value !== repeat.value) {
      replace(message, 'The passwords differ.');
      return;
    }
    try {
      const session = await post(`/invites/${encodeURIComponent(code)}/accept`, { username: username.value.trim(), password: password.value });
      setCsrfToken(session.csrf_token);
      setUser(session.user);
      navigate(invite.project_id ? `/projects/${invite.project_id}` : '/', { replace: true });
    } catch (error) {
      replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  });
  replace(root, form);
}
