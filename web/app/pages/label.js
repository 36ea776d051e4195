// The labeling screen. `/projects/P/label` walks the caller's queue
// (`/next`, submit, skip; work a reviewer sent back comes first, with their
// comment); `/projects/P/tasks/T` opens one task with its annotations, for
// reviewers and managers; `/projects/P/review` walks the review queue
// (accept, reject with a comment, or correct and accept). Every edit of
// new work is saved as a draft within two seconds, so a reload, a crash
// or a closed tab loses nothing.

import { csrf, get, patch, post, put, renderMarkdown, sanitizeHtml, ApiError } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { loadProject } from './common.js';
import { ActiveTimer } from '../labeling/activity.js';
import { showFeedback, testLinks } from './training.js';

/** How long after the last edit a draft is saved, and the longest it waits. */
const DRAFT_QUIET_MS = 400;
const DRAFT_MAX_WAIT_MS = 2000;

/** Keys of the page itself, shown in the keyboard map beside the workspace's. */
const PAGE_KEYS = /** @type {[string, string][]} */ ([
  ['Ctrl+Enter', 'Submit (or update) and go to the next task'],
  ['Ctrl+Space', 'Skip this task'],
  ['Ctrl+Backspace', 'Back to the task you submitted last'],
]);

/** Keys of the review screen. */
const REVIEW_KEYS = /** @type {[string, string][]} */ ([
  ['Ctrl+Enter', 'Accept (with your corrections, if you made any) and go to the next'],
  ['Ctrl+Shift+Enter', 'Reject: write what to change, then send it back'],
]);

