// The projects list: the caller's work (each project they label, what is
// left for them and what stops them), and each project they can see, with
// its progress.

import { all, get } from '../api.js';
import { h, replace } from '../dom.js';
import { progressBar } from './common.js';

/** @param {import('../main.js').PageContext} context */
export async function render({ root, user }) {
  const mayCreate = user.role === 'admin' || user.role === 'manager';
  const projects = await all('/projects');
  /** @type {{project_id: number, name: string, role: string, open_tasks: number, open_tasks_capped: boolean, done_today: number, daily_limit: number, blocked: string | null, blocked_reason: string | null, kind: string, qualification_tests: {project_id: number, name: string}[]}[]} */
  const work = (await get('/me/work')).projects;
  const cards = h('div', { class: 'cards', id: 'project-list' });
  const STATES = /** @type {Record<string, string>} */ ({ paused: 'Paused', qualification: 'Not qualified', guidelines: 'Read the guidelines first', daily_limit: 'Done for today' });
  const workCard = work.length ? h('div', { class: 'card', id: 'my-work' },
    h('h2', null, 'Your work'),
    h('table', { class: 'list' },
      h('thead', null, h('tr', null, h('th', null, 'Project'), h('th', null, 'Tasks left for you'), h('th', null, 'Done today'), h('th', null, 'Status'), h('th', null, ''))),
      h('tbody', null, work.map((item) => h('tr', { 'data-work-project': item.project_id },
        h('td', null, h('a', { href: `/projects/${item.project_id}` }, item.name)),
        h('td', null, `${item.open_tasks}${item.open_tasks_capped ? '+' : ''}`),
        h('td', null, item.daily_limit ? `${item.done_today} of ${item.daily_limit}` : String(item.done_today)),
        h('td', { class: 'work-state', title: item.blocked_reason ?? '' }, item.blocked ? STATES[item.blocked] ?? item.blocked : 'Ready'),
        h('td', null, item.kind === 'qualification'
          ? h('a', { class: 'button primary', href: `/projects/${item.project_id}/qualification` }, 'Take the test')
          : item.open_tasks > 0 && item.blocked !== 'qualification' && item.blocked !== 'paused'
            ? h('a', { class: 'button', href: `/projects/${item.project_id}/label` }, 'Label') : null,
        item.qualification_tests.map((test) => h('a', { class: 'button primary', href: `/projects/${test.project_id}/qualification`, 'data-test': test.project_id }, `Take the test "${test.name}"`))),
      ))))) : null;
  replace(root,
    h('div', { class: 'row' },
      h('h1', { class: 'grow' }, 'Projects'),
      mayCreate ? h('a', { class: 'button primary', href: '/projects/new', id: 'new-project' }, 'New project') : null,
    ),
    workCard,
    projects.length ? cards : h('p', { class: 'muted' }, mayCreate
      ? 'No projects yet. Create one to start labeling.'
      : 'You are not a member of any project yet. Ask a project manager to add you.'),
  );
  for (const project of projects) {
    const progress = h('div', null, h('span', { class: 'muted' }, 'Counting…'));
    cards.appendChild(h('a', { class: 'card project-card', href: `/projects/${project.id}`, 'data-project': project.id },
      h('h2', null, project.name),
      h('p', { class: 'description' }, project.description || ' '),
      progress,
    ));
    // Counts are a few dozen rows per project, so one request each is cheap.
    get(`/projects/${project.id}/task-counts`).then(
      (counts) => replace(progress, progressBar(counts)),
      () => replace(progress),
    );
  }
}
