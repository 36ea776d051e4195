// Project settings (managers): name and description, the queue, the label
// config (with the impact on existing annotations shown, and their results
// migrated, before a change is saved), and deleting the project.

import { del, get, patch, post, put, renderMarkdown, ApiError } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { configEditor } from './config-editor.js';
import { loadProject, projectHeader } from './common.js';
import { payCard } from './pay-settings.js';
import { trainingSettings } from './settings-training.js';

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params, navigate }) {
  let project = await loadProject(params.project);

  // --- General and queue ----------------------------------------------------
  const name = h('input', { value: project.name, id: 'settings-name', maxlength: 200 });
  const description = h('textarea', { rows: 2, id: 'settings-description' });
  description.value = project.description;
  const overlap = h('input', { type: 'number', min: 1, max: 100, value: project.overlap, id: 'settings-overlap' });
  const order = h('select', { id: 'settings-order' },
    h('option', { value: 'sequential' }, 'Sequential (task id order)'),
    h('option', { value: 'random' }, 'Random (a different order per annotator)'),
    h('option', { value: 'priority' }, 'By priority (highest first)'));
  order.value = project.queue_order;
  const reservation = h('input', { type: 'number', min: 1, max: 10080, value: Math.max(1, Math.round(project.reservation_seconds / 60)), id: 'settings-reservation' });
  const reviewLayers = h('select', { id: 'settings-review-layers' },
    h('option', { value: '1' }, 'One review layer'),
    h('option', { value: '2' }, 'Two layers (a second reviewer checks what the first accepted)'));
  reviewLayers.value = String(project.review_layers);
  const reviewPercent = h('input', { type: 'number', min: 0, max: 100, value: project.review_percent, id: 'settings-review-percent' });
  const dynamicMax = h('input', { type: 'number', min: 0, max: 100, value: project.dynamic_overlap_max, id: 'settings-dynamic-max' });
  const dynamicBelow = h('input', { type: 'number', min: 0, max: 100, value: Math.round(project.dynamic_agreement_below * 100), id: 'settings-dynamic-below' });
  const honeypots = h('input', { type: 'number', min: 0, max: 100, value: project.honeypot_percent, id: 'settings-honeypots' });
  const pauseBelow = h('input', { type: 'number', min: 0, max: 100, step: 1, id: 'settings-pause-below', placeholder: 'never',
    value: project.gold_pause_below === null ? '' : Math.round(project.gold_pause_below * 100) });
  const pauseAfter = h('input', { type: 'number', min: 1, max: 1000, value: project.gold_pause_after, id: 'settings-pause-after' });
  const consensusMethod = h('select', { id: 'settings-consensus' },
    h('option', { value: 'majority' }, 'Majority: every annotator\'s vote counts the same'),
    h('option', { value: 'weighted' }, 'Weighted by reliability (accuracy on gold, else agreement with the others)'),
    h('option', { value: 'dawid-skene' }, 'Dawid–Skene for classes, weighted by reliability for the rest'));
  consensusMethod.value = project.consensus_method;
  const requiredSkills = h('input', { id: 'settings-required-skills', value: project.required_skills.join(', '), placeholder: 'none' });
  /** @type {string[]} */
  const tiers = (await get('/tiers')).tiers;
  const requiredTier = h('select', { id: 'settings-required-tier' },
    h('option', { value: '' }, 'any tier'),
    tiers.map((tier) => h('option', { value: tier }, `${tier} or above`)));
  requiredTier.value = project.required_tier ?? '';
  const dailyLimit = h('input', { type: 'number', min: 0, max: 100000, value: project.daily_limit, id: 'settings-daily-limit' });
  const idleSeconds = h('input', { type: 'number', min: 10, max: 3600, value: project.idle_seconds, id: 'settings-idle-seconds' });
  const minTaskSeconds = h('input', { type: 'number', min: 0, max: 3600, value: project.min_task_seconds, id: 'settings-min-task-seconds' });
  const sameAnswerStreak = h('input', { type: 'number', min: 0, max: 1000, value: project.same_answer_streak, id: 'settings-same-answer-streak' });
  const training = trainingSettings(project);
  const generalMessage = h('p', { class: 'error' });
  const general = h('form', { class: 'card', id: 'settings-general' },
    h('h2', null, 'General'),
    h('label', null, 'Name', name),
    h('label', null, 'Description', description),
    h('h2', null, 'Queue'),
    h('label', null, 'Annotators per task (overlap)', overlap),
    h('label', null, 'Order', order),
    h('label', null, 'Reservation (minutes): how long a task handed out stays with its annotator', reservation),
    h('label', null, 'Dynamic overlap: when a task\'s annotators disagree, ask for more, up to this many annotators (0: off)', dynamicMax),
    h('label', null, '… when their agreement is below (%)', dynamicBelow),
    h('h2', null, 'Review'),
    h('label', null, 'Layers', reviewLayers),
    h('label', null, 'Share of each annotator\'s work to review (%; 0 turns review off)', reviewPercent),
    h('h2', null, 'Gold and honeypots'),
    h('p', { class: 'muted' }, 'Gold tasks are tasks with a ground-truth annotation (mark one on its task page, or import it). They are put in annotators\' queues like any other task, and their answers scored against the ground truth.'),
    h('label', null, 'Share of each annotator\'s queue that is gold (%; 0 turns honeypots off)', honeypots),
    h('label', null, 'Pause an annotator whose accuracy on gold falls below (%; empty: never)', pauseBelow),
    h('label', null, '… once they have answered this many gold tasks', pauseAfter),
    h('h2', null, 'Who may label'),
    h('p', { class: 'muted' }, 'Only people with every skill listed and at least the tier receive this project\'s tasks; others are told what they lack. Skills and tiers are set on the Members page.'),
    h('label', null, 'Required skills (comma-separated)', requiredSkills),
    h('label', null, 'Required tier', requiredTier),
    h('label', null, 'Tasks a person may do a day (UTC; 0: no limit)', dailyLimit),
    h('h2', null, 'Time and anti-fraud'),
    h('p', { class: 'muted' }, 'The labeling screen counts active time only while its tab is in front and the annotator used the mouse or keyboard recently. Flags show on the Productivity page.'),
    h('label', null, 'Stop counting time after this many seconds without input', idleSeconds),
    h('label', null, 'Flag submits with less active time than (seconds; 0: off)', minTaskSeconds),
    h('label', null, 'Flag this many identical answers in a row (0: off)', sameAnswerStreak),
    training.fields,
    h('h2', null, 'Consensus'),
    h('p', { class: 'muted' }, 'How a task\'s consensus (its ground-truth candidate, shown on the task page and exported with "consensus") weighs its annotators.'),
    h('label', null, 'Method', consensusMethod),
    generalMessage,
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
  );
  general.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(generalMessage);
    try {
      project = await patch(`/projects/${project.id}`, {
        name: name.value,
        description: description.value,
        overlap: Number(overlap.value),
        queue_order: order.value,
        reservation_seconds: Math.round(Number(reservation.value) * 60),
        review_layers: Number(reviewLayers.value),
        review_percent: Number(reviewPercent.value),
        dynamic_overlap_max: Number(dynamicMax.value),
        dynamic_agreement_below: Number(dynamicBelow.value) / 100,
        honeypot_percent: Number(honeypots.value),
        gold_pause_below: pauseBelow.value.trim() === '' ? null : Number(pauseBelow.value) / 100,
        gold_pause_after: Number(pauseAfter.value),
        consensus_method: consensusMethod.value,
        required_skills: requiredSkills.value.split(',').map((s) => s.trim()).filter((s) => s !== ''),
        required_tier: requiredTier.value || null,
        daily_limit: Number(dailyLimit.value),
        idle_seconds: Number(idleSeconds.value),
        min_task_seconds: Number(minTaskSeconds.value),
        same_answer_streak: Number(sameAnswerStreak.value),
        ...training.values(),
      });
      toast('Saved.');
    } catch (error) {
      replace(generalMessage, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  });

  // --- Label config -----------------------------------------------------------
  const editor = configEditor(project.label_config);
  const impactBox = h('div', { id: 'config-impact' });
  const configMessage = h('p', { class: 'error' });
  const saveConfig = h('button', { class: 'primary', id: 'save-config', type: 'button', onclick: reviewConfig }, 'Save label config');

  /** Shows what the new config does to stored results, then saves. */
  async function reviewConfig() {
    replace(configMessage);
    replace(impactBox);
    const text = editor.value();
    /** @type {any} */
    let impact;
    try {
      impact = await post(`/projects/${project.id}/label-config/impact`, { label_config: text });
    } catch (error) {
      replace(configMessage, error instanceof ApiError ? error.lines().join('\n') : String(error));
      return;
    }
    /** @type {{from_name: string, label: string, results: number}[]} */
    const lost = impact.labels.filter((/** @type {any} */ label) => !label.kept);
    if (lost.length === 0 && impact.controls_removed.length === 0) {
      await saveWith(text, []);
      return;
    }
    // Every label that stored results use and the new config lacks: rename
    // it (to a label of the same control), merge it into one, or remove it.
    const choices = lost.map((label) => {
      const targets = impact.new_labels[label.from_name] ?? [];
      const select = h('select', { 'data-from-name': label.from_name, 'data-label': label.label },
        h('option', { value: '' }, 'remove it from the results'),
        targets.map((/** @type {string} */ target) => h('option', { value: target }, `rename / merge into “${target}”`)));
      return { label, select };
    });
    replace(impactBox, h('div', { class: 'report' },
      h('h2', null, 'This change affects existing work'),
      h('p', null, `Stored results (annotations, drafts and predictions) use labels the new config does not have. Choose what becomes of each; the results are changed when you apply.`),
      h('table', { class: 'list' },
        h('thead', null, h('tr', null, h('th', null, 'Control'), h('th', null, 'Label'), h('th', null, 'Results using it'), h('th', null, 'Becomes'))),
        h('tbody', null,
          choices.map(({ label, select }) => h('tr', null, h('td', null, label.from_name), h('td', null, label.label), h('td', null, String(label.results)), h('td', null, select))),
          impact.controls_removed.map((/** @type {any} */ control) => h('tr', null, h('td', null, control.from_name), h('td', null, '(the whole control)'), h('td', null, String(control.results)), h('td', null, 'removed from the results'))),
        )),
      h('div', { class: 'row' },
        h('button', { class: 'primary', id: 'apply-config', onclick: () => saveWith(text, choices.map(({ label, select }) => ({ from_name: label.from_name, label: label.label, to: select.value || null }))) }, 'Apply and migrate'),
        h('button', { onclick: () => replace(impactBox) }, 'Cancel')),
    ));
  }

  /**
   * @param {string} text
   * @param {{from_name: string, label: string, to: string | null}[]} changes
   */
  async function saveWith(text, changes) {
    try {
      const body = changes.length ? { label_config: text, label_changes: changes } : { label_config: text };
      project = await patch(`/projects/${project.id}`, body);
      replace(impactBox);
      toast('Label config saved.');
    } catch (error) {
      replace(configMessage, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  }

  // --- Guidelines ------------------------------------------------------------------
  const guidelinesCard = await guidelinesEditor(project.id);

  // --- Model endpoint (red teaming) ---------------------------------------------
  const endpointCard = await modelEndpointCard(project.id);

  // --- Danger zone --------------------------------------------------------------
  const remove = h('button', { class: 'danger', id: 'delete-project', onclick: async () => {
    const typed = prompt(`Deleting “${project.name}” removes its tasks and annotations for good. Type the project's name to confirm.`);
    if (typed !== project.name) return;
    try {
      await del(`/projects/${project.id}`);
      navigate('/', { replace: true });
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  } }, 'Delete project');

  replace(root,
    projectHeader(project, 'settings'),
    general,
    h('div', { class: 'card' }, h('h2', null, 'Label config'), editor.element, h('div', { class: 'row' }, saveConfig), configMessage, impactBox),
    guidelinesCard,
    endpointCard,
    payCard(project),
    h('div', { class: 'card' }, h('h2', null, 'Danger zone'), remove),
  );
  return () => editor.destroy();
}

/**
 * The project's labeling guidelines: Markdown, previewed as the server
 * renders it; saving makes a new version that everyone labeling must
 * acknowledge before their next task. Earlier versions are listed.
 * @param {number} projectId
 */
async function guidelinesEditor(projectId) {
  const text = /** @type {HTMLTextAreaElement} */ (h('textarea', { rows: 12, id: 'settings-guidelines',
    placeholder: 'Markdown: what to label and how, with examples and the hard cases.' }));
  const info = h('p', { class: 'muted', id: 'guidelines-info' });
  const message = h('p', { class: 'error' });
  const preview = h('div', { class: 'guidelines-text', id: 'guidelines-preview', hidden: true });
  const versions = h('div', { id: 'guideline-versions' });

  async function refresh() {
    const guidelines = await get(`/projects/${projectId}/guidelines`);
    const current = guidelines.current;
    text.value = current?.text ?? '';
    replace(info, current
      ? `Version ${current.version}, written by ${current.author ?? 'an operator'} on ${new Date(current.created_at).toLocaleString()}. Saving a change makes a new version, which everyone labeling must acknowledge before their next task.`
      : 'No guidelines yet. Once saved, everyone labeling must acknowledge them before their next task.');
    const listed = (await get(`/projects/${projectId}/guidelines/versions`)).versions;
    replace(versions, listed.length ? h('ul', null, listed.map((/** @type {any} */ v) => h('li', null,
      `Version ${v.version} — ${v.author ?? 'an operator'}, ${new Date(v.created_at).toLocaleString()}`)))
      : h('p', { class: 'muted' }, 'None yet.'));
  }
  const save = h('button', { class: 'primary', id: 'save-guidelines', type: 'button', onclick: async () => {
    replace(message);
    try {
      const saved = await put(`/projects/${projectId}/guidelines`, { text: text.value });
      await refresh();
      toast(`Guidelines saved as version ${saved.current.version}.`);
    } catch (error) {
      replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  } }, 'Save guidelines');
  const showPreview = h('button', { type: 'button', id: 'preview-guidelines', onclick: async () => {
    replace(message);
    try {
      const [html] = await renderMarkdown([text.value]);
      // Sanitized by the server (ammonia's allow-list); the page's CSP runs no inline script either way.
      preview.innerHTML = html;
      preview.hidden = false;
    } catch (error) {
      replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  } }, 'Preview');
  await refresh();
  return h('div', { class: 'card', id: 'settings-guidelines-card' },
    h('h2', null, 'Guidelines'), info, text, h('div', { class: 'row' }, save, showPreview), message, preview,
    h('h3', null, 'Versions'), versions);
}

/**
 * The project's model endpoint for red-teaming chats: an OpenAI-compatible
 * chat-completions API. The key is write-only: the server says whether one
 * is stored, never what it is.
 * @param {number} projectId
 */
async function modelEndpointCard(projectId) {
  const path = `/projects/${projectId}/model-endpoint`;
  /** @type {any} */
  let endpoint = null;
  try {
    endpoint = (await get(path)).endpoint;
  } catch (error) {
    return h('form', { class: 'card', id: 'settings-model' }, h('h2', null, 'Model endpoint (red teaming)'),
      h('p', { class: 'muted' }, error instanceof ApiError ? error.message : String(error)));
  }
  const url = h('input', { id: 'model-url', type: 'url', placeholder: 'https://api.example.com/v1', required: true });
  const model = h('input', { id: 'model-name', placeholder: 'gpt-4o-mini', required: true, maxlength: 200 });
  const key = h('input', { id: 'model-key', type: 'password', autocomplete: 'off' });
  const clearKey = h('input', { id: 'model-clear-key', type: 'checkbox' });
  const system = h('textarea', { id: 'model-system', rows: 3 });
  const temperature = h('input', { id: 'model-temperature', type: 'number', min: 0, max: 2, step: 0.1, placeholder: 'the endpoint\'s default' });
  const maxTokens = h('input', { id: 'model-max-tokens', type: 'number', min: 1, step: 1, placeholder: 'the endpoint\'s default' });
  const state = h('p', { class: 'muted', id: 'model-state' });
  const message = h('p', { class: 'error' });
  const removeButton = h('button', { type: 'button', id: 'model-remove' }, 'Remove endpoint');

  const show = () => {
    url.value = endpoint?.url ?? '';
    model.value = endpoint?.model ?? '';
    key.value = '';
    clearKey.checked = false;
    system.value = endpoint?.system_prompt ?? '';
    temperature.value = endpoint?.temperature ?? '';
    maxTokens.value = endpoint?.max_tokens ?? '';
    key.placeholder = endpoint?.key_set ? 'a key is stored (type a new one to replace it)' : 'none stored';
    replace(state, endpoint
      ? `Chats go to ${endpoint.chat_url}; ${endpoint.key_set ? 'an API key is stored' : 'no API key is stored'}.`
      : 'No endpoint: annotators cannot chat in this project until one is set.');
    removeButton.hidden = !endpoint;
  };
  show();

  const form = h('form', { class: 'card', id: 'settings-model' },
    h('h2', null, 'Model endpoint (red teaming)'),
    h('p', { class: 'muted' }, 'Chats of a <Chat> config go to this OpenAI-compatible API through the server: requests are POSTed to the URL plus /chat/completions (or to the URL itself when it ends with /chat/completions). The key stays on the server and is never shown again. Hosts on this machine or a private network must be allow-listed by the administrator (fetch_allow).'),
    state,
    h('label', null, 'Base URL', url),
    h('label', null, 'Model', model),
    h('label', null, 'API key', key),
    h('label', { class: 'inline' }, clearKey, ' Remove the stored key'),
    h('label', null, 'System prompt (sent first in every chat)', system),
    h('div', { class: 'row' }, h('label', null, 'Temperature (0 to 2)', temperature), h('label', null, 'Max tokens per reply', maxTokens)),
    message,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'model-save' }, 'Save endpoint'), removeButton),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    /** @type {Record<string, unknown>} */
    const body = { url: url.value.trim(), model: model.value.trim(), system_prompt: system.value };
    if (temperature.value !== '') body.temperature = Number(temperature.value);
    if (maxTokens.value !== '') body.max_tokens = Number(maxTokens.value);
    if (key.value.trim()) body.api_key = key.value.trim();
    else if (clearKey.checked) body.api_key = null;
    try {
      endpoint = await put(path, body);
      show();
      toast('Model endpoint saved.');
    } catch (error) {
      replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  });
  removeButton.addEventListener('click', async () => {
    if (!confirm('Remove the model endpoint and its key? Annotators can no longer chat.')) return;
    try {
      await del(path);
      endpoint = null;
      show();
      toast('Model endpoint removed.');
    } catch (error) {
      replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  });
  return form;
}
