// Members of a project (add by username with a role, change role, their
// skills and tier, remove) and invitation links for people who have no
// account yet.

import { all, del, get, patch, post, ApiError } from '../api.js';
import { h, replace, toast, when } from '../dom.js';
import { loadProject, manages, projectHeader } from './common.js';

const ROLES = ['annotator', 'reviewer', 'manager'];
/** @type {[string, string][]} */
const STATUSES = [['active', 'active'], ['paused', 'paused (no work)'], ['removed', 'removed (no sign-in)']];

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params, user }) {
  const project = await loadProject(params.project);
  const canManage = manages(project);
  const membersBox = h('div');
  const invitesBox = h('div');
  replace(root, projectHeader(project, 'members'), h('h2', null, 'Members'), membersBox, canManage ? invitesBox : null);

  async function showMembers() {
    const members = await all(`/projects/${project.id}/members`);
    /** @type {string[]} */
    const tiers = canManage ? (await get('/tiers')).tiers : [];
    const username = h('input', { placeholder: 'username', id: 'member-username', required: true });
    const role = roleSelect('annotator', 'member-role');
    const message = h('p', { class: 'error' });
    const addForm = h('form', { class: 'row', id: 'add-member' }, username, role, h('button', { type: 'submit', class: 'primary' }, 'Add member'), message);
    addForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      replace(message);
      try {
        await post(`/projects/${project.id}/members`, { username: username.value.trim(), role: role.value });
        toast(`${username.value.trim()} is now a member.`);
        await showMembers();
      } catch (error) {
        replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
      }
    });
    replace(membersBox,
      h('table', { class: 'list', id: 'members' },
        h('thead', null, h('tr', null, h('th', null, 'Username'), h('th', null, 'Role'), h('th', null, 'Skills and tier'), h('th', null, 'Status'), h('th', null, 'Added'), canManage ? h('th', null, '') : null)),
        h('tbody', null, members.map((member) => h('tr', { 'data-username': member.username },
          h('td', null, member.username,
            member.paused_at ? h('span', { class: 'badge paused', title: member.paused_reason ?? '' }, ' paused') : null,
            member.paused_at && member.paused_reason ? h('div', { class: 'muted small' }, member.paused_reason) : null),
          h('td', null, canManage ? roleChanger(member) : member.role),
          h('td', { class: 'qualifications' }, canManage ? qualificationEditor(member, tiers)
            : `${member.skills.join(', ') || 'no skills'}; ${member.tier ?? 'no tier'}`,
            member.certifications.length ? h('div', { class: 'certifications muted small' }, 'Certified: ',
              member.certifications.map((/** @type {{name: string, expired: boolean, expires_at: string | null}} */ c) =>
                `${c.name}${c.expired ? ' (expired)' : c.expires_at ? ` (until ${when(c.expires_at)})` : ''}`).join(', ')) : null),
          h('td', { class: 'status' }, canManage && member.username !== user.username ? statusChanger(member) : member.status),
          h('td', null, when(member.added_at)),
          canManage ? h('td', null,
            member.paused_at ? h('button', { class: 'resume', onclick: () => resume(member.username) }, 'Resume') : null,
            member.username === user.username ? null : h('button', { class: 'danger', onclick: () => remove(member.username) }, 'Remove')) : null,
        ))),
      ),
      canManage ? addForm : null,
    );
  }

  /** @param {{username: string, role: string}} member */
  function roleChanger(member) {
    const select = roleSelect(member.role);
    select.addEventListener('change', async () => {
      try {
        await post(`/projects/${project.id}/members`, { username: member.username, role: select.value });
        toast(`${member.username} is now ${select.value}.`);
      } catch (error) {
        toast(error instanceof ApiError ? error.message : String(error), 'error');
        select.value = member.role;
      }
    });
    return select;
  }

  /**
   * A person's account status: active, paused (given no work anywhere) or
   * removed (cannot sign in).
   * @param {{username: string, status: string}} member
   */
  function statusChanger(member) {
    const select = h('select', { class: 'status-select', 'aria-label': `Status of ${member.username}` },
      STATUSES.map(([value, title]) => h('option', { value }, title)));
    select.value = member.status;
    select.addEventListener('change', async () => {
      if (select.value === 'removed' && !confirm(`Remove ${member.username}? They can no longer sign in; their work stays.`)) {
        select.value = member.status;
        return;
      }
      try {
        const person = await patch(`/users/${encodeURIComponent(member.username)}`, { status: select.value });
        member.status = person.status;
        toast(`${member.username} is now ${person.status}.`);
      } catch (error) {
        toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
        select.value = member.status;
      }
    });
    return select;
  }

  /**
   * A member's skills (comma-separated) and tier, which projects can
   * require; saved to their profile.
   * @param {{username: string, skills: string[], tier: string | null}} member @param {string[]} tiers
   */
  function qualificationEditor(member, tiers) {
    const skills = h('input', { class: 'skills', value: member.skills.join(', '), placeholder: 'skills, comma-separated', 'aria-label': `Skills of ${member.username}` });
    const tier = h('select', { class: 'tier', 'aria-label': `Tier of ${member.username}` },
      h('option', { value: '' }, 'no tier'),
      tiers.map((name) => h('option', { value: name }, name)));
    tier.value = member.tier ?? '';
    const save = h('button', { class: 'save-qualifications', onclick: async () => {
      try {
        const list = skills.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const person = await patch(`/users/${encodeURIComponent(member.username)}`, { skills: list, tier: tier.value || null });
        skills.value = person.skills.join(', ');
        toast(`Saved ${member.username}'s skills and tier.`);
      } catch (error) {
        toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
      }
    } }, 'Save');
    return h('div', { class: 'row' }, skills, tier, save);
  }

  /** Lets a member paused by the gold rule work again. @param {string} username */
  async function resume(username) {
    try {
      await post(`/projects/${project.id}/members/${encodeURIComponent(username)}/resume`, undefined);
      toast(`${username} can work again.`);
      await showMembers();
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  }

  /** @param {string} username */
  async function remove(username) {
    if (!confirm(`Remove ${username} from ${project.name}? Their annotations stay.`)) return;
    try {
      await del(`/projects/${project.id}/members/${encodeURIComponent(username)}`);
      await showMembers();
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  }

  async function showInvites() {
    const invites = await get(`/projects/${project.id}/invites`);
    const role = roleSelect('annotator', 'invite-role');
    const days = h('input', { type: 'number', min: 1, max: 30, value: 7, id: 'invite-days' });
    /** @type {string[]} */
    const tiers = (await get('/tiers')).tiers;
    const tier = h('select', { id: 'invite-tier', 'aria-label': 'Tier of the invited person' },
      h('option', { value: '' }, 'no tier'), tiers.map((name) => h('option', { value: name }, name)));
    const skills = h('input', { id: 'invite-skills', placeholder: 'skills, comma-separated', 'aria-label': 'Skills of the invited person' });
    const made = h('div', { id: 'invite-made' });
    const form = h('form', { class: 'row', id: 'make-invite' },
      'Role', role, 'tier', tier, 'skills', skills, 'valid for', days, 'days', h('button', { type: 'submit', class: 'primary' }, 'Make invitation link'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const skillList = skills.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const invite = await post(`/projects/${project.id}/invites`, { role: role.value, valid_days: Number(days.value), tier: tier.value || null, skills: skillList });
        const link = `${location.origin}${invite.path}`;
        replace(made, h('p', null, 'Send this link to the person you invite; it works once and is shown only now:'),
          h('div', { class: 'secret', id: 'invite-link' }, link),
          h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(link).then(() => toast('Copied.')) }, 'Copy'));
        await listInvites();
      } catch (error) {
        toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
      }
    });
    const list = h('div');
    async function listInvites() {
      const current = await get(`/projects/${project.id}/invites`);
      replace(list, current.length === 0 ? null : h('table', { class: 'list' },
        h('thead', null, h('tr', null, h('th', null, 'Role'), h('th', null, 'Tier and skills'), h('th', null, 'Made by'), h('th', null, 'Expires'), h('th', null, 'Used by'), h('th', null, ''))),
        h('tbody', null, current.map((/** @type {any} */ invite) => h('tr', null,
          h('td', null, invite.role),
          h('td', null, [invite.tier ?? 'no tier', ...invite.skills].join(', ')),
          h('td', null, invite.created_by ?? ''), h('td', null, when(invite.expires_at)),
          h('td', null, invite.used_by ? `${invite.used_by} (${when(invite.used_at)})` : '—'),
          h('td', null, invite.used_by ? null : h('button', { class: 'danger', onclick: async () => {
            await del(`/projects/${project.id}/invites/${invite.id}`);
            await listInvites();
          } }, 'Withdraw')),
        )))));
    }
    replace(invitesBox, h('h2', null, 'Invite people without an account'), form, made, list);
    if (invites.length) await listInvites();
  }

  await showMembers();
  if (canManage) await showInvites();
}

/** @param {string} selected @param {string} [id] */
function roleSelect(selected, id) {
  const select = h('select', { id: id ?? null, 'aria-label': 'Role' }, ROLES.map((role) => h('option', { value: role }, role)));
  select.value = selected;
  return select;
}
