// The projects list: each project the caller can see, with its progress.

import { all, get } from '../api.js';
import { h, replace } from '../dom.js';
import { progressBar } from './common.js';

/** @param {import('../main.js').PageContext} context */
export async function render({ root, user }) {
  const mayCreate = user.role === 'admin' || user.role === 'manager';
  const projects = await all('/projects');
  const cards = h('div', { class: 'cards', id: 'project-list' });
  replace(root,
    h('div', { class: 'row' },
      h('h1', { class: 'grow' }, 'Projects'),
      mayCreate ? h('a', { class: 'button primary', href: '/projects/new', id: 'new-project' }, 'New project') : null,
    ),
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
