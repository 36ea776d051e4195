// People (admins: every account; managers: the members of the projects
// they manage): each person's role, status, tier, skills, languages and
// time zone, with their status changed in place; admins also make
// accounts here. Skills and tiers are edited per project on the Members
// page; a person's work is on the Productivity pages.

import { all, patch, post, ApiError } from '../api.js';
import { h, replace, toast, when } from '../dom.js';

/** @type {[string, string][]} */
const STATUSES = [['active', 'active'], ['paused', 'paused (no work)'], ['removed', 'removed (no sign-in)']];

/**
 * @typedef {{username: string, display_name: string, role: string, status: string, tier: string | null,
 *   skills: string[], languages: string[], time_zone: string, created_at: string}} Person
 */

/** @param {import('../main.js').PageContext} context */
export async function render({ root, user }) {
  if (user.role !== 'admin' && user.role !== 'manager') {
    replace(root, h('h1', null, 'People'), h('p', { class: 'error' }, 'Only admins and managers see people.'));
    return;
  }
  const filter = h('input', { type: 'search', id: 'people-filter', placeholder: 'Filter by name, skill, tier or status' });
  const list = h('div', { id: 'people' });
  replace(root, h('h1', null, 'People'),
    h('p', { class: 'muted' }, user.role === 'admin' ? 'Every account.' : 'The members of the projects you manage.'),
    user.role === 'admin' ? newAccountForm() : null,
    filter, list);
  /** @type {Person[]} */
  let people = await all('/users');
  filter.addEventListener('input', show);
  show();

  function show() {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter((w) => w !== '');
    const shown = people.filter((person) => {
      const text = [person.username, person.display_name, person.role, person.status, person.tier ?? '', ...person.skills].join(' ').toLowerCase();
      return words.every((word) => text.includes(word));
    });
    replace(list, h('table', { class: 'list', id: 'people-table' },
      h('thead', null, h('tr', null, ['Username', 'Name', 'Role', 'Status', 'Tier', 'Skills', 'Languages', 'Time zone', 'Since']
        .map((name) => h('th', null, name)))),
      h('tbody', null, shown.map((person) => h('tr', { 'data-username': person.username },
        h('td', null, person.username),
        h('td', null, person.display_name),
        h('td', null, person.role),
        h('td', null, canChange(person) ? statusSelect(person) : person.status),
        h('td', null, person.tier ?? '–'),
        h('td', null, person.skills.join(', ') || '–'),
        h('td', null, person.languages.join(', ') || '–'),
        h('td', null, person.time_zone),
        h('td', null, when(person.created_at)))))));
  }

  /** Admins change anyone but themselves; managers their annotators and reviewers. @param {Person} person */
  function canChange(person) {
    if (person.username === user.username) return false;
    return user.role === 'admin' || person.role === 'annotator' || person.role === 'reviewer';
  }

  /** @param {Person} person */
  function statusSelect(person) {
    const select = h('select', { class: 'status-select', 'aria-label': `Status of ${person.username}` },
      STATUSES.map(([value, title]) => h('option', { value }, title)));
    select.value = person.status;
    select.addEventListener('change', async () => {
      if (select.value === 'removed' && !confirm(`Remove ${person.username}? They can no longer sign in; their work stays.`)) {
        select.value = person.status;
        return;
      }
      try {
        const changed = await patch(`/users/${encodeURIComponent(person.username)}`, { status: select.value });
        person.status = changed.status;
        toast(`${person.username} is now ${changed.status}.`);
      } catch (error) {
        toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
        select.value = person.status;
      }
    });
    return select;
  }

  function newAccountForm() {
    const username = h('input', { id: 'new-username', placeholder: 'username', required: true, autocomplete: 'off' });
    const password = h('input', { id: 'new-password', type: 'password', placeholder: 'password', required: true, autocomplete: 'new-password' });
    const role = h('select', { id: 'new-role' }, ['annotator', 'reviewer', 'manager', 'admin'].map((name) => h('option', { value: name }, name)));
    const message = h('p', { class: 'error' });
    const form = h('form', { class: 'row', id: 'new-account' }, username, password, role,
      h('button', { type: 'submit', class: 'primary' }, 'Make account'), message);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      replace(message);
      try {
        const made = await post('/users', { username: username.value.trim(), password: password.value, role: role.value });
        toast(`Made ${made.username}.`);
        username.value = '';
        password.value = '';
        people = await all('/users');
        show();
      } catch (error) {
        replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
      }
    });
    return form;
  }
}
