// Settings of training and qualification: the project's kind, a
// qualification test's settings, and the certifications whoever labels must
// hold. The settings page places these fields in its form and sends their
// values with the rest.

import { h } from '../dom.js';

/**
 * @param {import('./common.js').ProjectView} project
 * @returns {{fields: HTMLElement[], values: () => Record<string, unknown>}}
 */
export function trainingSettings(project) {
  const kind = h('select', { id: 'settings-kind' },
    h('option', { value: 'labeling' }, 'Labeling'),
    h('option', { value: 'training' }, 'Training: feedback against the ground truth after each submit'),
    h('option', { value: 'qualification' }, 'Qualification test: gold tasks taken in attempts; passing grants a certification'));
  kind.value = project.kind;
  const q = project.qualification;
  const passScore = h('input', { type: 'number', min: 0, max: 100, step: 1, id: 'settings-pass-score', value: Math.round(q.pass_score * 100) });
  const maxAttempts = h('input', { type: 'number', min: 0, max: 1000, id: 'settings-max-attempts', value: q.max_attempts });
  const cooldown = h('input', { type: 'number', min: 0, id: 'settings-cooldown', value: q.cooldown_minutes });
  const certification = h('input', { id: 'settings-grants-certification', value: q.grants_certification ?? '', placeholder: 'none' });
  const validDays = h('input', { type: 'number', min: 1, id: 'settings-valid-days', value: q.certification_valid_days ?? '', placeholder: 'no expiry' });
  const skill = h('input', { id: 'settings-grants-skill', value: q.grants_skill ?? '', placeholder: 'none' });
  const testFields = h('div', { id: 'settings-qualification' },
    h('label', null, 'Score needed to pass (%, mean over the tasks against their ground truth)', passScore),
    h('label', null, 'Attempts per person (0: unlimited)', maxAttempts),
    h('label', null, 'Minutes to wait after a failed attempt', cooldown),
    h('label', null, 'Certification a pass grants', certification),
    h('label', null, 'Days it is valid (empty: no expiry)', validDays),
    h('label', null, 'Skill a pass adds to the person\'s skills (optional)', skill));
  const showTest = () => { testFields.hidden = kind.value !== 'qualification'; };
  kind.addEventListener('change', showTest);
  showTest();
  const required = h('input', { id: 'settings-required-certifications', value: project.required_certifications.join(', '), placeholder: 'none' });
  return {
    fields: [
      h('h2', null, 'Training and qualification'),
      h('p', { class: 'muted' }, 'Training and qualification projects use tasks with a ground-truth annotation; a task\'s "explanation" data field is shown after a training submit.'),
      h('label', null, 'Kind', kind),
      testFields,
      h('label', null, 'Required certifications (comma-separated; only people holding each, unexpired, receive this project\'s tasks)', required),
    ],
    values: () => ({
      kind: kind.value,
      required_certifications: required.value.split(',').map((s) => s.trim()).filter((s) => s !== ''),
      pass_score: Number(passScore.value) / 100,
      max_attempts: Number(maxAttempts.value),
      cooldown_minutes: Number(cooldown.value),
      grants_certification: certification.value.trim() || null,
      certification_valid_days: validDays.value.trim() === '' ? null : Number(validDays.value),
      grants_skill: skill.value.trim() || null,
    }),
  };
}
