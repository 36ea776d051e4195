// Every annotator's work on one task side by side (reviewers and
// managers), each in the task's own labeling view, read only. Regions and
// spans are coloured by how they agree with the other annotations: green
// when every other annotation has a match (IoU ≥ 0.5 with the same label,
// or the same span), amber when some do, red when none does; each column
// says which whole-task answers (classes, ratings, rankings) disagree.

import { get, post, renderMarkdown, sanitizeHtml } from '../api.js';
import { h, replace } from '../dom.js';
import { loadProject } from './common.js';

/** Region colours by agreement. */
const MATCH_COLORS = /** @type {Record<string, string>} */ ({ matched: '#16a34a', partial: '#d97706', unmatched: '#dc2626' });
const CONTROL_TEXT = /** @type {Record<string, string>} */ ({ agrees: 'agrees with every other', partly: 'agrees with some', disagrees: 'agrees with none' });

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params }) {
  const project = await loadProject(params.project);
  const [check, comparison] = await Promise.all([
    post('/label-config/check', { label_config: project.label_config }),
    get(`/tasks/${params.task}/compare`),
  ]);
  const { createWorkspace } = await import('../labeling/workspace.js');
  root.classList.add('full');
  const grid = h('div', { class: 'compare-grid', id: 'compare-grid' });
  replace(root, h('div', { class: 'label-page' },
    h('div', { class: 'label-bar' },
      h('a', { href: `/projects/${project.id}/tasks/${params.task}` }, '← ', project.name, ` · task #${params.task}`),
      h('span', { class: 'status' }, `${comparison.annotations.length} annotations side by side`),
      h('span', { class: 'grow' }),
      h('span', { class: 'legend compare-legend' },
        h('span', { class: 'matched' }, 'matched by all'), h('span', { class: 'partial' }, 'by some'), h('span', { class: 'unmatched' }, 'by none'))),
    grid));

  /** @type {Awaited<ReturnType<typeof createWorkspace>>[]} */
  const workspaces = [];
  if (!comparison.annotations.length) {
    replace(grid, h('p', { class: 'label-empty' }, 'This task has no annotations to compare.'));
  }
  for (const compared of comparison.annotations) {
    const { annotation } = compared;
    const host = h('div', { class: 'label-host' });
    const disagreements = Object.entries(/** @type {Record<string, string>} */ (compared.controls));
    const column = h('section', { class: 'compare-column', 'data-annotation': annotation.id },
      h('header', null,
        h('strong', null, compared.annotator ?? 'someone not here'),
        ` · #${annotation.id} · version ${annotation.version} · ${annotation.review_state}`,
        annotation.ground_truth ? h('span', { class: 'badge' }, ' ground truth') : null,
        disagreements.length
          ? h('ul', { class: 'compare-controls' }, disagreements.map(([control, state]) =>
            h('li', { class: state, 'data-control': control }, `${control}: ${CONTROL_TEXT[state] ?? state}`)))
          : null),
      host);
    grid.append(column);
    const regions = /** @type {Record<string, string>} */ (compared.regions);
    workspaces.push(await createWorkspace(host, {
      config: check.config,
      data: comparison.task.data,
      result: annotation.result,
      readOnly: true,
      regionColor: (id) => MATCH_COLORS[regions[id]] ?? null,
      renderMarkdown,
      sanitizeHtml,
    }));
  }
  return () => {
    for (const workspace of workspaces) workspace.destroy();
    root.classList.remove('full');
  };
}
