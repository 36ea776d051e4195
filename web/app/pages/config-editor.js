// The label config editor: XML on the left, every problem with its line,
// and a live preview of the labeling screen on the right, rendered by the
// same workspace annotators use, over generated sample data.

import { post, renderMarkdown, sanitizeHtml, ApiError } from '../api.js';
import { h, replace } from '../dom.js';

/**
 * @typedef {{code: string, severity: 'error' | 'warning', line: number, column: number, message: string}} Problem
 * @typedef {{config: any, problems: Problem[], valid: boolean}} ConfigCheck
 */

/**
 * @param {string} initial
 * @param {{onCheck?: (check: ConfigCheck | null) => void}} [options]
 * @returns {{element: HTMLElement, value: () => string, setValue: (text: string) => void, lastCheck: () => ConfigCheck | null, destroy: () => void}}
 */
export function configEditor(initial, options = {}) {
  const text = h('textarea', { class: 'code', id: 'label-config', spellcheck: 'false', 'aria-label': 'Label config (XML)' });
  text.value = initial;
  const problems = h('ul', { class: 'problems', id: 'config-problems' });
  const status = h('p', { class: 'muted', id: 'config-status' });
  const preview = h('div', { class: 'preview', id: 'config-preview' });
  const previewNote = h('p', { class: 'muted', id: 'preview-stale', hidden: true }, 'Showing the last valid config: fix the errors to update the preview.');
  /** @type {ConfigCheck | null} */
  let last = null;
  /** @type {{destroy(): void} | null} */
  let workspace = null;
  let timer = 0;
  let generation = 0;
  let destroyed = false;

  async function check() {
    const mine = ++generation;
    try {
      /** @type {ConfigCheck} */
      const result = await post('/label-config/check', { label_config: text.value });
      if (mine !== generation || destroyed) return;
      last = result;
      showProblems(result.problems);
      replace(status, result.valid ? 'The config is valid.' : 'Fix the errors below before saving.');
      status.className = result.valid ? 'ok' : 'error';
      options.onCheck?.(result);
      // An invalid config keeps the last good preview, marked as out of date.
      preview.classList.toggle('stale', !result.valid);
      previewNote.hidden = result.valid;
      if (result.valid) await showPreview(result.config, mine);
    } catch (error) {
      if (mine !== generation || destroyed) return;
      last = null;
      replace(status, error instanceof ApiError ? error.lines().join('\n') : String(error));
      status.className = 'error';
      options.onCheck?.(null);
    }
  }

  /** @param {Problem[]} list */
  function showProblems(list) {
    replace(problems, list.map((problem) =>
      h('li', { class: problem.severity },
        h('button', { class: 'link', type: 'button', onclick: () => goToLine(problem.line, problem.column) }, `line ${problem.line}:${problem.column}`),
        `${problem.severity}: ${problem.message}`)));
  }

  /** @param {number} line @param {number} column */
  function goToLine(line, column) {
    const lines = text.value.split('\n');
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    text.focus();
    text.setSelectionRange(offset, offset);
    const lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 18;
    text.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }

  /** @param {any} config @param {number} mine */
  async function showPreview(config, mine) {
    const { createWorkspace } = await import('../labeling/workspace.js');
    if (mine !== generation || destroyed) return;
    workspace?.destroy();
    workspace = null;
    const host = h('div', { class: 'label-host' });
    replace(preview, host);
    workspace = await createWorkspace(host, { config, data: await sampleData(config), result: [], renderMarkdown, sanitizeHtml });
    if (mine !== generation || destroyed) workspace?.destroy();
  }

  text.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(check, 300);
  });
  // Tab indents instead of leaving the editor.
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Tab' && !event.shiftKey) {
      event.preventDefault();
      text.setRangeText('  ', text.selectionStart, text.selectionEnd, 'end');
      text.dispatchEvent(new Event('input'));
    }
  });
  check();

  const element = h('div', { class: 'config-editor' },
    h('div', null, text, status, problems),
    h('div', null, h('h2', null, 'Preview'), previewNote, preview),
  );
  return {
    element,
    value: () => text.value,
    setValue: (value) => {
      text.value = value;
      check();
    },
    lastCheck: () => last,
    destroy: () => {
      destroyed = true;
      clearTimeout(timer);
      workspace?.destroy();
    },
  };
}

/**
 * Sample task data for the preview: a generated picture for each image
 * object, a sentence for each text object.
 * @param {any} config
 * @returns {Promise<Record<string, unknown>>}
 */
async function sampleData(config) {
  /** @type {Record<string, unknown>} */
  const data = {};
  for (const object of config.objects ?? []) {
    if (!object.value) continue;
    data[object.value] = object.kind === 'Image' ? await sampleImage()
      : object.kind === 'Chat' ? [{ role: 'user', content: 'What is the capital of **France**?' }]
      : object.kind === 'List' ? [
        { id: 'r1', title: 'Response 1', body: 'Paris.' },
        { id: 'r2', title: 'Response 2', body: 'The capital of France is **Paris**, on the Seine.' },
        { id: 'r3', title: 'Response 3', body: 'Lyon.' },
      ]
      : 'The quick brown fox jumps over the lazy dog near the river bank.';
  }
  return data;
}

/** @type {string | null} */
let sampleImageUrl = null;

/** A street-like scene drawn once, as a blob URL. */
async function sampleImage() {
  if (sampleImageUrl) return sampleImageUrl;
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 400;
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const sky = ctx.createLinearGradient(0, 0, 0, 400);
  sky.addColorStop(0, '#9cc3e6');
  sky.addColorStop(0.55, '#dfeaf3');
  sky.addColorStop(0.56, '#6d6f73');
  sky.addColorStop(1, '#4a4c50');
  ctx.fillStyle = sky;
  ctx.fillRect(0, 0, 640, 400);
  ctx.fillStyle = '#c23b22';
  ctx.fillRect(120, 250, 150, 60);
  ctx.fillStyle = '#2d5fa8';
  ctx.fillRect(380, 240, 170, 70);
  ctx.fillStyle = '#202020';
  for (const x of [145, 245, 405, 525]) {
    ctx.beginPath();
    ctx.arc(x, 312, 14, 0, Math.PI * 2);
    ctx.fill();
  }
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  sampleImageUrl = URL.createObjectURL(/** @type {Blob} */ (blob));
  return sampleImageUrl;
}
