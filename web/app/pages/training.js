// Training feedback and links to qualification tests, shown by the labeling
// page. After a submit in a training project the page shows the feedback:
// the score, the annotator's answer and the expected one side by side in
// read-only workspaces (regions coloured right, wrong or missed, as the
// comparison page colours agreement), the verdict per control, the task's
// explanation (as text) and a "Next task" button.

import { renderMarkdown, sanitizeHtml } from '../api.js';
import { h } from '../dom.js';

/** Region colours: the answer's (right, wrong) and the expected (found, missed). */
export const FEEDBACK_COLORS = /** @type {Record<string, string>} */ ({ right: '#16a34a', wrong: '#dc2626', found: '#16a34a', missed: '#ea580c' });

/**
 * @typedef {{control: string, kind: string, score: number, verdict: string, given: string[] | null, expected: string[] | null}} ControlFeedback
 * @typedef {{annotation_id: number, task_id: number, score: number | null, controls: ControlFeedback[],
 *   regions: Record<string, string>, expected_regions: Record<string, string>, missed: number,
 *   answer: any[], ground_truth: any[], explanation: string | null}} TrainingFeedback
 * @typedef {{project_id: number, name: string, certification: string}} TestLink
 */

/** @param {number} score */
export function percent(score) {
  return `${Math.round(score * 1000) / 10}%`;
}

/**
 * Renders the feedback into `host`; returns what destroys its workspaces.
 * @param {HTMLElement} host
 * @param {{config: any, data: any, feedback: TrainingFeedback,
 *   createWorkspace: (host: HTMLElement, options: any) => Promise<{destroy: () => void}>,
 *   onNext: () => void}} options
 */
export async function showFeedback(host, { config, data, feedback, createWorkspace, onNext }) {
  const yours = h('div', { class: 'label-host' });
  const expected = h('div', { class: 'label-host' });
  const next = h('button', { class: 'primary', id: 'feedback-next', onclick: onNext }, 'Next task');
  const score = feedback.score === null ? 'This task has no expected answer to compare with.' : `Your score: ${percent(feedback.score)}`;
  host.replaceChildren(h('div', { class: 'feedback', id: 'training-feedback', 'data-annotation': feedback.annotation_id },
    h('div', { class: 'row' },
      h('h2', { class: 'grow', id: 'feedback-score' }, score),
      next),
    h('ul', { class: 'feedback-controls', id: 'feedback-controls' }, feedback.controls.map((control) =>
      h('li', { class: control.verdict, 'data-control': control.control },
        h('strong', null, `${control.control}: ${control.verdict}`),
        ` (${percent(control.score)})`,
        control.kind === 'answer'
          ? ` · you answered ${list(control.given)}, expected ${list(control.expected)}`
          : null))),
    feedback.missed > 0 ? h('p', { id: 'feedback-missed' }, `You missed ${feedback.missed} region${feedback.missed === 1 ? '' : 's'} (orange on the right).`) : null,
    feedback.explanation !== null
      ? h('div', { class: 'card', id: 'feedback-explanation' }, h('h3', null, 'Explanation'), h('p', null, feedback.explanation))
      : null,
    h('span', { class: 'legend compare-legend' },
      h('span', { class: 'matched' }, 'right / found'), h('span', { class: 'unmatched' }, 'wrong'), h('span', { class: 'partial' }, 'missed')),
    h('div', { class: 'compare-grid' },
      h('section', { class: 'compare-column', id: 'feedback-yours' }, h('header', null, h('strong', null, 'Your answer')), yours),
      h('section', { class: 'compare-column', id: 'feedback-expected' }, h('header', null, h('strong', null, 'Expected')), expected))));
  const workspaces = [
    await createWorkspace(yours, {
      config, data, result: feedback.answer, readOnly: true, renderMarkdown, sanitizeHtml,
      regionColor: (/** @type {string} */ id) => FEEDBACK_COLORS[feedback.regions[id]] ?? null,
    }),
    await createWorkspace(expected, {
      config, data, result: feedback.ground_truth, readOnly: true, renderMarkdown, sanitizeHtml,
      regionColor: (/** @type {string} */ id) => FEEDBACK_COLORS[feedback.expected_regions[id]] ?? null,
    }),
  ];
  next.focus();
  return () => { for (const workspace of workspaces) workspace.destroy(); };
}

/** @param {string[] | null} items */
function list(items) {
  return items && items.length ? items.join(', ') : 'nothing';
}

/**
 * "Take the test" links for the tests that grant missing certifications.
 * @param {any} problems a `qualification` refusal's problems
 */
export function testLinks(problems) {
  /** @type {TestLink[]} */
  const tests = problems?.qualification_tests ?? [];
  if (!tests.length) return null;
  return h('ul', { class: 'test-links', id: 'test-links' }, tests.map((test) =>
    h('li', null, h('a', { class: 'button primary', href: `/projects/${test.project_id}/qualification`, 'data-test': test.project_id },
      `Take the test "${test.name}"`), ` (grants ${test.certification})`)));
}
