// Creating a project: a name, and a label config from a template or pasted
// from Label Studio, checked live.

import { post, ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { configEditor } from './config-editor.js';
import { TEMPLATES } from './templates.js';

/** @param {import('../main.js').PageContext} context */
export function render({ root, navigate }) {
  const name = h('input', { name: 'name', required: true, maxlength: 200, id: 'project-name' });
  const description = h('textarea', { name: 'description', rows: 2, id: 'project-description' });
  const editor = configEditor(TEMPLATES[0].config);
  const message = h('p', { class: 'error', role: 'alert' });
  const templateButtons = TEMPLATES.map((template, index) =>
    h('button', {
      type: 'button',
      class: index === 0 ? 'selected' : null,
      'data-template': template.id,
      onclick: (event) => {
        for (const button of templateButtons) button.classList.remove('selected');
        /** @type {HTMLElement} */ (event.currentTarget).classList.add('selected');
        editor.setValue(template.config);
      },
    }, h('strong', null, template.title), h('small', null, template.description)));
  const form = h('form', { id: 'new-project-form' },
    h('h1', null, 'New project'),
    h('div', { class: 'card' },
      h('label', null, 'Name', name),
      h('label', null, 'Description (optional)', description),
    ),
    h('h2', null, 'Labeling setup'),
    h('p', { class: 'muted' }, 'Pick a template, or paste a Label Studio label config into the editor.'),
    h('div', { class: 'templates' }, templateButtons),
    editor.element,
    message,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary', id: 'create-project' }, 'Create project'),
      h('a', { href: '/' }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    try {
      const project = await post('/projects', { name: name.value, description: description.value, label_config: editor.value() });
      navigate(`/projects/${project.id}/import`);
    } catch (error) {
      replace(message, error instanceof ApiError ? error.lines().join('\n') : String(error));
    }
  });
  replace(root, form);
  return () => editor.destroy();
}
