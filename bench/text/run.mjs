// The text view with a long document: a 100,000-character text with 5,000
// entity spans opened in the workspace (web/tests/pages/workspace.html, the
// static test page) in headless Chromium, timed from the call to the frame
// painted; then spans made by selections, each timed from the mouse-up to
// the frame that shows it (two animation frames: the second starts after
// the first was laid out and painted).
// Usage: node bench/text/run.mjs [--chars 100000] [--spans 5000] [--selections 20]
// Results go in docs/performance.md.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../../web/node_modules/playwright-core/index.mjs';
import { serve } from '../../web/tests/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (/** @type {string} */ name, /** @type {number} */ fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const CHARS = arg('--chars', 100_000);
const SPANS = arg('--spans', 5_000);
const SELECTIONS = arg('--selections', 20);

// Words of 3 to 9 letters separated by spaces, a sentence a line.
const words = [];
let length = 0;
for (let i = 0; length < CHARS; i++) {
  const word = 'abcdefghi'.slice(0, 3 + (i % 7));
  words.push({ start: length, end: length + word.length });
  length += word.length + 1;
}
const text = words.map((w) => 'abcdefghi'.slice(0, w.end - w.start)).join(' ').slice(0, CHARS);
const step = Math.floor(words.length / SPANS);
const result = Array.from({ length: SPANS }, (_, i) => {
  const w = words[i * step];
  return { id: `s${i}`, from_name: 'ner', to_name: 'text', type: 'labels', value: { start: w.start, end: w.end, labels: [i % 2 ? 'PER' : 'LOC'] } };
});
const label = (value, hotkey) => ({ value, background: null, hotkey, alias: null });
const config = {
  objects: [{ kind: 'Text', name: 'text', value: 'text', attributes: {} }],
  controls: [{ kind: 'Labels', name: 'ner', to_names: ['text'], labels: [label('PER', 'p'), label('LOC', 'l')], labels_from: null, choice: null, per_region: false, required: false, attributes: {} }],
  unsupported: [],
  layout: [{ node: 'view', attributes: {}, children: [{ node: 'object', name: 'text' }, { node: 'control', name: 'ner' }] }],
};

const server = await serve(root);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`${server.url}/web/tests/pages/workspace.html`);
  await page.waitForFunction(() => 'gl' in window);
  const opened = await page.evaluate(async ([c, r, t]) => {
    const started = performance.now();
    await window.gl.make(c, r, { text: t });
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    return { ms: performance.now() - started, marks: document.querySelectorAll('.gl-mark').length };
  }, [config, result, text]);
  await page.keyboard.press('p');
  // Selections over words between the spans, each timed to the frame after the span appears.
  const times = [];
  for (let i = 0; i < SELECTIONS; i++) {
    const w = words[i * step * Math.floor(SPANS / SELECTIONS) + Math.floor(step / 2)];
    times.push(await page.evaluate(([start, end]) => {
      const body = /** @type {HTMLElement} */ (document.querySelector('.gl-text-spans'));
      const piece = [...body.querySelectorAll('[data-start]')].find((p) => Number(/** @type {HTMLElement} */ (p).dataset.start) <= start && Number(/** @type {HTMLElement} */ (p).dataset.end) >= end);
      const node = /** @type {Text} */ (piece?.firstChild);
      const from = start - Number(/** @type {HTMLElement} */ (piece).dataset.start);
      const range = document.createRange();
      range.setStart(node, from);
      range.setEnd(node, from + (end - start));
      const selection = /** @type {Selection} */ (window.getSelection());
      selection.removeAllRanges();
      selection.addRange(range);
      const before = document.querySelectorAll('.gl-mark').length;
      const started = performance.now();
      body.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
      // The work of the frame: the handler, then style and layout forced now.
      body.getBoundingClientRect();
      const work = performance.now() - started;
      // The second animation frame after the mouse-up runs once the frame
      // showing the span has been laid out and painted.
      return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
        const after = document.querySelectorAll('.gl-mark').length;
        resolve(after > before ? { shown: performance.now() - started, work } : null);
      })));
    }, [w.start, w.end]));
  }
  const made = times.filter((t) => t !== null);
  const stats = (/** @type {number[]} */ values) => {
    const sorted = values.slice().sort((a, b) => a - b);
    return { p50: Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10, max: Math.round(sorted[sorted.length - 1] * 10) / 10 };
  };
  console.log(JSON.stringify({
    chars: text.length, spans: SPANS, openMs: Math.round(opened.ms), marks: opened.marks, selections: made.length,
    // Handler plus style and layout: what must fit in a 16 ms frame.
    selectionWorkMs: stats(made.map((t) => t.work)),
    // To the second animation frame: the span painted (at least one frame interval).
    selectionShownMs: stats(made.map((t) => t.shown)),
  }));
} finally {
  await browser.close();
  await server.close();
}
