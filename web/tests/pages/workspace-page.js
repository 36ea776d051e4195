// Test page for the labeling workspace: the test drives it through
// `window.gl` and real mouse and keyboard input.

import { createWorkspace, preloadImage } from '../../app/labeling/workspace.js';

/** Make a 400×300 test image as a blob URL (a gradient, so it is not blank). */
async function testImage(width = 400, height = 300) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const gradient = ctx.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, '#8ab');
  gradient.addColorStop(1, '#ba8');
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, width, height);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return URL.createObjectURL(blob);
}

const host = /** @type {HTMLElement} */ (document.getElementById('host'));
/** @type {any} */
let ws = null;
const state = {
  /** @type {unknown[][]} */
  changes: [],
  imageUrl: '',
  /**
   * @param {any} config @param {any[]} [result] @param {Record<string, unknown>} [data] @param {any} [extra]
   */
  async make(config, result = [], data = {}, extra = {}) {
    if (ws) ws.destroy();
    if (!state.imageUrl) state.imageUrl = await testImage();
    state.changes = [];
    ws = await createWorkspace(host, {
      config,
      data: { image: state.imageUrl, ...data },
      result,
      onChange: (r) => state.changes.push(r),
      ...extra,
    });
    return true;
  },
  /** A test image of another size, as a blob URL for the task's data. @param {number} width @param {number} height */
  imageOf: (width, height) => testImage(width, height),
  result: () => ws.getResult(),
  ws: () => ws,
  /** Client coordinates of image pixel (x, y) in the first editor. @param {number} x @param {number} y */
  toClient(x, y) {
    const editor = ws.debug.editors[0];
    const rect = editor.overlay.getBoundingClientRect();
    const [sx, sy] = editor.view.toScreen(x, y);
    return [rect.left + sx, rect.top + sy];
  },
  /** Image pixel under client point (x, y). @param {number} x @param {number} y */
  toImage(x, y) {
    const editor = ws.debug.editors[0];
    const rect = editor.overlay.getBoundingClientRect();
    return editor.view.toImage(x - rect.left, y - rect.top);
  },
  preloadImage,
};
Object.assign(window, { gl: state });
document.addEventListener('keydown', (e) => {
  if (ws) ws.keyHandler(e);
});
