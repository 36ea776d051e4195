// Pieces the labeling benchmark pages share: a generated image, frame
// timing, synthetic pointer and wheel input for pan and zoom, and the
// checkpoints where run.mjs measures the browser's memory.

import { createWorkspace, preloadImage, renderStats } from '../../web/app/labeling/workspace.js';

/** Where the numbers go, and where the workspace goes. */
export const out = /** @type {HTMLElement} */ (document.getElementById('out'));
export const host = /** @type {HTMLElement} */ (document.getElementById('host'));
export const params = new URLSearchParams(location.search);
/** @param {string} line */
export const log = (line) => (out.textContent += `\n${line}`);

/**
 * A label config of one image and one control of `kind` with `labels`, as
 * the server's schema sends it.
 * @param {string} kind @param {string} name @param {string[]} labels
 */
export function imageConfig(kind, name, labels) {
  return {
    objects: [{ kind: 'Image', name: 'image', value: 'image', attributes: {} }],
    controls: [{
      kind, name, to_names: ['image'], labels_from: null, choice: null, per_region: false, required: false, attributes: {},
      labels: labels.map((value) => ({ value, background: null, hotkey: null, alias: null })),
    }],
    unsupported: [],
    layout: [{ node: 'view', attributes: {}, children: [{ node: 'object', name: 'image' }, { node: 'control', name }] }],
  };
}

/** Deterministic random numbers, so every run draws the same scene. @param {number} seed */
export function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * `count` result items from `make`, which draws from one deterministic
 * random sequence, so every run loads the same scene.
 * @template T @param {number} count @param {(index: number, rand: () => number) => T} make
 */
export function generate(count, make) {
  const rand = random(42);
  return Array.from({ length: count }, (_, index) => make(index, rand));
}

/**
 * A textured JPEG: gradients, rectangles and noise tiles, so the image has
 * detail everywhere.
 * @param {number} width @param {number} height
 */
export async function makeImage(width, height) {
  const rand = random(7);
  const canvas = new OffscreenCanvas(width, height);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const gradient = ctx.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, '#6d8a9c');
  gradient.addColorStop(0.5, '#c9b38f');
  gradient.addColorStop(1, '#4f6b4a');
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, width, height);
  const shapes = Math.round((3000 * width * height) / 48e6);
  for (let i = 0; i < shapes; i++) {
    ctx.fillStyle = `hsla(${Math.floor(rand() * 360)}, 40%, ${30 + rand() * 40}%, 0.5)`;
    ctx.fillRect(rand() * width, rand() * height, 20 + rand() * 400, 20 + rand() * 300);
  }
  const tile = new OffscreenCanvas(256, 256);
  const tctx = /** @type {OffscreenCanvasRenderingContext2D} */ (tile.getContext('2d'));
  const noise = tctx.createImageData(256, 256);
  for (let i = 0; i < noise.data.length; i += 4) {
    const v = rand() * 255;
    noise.data[i] = v;
    noise.data[i + 1] = v;
    noise.data[i + 2] = v;
    noise.data[i + 3] = 40;
  }
  tctx.putImageData(noise, 0, 0);
  const pattern = ctx.createPattern(tile, 'repeat');
  if (pattern) {
    ctx.fillStyle = pattern;
    ctx.fillRect(0, 0, width, height);
  }
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
}

/**
 * Generate the benchmark's image and load it into the image cache, as the
 * labeling page preloads the next task's, timing both. The image is put on
 * the static server (run.mjs's), so that it comes from this origin as the
 * app's media do (a blob: address would keep the image cache's worker
 * from fetching it); elsewhere it stays a blob: address.
 * @param {number} width @param {number} height
 */
export async function loadImage(width, height) {
  let t = performance.now();
  const blob = await makeImage(width, height);
  const path = `/scratch/bench-${width}x${height}.jpg`;
  const put = await fetch(path, { method: 'PUT', body: blob }).catch(() => null);
  const url = put?.ok ? path : URL.createObjectURL(blob);
  const imageMs = performance.now() - t;
  t = performance.now();
  await preloadImage(url);
  const decodeMs = performance.now() - t;
  log(`image generated in ${imageMs.toFixed(0)} ms, decoded in ${decodeMs.toFixed(0)} ms`);
  return { url, imageMs, decodeMs };
}

/** @returns {Promise<number>} the time of the next animation frame */
export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));

/** @param {number[]} values */
export function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (/** @type {number} */ v) => Math.round(v * 100) / 100;
  return { n: sorted.length, median: round(at(0.5)), p95: round(at(0.95)), max: round(sorted[sorted.length - 1]) };
}

/**
 * Time one frame: the synchronous event handling plus the drawing the
 * editor did in the animation frame that followed (`work`), and the time
 * until that frame's callbacks ran (`latency`, which includes waiting for vsync).
 * @param {() => void} dispatch
 * @param {HTMLCanvasElement[]} canvases whose raster is counted in the frame
 */
export async function timeFrame(dispatch, canvases) {
  const t0 = performance.now();
  const framesBefore = renderStats.frames;
  dispatch();
  const handled = performance.now() - t0;
  const t1 = await nextFrame();
  const drawn = renderStats.frames > framesBefore ? renderStats.lastFrameMs : 0;
  // Canvas drawing is recorded and rasterized later; reading a pixel makes
  // the raster happen now, so its cost is counted in the frame.
  const t2 = performance.now();
  for (const canvas of canvases) canvas.getContext('2d')?.getImageData(0, 0, 1, 1);
  const raster = performance.now() - t2;
  return { work: handled + drawn + raster, latency: t1 - t0 };
}

