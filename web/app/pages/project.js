// A project's overview: progress and how its queue is set up.

import { get } from '../api.js';
import { h, replace, when } from '../dom.js';
import { loadProject, manages, progressBar, projectHeader } from './common.js';

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params }) {
  const project = await loadProject(params.project);
  const counts = await get(`/projects/${project.id}/task-counts`);
  const order = { sequential: 'in order', random: 'in random order (per annotator)', priority: 'by priority' }[project.queue_order] ?? project.queue_order;
  replace(root,
    projectHeader(project, 'overview'),
    h('div', { class: 'card' },
      h('h2', null, 'Progress'),
      progressBar(counts),
      project.description ? h('p', { class: 'description' }, project.description) : null,
      h('p', { class: 'muted' },
        `Each task needs ${project.overlap} annotator${project.overlap === 1 ? '' : 's'}; tasks are handed out ${order}; `,
        `a task stays reserved for ${Math.round(project.reservation_seconds / 60)} min. Created ${when(project.created_at)}.`),
      counts.total === 0 && manages(project)
        ? h('p', null, 'No tasks yet: ', h('a', { href: `/projects/${project.id}/import` }, 'import data'), '.')
        : null,
      counts.total > 0 && project.my_role !== 'annotator'
        ? h('p', null, h('a', { href: `/projects/${project.id}/data`, id: 'open-data' }, 'Browse the tasks'), ' in the data manager: filter, sort, open any task, change many at once.')
        : null,
    ),
  );
}
