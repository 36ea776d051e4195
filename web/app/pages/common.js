// Pieces several pages share: the project heading with its tabs, and the
// progress bar of a project's task counts.

import { get } from '../api.js';
import { h } from '../dom.js';

/**
 * @typedef {{id: number, name: string, description: string, label_config: string,
 *   overlap: number, queue_order: string, reservation_seconds: number, review_layers: number,
 *   review_percent: number, honeypot_percent: number, gold_pause_below: number | null, gold_pause_after: number,
 *   dynamic_overlap_max: number, dynamic_agreement_below: number, consensus_method: string,
 *   guidelines_version: number, required_skills: string[], required_tier: string | null, daily_limit: number,
 *   idle_seconds: number, min_task_seconds: number, same_answer_streak: number,
 *   kind: string, required_certifications: string[],
 *   qualification: {pass_score: number, max_attempts: number, cooldown_minutes: number, grants_certification: string | null,
 *     certification_valid_days: number | null, grants_skill: string | null},
 *   my_role: string,
 *   created_at: string, updated_at: string}} ProjectView
 * @typedef {{total: number, new: number, in_progress: number, completed: number}} TaskCounts
 */

/** @param {string | number} id @returns {Promise<ProjectView>} */
export function loadProject(id) {
  return get(`/projects/${id}`);
}

/** Whether the caller manages the project. @param {ProjectView} project */
export function manages(project) {
  return project.my_role === 'manager';
}

/**
 * The project's name and its tabs, the active one marked. Tabs a member
 * cannot use are left out (annotators see only the labeling start).
 * @param {ProjectView} project
 * @param {'overview' | 'data' | 'quality' | 'productivity' | 'import' | 'export' | 'members' | 'settings'} active
 */
export function projectHeader(project, active) {
  const base = `/projects/${project.id}`;
  /** @type {[string, string, string, boolean][]} */
  const tabs = [
    ['overview', 'Overview', base, true],
    ['data', 'Data', `${base}/data`, project.my_role !== 'annotator'],
    ['quality', 'Quality', `${base}/quality`, project.my_role !== 'annotator'],
    ['productivity', 'Productivity', `${base}/productivity`, true],
    ['import', 'Import', `${base}/import`, manages(project)],
    ['export', 'Export', `${base}/export`, project.my_role !== 'annotator'],
    ['members', 'Members', `${base}/members`, project.my_role !== 'annotator'],
    ['settings', 'Settings', `${base}/settings`, manages(project)],
  ];
  return h('div', null,
    h('div', { class: 'project-title' },
      h('h1', null, project.name),
      h('span', { class: 'muted' }, `your role: ${project.my_role}`),
      h('span', { class: 'grow' }),
      project.my_role !== 'annotator' ? h('a', { class: 'button', href: `${base}/review`, id: 'start-review' }, 'Review') : null,
      project.kind === 'qualification'
        ? h('a', { class: 'button primary', href: `${base}/qualification`, id: 'take-test' }, 'Take the test')
        : h('a', { class: 'button primary', href: `${base}/label`, id: 'start-labeling' }, 'Start labeling'),
    ),
    h('nav', { class: 'tabs' },
      tabs.filter(([, , , shown]) => shown).map(([key, title, href]) =>
        h('a', { href, class: key === active ? 'active' : null, 'data-tab': key }, title)),
    ),
  );
}

/**
 * A bar of completed / in progress / new, with a legend in numbers.
 * @param {TaskCounts} counts
 */
export function progressBar(counts) {
  const total = Math.max(counts.total, 0);
  /** @param {number} n */
  const width = (n) => (total ? `${(100 * n) / total}%` : '0');
  const bar = h('div', { class: 'progress', role: 'img', 'aria-label': `${counts.completed} of ${total} tasks completed` },
    h('span', { class: 'completed' }),
    h('span', { class: 'in_progress' }),
  );
  const [completed, inProgress] = /** @type {HTMLElement[]} */ ([...bar.children]);
  completed.style.width = width(counts.completed);
  inProgress.style.width = width(counts.in_progress);
  return h('div', { class: 'progress-block' },
    bar,
    h('div', { class: 'legend' },
      h('span', { class: 'completed' }, `${counts.completed} / ${total} completed`),
      h('span', { class: 'in_progress' }, `${counts.in_progress} in progress`),
      h('span', { class: 'new' }, `${counts.new} new`),
    ),
  );
}

/**
 * A file name safe to offer for download.
 * @param {string} name
 */
export function fileSafe(name) {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
}