/** @param {HTMLElement} target @param {string} type @param {number} x @param {number} y @param {number} button @param {number} buttons @param {boolean} [shiftKey] */
export function pointer(target, type, x, y, button, buttons, shiftKey = false) {
  target.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, clientX: x, clientY: y, button, buttons, pointerId: 1, pointerType: 'mouse', isPrimary: true, shiftKey }));
}

/**
 * Pan with the middle button, one move per frame.
 * @param {{overlay: HTMLCanvasElement, imageCanvas: HTMLCanvasElement}} editor @param {number} frames
 */
export async function panFrames(editor, frames) {
  const { cx, cy } = centre(editor.overlay);
  const work = [];
  const latency = [];
  pointer(editor.overlay, 'pointerdown', cx, cy, 1, 4);
  for (let i = 1; i <= frames; i++) {
    const dx = Math.sin(i / 6) * 200;
    const r = await timeFrame(() => pointer(editor.overlay, 'pointermove', cx + dx, cy + i * 2, 1, 4), [editor.imageCanvas, editor.overlay]);
    work.push(r.work);
    latency.push(r.latency);
  }
  pointer(editor.overlay, 'pointerup', cx, cy + frames * 2, 1, 0);
  return { work, latency };
}

/**
 * Wheel steps in, then out, at different points, one per frame.
 * @param {{overlay: HTMLCanvasElement, imageCanvas: HTMLCanvasElement}} editor @param {number} frames
 */
export async function zoomFrames(editor, frames) {
  const { cx, cy } = centre(editor.overlay);
  const work = [];
  const latency = [];
  for (let i = 0; i < frames; i++) {
    const deltaY = i < frames / 2 ? -120 : 120;
    const x = cx + ((i % 5) - 2) * 60;
    const wheel = new WheelEvent('wheel', { bubbles: true, cancelable: true, clientX: x, clientY: cy, deltaY });
    const r = await timeFrame(() => editor.overlay.dispatchEvent(wheel), [editor.imageCanvas, editor.overlay]);
    work.push(r.work);
    latency.push(r.latency);
  }
  return { work, latency };
}

/**
 * Open the workspace `times` times (its image cached, as preloadImage
 * leaves it), timing each from createWorkspace to its first painted frame;
 * the last stays open. Then wait for the image's smaller copies, as they
 * get built while the user looks.
 * @param {HTMLElement} host @param {import('../../web/app/labeling/workspace.js').WorkspaceOptions} options @param {number} times
 */
export async function openWorkspace(host, options, times) {
  const initial = [];
  /** @type {any} */
  let ws = null;
  for (let i = 0; i < times; i++) {
    if (ws) ws.destroy();
    await nextFrame();
    const start = performance.now();
    ws = await createWorkspace(host, options);
    const end = await nextFrame();
    initial.push(end - start);
  }
  const editor = ws.debug.editors[0];
  // Meanwhile, a timer every 10 ms: the longest gap between its ticks is
  // the longest the page did not respond.
  let last = performance.now();
  let longestStallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestStallMs = Math.max(longestStallMs, now - last);
    last = now;
  }, 10);
  const t = performance.now();
  while (editor.levels.length < 2 && performance.now() - t < 30000) await new Promise((resolve) => setTimeout(resolve, 50));
  const levelsMs = performance.now() - t;
  clearInterval(ticker);
  await nextFrame();
  return { ws, initial, levelsMs, longestStallMs };
}

/**
 * What every benchmark reports first: the image, the screen, and the times
 * to load the image and open the workspace.
 * @param {number} width @param {number} height
 * @param {{imageMs: number, decodeMs: number}} loaded @param {{initial: number[], levelsMs: number, longestStallMs: number}} opened
 */
export function openingReport(width, height, loaded, opened) {
  return {
    image: `${width}x${height}`,
    viewport: `${innerWidth}x${innerHeight}`,
    devicePixelRatio,
    imageGenerateMs: Math.round(loaded.imageMs),
    imageDecodeMs: Math.round(loaded.decodeMs),
    imageLevelsMs: Math.round(opened.levelsMs),
    longestStallWhileLevelsMs: Math.round(opened.longestStallMs),
    initialRenderMs: summary(opened.initial),
  };
}

/** @param {HTMLElement} element */
export function centre(element) {
  const rect = element.getBoundingClientRect();
  return { rect, cx: rect.left + rect.width / 2, cy: rect.top + rect.height / 2 };
}

/**
 * With `?checkpoints` (run.mjs sets it), wait at `name` until run.mjs has
 * measured the browser's memory and calls `benchResume()`.
 * @param {string} name
 */
export async function checkpoint(name) {
  if (!new URLSearchParams(location.search).has('checkpoints')) return;
  await new Promise((resolve) => {
    Object.assign(window, {
      benchWaiting: name,
      benchResume: () => {
        Object.assign(window, { benchWaiting: null });
        resolve(undefined);
      },
    });
  });
}

/** The page's JS heap in MB, where Chromium tells it (`performance.memory`). */
export function heapMb() {
  const memory = /** @type {any} */ (performance).memory;
  return memory ? Math.round(memory.usedJSHeapSize / 1e5) / 10 : null;
}
