// A qualification test (`/projects/P/qualification`): the caller's
// standing (attempts, best score, certification, when the next attempt may
// start), "Start the test", then each task in the labeling workspace with
// "Submit answer" (no verdict until the end), and the result: the score,
// passed or failed, each task's score, the certification and its expiry or
// when to retry. Managers also see every person's attempts.

import { ApiError, del, get, post, renderMarkdown, sanitizeHtml } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { percent } from './training.js';

/**
 * @typedef {{id: number, username: string, started_at: string, finished_at: string | null,
 *   score: number | null, passed: boolean | null, tasks: number, answered: number,
 *   certified: boolean | null}} Attempt
 * @typedef {{name: string, granted_at: string, expires_at: string | null, expired: boolean}} Certification
 */

/** @param {string | null} time */
function when(time) {
  return time ? new Date(time).toLocaleString() : '';
}

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params }) {
  const id = params.project;
  const body = h('div', { id: 'qualification-body' });
  const heading = h('h1', null, 'Qualification test');
  replace(root, h('div', { class: 'row' }, heading), body);
  /** @type {{destroy: () => void} | null} */
  let workspace = null;
  /** @type {any} */
  let config = null;

  function close() {
    workspace?.destroy();
    workspace = null;
    root.classList.remove('full');
  }

  async function showStatus() {
    close();
    const status = await get(`/projects/${id}/qualification`);
    replace(heading, status.project_name);
    const settings = status.settings;
    /** @type {Certification | null} */
    const certification = status.certification;
    const start = h('button', { class: 'primary', id: 'start-test', disabled: !status.can_start,
      onclick: () => startAttempt() }, status.open_attempt ? 'Continue the test' : status.attempts.length ? 'Take the test again' : 'Start the test');
    replace(body,
      h('div', { class: 'card', id: 'qualification-status' },
        h('p', null, `${status.tasks} tasks; you pass with a mean score of ${percent(settings.pass_score)} or more against the expected answers.`),
        settings.grants_certification
          ? h('p', null, `Passing grants the certification "${settings.grants_certification}"`,
            settings.certification_valid_days ? `, valid for ${settings.certification_valid_days} days` : '', '.')
          : null,
        h('p', { id: 'attempts-left' }, status.attempts_left === null
          ? `Attempts: ${status.attempts.length} so far, no limit.`
          : `Attempts left: ${status.attempts_left} of ${settings.max_attempts}.`),
        certification
          ? h('p', { id: 'my-certification', class: certification.expired ? 'error' : 'ok' },
            `You hold "${certification.name}" since ${when(certification.granted_at)}`,
            certification.expires_at ? `${certification.expired ? ', expired' : ', until'} ${when(certification.expires_at)}` : ', without expiry', '.')
          : null,
        status.best_score !== null ? h('p', null, `Your best score: ${percent(status.best_score)}.`) : null,
        status.blocked_reason
          ? h('p', { class: 'error', id: 'test-blocked' }, status.blocked_reason,
            status.retry_at ? ` You may try again from ${when(status.retry_at)}.` : '')
          : null,
        start),
      status.attempts.length ? h('div', { class: 'card' }, h('h2', null, 'Your attempts'), attemptsTable(status.attempts, false)) : null,
      status.manager ? await resultsCard() : null);
  }

  async function resultsCard() {
    /** @type {Attempt[]} */
    const rows = await get(`/projects/${id}/qualification/results`);
    return h('div', { class: 'card', id: 'qualification-results' },
      h('div', { class: 'row' }, h('h2', { class: 'grow' }, 'Everyone\'s attempts'),
        h('a', { class: 'button', href: `/api/v1/projects/${id}/qualification/results.csv`, download: 'qualification-results.csv' }, 'CSV')),
      rows.length ? attemptsTable(rows, true) : h('p', { class: 'muted' }, 'Nobody has taken the test yet.'));
  }

  /**
   * Revokes the certification this test granted a person (it expires now).
   * @param {string} username @param {HTMLButtonElement} button
   */
  async function revoke(username, button) {
    if (!confirm(`Revoke ${username}'s certification? Projects requiring it stop giving them tasks until they pass again.`)) return;
    try {
      await del(`/projects/${id}/qualification/certifications/${encodeURIComponent(username)}`);
      toast(`Revoked ${username}'s certification.`);
      button.disabled = true;
      button.textContent = 'Revoked';
    } catch (error) {
      toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
    }
  }

  /** @param {Attempt[]} rows @param {boolean} withNames */
  function attemptsTable(rows, withNames) {
    return h('table', { class: 'list' },
      h('thead', null, h('tr', null, withNames ? h('th', null, 'Person') : null, h('th', null, 'Started'),
        h('th', null, 'Answered'), h('th', null, 'Score'), h('th', null, 'Result'), withNames ? h('th', null, '') : null)),
      h('tbody', null, rows.map((row) => h('tr', { 'data-attempt': row.id },
        withNames ? h('td', null, row.username) : null,
        h('td', null, when(row.started_at)),
        h('td', null, `${row.answered} of ${row.tasks}`),
        h('td', null, row.score === null ? '' : percent(row.score)),
        h('td', null, row.passed === null ? 'in progress' : row.passed ? 'passed' : 'failed'),
        // The attempt that granted its person's certification: revoked
        // while in force, else said to be over.
        withNames ? h('td', { class: 'certification' }, row.certified === true
          ? h('button', { class: 'danger revoke', onclick: (/** @type {Event} */ event) => revoke(row.username, /** @type {HTMLButtonElement} */ (event.currentTarget)) }, 'Revoke')
          : row.certified === false ? h('span', { class: 'muted' }, 'Certification revoked or expired') : null) : null))));
  }

  async function startAttempt() {
    try {
      const view = await post(`/projects/${id}/qualification/attempts`, {});
      await showAttempt(view);
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
      await showStatus();
    }
  }

  /** @param {any} view */
  async function showAttempt(view) {
    close();
    if (view.attempt.finished_at) {
      showResult(view);
      return;
    }
    const index = view.tasks.findIndex((/** @type {any} */ t) => !t.answered);
    const item = view.tasks[index];
    if (!config) config = (await post('/label-config/check', { label_config: view.label_config })).config;
    const { createWorkspace } = await import('../labeling/workspace.js');
    root.classList.add('full');
    const host = h('div', { class: 'label-host' });
    const submit = h('button', { class: 'primary', id: 'answer-submit', title: 'Ctrl+Enter' }, 'Submit answer');
    replace(body, h('div', { class: 'label-page' },
      h('div', { class: 'label-bar' },
        h('strong', null, view.project_name),
        h('span', { class: 'status', id: 'test-progress' }, `Task ${index + 1} of ${view.tasks.length}`),
        h('span', { class: 'grow' }),
        submit),
      host));
    workspace = await createWorkspace(host, { config, data: item.task.data, result: item.result ?? [], renderMarkdown, sanitizeHtml });
    host.dataset.task = String(item.task.id);
    const ws = /** @type {any} */ (workspace);
    submit.onclick = async () => {
      submit.disabled = true;
      try {
        const next = await post(`/qualification-attempts/${view.attempt.id}/answers`, { task_id: item.task.id, result: ws.getResult() });
        await showAttempt(next);
      } catch (error) {
        submit.disabled = false;
        toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
      }
    };
  }

  /** @param {any} view */
  function showResult(view) {
    const attempt = view.attempt;
    /** @type {Certification | null} */
    const certification = view.certification;
    replace(body, h('div', { class: 'card', id: 'test-result', 'data-passed': String(attempt.passed) },
      h('h2', { id: 'test-verdict' }, attempt.passed ? 'Passed' : 'Not passed'),
      h('p', { id: 'test-score' }, `Your score: ${percent(attempt.score)} (${percent(view.pass_score)} needed).`),
      h('ol', { id: 'test-task-scores' }, view.tasks.map((/** @type {any} */ t) => h('li', null, `Task #${t.task.id}: ${percent(t.score ?? 0)}`))),
      certification
        ? h('p', { id: 'test-certification' }, `You are certified "${certification.name}"`,
          certification.expires_at ? ` until ${when(certification.expires_at)}` : ' without expiry', '.')
        : null,
      !attempt.passed && view.retry_at ? h('p', { id: 'test-retry' }, `You may try again from ${when(view.retry_at)}.`) : null,
      !attempt.passed && view.attempts_left === 0 ? h('p', { class: 'error' }, 'You have no attempts left.') : null,
      h('div', { class: 'row' },
        h('button', { id: 'test-back', onclick: () => showStatus() }, 'Back to the test'),
        h('a', { class: 'button', href: '/' }, 'Your projects'))));
  }

  await showStatus();
  return close;
}
