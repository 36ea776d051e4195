// Project settings (managers): name and description, the queue, the label
// config (with the impact on existing annotations shown, and their results
// migrated, before a change is saved), and deleting the project.

import { del, patch, post, ApiError } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { configEditor } from './config-editor.js';
import { loadProject, projectHeader } from './common.js';

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
  const generalMessage = h('p', { class: 'error' });
  const general = h('form', { class: 'card', id: 'settings-general' },
    h('h2', null, 'General'),
    h('label', null, 'Name', name),
    h('label', null, 'Description', description),
    h('h2', null, 'Queue'),
    h('label', null, 'Annotators per task (overlap)', overlap),
    h('label', null, 'Order', order),
    h('label', null, 'Reservation (minutes): how long a task handed out stays with its annotator', reservation),
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
    h('div', { class: 'card' }, h('h2', null, 'Danger zone'), remove),
  );
  return () => editor.destroy();
}
