// The caller's account: profile (display name, languages, time zone; skills
// and tier shown), change password, personal API tokens.

import { all, del, get, patch, post, ApiError } from '../api.js';
import { h, replace, toast, when } from '../dom.js';

/** @param {import('../main.js').PageContext} context */
export async function render({ root, user, navigate, setUser }) {
  const current = h('input', { type: 'password', autocomplete: 'current-password', id: 'current-password', required: true });
  const next = h('input', { type: 'password', autocomplete: 'new-password', id: 'new-password', required: true, minlength: 8 });
  const passwordMessage = h('p', { class: 'error' });
  const passwordForm = h('form', { class: 'card', id: 'change-password' },
    h('h2', null, 'Change password'),
    h('label', null, 'Current password', current),
    h('label', null, 'New password (at least 8 characters)', next),
    passwordMessage,
    h('button', { type: 'submit', class: 'primary' }, 'Change password'),
    h('p', { class: 'muted' }, 'Changing it ends your browser sessions everywhere; sign in again with the new one. API tokens keep working until you revoke them below.'),
  );
  passwordForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(passwordMessage);
    try {
      await post('/me/password', { current_password: current.value, new_password: next.value });
      setUser(null);
      toast('Password changed. Sign in with the new one.');
      navigate('/login', { replace: true });
    } catch (error) {
      replace(passwordMessage, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  });

  const me = await get(`/users/${encodeURIComponent(user.username)}`);
  const displayName = h('input', { id: 'profile-display-name', value: me.display_name, maxlength: 100 });
  const languages = h('input', { id: 'profile-languages', value: me.languages.join(', '), placeholder: 'de, en-GB' });
  const timeZone = h('input', { id: 'profile-time-zone', value: me.time_zone, placeholder: 'Europe/Berlin' });
  const profileMessage = h('p', { class: 'error' });
  const profileForm = h('form', { class: 'card', id: 'profile' },
    h('h2', null, 'Profile'),
    h('label', null, 'Display name', displayName),
    h('label', null, 'Languages you work in (comma-separated tags)', languages),
    h('label', null, 'Time zone (for your timesheets)', timeZone),
    h('p', { class: 'muted', id: 'profile-qualifications' },
      `Skills: ${me.skills.join(', ') || 'none'}. Tier: ${me.tier ?? 'none'}. A manager of your projects sets these.`),
    profileMessage,
    h('button', { type: 'submit', class: 'primary' }, 'Save profile'),
  );
  profileForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(profileMessage);
    try {
      await patch(`/users/${encodeURIComponent(user.username)}`, {
        display_name: displayName.value,
        languages: languages.value.split(',').map((l) => l.trim()).filter((l) => l !== ''),
        time_zone: timeZone.value.trim(),
      });
      toast('Profile saved.');
    } catch (error) {
      replace(profileMessage, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  });

  const tokens = h('div', { id: 'tokens' });
  const tokenName = h('input', { placeholder: 'what it is for, e.g. "training script"', id: 'token-name' });
  const secret = h('div', { id: 'token-secret' });
  const tokenForm = h('form', { class: 'row' }, tokenName, h('button', { type: 'submit', class: 'primary' }, 'Create token'));
  tokenForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const made = await post('/me/tokens', { name: tokenName.value.trim() || 'api' });
      replace(secret,
        h('p', null, 'Your new token, shown only now. Send it as `Authorization: Bearer TOKEN`:'),
        h('div', { class: 'secret' }, made.secret));
      tokenName.value = '';
      await listTokens();
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  });

  async function listTokens() {
    const list = await all('/me/tokens');
    replace(tokens, list.length === 0 ? h('p', { class: 'muted' }, 'No tokens.') : h('table', { class: 'list' },
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Starts with'), h('th', null, 'Created'), h('th', null, 'Last used'), h('th', null, ''))),
      h('tbody', null, list.map((token) => h('tr', null,
        h('td', null, token.name), h('td', null, h('code', null, `${token.prefix}…`)), h('td', null, when(token.created_at)),
        h('td', null, when(token.last_used_at) || 'never'),
        h('td', null, h('button', { class: 'danger', onclick: async () => {
          if (!confirm(`Revoke the token "${token.name}"? Scripts using it stop working.`)) return;
          await del(`/me/tokens/${token.id}`);
          await listTokens();
        } }, 'Revoke')),
      )))));
  }

  replace(root,
    h('h1', null, `Account: ${user.username}`),
    h('p', { class: 'muted' }, `Role: ${user.role}`),
    profileForm,
    passwordForm,
    h('div', { class: 'card' }, h('h2', null, 'API tokens'), tokenForm, secret, tokens),
  );
  await listTokens();
}