/**
 * @typedef {{id: number, data: Record<string, unknown>, status: string}} Task
 * @typedef {{id: number, version: number, result: any[], completed_by: number | null, ground_truth?: boolean, active_ms?: number | null}} Annotation
 * @typedef {{task: Task, result: any[], annotation: Annotation | null, source: string}} Shown
 */

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params, user, previous: cameFrom }) {
  const project = await loadProject(params.project);
  const check = await post('/label-config/check', { label_config: project.label_config });
  const { createWorkspace, preloadImage, imageLevels } = await import('../labeling/workspace.js');
  const config = check.config;
  const reviewMode = params.mode === 'review';
  const queueMode = !params.task && !reviewMode;
  let reviewLayer = 1;
  /** @type {(() => void) | null} */
  let feedbackClose = null;

  root.classList.add('full');
  const title = h('strong', null, project.name);
  const where = h('span', { class: 'status', id: 'task-status' });
  const saved = h('span', { class: 'status', id: 'draft-status', 'aria-live': 'polite' });
  const submitButton = h('button', { class: 'primary', id: 'submit', title: 'Ctrl+Enter', onclick: () => submit() }, reviewMode ? 'Accept' : 'Submit');
  const rejectButton = h('button', { id: 'reject', title: 'Ctrl+Shift+Enter', onclick: () => askRejection() }, 'Reject…');
  const layerPicker = h('select', { id: 'review-layer', 'aria-label': 'Review layer', hidden: project.review_layers < 2 },
    h('option', { value: '1' }, 'Layer 1'), h('option', { value: '2' }, 'Layer 2'));
  layerPicker.onchange = () => {
    reviewLayer = Number(layerPicker.value);
    nextReview();
  };
  // What a reviewer said (rework), or what is under review and its history.
  const notes = h('div', { class: 'review-notes', id: 'review-notes', hidden: true });
  // The task's comments, opened from the bar.
  const commentsButton = h('button', { id: 'comments-toggle', type: 'button', 'aria-expanded': 'false', onclick: () => toggleComments() }, 'Comments');
  const commentList = h('ul', { class: 'comment-list', id: 'comment-list' });
  const commentText = h('textarea', { id: 'comment-text', rows: 2, 'aria-label': 'Your comment', placeholder: 'Comment on this task (Ctrl+Enter sends)' });
  const onRegion = h('input', { type: 'checkbox', id: 'comment-on-region' });
  const onRegionLabel = h('label', { class: 'inline', title: 'Select one region first' }, onRegion, 'On the selected region');
  const commentForm = h('form', { class: 'comment-form' }, commentText, h('div', { class: 'row' }, onRegionLabel, h('button', { type: 'submit', id: 'comment-send' }, 'Comment')));
  const commentsPanel = h('div', { class: 'comments-panel', id: 'comments-panel', hidden: true }, commentList, commentForm);
  /** @type {any[]} */
  let comments = [];
  commentForm.addEventListener('submit', (event) => {
    event.preventDefault();
    sendComment();
  });
  commentText.addEventListener('keydown', (event) => {
    // Keys typed here are the comment's, not the workspace's.
    event.stopPropagation();
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      sendComment();
    }
  });
  const skipButton = h('button', { id: 'skip', title: 'Ctrl+Space', onclick: () => skip() }, 'Skip');
  // The project's guidelines, to read again while labeling.
  const guidelinesPanel = h('div', { class: 'guidelines-panel', id: 'guidelines-panel', hidden: true });
  const guidelinesButton = h('button', { id: 'guidelines-button', hidden: !project.guidelines_version, onclick: () => toggleGuidelines() }, 'Guidelines');
  const backButton = h('button', { id: 'back', title: 'Ctrl+Backspace', disabled: true, onclick: () => back() }, '← Previous');
  const annotationPicker = h('select', { id: 'annotation-picker', hidden: true, 'aria-label': 'Annotation shown' });
  // Reviewers and managers mark the annotation shown as ground truth.
  const truthBox = h('input', { type: 'checkbox', id: 'ground-truth' });
  const truthToggle = h('label', { class: 'inline', hidden: true, title: 'The answer gold tasks are scored against' }, truthBox, 'Ground truth');
  truthBox.onchange = async () => {
    if (!shown?.annotation) return;
    try {
      shown.annotation = await patch(`/annotations/${shown.annotation.id}`, { ground_truth: truthBox.checked });
      toast(truthBox.checked ? 'Marked as ground truth.' : 'No longer ground truth.');
    } catch (error) {
      truthBox.checked = !truthBox.checked;
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  };
  const host = h('div', { class: 'label-host', id: 'workspace' });
  // "On the selected region" follows the selection while the panel is open.
  host.addEventListener('pointerup', () => {
    if (!commentsPanel.hidden) setTimeout(renderComments, 0);
  });

  replace(root, h('div', { class: 'label-page' },
    h('div', { class: 'label-bar' },
      backLink(), where,
      h('span', { class: 'grow' }),
      annotationPicker, truthToggle, saved,
      guidelinesButton, commentsButton,
      reviewMode ? [layerPicker, rejectButton] : [backButton, queueMode ? skipButton : null],
      submitButton),
    notes,
    guidelinesPanel,
    commentsPanel,
    host));

  /**
   * A version of the guidelines: who wrote it when, and its text as the
   * server rendered it.
   * @param {any} current
   */
  function guidelinesBody(current) {
    const text = h('div', { class: 'guidelines-text' });
    // Sanitized by the server (ammonia's allow-list); the page's CSP runs no inline script either way.
    text.innerHTML = current.html;
    return h('div', null,
      h('p', { class: 'muted' }, `Version ${current.version}${current.author ? `, by ${current.author}` : ''}, ${new Date(current.created_at).toLocaleString()}`),
      text);
  }

  async function toggleGuidelines() {
    if (!guidelinesPanel.hidden) {
      guidelinesPanel.hidden = true;
      return;
    }
    const guidelines = await get(`/projects/${project.id}/guidelines`);
    if (!guidelines.current) return;
    replace(guidelinesPanel, guidelinesBody(guidelines.current));
    guidelinesPanel.hidden = false;
  }

  /** New guidelines: read them and acknowledge, then the queue goes on. */
  async function showGuidelines() {
    const guidelines = await get(`/projects/${project.id}/guidelines`);
    const current = guidelines.current;
    if (!current) {
      await nextTask();
      return;
    }
    guidelinesButton.hidden = false;
    const acknowledge = h('button', { class: 'primary', id: 'acknowledge-guidelines', onclick: async () => {
      acknowledge.disabled = true;
      try {
        await post(`/projects/${project.id}/guidelines/acknowledge`, { version: current.version });
      } catch (error) {
        // Changed meanwhile: the next call shows the new version.
        if (!(error instanceof ApiError && error.status === 409)) throw error;
      }
      await nextTask();
    } }, `I have read the guidelines (version ${current.version})`);
    showNoTask('queue-guidelines',
      guidelines.acknowledged_version ? 'The guidelines changed: read them before your next task' : 'Read the guidelines before you start',
      h('div', null, guidelinesBody(current), h('div', { class: 'row' }, acknowledge)));
  }

  /**
   * Back to where the task was opened from: the data manager (through the
   * browser's history, so its filters, page and focused row come back) or
   * the project.
   */
  function backLink() {
    const dataManager = `/projects/${project.id}/data`;
    if (queueMode || !cameFrom || !cameFrom.startsWith(dataManager)) {
      return h('a', { href: `/projects/${project.id}` }, '← ', title);
    }
    return h('a', {
      href: cameFrom,
      id: 'back-to-data',
      title: 'Back to the data manager',
      onclick: (/** @type {Event} */ event) => {
        event.preventDefault();
        history.back();
      },
    }, '← ', title, ' · tasks');
  }

  /** @type {Awaited<ReturnType<typeof createWorkspace>> | null} */
  let workspace = null;
  /** @type {Shown | null} */
  let shown = null;
  /** The last task submitted here, to go back and correct it. */
  /** @type {Shown | null} */
  let previous = null;
  let busy = false;
  let shownAt = performance.now();
  const activity = new ActiveTimer(/** @type {{idle_seconds?: number}} */ (project).idle_seconds ?? 60);
  let draftTimer = 0;
  let draftFirstEdit = 0;
  /** @type {Promise<void>} */
  let draftSaving = Promise.resolve();
  let dirty = false;

  function leadTime() {
    return Math.round((performance.now() - shownAt) / 100) / 10;
  }

  /** Saves the draft now (in queue mode, for a task not yet submitted). */
  function saveDraft(keepalive = false) {
    clearTimeout(draftTimer);
    draftTimer = 0;
    draftFirstEdit = 0;
    if (!dirty || !shown || !workspace || shown.annotation) return Promise.resolve();
    dirty = false;
    const taskId = shown.task.id;
    const body = { result: workspace.getResult(), lead_time: leadTime() };
    if (keepalive) {
      // The page is going away: a keepalive request outlives it.
      fetch(`/api/v1/tasks/${taskId}/draft`, {
        method: 'PUT', keepalive: true, credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() },
        body: JSON.stringify(body),
      }).catch(() => {});
      return Promise.resolve();
    }
    draftSaving = draftSaving.then(() => put(`/tasks/${taskId}/draft`, body).then(
      () => replace(saved, 'Draft saved'),
      (error) => {
        dirty = true;
        replace(saved, `Draft not saved: ${error instanceof ApiError ? error.message : String(error)}`);
      },
    ));
    return draftSaving;
  }

  /** @param {any[]} _result */
  function edited(_result) {
    dirty = true;
    replace(saved, 'Editing…');
    if (reviewMode) submitButton.textContent = 'Accept with fix';
    if (!shown || shown.annotation) return;
    const now = performance.now();
    if (!draftFirstEdit) draftFirstEdit = now;
    clearTimeout(draftTimer);
    const wait = Math.min(DRAFT_QUIET_MS, Math.max(0, DRAFT_MAX_WAIT_MS - (now - draftFirstEdit)));
    draftTimer = window.setTimeout(() => saveDraft(), wait);
  }

  /** @param {Shown} next */
  async function show(next) {
    closeFeedback();
    workspace?.destroy();
    workspace = null;
    delete host.dataset.task;
    shown = next;
    dirty = false;
    shownAt = performance.now();
    activity.reset();
    replace(saved, next.source);
    replace(where, `Task #${next.task.id}`);
    submitButton.textContent = reviewMode ? 'Accept' : next.annotation ? 'Update' : 'Submit';
    truthToggle.hidden = !(next.annotation && !queueMode && project.my_role !== 'annotator');
    truthBox.checked = Boolean(next.annotation?.ground_truth);
    backButton.disabled = !previous || previous === next;
    const workspaceHost = h('div', { class: 'label-host' });
    replace(host, workspaceHost);
    workspace = await createWorkspace(workspaceHost, {
      config,
      data: next.task.data,
      result: next.result,
      onChange: edited,
      extraKeys: reviewMode ? REVIEW_KEYS : PAGE_KEYS,
      renderMarkdown,
      sanitizeHtml,
      // A <Chat> talks to the project's model through the server (red teaming).
      chat: config.objects.some((/** @type {{kind: string}} */ o) => o.kind === 'Chat')
        ? {
          status: () => get(`/tasks/${next.task.id}/chat`),
          send: (messages) => post(`/tasks/${next.task.id}/chat`, { messages }),
        }
        : null,
    });
    loadComments(next.task.id);
    // Tests (and anything else watching) know the task is ready to label.
    host.dataset.task = String(next.task.id);
  }

  /**
   * Instead of a task: a heading, why, and the way back to the project.
   * @param {string} id @param {string} title @param {HTMLElement} why
   */
  function showNoTask(id, title, why) {
    closeFeedback();
    workspace?.destroy();
    workspace = null;
    shown = null;
    // No task is shown: whoever waits for one waits for the next.
    delete host.dataset.task;
    replace(where);
    replace(saved);
    submitButton.disabled = true;
    skipButton.disabled = true;
    rejectButton.disabled = true;
    showNotes();
    replace(host, h('div', { class: 'label-empty', id },
      h('h2', null, title),
      why,
      h('a', { href: `/projects/${project.id}` }, 'Back to the project')));
  }

  /** @param {string} message @param {boolean} [account] the whole account, not this project */
  function showPaused(message, account = false) {
    showNoTask('queue-paused', account ? 'Your account is paused' : 'Your work in this project is paused', h('p', null, message));
  }

  function showDone() {
    showNoTask('queue-done', 'No more tasks for you here',
      h('p', { class: 'muted' }, 'Every task is done, held by someone else, or already annotated by you.'));
  }

  /** The caller's next task from the queue, with its draft or predictions. */
  async function nextTask() {
    /** @type {any} */
    let next;
    try {
      next = await get(`/projects/${project.id}/next`);
    } catch (error) {
      // Paused by the gold rule: say why, and who can lift it.
      if (error instanceof ApiError && error.status === 403 && error.details?.problems?.paused) {
        showPaused(error.message, Boolean(error.details.problems.account));
        return;
      }
      if (error instanceof ApiError && error.status === 403 && error.details?.problems?.daily_limit) {
        showNoTask('queue-daily-limit', 'You have done today\'s tasks here', h('p', null, error.message));
        return;
      }
      // A project for people with skills or a tier they lack: say which.
      if (error instanceof ApiError && error.status === 403 && error.details?.problems?.qualification) {
        showNoTask('queue-unqualified', 'This project needs qualifications you do not have',
          h('div', null, h('p', null, error.message), testLinks(error.details.problems.qualification)));
        return;
      }
      if (error instanceof ApiError && error.status === 409 && error.details?.problems?.qualification_test) {
        showNoTask('queue-test', 'This project is a qualification test',
          h('p', null, h('a', { class: 'button primary', href: `/projects/${project.id}/qualification` }, 'Take the test')));
        return;
      }
      if (error instanceof ApiError && error.status === 403 && error.details?.problems?.guidelines_version) {
        await showGuidelines();
        return;
      }
      throw error;
    }
    if (!next) {
      showDone();
      return;
    }
    submitButton.disabled = false;
    skipButton.disabled = false;
    if (next.rework) {
      const { annotation, rejection } = next.rework;
      showNotes(h('p', { id: 'rework-note' },
        h('strong', null, `Sent back by ${rejection.reviewer ?? 'a reviewer'}: `),
        rejection.comment),
      h('p', { class: 'muted' }, 'Change your annotation and press Update: it goes back to review.'));
      await show({ task: next.task, result: annotation.result, annotation, source: `Your annotation #${annotation.id}, version ${annotation.version}, for rework` });
      return;
    }
    showNotes();
    const prediction = [...(next.predictions ?? [])].sort((a, b) => (b.score ?? 0) - (a.score ?? 0))[0];
    const source = next.draft ? 'Draft restored' : prediction ? `Pre-annotated by ${prediction.model_version || 'a model'}` : '';
    await show({ task: next.task, result: next.draft?.result ?? prediction?.result ?? [], annotation: null, source });
    preloadUpcoming();
  }

  /**
   * Loads and decodes the images of the task the queue will most likely
   * give next, while this one is being labelled, so that submit → next
   * shows it at once. Only a hint: a miss just loads the image then.
   */
  function preloadUpcoming() {
    get(`/projects/${project.id}/upcoming`).then((upcoming) => {
      if (!upcoming) return;
      for (const object of config.objects) {
        const url = upcoming.data[object.value];
        if (object.kind === 'Image' && typeof url === 'string') preloadImage(url).then(imageLevels).catch(() => {});
      }
    }, () => {});
  }

  /** Reads the task's comments; the button shows how many are open. @param {number} taskId */
  async function loadComments(taskId) {
    try {
      const found = await get(`/tasks/${taskId}/comments`);
      if (shown?.task.id !== taskId) return;
      comments = found;
    } catch {
      comments = [];
    }
    renderComments();
  }

  function renderComments() {
    const open = comments.filter((c) => !c.resolved_at).length;
    commentsButton.textContent = open ? `Comments (${open})` : comments.length ? `Comments (${comments.length} resolved)` : 'Comments';
    commentsButton.classList.toggle('has-open', open > 0);
    replace(commentList, comments.map((comment) => h('li', { class: comment.resolved_at ? 'resolved' : null, 'data-comment': comment.id },
      h('div', { class: 'comment-head' },
        h('strong', null, comment.author ?? 'someone'),
        ' ', h('span', { class: 'muted' }, new Date(comment.created_at).toLocaleString()),
        comment.region_id ? h('span', { class: 'comment-region' }, ` on region ${comment.region_id}`) : null,
        comment.resolved_at
          ? h('button', { type: 'button', class: 'link', onclick: () => resolve(comment.id, false) }, 'Reopen')
          : h('button', { type: 'button', class: 'link', onclick: () => resolve(comment.id, true) }, 'Resolve')),
      h('div', { class: 'comment-text' }, comment.text))));
    const selected = workspace?.selectedIds() ?? [];
    onRegion.disabled = !(shown?.annotation && selected.length === 1);
    if (onRegion.disabled) onRegion.checked = false;
  }

  function toggleComments() {
    commentsPanel.hidden = !commentsPanel.hidden;
    commentsButton.setAttribute('aria-expanded', String(!commentsPanel.hidden));
    if (!commentsPanel.hidden) {
      renderComments();
      commentText.focus();
    }
  }

  async function sendComment() {
    if (!shown || !commentText.value.trim()) return;
    const selected = workspace?.selectedIds() ?? [];
    /** @type {Record<string, unknown>} */
    const body = { text: commentText.value };
    if (onRegion.checked && shown.annotation && selected.length === 1) {
      body.annotation_id = shown.annotation.id;
      body.region_id = selected[0];
    }
    try {
      const made = await post(`/tasks/${shown.task.id}/comments`, body);
      comments = [...comments, made];
      commentText.value = '';
      renderComments();
    } catch (error) {
      toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
    }
  }

  /** @param {number} id @param {boolean} resolved */
  async function resolve(id, resolved) {
    try {
      const changed = await patch(`/comments/${id}`, { resolved });
      comments = comments.map((c) => (c.id === id ? changed : c));
      renderComments();
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  }

  /** Shows (or with nothing, hides) the notes above the workspace. @param {...(Node | string | null)} content */
  function showNotes(...content) {
    replace(notes, ...content);
    notes.hidden = content.length === 0;
  }

  /** The next annotation waiting for the caller's review at the chosen layer. */
  async function nextReview() {
    /** @type {any} */
    const item = await get(`/projects/${project.id}/review/next?layer=${reviewLayer}`);
    if (!item) {
      showNoTask('review-done', `Nothing waits for your review at layer ${reviewLayer}`,
        h('p', { class: 'muted' }, 'Everything sampled is reviewed, held by another reviewer, your own work, or passed by you at another layer.'));
      return;
    }
    submitButton.disabled = false;
    rejectButton.disabled = false;
    const { annotation } = item;
    showNotes(
      h('p', { id: 'review-subject' },
        `Layer ${item.layer} of ${project.review_layers} · annotation #${annotation.id} by ${item.annotator ?? 'someone not here'}, version ${annotation.version}${activeText(annotation.active_ms)}`),
      item.reviews.length
        ? h('ul', { class: 'review-history' }, item.reviews.map((/** @type {any} */ r) =>
          h('li', null, `Layer ${r.layer}: ${r.verdict} by ${r.reviewer ?? 'a former reviewer'}${r.comment ? ` — ${r.comment}` : ''}`)))
        : null,
    );
    await show({ task: item.task, result: annotation.result, annotation, source: 'Under review: correct it to accept with a fix' });
  }

  /** Asks what the annotator should change, then sends the annotation back. */
  function askRejection() {
    if (!shown || !reviewMode || notes.querySelector('#reject-comment')) return;
    const comment = h('textarea', { id: 'reject-comment', rows: 3, 'aria-label': 'What the annotator should change', placeholder: 'What should the annotator change?' });
    const send = h('button', { id: 'send-back', class: 'primary', type: 'submit' }, 'Send back');
    const form = h('form', { class: 'reject-form' }, comment, send,
      h('button', { type: 'button', onclick: () => form.remove() }, 'Cancel'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      verdict({ verdict: 'reject', comment: comment.value, active_time: activity.seconds() });
    });
    comment.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
        event.preventDefault();
        event.stopPropagation();
        verdict({ verdict: 'reject', comment: comment.value, active_time: activity.seconds() });
      }
    });
    notes.append(form);
    notes.hidden = false;
    comment.focus();
  }

  /** Sends a verdict on the annotation under review, then shows the next. @param {Record<string, unknown>} body */
  async function verdict(body) {
    if (busy || !shown?.annotation) return;
    busy = true;
    try {
      await post(`/annotations/${shown.annotation.id}/reviews`, body);
      toast(body.verdict === 'reject' ? 'Sent back to the annotator.' : body.verdict === 'fix' ? 'Fixed and accepted.' : 'Accepted.');
      await nextReview();
    } catch (error) {
      toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
      if (error instanceof ApiError && error.status === 409) await nextReview();
    } finally {
      busy = false;
    }
  }

  async function submit() {
    if (reviewMode) {
      if (!shown?.annotation || !workspace) return;
      const body = dirty
        ? { verdict: 'fix', result: workspace.getResult(), version: shown.annotation.version, lead_time: leadTime(), active_time: activity.seconds() }
        : { verdict: 'accept', active_time: activity.seconds() };
      await verdict(body);
      return;
    }
    if (busy || !shown || !workspace) return;
    if (workspace.waiting()) {
      toast('Waiting for the model to reply; submit when its answer is in.', 'error');
      return;
    }
    busy = true;
    const current = shown;
    const result = workspace.getResult();
    clearTimeout(draftTimer);
    try {
      if (current.annotation) {
        const updated = await put(`/annotations/${current.annotation.id}`, { result, version: current.annotation.version, lead_time: leadTime(), active_time: activity.seconds() });
        current.annotation = updated;
        current.result = result;
        toast('Annotation updated.');
        if (queueMode) await nextTask();
        else await show({ ...current, source: `Annotation #${updated.id}, version ${updated.version}` });
      } else {
        const made = await post(`/tasks/${current.task.id}/annotations`, { result, lead_time: leadTime(), active_time: activity.seconds() });
        previous = { task: current.task, result, annotation: made, source: `Your annotation #${made.id}` };
        dirty = false;
        if (queueMode && made.feedback) await feedbackFor(current.task, made.feedback);
        else if (queueMode) await nextTask();
        else await openTask(current.task.id);
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && current.annotation) {
        toast('Someone changed this annotation meanwhile; their version is shown now. Redo your change on it.', 'error');
        const latest = await get(`/annotations/${current.annotation.id}`);
        await show({ ...current, annotation: latest, result: latest.result, source: `Version ${latest.version} (newer)` });
      } else {
        toast(error instanceof ApiError ? error.lines().join('\n') : String(error), 'error');
      }
    } finally {
      busy = false;
    }
  }

  function closeFeedback() {
    feedbackClose?.();
    feedbackClose = null;
  }

  /**
   * A training project's feedback on the task just submitted, until "Next task".
   * @param {any} task @param {any} feedback
   */
  async function feedbackFor(task, feedback) {
    closeFeedback();
    workspace?.destroy();
    workspace = null;
    shown = null;
    delete host.dataset.task;
    submitButton.disabled = true;
    skipButton.disabled = true;
    replace(where, `Task #${task.id}: feedback`);
    feedbackClose = await showFeedback(host, { config, data: task.data, feedback, createWorkspace, onNext: () => nextTask() });
  }

  async function skip() {
    if (busy || !shown || shown.annotation) return;
    busy = true;
    try {
      await saveDraft();
      await post(`/tasks/${shown.task.id}/skip`, undefined);
      await nextTask();
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    } finally {
      busy = false;
    }
  }

  /** Reopens the task submitted last, to correct its annotation. */
  async function back() {
    if (busy || !previous) return;
    await saveDraft();
    const latest = previous.annotation ? await get(`/annotations/${previous.annotation.id}`) : null;
    await show({ ...previous, annotation: latest, result: latest?.result ?? previous.result, source: `Your submitted annotation (version ${latest?.version ?? 1})` });
  }

  /** One task with its annotations (reviewers and managers). @param {number | string} taskId */
  async function openTask(taskId) {
    const detail = await get(`/tasks/${taskId}`);
    const annotations = /** @type {Annotation[]} */ (detail.annotations);
    const mine = annotations.find((annotation) => annotation.completed_by === user.id);
    if (annotations.length > 1 && project.my_role !== 'annotator' && !root.querySelector('#compare-link')) {
      annotationPicker.after(h('a', { href: `/projects/${project.id}/tasks/${detail.id}/compare`, id: 'compare-link', class: 'button' }, 'Compare side by side'));
    }
    replace(annotationPicker,
      annotations.map((annotation) => h('option', { value: annotation.id }, `Annotation #${annotation.id} (v${annotation.version}${activeText(annotation.active_ms)})${annotation.completed_by === user.id ? ' — yours' : ''}`)),
      detail.predictions.map((/** @type {any} */ prediction) => h('option', { value: `p${prediction.id}` }, `Prediction ${prediction.model_version} (${prediction.score ?? '–'})`)),
      annotations.length > 1 ? h('option', { value: 'consensus' }, `Consensus of ${annotations.length} annotations`) : null,
      h('option', { value: 'new' }, 'New annotation'));
    annotationPicker.hidden = false;
    /** @param {string} choice */
    const pick = async (choice) => {
      annotationPicker.value = choice;
      const annotation = annotations.find((a) => String(a.id) === choice);
      const prediction = detail.predictions.find((/** @type {any} */ p) => `p${p.id}` === choice);
      if (annotation) await show({ task: detail, result: annotation.result, annotation, source: `Annotation #${annotation.id}, version ${annotation.version}` });
      else if (choice === 'consensus') {
        // Shown as a new annotation to start from: submitted, it is the caller's (and can be marked as ground truth).
        const made = await get(`/tasks/${detail.id}/consensus`);
        await show({ task: detail, result: made.result, annotation: null, source: `Consensus of annotations ${made.annotations.map((/** @type {number} */ id) => `#${id}`).join(', ')}` });
      }
      else await show({ task: detail, result: prediction?.result ?? [], annotation: null, source: prediction ? 'Starting from a prediction' : 'New annotation' });
    };
    annotationPicker.onchange = () => pick(annotationPicker.value);
    await pick(String((mine ?? annotations[0])?.id ?? (detail.predictions[0] ? `p${detail.predictions[0].id}` : 'new')));
  }

  /** @param {KeyboardEvent} event */
  function onKey(event) {
    const typing = event.target instanceof HTMLElement && (event.target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(event.target.tagName));
    const ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && event.shiftKey && event.key === 'Enter' && reviewMode) {
      event.preventDefault();
      askRejection();
    } else if (ctrl && event.key === 'Enter') {
      event.preventDefault();
      submit();
    } else if (ctrl && event.code === 'Space' && queueMode) {
      event.preventDefault();
      skip();
    } else if (ctrl && event.key === 'Backspace' && !typing) {
      event.preventDefault();
      back();
    } else if (workspace && workspace.keyHandler(event)) {
      event.preventDefault();
    }
  }

  function onHide() {
    if (document.visibilityState === 'hidden') saveDraft(true);
  }

  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', onHide);
  window.addEventListener('pagehide', onHide);

  if (reviewMode) await nextReview();
  else if (queueMode) await nextTask();
  else await openTask(params.task);

  return () => {
    saveDraft();
    activity.stop();
    document.removeEventListener('keydown', onKey);
    document.removeEventListener('visibilitychange', onHide);
    window.removeEventListener('pagehide', onHide);
    workspace?.destroy();
    root.classList.remove('full');
  };
}

/**
 * An annotation's measured active time, as `, 1 min 5 s active`; nothing
 * when it was not measured.
 * @param {number | null | undefined} ms
 */
function activeText(ms) {
  if (ms === null || ms === undefined) return '';
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `, ${Math.floor(seconds / 60)} min ${seconds % 60} s active` : `, ${seconds} s active`;
}
