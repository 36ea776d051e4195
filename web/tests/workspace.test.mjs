// Browser tests of the labeling workspace (web/app/labeling), by real mouse
// and keyboard input in headless Chromium. Run: cd web && node --test tests/workspace.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../node_modules/playwright-core/index.mjs';
import { serve } from './static-server.mjs';
import { countsFromString, countsToString } from '../app/labeling/rle.js';
import { dab, brushOrigin, cocoCounts, pixelsOf, sorted } from './masks-support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

/** @type {Awaited<ReturnType<typeof serve>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('playwright-core').Page} */
let page;
/** Console errors and CSP violations seen by the page. */
const pageErrors = [];

const IMAGE_W = 400;
const IMAGE_H = 300;

function label(value, extra = {}) {
  return { value, background: null, hotkey: null, alias: null, line: 1, column: 1, ...extra };
}
function control(kind, name, labels = [], extra = {}) {
  return { kind, name, to_names: ['image'], labels, labels_from: null, choice: null, per_region: false, required: false, attributes: {}, line: 1, column: 1, ...extra };
}
function config(controls, objects = [{ kind: 'Image', name: 'image', value: 'image', attributes: {}, line: 1, column: 1 }]) {
  return {
    objects,
    controls,
    unsupported: [],
    layout: [{ node: 'view', attributes: {}, children: [...objects.map((o) => ({ node: 'object', name: o.name })), ...controls.map((c) => ({ node: 'control', name: c.name }))] }],
  };
}
const BOXES = config([
  control('RectangleLabels', 'label', [label('Car', { background: '#ff0000' }), label('Person'), label('Bike')]),
  control('PolygonLabels', 'outline', [label('Road'), label('Sky')]),
]);

before(async () => {
  server = await serve(repoRoot);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) pageErrors.push(`${r.status()} ${r.url()}`); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${server.url}/web/tests/pages/workspace.html`);
  await page.waitForFunction(() => 'gl' in window);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** @param {unknown} cfg @param {unknown[]} [result] @param {Record<string, unknown>} [data] */
async function make(cfg, result = [], data = {}) {
  await page.evaluate(([c, r, d]) => window.gl.make(c, r, d), [cfg, result, data]);
  await page.mouse.move(5, 5);
}
const result = () => page.evaluate(() => window.gl.result());
const changes = () => page.evaluate(() => window.gl.changes.length);
/** Client point of image pixel (x, y). */
const at = (x, y) => page.evaluate(([a, b]) => window.gl.toClient(a, b), [x, y]);
/** Image pixel under client point (x, y). */
const imageAt = (x, y) => page.evaluate(([a, b]) => window.gl.toImage(a, b), [x, y]);

async function drag(from, to, steps = 5) {
  await page.mouse.move(from[0], from[1]);
  await page.mouse.down();
  await page.mouse.move(to[0], to[1], { steps });
  await page.mouse.up();
}
function close(actual, expected, what, epsilon = 1e-6) {
  assert.ok(Math.abs(actual - expected) <= epsilon, `${what}: ${actual} is not ${expected}`);
}

/** Draw a box between image pixels a and b; returns the expected percent box from the client points used. */
async function drawBox(a, b) {
  const p = await at(...a);
  const q = await at(...b);
  // Whole client pixels, as a user's pointer gives; the expectation comes from them.
  const from = p.map(Math.round);
  const to = q.map(Math.round);
  await drag(from, to);
  const [x0, y0] = await imageAt(...from);
  const [x1, y1] = await imageAt(...to);
  return { x: (Math.min(x0, x1) / IMAGE_W) * 100, y: (Math.min(y0, y1) / IMAGE_H) * 100, width: (Math.abs(x1 - x0) / IMAGE_W) * 100, height: (Math.abs(y1 - y0) / IMAGE_H) * 100 };
}

test('drawing a box gives a rectanglelabels item in percent of the image', async () => {
  await make(BOXES);
  const expected = await drawBox([40, 30], [200, 150]);
  const items = await result();
  assert.equal(items.length, 1);
  const item = items[0];
  assert.equal(item.type, 'rectanglelabels');
  assert.equal(item.from_name, 'label');
  assert.equal(item.to_name, 'image');
  assert.equal(item.original_width, IMAGE_W);
  assert.equal(item.original_height, IMAGE_H);
  assert.equal(item.image_rotation, 0);
  assert.match(item.id, /^[A-Za-z0-9_-]{10}$/);
  assert.deepEqual(item.value.rectanglelabels, ['Car']);
  assert.equal(item.value.rotation, 0);
  for (const key of ['x', 'y', 'width', 'height']) close(item.value[key], expected[key], key);
  close(item.value.x, 10, 'x near 40 px', 0.5);
  close(item.value.width, 40, 'width near 160 px', 0.5);
  assert.equal(await changes(), 1, 'one onChange per box');
});

test('label hotkeys pick the label of the next box and relabel the selected one', async () => {
  await make(BOXES);
  const hint = await page.locator('.gl-labels .gl-label', { hasText: 'Person' }).locator('kbd').textContent();
  assert.equal(hint, '2');
  await page.keyboard.press('2');
  await drawBox([10, 10], [100, 100]);
  assert.deepEqual((await result())[0].value.rectanglelabels, ['Person']);
  // The new box is selected: 3 relabels it.
  await page.keyboard.press('3');
  assert.deepEqual((await result())[0].value.rectanglelabels, ['Bike']);
  // Polygon labels continue the numbering: 4 = Road, and switch to the polygon tool.
  await page.keyboard.press('Escape');
  await page.keyboard.press('5');
  assert.equal(await page.evaluate(() => window.gl.ws().debug.tool()), 'polygon');
});

test('polygons: click vertices, close on the first vertex or Enter, Escape cancels', async () => {
  await make(BOXES);
  await page.keyboard.press('p');
  const corners = [[50, 50], [250, 60], [200, 200]];
  const clicked = [];
  for (const c of corners) {
    const p = (await at(...c)).map(Math.round);
    clicked.push(p);
    await page.mouse.click(p[0], p[1]);
  }
  await page.mouse.click(clicked[0][0], clicked[0][1]);
  let items = await result();
  assert.equal(items.length, 1);
  assert.equal(items[0].type, 'polygonlabels');
  assert.deepEqual(items[0].value.polygonlabels, ['Road']);
  assert.equal(items[0].value.closed, true);
  assert.equal(items[0].value.points.length, 3);
  for (let i = 0; i < 3; i++) {
    const [ix, iy] = await imageAt(...clicked[i]);
    close(items[0].value.points[i][0], (ix / IMAGE_W) * 100, `point ${i} x`);
    close(items[0].value.points[i][1], (iy / IMAGE_H) * 100, `point ${i} y`);
  }
  // Four points and Enter.
  await page.keyboard.press('Escape');
  for (const c of [[300, 20], [380, 20], [380, 100], [300, 100]]) {
    const p = await at(...c);
    await page.mouse.click(Math.round(p[0]), Math.round(p[1]));
  }
  await page.keyboard.press('Enter');
  items = await result();
  assert.equal(items.length, 2);
  assert.equal(items[1].value.points.length, 4);
  // Escape drops a polygon in progress.
  for (const c of [[20, 250], [80, 250]]) {
    const p = await at(...c);
    await page.mouse.click(Math.round(p[0]), Math.round(p[1]));
  }
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  assert.equal((await result()).length, 2);
});

test('selecting, moving and resizing a box; undo and redo restore exact results', async () => {
  const initial = [{
    id: 'box0000001', from_name: 'label', to_name: 'image', type: 'rectanglelabels', original_width: IMAGE_W, original_height: IMAGE_H,
    image_rotation: 0, score: 0.87, origin: 'prediction', value: { x: 10, y: 10, width: 25, height: 20, rotation: 0, rectanglelabels: ['Car'] },
  }];
  await make(BOXES, initial);
  assert.deepEqual(await result(), initial, 'untouched items come back as they were');
  await page.keyboard.press('v');
  const states = [await result()];
  // Move: press inside the box and drag by a known amount.
  const start = (await at(80, 50)).map(Math.round);
  const end = [start[0] + 40, start[1] + 30];
  await drag(start, end);
  const [ax, ay] = await imageAt(...start);
  const [bx, by] = await imageAt(...end);
  let item = (await result())[0];
  close(item.value.x, 10 + ((bx - ax) / IMAGE_W) * 100, 'moved x');
  close(item.value.y, 10 + ((by - ay) / IMAGE_H) * 100, 'moved y');
  close(item.value.width, 25, 'width kept');
  assert.equal(item.score, 0.87, 'unknown keys kept');
  assert.equal(item.origin, 'prediction');
  assert.equal(item.id, 'box0000001');
  assert.equal(await changes(), 1, 'a drag is one change');
  states.push(await result());
  // Resize by the bottom-right handle.
  const corner = await at(((item.value.x + item.value.width) / 100) * IMAGE_W, ((item.value.y + item.value.height) / 100) * IMAGE_H);
  const handleFrom = corner.map(Math.round);
  const handleTo = [handleFrom[0] + 50, handleFrom[1] + 20];
  const [hx0, hy0] = await imageAt(...handleFrom);
  const [hx1, hy1] = await imageAt(...handleTo);
  const before = item.value;
  await drag(handleFrom, handleTo);
  item = (await result())[0];
  close(item.value.x, before.x, 'x kept on resize');
  close(item.value.y, before.y, 'y kept on resize');
  // The handle sat within a pixel of the corner; the box grows by the drag.
  close(item.value.width, before.width + ((hx1 - hx0) / IMAGE_W) * 100, 'resized width', 0.3);
  close(item.value.height, before.height + ((hy1 - hy0) / IMAGE_H) * 100, 'resized height', 0.4);
  states.push(await result());
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), states[1]);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), states[0]);
  await page.keyboard.press('Control+Shift+Z');
  assert.deepEqual(await result(), states[1]);
  await page.keyboard.press('Control+y');
  assert.deepEqual(await result(), states[2]);
});

test('polygon vertices: drag, insert at a midpoint, alt-click deletes; boxes rotate', async () => {
  const initial = [{
    id: 'poly000001', from_name: 'outline', to_name: 'image', type: 'polygonlabels', original_width: IMAGE_W, original_height: IMAGE_H,
    image_rotation: 0, value: { points: [[10, 10], [50, 10], [50, 50], [10, 50]], closed: true, polygonlabels: ['Road'] },
  }, {
    id: 'box0000002', from_name: 'label', to_name: 'image', type: 'rectanglelabels', original_width: IMAGE_W, original_height: IMAGE_H,
    image_rotation: 0, value: { x: 70, y: 60, width: 20, height: 20, rotation: 0, rectanglelabels: ['Car'] },
  }];
  await make(BOXES, initial);
  await page.keyboard.press('v');
  const inside = (await at(120, 90)).map(Math.round);
  await page.mouse.click(inside[0], inside[1]);
  // Drag the vertex at (50%, 10%) = (200, 30) px.
  const vertex = (await at(200, 30)).map(Math.round);
  const target = [vertex[0] + 30, vertex[1] - 10];
  await drag(vertex, target);
  const [vx, vy] = await imageAt(...target);
  let points = (await result())[0].value.points;
  close(points[1][0], (vx / IMAGE_W) * 100, 'dragged vertex x');
  close(points[1][1], (vy / IMAGE_H) * 100, 'dragged vertex y');
  // Click the midpoint handle of the bottom edge (50,50)-(10,50): a fifth vertex.
  const mid = (await at(120, 150)).map(Math.round);
  await page.mouse.click(mid[0], mid[1]);
  points = (await result())[0].value.points;
  assert.equal(points.length, 5);
  close(points[3][0], 30, 'inserted vertex x', 0.5);
  // Alt-click deletes it again.
  await page.keyboard.down('Alt');
  await page.mouse.click(mid[0], mid[1]);
  await page.keyboard.up('Alt');
  assert.equal((await result())[0].value.points.length, 4);
  // Rotate the box by its rotation handle: drag it to the right of the centre, a quarter turn.
  const box = (await at(320, 210)).map(Math.round);
  await page.mouse.click(box[0], box[1]);
  const handle = await page.evaluate(() => {
    const editor = window.gl.ws().debug.editors[0];
    const region = editor.currentRegions().find((r) => r.id === 'box0000002');
    return editor.handles(region).find((h) => h.hit.part === 'rotate').at;
  });
  const rect = await page.evaluate(() => window.gl.ws().debug.editors[0].overlay.getBoundingClientRect().toJSON());
  const centre = await at(320, 210);
  await drag([rect.left + handle[0], rect.top + handle[1]], [centre[0] + 100, centre[1]], 8);
  const item = (await result())[1];
  close(item.value.rotation, 90, 'rotation', 1);
  // Turned about its centre (320, 210) px; the stored corner is the top-left
  // corner turned with it: (-40, -30) from the centre becomes (30, -40).
  const [cx, cy] = [(item.value.x / 100) * IMAGE_W, (item.value.y / 100) * IMAGE_H];
  close(cx, 320 + 30, 'rotated corner x', 1);
  close(cy, 210 - 40, 'rotated corner y', 1);
  close(item.value.width, 20, 'width kept', 1e-6);
});

test('choices by hotkey and click, with undo; text area edits are undoable', async () => {
  const cfg = config([
    control('RectangleLabels', 'label', [label('Car')]),
    control('Choices', 'scene', [label('Street'), label('Highway', { hotkey: 'h' })], { choice: 'single' }),
    control('Choices', 'tags', [label('Night'), label('Rain')], { choice: 'multiple' }),
    control('TextArea', 'note', []),
  ]);
  await make(cfg);
  // Car = 1; choices continue: Street = 2, Night = 3, Rain = 4; Highway keeps its own h.
  assert.equal(await page.locator('.gl-choice', { hasText: 'Street' }).locator('kbd').textContent(), '2');
  assert.equal(await page.locator('.gl-choice', { hasText: 'Highway' }).locator('kbd').textContent(), 'H');
  await page.keyboard.press('2');
  let items = await result();
  assert.equal(items.length, 1);
  assert.deepEqual(items[0].value, { choices: ['Street'] });
  assert.equal(items[0].type, 'choices');
  assert.equal(items[0].from_name, 'scene');
  await page.keyboard.press('h');
  assert.deepEqual((await result())[0].value.choices, ['Highway'], 'single choice replaces');
  await page.locator('.gl-choice', { hasText: 'Night' }).click();
  await page.keyboard.press('4');
  const tags = (await result()).find((i) => i.from_name === 'tags');
  assert.deepEqual(tags.value.choices, ['Night', 'Rain']);
  assert.equal(await page.locator('.gl-choice', { hasText: 'Night' }).locator('input').isChecked(), true);
  await page.keyboard.press('Control+z');
  assert.deepEqual((await result()).find((i) => i.from_name === 'tags').value.choices, ['Night']);
  assert.equal(await page.locator('.gl-choice', { hasText: 'Rain' }).locator('input').isChecked(), false);
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  assert.deepEqual((await result()).map((i) => i.value), [{ choices: ['Street'] }]);
  // Typing is one undo step.
  await page.locator('.gl-textarea').fill('a note');
  await page.locator('.gl-textarea').press('Escape');
  const note = (await result()).find((i) => i.from_name === 'note');
  assert.deepEqual(note.value, { text: ['a note'] });
  await page.keyboard.press('Control+z');
  assert.equal((await result()).find((i) => i.from_name === 'note'), undefined);
  assert.equal(await page.locator('.gl-textarea').inputValue(), '');
});

test('Delete removes the selected region; copy and paste carry regions to the next task', async () => {
  await make(BOXES);
  await page.keyboard.press('2');
  const expected = await drawBox([20, 20], [120, 90]);
  await drawBox([200, 150], [300, 250]);
  assert.equal((await result()).length, 2);
  await page.keyboard.press('Delete');
  let items = await result();
  assert.equal(items.length, 1);
  // Select the first box by a click in the box tool, copy it, open a "next task", paste.
  const p = await at(60, 50);
  await page.mouse.click(Math.round(p[0]), Math.round(p[1]));
  await page.keyboard.press('Control+c');
  const stored = await page.evaluate(() => localStorage.getItem('gloss.clipboard'));
  assert.ok(stored && JSON.parse(stored).length === 1);
  await make(BOXES);
  await page.keyboard.press('Control+v');
  const pasted = await result();
  assert.equal(pasted.length, 1);
  assert.notEqual(pasted[0].id, items[0].id);
  assert.deepEqual(pasted[0].value.rectanglelabels, ['Person']);
  for (const key of ['x', 'y', 'width', 'height']) close(pasted[0].value[key], expected[key], key);
  await page.keyboard.press('Backspace');
  assert.equal((await result()).length, 0);
  await page.keyboard.press('Control+z');
  assert.equal((await result()).length, 1);
});

test('zooming keeps the point under the cursor, and boxes drawn after zooming map right', async () => {
  await make(BOXES);
  const cursor = (await at(150, 100)).map(Math.round);
  const before = await imageAt(...cursor);
  await page.mouse.move(cursor[0], cursor[1]);
  await page.mouse.wheel(0, -300);
  await page.waitForTimeout(50);
  const after = await imageAt(...cursor);
  close(after[0], before[0], 'x under cursor', 1e-6);
  close(after[1], before[1], 'y under cursor', 1e-6);
  const scale = await page.evaluate(() => window.gl.ws().debug.editors[0].view.scale);
  assert.ok(scale > 1.5, `zoomed in (${scale})`);
  await page.keyboard.press('+');
  const afterKey = await imageAt(...cursor);
  close(afterKey[0], before[0], 'x under cursor after +', 1e-6);
  const expected = await drawBox([140, 90], [170, 120]);
  const item = (await result())[0];
  for (const key of ['x', 'y', 'width', 'height']) close(item.value[key], expected[key], key);
  close(item.value.x, 35, 'x near 140 px', 0.2);
});

test('the region list hides and shows regions; hidden regions cannot be picked', async () => {
  const initial = [{
    id: 'boxAAAAAAA', from_name: 'label', to_name: 'image', type: 'rectanglelabels', original_width: IMAGE_W, original_height: IMAGE_H,
    image_rotation: 0, value: { x: 25, y: 25, width: 50, height: 50, rotation: 0, rectanglelabels: ['Car'] },
  }];
  await make(BOXES, initial);
  await page.keyboard.press('v');
  const rows = page.locator('.gl-region-row:not([hidden])');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /Car/);
  await rows.first().locator('.gl-eye').click();
  assert.equal(await rows.first().locator('.gl-eye').getAttribute('aria-pressed'), 'false');
  const p = await at(200, 150);
  await page.mouse.click(Math.round(p[0]), Math.round(p[1]));
  assert.equal(await page.evaluate(() => window.gl.ws().debug.selection.size), 0, 'hidden region not selectable');
  await rows.first().locator('.gl-eye').click();
  await page.mouse.click(Math.round(p[0]), Math.round(p[1]));
  assert.equal(await page.evaluate(() => [...window.gl.ws().debug.selection].join()), 'boxAAAAAAA');
  // Lock: a locked region does not move.
  await rows.first().locator('.gl-lock').click();
  await drag([Math.round(p[0]), Math.round(p[1])], [Math.round(p[0]) + 40, Math.round(p[1]) + 40]);
  assert.equal((await result())[0].value.x, 25);
  assert.equal(await changes(), 0);
});

test('HTML in labels and task text shows as text', async () => {
  const cfg = config(
    [control('RectangleLabels', 'label', [label('<img src=x id=injected>')]), control('Choices', 'c', [label('<b id=bold>b</b>')], { choice: 'single', to_names: ['text'] })],
    [{ kind: 'Image', name: 'image', value: 'image', attributes: {}, line: 1, column: 1 }, { kind: 'Text', name: 'text', value: 'text', attributes: {}, line: 1, column: 1 }],
  );
  cfg.layout[0].children.unshift({ node: 'header', value: '$title' });
  await make(cfg, [], { text: '<script>window.bad=1</script><i id=italic>hi</i>', title: '<u id=under>T</u>' });
  assert.equal(await page.locator('#injected, #bold, #italic, #under, .gl-workspace script').count(), 0);
  const text = await page.locator('.gl-text').textContent();
  assert.equal(text, '<script>window.bad=1</script><i id=italic>hi</i>');
  assert.match(await page.locator('.gl-header').textContent(), /<u id=under>T<\/u>/);
  assert.match(await page.locator('.gl-labels').textContent(), /<img src=x id=injected>/);
  await drawBox([10, 10], [50, 50]);
  assert.deepEqual((await result())[0].value.rectanglelabels, ['<img src=x id=injected>']);
  assert.equal(await page.evaluate(() => 'bad' in window), false);
});

test('on a HiDPI screen the canvases hold device pixels and coordinates stay exact', async () => {
  const hidpi = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  const errors = [];
  hidpi.on('pageerror', (e) => errors.push(String(e)));
  try {
    await hidpi.goto(`${server.url}/web/tests/pages/workspace.html`);
    await hidpi.waitForFunction(() => 'gl' in window);
    await hidpi.evaluate(([c]) => window.gl.make(c, [], {}), [BOXES]);
    await hidpi.mouse.move(5, 5);
    const sizes = await hidpi.evaluate(() => [...document.querySelectorAll('.gl-stage canvas')].map((canvas) => {
      const box = canvas.getBoundingClientRect();
      return [canvas.width, canvas.height, box.width, box.height];
    }));
    assert.equal(sizes.length, 2, 'image and overlay canvases');
    for (const [width, height, cssWidth, cssHeight] of sizes) {
      assert.equal(width, Math.round(cssWidth * 2), 'backing store is 2× wide');
      assert.equal(height, Math.round(cssHeight * 2), 'backing store is 2× high');
    }
    const p = (await hidpi.evaluate(([a, b]) => window.gl.toClient(a, b), [40, 30])).map(Math.round);
    const q = (await hidpi.evaluate(([a, b]) => window.gl.toClient(a, b), [200, 150])).map(Math.round);
    await hidpi.mouse.move(p[0], p[1]);
    await hidpi.mouse.down();
    await hidpi.mouse.move(q[0], q[1], { steps: 5 });
    await hidpi.mouse.up();
    const [x0, y0] = await hidpi.evaluate(([a, b]) => window.gl.toImage(a, b), p);
    const [x1, y1] = await hidpi.evaluate(([a, b]) => window.gl.toImage(a, b), q);
    const [item] = await hidpi.evaluate(() => window.gl.result());
    close(item.value.x, (x0 / IMAGE_W) * 100, 'x');
    close(item.value.y, (y0 / IMAGE_H) * 100, 'y');
    close(item.value.width, ((x1 - x0) / IMAGE_W) * 100, 'width');
    close(item.value.height, ((y1 - y0) / IMAGE_H) * 100, 'height');
    close(item.value.x, 10, 'x near 40 px', 0.5);
    assert.deepEqual(errors, []);
  } finally {
    await hidpi.close();
  }
});

// ---- ellipses, polylines, keypoints, skeletons, numbers ------------------------

const PERSON = { value: 'person', edges: [['head', 'hip'], ['hip', 'foot']], line: 1, column: 1 };
/** Default hotkeys: Ball 1, Head 2, Lane 3, Edge 4, Spot 5; the skeleton's joints take none. */
const VISION = config([
  control('EllipseLabels', 'shape', [label('Ball'), label('Head')]),
  control('PolyLineLabels', 'lane', [label('Lane'), label('Edge')]),
  control('KeyPointLabels', 'pose', [label('head'), label('hip'), label('foot')], { skeleton: PERSON }),
  control('KeyPointLabels', 'spot', [label('Spot')]),
]);

/** Whole client pixel nearest to image pixel (x, y), and the image pixel it really is. */
async function pixel(x, y) {
  const client = (await at(x, y)).map(Math.round);
  return { client, image: await imageAt(...client) };
}
/** Click image pixel (x, y); returns the image pixel clicked. */
async function clickImage(x, y) {
  const { client, image } = await pixel(x, y);
  await page.mouse.click(client[0], client[1]);
  return image;
}
/** Waits for the status line's hint (drawn with the next frame) to match `pattern`. */
async function hintMatches(pattern) {
  await page.waitForFunction((source) => new RegExp(source).test(document.querySelector('.gl-hint')?.textContent ?? ''), pattern.source, { timeout: 2000 });
}
const rowTexts = () => page.locator('.gl-region-row:not([hidden]) .gl-region-text').allTextContents();

test('ellipses: drawn corner to corner, resized by a handle, rotated about the centre, with undo and redo', async () => {
  await make(VISION);
  await page.keyboard.press('e');
  await page.keyboard.press('2');
  const a = await pixel(100, 60);
  const b = await pixel(220, 180);
  await drag(a.client, b.client);
  let [item] = await result();
  assert.equal(item.type, 'ellipselabels');
  assert.equal(item.from_name, 'shape');
  assert.deepEqual(item.value.ellipselabels, ['Head']);
  close(item.value.x, ((a.image[0] + b.image[0]) / 2 / IMAGE_W) * 100, 'centre x');
  close(item.value.y, ((a.image[1] + b.image[1]) / 2 / IMAGE_H) * 100, 'centre y');
  close(item.value.radiusX, ((b.image[0] - a.image[0]) / 2 / IMAGE_W) * 100, 'radiusX');
  close(item.value.radiusY, ((b.image[1] - a.image[1]) / 2 / IMAGE_H) * 100, 'radiusY');
  assert.equal(item.value.rotation, 0);
  // Within a pixel of the ellipse meant: centre (160, 120) px, radii 60 px.
  close((item.value.x / 100) * IMAGE_W, 160, 'centre x in pixels', 1);
  close((item.value.y / 100) * IMAGE_H, 120, 'centre y in pixels', 1);
  close((item.value.radiusX / 100) * IMAGE_W, 60, 'radiusX in pixels', 1);
  close((item.value.radiusY / 100) * IMAGE_H, 60, 'radiusY in pixels', 1);
  const states = [[], await result()];

  // The right edge's handle: the left edge stays, the ellipse widens by the drag.
  const before = item.value;
  const right = await pixel(((before.x + before.radiusX) / 100) * IMAGE_W, (before.y / 100) * IMAGE_H);
  const to = [right.client[0] + 40, right.client[1] + 25];
  const grown = ((await imageAt(...to))[0] - right.image[0]);
  await drag(right.client, to);
  [item] = await result();
  close(item.value.radiusX * 2, before.radiusX * 2 + (grown / IMAGE_W) * 100, 'width grows by the drag', 0.3);
  close(item.value.x - item.value.radiusX, before.x - before.radiusX, 'left edge kept', 1e-6);
  close(item.value.y, before.y, 'centre y kept', 1e-6);
  close(item.value.radiusY, before.radiusY, 'radiusY kept', 1e-6);
  states.push(await result());

  // A quarter turn by the rotation handle: the centre and the radii stay.
  const handle = await page.evaluate(() => {
    const editor = window.gl.ws().debug.editors[0];
    return editor.handles(editor.currentRegions()[0]).find((h) => h.hit.part === 'rotate').at;
  });
  const rect = await page.evaluate(() => window.gl.ws().debug.editors[0].overlay.getBoundingClientRect().toJSON());
  const centre = await at((item.value.x / 100) * IMAGE_W, (item.value.y / 100) * IMAGE_H);
  await drag([rect.left + handle[0], rect.top + handle[1]], [centre[0] + 100, centre[1]], 8);
  const turned = (await result())[0].value;
  close(turned.rotation, 90, 'rotation', 1);
  close(turned.x, item.value.x, 'centre x kept', 1e-6);
  close(turned.y, item.value.y, 'centre y kept', 1e-6);
  close(turned.radiusX, item.value.radiusX, 'radiusX kept', 1e-6);
  states.push(await result());

  for (let i = states.length - 2; i >= 0; i--) {
    await page.keyboard.press('Control+z');
    assert.deepEqual(await result(), states[i], `undo to state ${i}`);
  }
  for (let i = 1; i < states.length; i++) {
    await page.keyboard.press('Control+Shift+Z');
    assert.deepEqual(await result(), states[i], `redo to state ${i}`);
  }
  assert.deepEqual(await rowTexts(), ['1. Head · ellipse']);
});

test('an ellipse control with canRotate="false" gets no rotation handle', async () => {
  const cfg = config([control('Ellipse', 'blob', [], { attributes: { canRotate: 'false' } })]);
  await make(cfg, [{
    id: 'ell0000001', from_name: 'blob', to_name: 'image', type: 'ellipse', original_width: IMAGE_W, original_height: IMAGE_H,
    image_rotation: 0, value: { x: 50, y: 50, radiusX: 20, radiusY: 10, rotation: 0 },
  }]);
  await page.keyboard.press('v');
  await clickImage(200, 150);
  const parts = await page.evaluate(() => {
    const editor = window.gl.ws().debug.editors[0];
    return editor.handles(editor.currentRegions()[0]).map((h) => h.hit.part);
  });
  assert.equal(parts.length, 8);
  assert.ok(!parts.includes('rotate'));
});

test('polylines: click points, Enter or a double-click finishes, Escape cancels; vertices move, insert and delete, the path stays open', async () => {
  await make(VISION);
  await page.keyboard.press('l');
  const clicked = [];
  for (const [x, y] of [[40, 250], [150, 200], [300, 240]]) clicked.push(await clickImage(x, y));
  await hintMatches(/Enter or double-click/);
  await page.keyboard.press('Enter');
  let [line] = await result();
  assert.equal(line.type, 'polylinelabels');
  assert.deepEqual(line.value.polylinelabels, ['Lane']);
  assert.equal(line.value.closed, undefined, 'a polyline is not a closed shape');
  assert.equal(line.value.points.length, 3);
  clicked.forEach(([x, y], i) => {
    close(line.value.points[i][0], (x / IMAGE_W) * 100, `point ${i} x`);
    close(line.value.points[i][1], (y / IMAGE_H) * 100, `point ${i} y`);
  });
  const drawn = await result();

  // Two points, finished by a double-click on the second; Escape drops a third line.
  await page.keyboard.press('Escape');
  await page.keyboard.press('4');
  await clickImage(40, 40);
  const second = await pixel(140, 40);
  await page.mouse.dblclick(second.client[0], second.client[1]);
  let items = await result();
  assert.equal(items.length, 2);
  assert.equal(items[1].value.points.length, 2);
  assert.deepEqual(items[1].value.polylinelabels, ['Edge']);
  await clickImage(40, 100);
  await clickImage(90, 100);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  assert.equal((await result()).length, 2, 'Escape cancelled the line');

  // Select the first line by a click on it, then drag its middle vertex.
  await page.keyboard.press('v');
  await clickImage(95, 225);
  assert.deepEqual(await rowTexts(), ['1. Lane · polyline', '2. Edge · polyline']);
  const vertex = await pixel(...clicked[1]);
  const target = [vertex.client[0] + 20, vertex.client[1] - 30];
  await drag(vertex.client, target);
  const [tx, ty] = await imageAt(...target);
  line = (await result())[0];
  close(line.value.points[1][0], (tx / IMAGE_W) * 100, 'moved vertex x');
  close(line.value.points[1][1], (ty / IMAGE_H) * 100, 'moved vertex y');
  close(line.value.points[0][0], drawn[0].value.points[0][0], 'other vertices stay');
  const moved = await result();

  // Midpoints lie between consecutive vertices only (2 for 3 points): one inserts a vertex.
  const midpoints = await page.evaluate(() => {
    const editor = window.gl.ws().debug.editors[0];
    return editor.handles(editor.currentRegions()[0]).filter((h) => h.hit.part === 'midpoint').map((h) => h.at);
  });
  assert.equal(midpoints.length, 2);
  const rect = await page.evaluate(() => window.gl.ws().debug.editors[0].overlay.getBoundingClientRect().toJSON());
  await page.mouse.click(Math.round(rect.left + midpoints[1][0]), Math.round(rect.top + midpoints[1][1]));
  assert.equal((await result())[0].value.points.length, 4);
  // Delete removes the picked (inserted) vertex.
  await page.keyboard.press('Delete');
  assert.deepEqual(await result(), moved);
  // Undo: the vertex back, gone again, back where it was.
  await page.keyboard.press('Control+z');
  assert.equal((await result())[0].value.points.length, 4);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), moved);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), items, 'the vertex back where it was');
  await page.keyboard.press('Control+y');
  assert.deepEqual(await result(), moved);
  // A polyline keeps two vertices: Alt+click on one of the second line's deletes nothing.
  await clickImage(90, 40);
  const end = await pixel(40, 40);
  await page.keyboard.down('Alt');
  await page.mouse.click(end.client[0], end.client[1]);
  await page.keyboard.up('Alt');
  assert.deepEqual(await result(), moved);
  // A double-click beside the image ends the line at the image's edge, once.
  await page.keyboard.press('l');
  await clickImage(350, 280);
  const beside = await pixel(440, 290);
  await page.mouse.dblclick(beside.client[0], beside.client[1]);
  const edgeLine = (await result())[2].value.points;
  assert.equal(edgeLine.length, 2, JSON.stringify(edgeLine));
  assert.equal(edgeLine[1][0], 100);
  // Dragging the line between its handles moves all of it.
  await page.keyboard.press('v');
  const grab = await pixel(350 + (400 - 350) / 4, 280 + (290 - 280) / 4);
  await drag(grab.client, [grab.client[0] - 30, grab.client[1] - 20]);
  const [gx, gy] = await imageAt(grab.client[0] - 30, grab.client[1] - 20);
  const shifted = (await result())[2].value.points;
  edgeLine.forEach(([x, y], i) => {
    close(shifted[i][0], x + ((gx - grab.image[0]) / IMAGE_W) * 100, `point ${i} x moved`);
    close(shifted[i][1], y + ((gy - grab.image[1]) / IMAGE_H) * 100, `point ${i} y moved`);
  });
});

test('skeletons: joints placed in order, N skips one as absent, O marks one occluded; one region whose points share its parentID', async () => {
  await make(VISION);
  await page.keyboard.press('s');
  assert.equal(await page.evaluate(() => window.gl.ws().debug.tool()), 'skeleton');
  const head = await clickImage(100, 50);
  await hintMatches(/Next joint: hip \(2\/3\)/);
  assert.equal(await page.locator('.gl-labels[data-control=pose] .gl-label.gl-on').textContent(), 'hip', 'the panel marks the next joint');
  await page.keyboard.press('n');
  await hintMatches(/Next joint: foot \(3\/3\)/);
  const foot = await clickImage(120, 250);
  // The last joint finishes the instance: it is selected, its last joint picked; O makes that one occluded.
  await hintMatches(/Joint foot/);
  await page.keyboard.press('o');
  let items = await result();
  assert.equal(items.length, 2, 'the absent hip has no result');
  const [headItem, footItem] = items;
  for (const item of items) {
    assert.equal(item.type, 'keypointlabels');
    assert.equal(item.from_name, 'pose');
    assert.equal(item.original_width, IMAGE_W);
    assert.match(item.id, /^[A-Za-z0-9_-]{10}$/);
    assert.equal(item.value.width, 0.5);
  }
  assert.equal(headItem.parentID, footItem.parentID, 'one instance');
  assert.notEqual(headItem.id, footItem.id);
  assert.ok(!items.some((i) => i.id === headItem.parentID), 'no result carries the instance id itself');
  assert.deepEqual(headItem.value.keypointlabels, ['head']);
  assert.deepEqual(footItem.value.keypointlabels, ['foot']);
  assert.equal(headItem.value.visibility, undefined, 'visible');
  assert.equal(footItem.value.visibility, 'occluded');
  close(headItem.value.x, (head[0] / IMAGE_W) * 100, 'head x');
  close(footItem.value.y, (foot[1] / IMAGE_H) * 100, 'foot y');
  assert.deepEqual(await rowTexts(), ['1. person · 2/3 joints']);
  const occluded = await result();

  // O again: the foot is absent; undo and redo step through the visibilities.
  await page.keyboard.press('o');
  assert.deepEqual((await result()).map((i) => i.value.keypointlabels[0]), ['head']);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), occluded);
  await page.keyboard.press('Control+z');
  assert.equal((await result())[1].value.visibility, undefined);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), []);
  await page.keyboard.press('Control+Shift+Z');
  await page.keyboard.press('Control+Shift+Z');
  assert.deepEqual(await result(), occluded);

  // A second instance with every joint: dragging a joint moves it alone, dragging an edge moves them all.
  await page.keyboard.press('Escape');
  for (const [x, y] of [[250, 40], [250, 140], [260, 240]]) await clickImage(x, y);
  items = await result();
  assert.equal(items.length, 5);
  const second = items.slice(2);
  assert.equal(new Set(second.map((i) => i.parentID)).size, 1);
  assert.notEqual(second[0].parentID, headItem.parentID);
  assert.deepEqual(await rowTexts(), ['1. person · 2/3 joints', '2. person · 3/3 joints']);
  await page.keyboard.press('v');
  const hip = await pixel(250, 140);
  await drag(hip.client, [hip.client[0] + 30, hip.client[1]]);
  items = await result();
  const hipX = (await imageAt(hip.client[0] + 30, hip.client[1]))[0];
  close(items[3].value.x, (hipX / IMAGE_W) * 100, 'hip moved');
  close(items[2].value.x, second[0].value.x, 'head stays');
  // The middle of the head–hip edge, where it is now.
  const [headAt, hipAt] = [items[2], items[3]].map((i) => [(i.value.x / 100) * IMAGE_W, (i.value.y / 100) * IMAGE_H]);
  const edge = await pixel((headAt[0] + hipAt[0]) / 2, (headAt[1] + hipAt[1]) / 2);
  await drag(edge.client, [edge.client[0], edge.client[1] + 20]);
  const dy = (await imageAt(edge.client[0], edge.client[1] + 20))[1] - edge.image[1];
  assert.ok(dy > 5, `the drag moved the instance, not the view (${dy} px)`);
  const after = await result();
  for (const i of [2, 3, 4]) close(after[i].value.y, items[i].value.y + (dy / IMAGE_H) * 100, `joint ${i} moved with the instance`, 1e-9);
  assert.deepEqual(after.slice(0, 2), occluded, 'the other instance stays');

  // Copy and paste: a new instance with new ids for it and its joints.
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  const pasted = (await result()).slice(5);
  assert.equal(pasted.length, 3);
  assert.equal(new Set(pasted.map((i) => i.parentID)).size, 1);
  assert.ok(!after.some((i) => i.parentID === pasted[0].parentID || pasted.some((p) => p.id === i.id)));
  // The list's ✕ deletes a whole instance.
  await page.locator('.gl-region-row:not([hidden])').nth(2).locator('.gl-delete').click();
  assert.deepEqual(await result(), after);
});

test('keypoints without a skeleton: a click places one labelled point; Label Studio points and brush masks round-trip', async () => {
  const initial = [{
    id: 'kp00000001', from_name: 'pose', to_name: 'image', type: 'keypointlabels', original_width: IMAGE_W, original_height: IMAGE_H,
    image_rotation: 0, value: { x: 20, y: 30, width: 0.75, keypointlabels: ['head'] },
  }, {
    id: 'brush00001', from_name: 'mask', to_name: 'image', type: 'brushlabels', original_width: IMAGE_W, original_height: IMAGE_H,
    image_rotation: 0, value: { format: 'rle', rle: [0, 1, 2, 3], brushlabels: ['Sky'] },
  }];
  await make(VISION, initial);
  assert.deepEqual(await result(), initial, 'untouched items come back as they were');
  assert.deepEqual(await rowTexts(), ['1. head · point'], 'a point without parentID stays a single point');
  await page.keyboard.press('k');
  await page.keyboard.press('5');
  const spot = await clickImage(300, 200);
  let items = await result();
  assert.equal(items.length, 3);
  assert.deepEqual(items.slice(0, 2), initial);
  assert.equal(items[2].type, 'keypointlabels');
  assert.equal(items[2].from_name, 'spot');
  assert.equal(items[2].parentID, undefined);
  assert.deepEqual(items[2].value, { x: (spot[0] / IMAGE_W) * 100, y: (spot[1] / IMAGE_H) * 100, width: 0.5, keypointlabels: ['Spot'] });
  // Moving Label Studio's point changes its position only.
  await page.keyboard.press('v');
  const point = await pixel(80, 90);
  await drag(point.client, [point.client[0] + 20, point.client[1] + 10]);
  items = await result();
  const [px, py] = await imageAt(point.client[0] + 20, point.client[1] + 10);
  const expected = structuredClone(initial[0]);
  expected.value.x = 20 + ((px - point.image[0]) / IMAGE_W) * 100;
  expected.value.y = 30 + ((py - point.image[1]) / IMAGE_H) * 100;
  for (const key of ['x', 'y']) close(items[0].value[key], expected.value[key], key);
  assert.deepEqual({ ...items[0], value: { ...items[0].value, x: 0, y: 0 } }, { ...expected, value: { ...expected.value, x: 0, y: 0 } });
  assert.deepEqual(items[1], initial[1], 'the mask is untouched');
});

test('per-region attributes: the selected region\'s numbers, choices and text under the region list; numbers keep to min, max and step', async () => {
  const cfg = config([
    control('RectangleLabels', 'label', [label('Car')]),
    control('Number', 'count', [], { per_region: true, attributes: { min: '0', max: '10', step: '1' } }),
    control('Choices', 'color', [label('Red'), label('Blue')], { per_region: true, choice: 'single' }),
    control('Number', 'quality', [], { attributes: { min: '1', max: '5', step: '0.5' } }),
  ]);
  await make(cfg);
  const attributes = page.locator('.gl-side .gl-attributes');
  assert.match(await attributes.textContent(), /Select one region/);
  assert.equal(await page.locator('.gl-main [data-control=count]').count(), 0, 'per-region controls are not in the main column');
  await drawBox([40, 40], [160, 120]);
  const box = (await result())[0];
  assert.match(await attributes.locator('.gl-panel-title').textContent(), /Attributes: Car · box/);
  const count = attributes.locator('[data-control=count] input');
  await count.fill('7');
  let items = await result();
  const number = items.find((i) => i.from_name === 'count');
  assert.equal(number.id, box.id, 'the number shares the region id');
  assert.equal(number.type, 'number');
  assert.deepEqual(number.value, { number: 7, x: box.value.x, y: box.value.y, width: box.value.width, height: box.value.height, rotation: 0 });
  await count.fill('12');
  assert.equal((await result()).find((i) => i.from_name === 'count').value.number, 7, 'over the maximum: not written');
  assert.equal(await count.evaluate((input) => input.matches(':invalid')), true);
  await count.fill('2.5');
  assert.equal((await result()).find((i) => i.from_name === 'count').value.number, 7, 'between steps: not written');
  await count.fill('3');
  await count.press('Escape');
  assert.equal((await result()).find((i) => i.from_name === 'count').value.number, 3);
  await attributes.locator('.gl-choice', { hasText: 'Blue' }).click();
  assert.deepEqual((await result()).find((i) => i.from_name === 'color').value.choices, ['Blue']);
  // A whole-object number sits in the main column.
  const quality = page.locator('.gl-main [data-control=quality] input');
  await quality.fill('4.5');
  await quality.press('Escape');
  const whole = (await result()).find((i) => i.from_name === 'quality');
  assert.deepEqual(whole.value, { number: 4.5 });
  assert.notEqual(whole.id, box.id);
  // Typing 7 then 3 was one undo step each field; undo goes back through them.
  await page.keyboard.press('Control+z');
  assert.equal((await result()).find((i) => i.from_name === 'quality'), undefined);
  await page.keyboard.press('Control+z');
  assert.equal((await result()).find((i) => i.from_name === 'color'), undefined);
  await page.keyboard.press('Control+z');
  assert.equal((await result()).find((i) => i.from_name === 'count'), undefined);

  // Read back: a stored number shows when its region is selected, and goes with it when it moves.
  const stored = [box, { ...number, value: { ...number.value, number: 9 } }];
  await make(cfg, stored);
  await page.keyboard.press('v');
  await clickImage(100, 80);
  assert.equal(await count.inputValue(), '9');
  await page.keyboard.press('ArrowRight');
  items = await result();
  assert.equal(items[1].value.number, 9);
  close(items[1].value.x, items[0].value.x, 'the number item carries the moved geometry');
  assert.notEqual(items[1].value.x, box.value.x);
  // Nothing selected: no fields.
  await page.keyboard.press('Escape');
  assert.equal(await count.isVisible(), false);
});

test('read-only: ellipses, polylines and skeletons are shown and selectable, never changed', async () => {
  const initial = [
    { id: 'ell0000002', from_name: 'shape', to_name: 'image', type: 'ellipselabels', original_width: IMAGE_W, original_height: IMAGE_H, image_rotation: 0, value: { x: 30, y: 30, radiusX: 10, radiusY: 10, rotation: 0, ellipselabels: ['Ball'] } },
    { id: 'joint00001', parentID: 'person0001', from_name: 'pose', to_name: 'image', type: 'keypointlabels', original_width: IMAGE_W, original_height: IMAGE_H, image_rotation: 0, value: { x: 70, y: 20, width: 0.5, keypointlabels: ['head'] } },
    { id: 'joint00002', parentID: 'person0001', from_name: 'pose', to_name: 'image', type: 'keypointlabels', original_width: IMAGE_W, original_height: IMAGE_H, image_rotation: 0, value: { x: 70, y: 60, width: 0.5, visibility: 'occluded', keypointlabels: ['hip'] } },
  ];
  await page.evaluate(([c, r]) => window.gl.make(c, r, {}, { readOnly: true }), [VISION, initial]);
  await page.mouse.move(5, 5);
  assert.deepEqual(await rowTexts(), ['1. Ball · ellipse', '2. person · 2/3 joints']);
  assert.deepEqual(await page.locator('.gl-tool').allTextContents(), ['Select']);
  await clickImage(280, 60);
  assert.equal(await page.evaluate(() => [...window.gl.ws().debug.selection].join()), 'person0001');
  await page.keyboard.press('o');
  await page.keyboard.press('Delete');
  const joint = await pixel(280, 60);
  await drag(joint.client, [joint.client[0] + 30, joint.client[1]]);
  await page.keyboard.press('s');
  await clickImage(200, 250);
  assert.deepEqual(await result(), initial);
  assert.equal(await changes(), 0);
});

// ---- brush masks ---------------------------------------------------------------

/** Default hotkeys: Road 1, Car 2. */
const BRUSH = config([
  control('BrushLabels', 'mask', [label('Road', { background: '#ff8000' }), label('Car', { background: '#0040ff' })]),
  control('Number', 'depth', [], { per_region: true, attributes: { min: '0', max: '9' } }),
]);

/** The brush result's pixels, decoded with the workspace's decoder and checked against counts made here. */
function maskPixels(item, expected, w = IMAGE_W, h = IMAGE_H) {
  assert.equal(item.value.format, 'coco_rle');
  assert.equal(item.original_width, w);
  assert.equal(item.original_height, h);
  const counts = countsFromString(item.value.counts);
  assert.deepEqual(sorted(pixelsOf(counts, h)), sorted(expected), 'the pixels painted');
  assert.deepEqual(counts, cocoCounts(expected, w, h), 'the counts of those pixels');
  assert.equal(countsToString(cocoCounts(expected, w, h)), item.value.counts, 'the compressed string');
}
/** The overlay's RGBA at the centre of image pixel (x, y), after the next frame. */
async function overlayPixel(x, y) {
  return page.evaluate(async ([ix, iy]) => {
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const editor = window.gl.ws().debug.editors[0];
    const [sx, sy] = editor.view.toScreen(ix + 0.5, iy + 0.5);
    return [...editor.overlay.getContext('2d').getImageData(Math.floor(sx * editor.dpr), Math.floor(sy * editor.dpr), 1, 1).data];
  }, [x, y]);
}
/** Zoom with + at image pixel (x, y) until the view shows at least `scale` screen pixels per image pixel. */
async function zoomTo(x, y, scale) {
  const p = (await at(x, y)).map(Math.round);
  await page.mouse.move(p[0], p[1]);
  while (await page.evaluate(() => window.gl.ws().debug.editors[0].view.scale) < scale) await page.keyboard.press('+');
}
/** Drag between two image points along a row or column, in whole client pixels; the image points the pointer really went through. */
async function stroke(from, to, steps = 12) {
  const a = (await at(...from)).map(Math.round);
  const b = [from[0] === to[0] ? a[0] : Math.round((await at(...to))[0]), from[1] === to[1] ? a[1] : Math.round((await at(...to))[1])];
  await drag(a, b, steps);
  return [await imageAt(...a), await imageAt(...b)];
}

test('brush: at zoom 4 a stroke paints exactly the pixels under the round brush, Shift erases, one undo step each', async () => {
  await make(BRUSH);
  await page.keyboard.press('m');
  assert.equal(await page.evaluate(() => window.gl.ws().debug.tool()), 'brush');
  // 10 → 8 → 6 → 5 pixels wide.
  for (let i = 0; i < 3; i++) await page.keyboard.press('[');
  assert.equal(await page.locator('input[aria-label="Brush size"]').inputValue(), '5');
  await zoomTo(100, 100, 4);
  const scale = await page.evaluate(() => window.gl.ws().debug.editors[0].view.scale);
  assert.ok(scale >= 4, `zoomed to ${scale}`);

  // A stroke along a row: every brush position between the ends, one pixel apart.
  const d = 5;
  const [start, end] = await stroke([96.3, 100.2], [108.8, 100.2]);
  const [ax, ay] = brushOrigin(start, d);
  const [bx, by] = brushOrigin(end, d);
  assert.equal(ay, by);
  const painted = new Set();
  for (let x = ax; x <= bx; x++) dab(x, ay, d, painted);
  let items = await result();
  assert.equal(items.length, 1);
  const [item] = items;
  assert.equal(item.type, 'brushlabels');
  assert.equal(item.from_name, 'mask');
  assert.deepEqual(item.value.brushlabels, ['Road']);
  assert.equal(item.value.rle, undefined);
  maskPixels(item, painted);
  assert.equal(await changes(), 1, 'a stroke is one change');
  assert.deepEqual(await rowTexts(), ['1. Road · mask']);

  // Drawn where painted, pixel for pixel: the stroke's first pixel in its
  // colour, the unpainted corner of its first dab and the pixel past its end clear.
  await page.mouse.move(5, 5);
  const inside = await overlayPixel(ax + 2, ay);
  assert.ok(inside[0] > 200 && inside[1] > 90 && inside[1] < 170 && inside[2] < 60 && inside[3] > 100, `painted pixel ${inside}`);
  assert.equal((await overlayPixel(ax, ay))[3], 0, 'the dab\'s corner is not painted');
  assert.equal((await overlayPixel(bx + d, ay + 2))[3], 0, 'the pixel after the stroke is not painted');

  // Shift+drag down a column erases from the selected mask.
  await page.keyboard.down('Shift');
  const [top, bottom] = await stroke([102.4, 96.1], [102.4, 105.6]);
  await page.keyboard.up('Shift');
  const [ex, ey0] = brushOrigin(top, d);
  const [, ey1] = brushOrigin(bottom, d);
  const erased = new Set();
  for (let y = ey0; y <= ey1; y++) dab(ex, y, d, erased);
  const left = new Set([...painted].filter((p) => !erased.has(p)));
  assert.ok(left.size < painted.size && left.size > 0);
  items = await result();
  assert.equal(items.length, 1);
  assert.equal(items[0].id, item.id, 'erased from the same region');
  maskPixels(items[0], left);
  assert.equal(await changes(), 2);

  await page.keyboard.press('Control+z');
  maskPixels((await result())[0], painted);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), []);
  await page.keyboard.press('Control+Shift+Z');
  await page.keyboard.press('Control+Shift+Z');
  maskPixels((await result())[0], left);
});

test('brush: each stroke adds to the selected mask; Escape or another label starts a new one; the list hides, locks and deletes masks; per-region numbers', async () => {
  await make(BRUSH);
  await page.keyboard.press('m');
  await stroke([50, 50], [80, 50]);
  await stroke([50, 70], [80, 70]);
  let items = await result();
  assert.equal(items.length, 1, 'the second stroke went into the selected mask');
  // Another label: a new instance.
  await page.keyboard.press('2');
  await stroke([200, 50], [230, 50]);
  items = await result();
  assert.equal(items.length, 2);
  assert.deepEqual(items[1].value.brushlabels, ['Car']);
  // Escape: the next stroke is a new Car mask, not more of this one.
  await page.keyboard.press('Escape');
  await stroke([200, 150], [230, 150]);
  assert.equal((await result()).length, 3);
  assert.deepEqual(await rowTexts(), ['1. Road · mask', '2. Car · mask', '3. Car · mask']);

  // The selected mask's own number: it shares the mask's id, without its pixels.
  const depth = page.locator('.gl-attributes [data-control=depth] input');
  await depth.fill('4');
  await depth.press('Escape');
  items = await result();
  const number = items.find((i) => i.type === 'number');
  assert.equal(number.id, items[2].id);
  assert.deepEqual(number.value, { number: 4 });

  // Hidden: not drawn, not picked; locked: not erased.
  const rows = page.locator('.gl-region-row:not([hidden])');
  const first = items[0];
  const firstPixel = [...pixelsOf(countsFromString(first.value.counts), IMAGE_H)][0].split(',').map(Number);
  await page.mouse.move(5, 5);
  assert.ok((await overlayPixel(...firstPixel))[3] > 0);
  await rows.nth(0).locator('.gl-eye').click();
  assert.equal((await overlayPixel(...firstPixel))[3], 0, 'a hidden mask is not drawn');
  await page.keyboard.press('v');
  await clickImage(firstPixel[0] + 0.5, firstPixel[1] + 0.5);
  assert.equal(await page.evaluate(() => window.gl.ws().debug.selection.size), 0, 'a hidden mask is not picked');
  await rows.nth(0).locator('.gl-eye').click();
  await clickImage(firstPixel[0] + 0.5, firstPixel[1] + 0.5);
  assert.equal(await page.evaluate(() => [...window.gl.ws().debug.selection].join()), first.id, 'a click on its pixels selects a mask');
  await rows.nth(0).locator('.gl-lock').click();
  await page.keyboard.press('x');
  await stroke([40, 50], [90, 50]);
  assert.deepEqual((await result())[0], first, 'a locked mask is not erased');
  await rows.nth(0).locator('.gl-lock').click();
  await rows.nth(1).locator('.gl-delete').click();
  assert.deepEqual((await result()).map((i) => i.id), [items[0].id, items[2].id, items[2].id]);
});

test('fill: a hole the mask encloses fills, an open one does not; Shift+click clears a patch', async () => {
  const pixels = new Set();
  const square = (x0, y0, x1, y1) => {
    for (let x = x0; x < x1; x++) for (let y = y0; y < y1; y++) pixels.add(`${x},${y}`);
  };
  const ring = (x0, y0, size, gap) => {
    for (let i = 0; i < size; i++) {
      for (const [x, y] of [[x0 + i, y0], [x0 + i, y0 + size - 1], [x0, y0 + i], [x0 + size - 1, y0 + i]]) pixels.add(`${x},${y}`);
    }
    if (gap) for (let y = y0 + 3; y < y0 + 6; y++) pixels.delete(`${x0 + size - 1},${y}`);
  };
  ring(50, 50, 40, false);
  ring(120, 50, 40, true);
  square(200, 60, 210, 70);
  const initial = [{
    id: 'maskAAAAAA', from_name: 'mask', to_name: 'image', type: 'brushlabels', original_width: IMAGE_W, original_height: IMAGE_H, image_rotation: 0,
    value: { format: 'coco_rle', counts: countsToString(cocoCounts(pixels, IMAGE_W, IMAGE_H)), brushlabels: ['Road'] },
  }];
  await make(BRUSH, initial);
  assert.deepEqual(await result(), initial, 'read and written back as it came');
  await page.keyboard.press('g');
  // The open ring's inside reaches the mask's edge through the gap: nothing happens.
  await clickImage(140.5, 70.5);
  assert.deepEqual(await result(), initial);
  assert.equal(await changes(), 0);
  await clickImage(70.5, 70.5);
  const filled = new Set(pixels);
  for (let x = 51; x < 89; x++) for (let y = 51; y < 89; y++) filled.add(`${x},${y}`);
  maskPixels((await result())[0], filled);
  await page.keyboard.down('Shift');
  await clickImage(205.5, 65.5);
  await page.keyboard.up('Shift');
  const cleared = new Set([...filled].filter((p) => !(+p.split(',')[0] >= 200)));
  maskPixels((await result())[0], cleared);
  await page.keyboard.press('Control+z');
  maskPixels((await result())[0], filled);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), initial);
});

test('a Label Studio rle mask reads, draws and round-trips untouched; painted, it is written as coco_rle', async () => {
  const vectors = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(path.join(repoRoot, 'crates/masks/tests/data/label_studio_vectors.json'), 'utf8')));
  const shape = vectors.masks.find((m) => m.name === 'ellipses 64x48');
  const [w, h] = [shape.width, shape.height];
  const rows = new Set();
  shape.rows.forEach((row, y) => [...row].forEach((c, x) => c === '#' && rows.add(`${x},${y}`)));
  const initial = [{
    id: 'lsmask0001', from_name: 'mask', to_name: 'image', type: 'brushlabels', original_width: w, original_height: h, image_rotation: 0,
    origin: 'manual', value: { format: 'rle', rle: shape.rle_editor, brushlabels: ['Car'] },
  }];
  const image = await page.evaluate(([a, b]) => window.gl.imageOf(a, b), [w, h]);
  await make(BRUSH, initial, { image });
  assert.deepEqual(await result(), initial, 'untouched, as it came');
  assert.deepEqual(await rowTexts(), ['1. Car · mask']);
  // Drawn pixel for pixel: every pixel of row 20 in the mask's colour where set, clear where not.
  await page.mouse.move(5, 5);
  for (let x = 0; x < w; x++) {
    const [r, , b, a] = await overlayPixel(x, 20);
    const set = rows.has(`${x},20`);
    assert.equal(a > 0, set, `pixel ${x},20`);
    if (set) assert.ok(b > 200 && r < 60, `pixel ${x},20 is blue: ${[r, b]}`);
  }
  // Selected and painted over: one more dab, written as COCO RLE without the old rle.
  await page.keyboard.press('v');
  await clickImage(20.5, 10.5);
  await page.keyboard.press('m');
  for (let i = 0; i < 4; i++) await page.keyboard.press('['); // 10 → 8 → 6 → 5 → 4
  const click = (await at(3.5, 44.5)).map(Math.round);
  await page.mouse.click(click[0], click[1]);
  const [ox, oy] = brushOrigin(await imageAt(...click), 4);
  const expected = dab(ox, oy, 4, new Set(rows));
  const [item] = await result();
  assert.equal(item.id, 'lsmask0001');
  assert.equal(item.origin, 'manual', 'other keys kept');
  assert.deepEqual(item.value.brushlabels, ['Car']);
  maskPixels(item, expected, w, h);
  await page.keyboard.press('Control+z');
  assert.deepEqual(await result(), initial, 'undone: as it came again');
});

test('ratings: stars for the whole image and for the selected region, set, changed and cleared', async () => {
  await make(config([
    control('RectangleLabels', 'label', [label('Car')]),
    control('Rating', 'quality', [], { attributes: { maxRating: '4' } }),
    control('Rating', 'sharpness', [], { per_region: true }),
  ]));
  const stars = page.locator('[data-control=quality] .gl-star');
  assert.equal(await stars.count(), 4);
  await stars.nth(2).click();
  let items = await result();
  assert.deepEqual(items.map((i) => [i.from_name, i.type, i.value]), [['quality', 'rating', { rating: 3 }]]);
  assert.deepEqual(await page.$$eval('[data-control=quality] .gl-star', (b) => b.map((s) => s.classList.contains('gl-on'))), [true, true, true, false]);
  await stars.nth(0).click();
  assert.deepEqual((await result())[0].value, { rating: 1 });
  // The star already set clears the rating.
  await stars.nth(0).click();
  assert.deepEqual(await result(), []);
  // A per-region rating: under the region list, for the selected box.
  const box = await drawBox([40, 40], [140, 120]);
  const regional = page.locator('.gl-attributes [data-control=sharpness] .gl-star');
  assert.equal(await regional.count(), 5, 'maxRating is 5 by default');
  await regional.nth(4).click();
  items = await result();
  const region = items.find((i) => i.type === 'rectanglelabels');
  const rating = items.find((i) => i.type === 'rating');
  assert.equal(rating.id, region.id, 'the rating shares the region id');
  assert.equal(rating.value.rating, 5);
  close(rating.value.x, box.x, 'the region\'s place in the rating');
  await page.keyboard.press('Control+z');
  assert.equal((await result()).filter((i) => i.type === 'rating').length, 0, 'undone');
});

test('taxonomy: nested choices picked by path, leaves only, searched', async () => {
  const choice = (value, path = []) => label(value, { path });
  await make(config([
    control('Taxonomy', 'kind', [
      choice('Bacteria'), choice('Cyanobacteria', ['Bacteria']), choice('Other', ['Bacteria']),
      choice('Archaea'), choice('Other', ['Archaea']),
    ], { attributes: { leafsOnly: 'true' } }),
  ]));
  const box = (path) => page.locator(`[data-control=kind] li[data-path="${path}"] input`).first();
  assert.equal(await box('Bacteria').isDisabled(), true, 'a branch, with leaves only');
  await box('Bacteria / Cyanobacteria').click();
  await box('Archaea / Other').click();
  assert.deepEqual((await result()).map((i) => [i.type, i.value]), [['taxonomy', { taxonomy: [['Bacteria', 'Cyanobacteria'], ['Archaea', 'Other']] }]]);
  assert.equal(await box('Archaea / Other').isChecked(), true);
  assert.equal(await box('Bacteria / Other').isChecked(), false, 'the same name under another branch is another choice');
  await box('Bacteria / Cyanobacteria').click();
  assert.deepEqual((await result())[0].value, { taxonomy: [['Archaea', 'Other']] });
  // The search shows the matches and the branches above them.
  await page.fill('[data-control=kind] input[type=search]', 'cyano');
  const shown = await page.$$eval('[data-control=kind] li', (items) => items.filter((i) => !i.closest('[hidden]')).map((i) => i.dataset.path));
  assert.deepEqual(shown, ['Bacteria', 'Bacteria / Cyanobacteria']);
});

test('text spans: a label then a selection, a selection then a key, snapped to tokens or exact with Alt, nested, deleted', async () => {
  const text = 'Dr. José\u0301 Álvarez 😀 visited القاهرة in May.';
  const objects = [{ kind: 'Text', name: 'text', value: 'text', attributes: {}, line: 1, column: 1 }];
  const ner = { ...control('Labels', 'ner', [label('PER', { hotkey: 'p', background: '#ff0000' }), label('LOC', { hotkey: 'l', background: '#0000ff' })]), to_names: ['text'] };
  await make(config([ner], objects), [], { text });
  /** Client point of the gap before code point `i` of the text (at its line's middle). */
  const gap = (i) => page.evaluate(([t, index]) => {
    const body = /** @type {HTMLElement} */ (document.querySelector('.gl-text-spans'));
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const points = Array.from(node.textContent ?? '');
      if (index <= seen + points.length) {
        const unit = points.slice(0, index - seen).join('').length;
        const range = document.createRange();
        range.setStart(node, unit);
        range.setEnd(node, Math.min((node.textContent ?? '').length, unit + 1));
        const r = range.getBoundingClientRect();
        return [r.left + 0.5, r.top + r.height / 2];
      }
      seen += points.length;
    }
    return [0, 0];
  }, [text, i]);
  const select = async (from, to, alt = false) => {
    const [a, b] = [await gap(from), await gap(to)];
    if (alt) await page.keyboard.down('Alt');
    await page.mouse.move(a[0], a[1]);
    await page.mouse.down();
    await page.mouse.move(b[0], b[1], { steps: 4 });
    await page.mouse.up();
    if (alt) await page.keyboard.up('Alt');
  };
  const spans = async () => (await result()).map((i) => [i.value.labels[0], i.value.start, i.value.end, i.value.text]);
  const chars = Array.from(text);
  const find = (word) => Array.from(text.slice(0, text.indexOf(word))).length;
  // A selection first (no label picked yet), then the label's key: القاهرة.
  const cairo = find('القاهرة');
  await select(cairo, cairo + 7);
  assert.deepEqual(await spans(), [], 'no label picked: no span yet');
  await page.keyboard.press('l');
  assert.deepEqual(await spans(), [['LOC', cairo, cairo + 7, 'القاهرة']]);
  // The label first (its key), then a selection inside "José" and "Álvarez": whole tokens.
  await page.keyboard.press('p');
  const jose = find('José');
  const alvarez = find('Álvarez');
  await select(jose + 1, alvarez + 3);
  assert.deepEqual((await spans())[1], ['PER', jose, alvarez + 7, chars.slice(jose, alvarez + 7).join('')]);
  assert.equal(jose + 5, find(' Álvarez'), 'the combining accent is one code point of José');
  // With Alt, the exact characters: "Jos" inside the PER span (nested).
  await select(jose, jose + 3, true);
  assert.deepEqual((await spans())[2], ['PER', jose, jose + 3, 'Jos']);
  assert.equal(await page.locator('.gl-span-list:not(.gl-relation-list) .gl-span-row').count(), 3);
  // Nested: the pieces under both spans carry both.
  assert.equal(await page.locator('.gl-mark[data-spans*=" "]').count(), 1);
  // A relation: click the LOC span, R, click the PER span.
  const centre = async (/** @type {number} */ i) => {
    const [a, b] = [await gap(i), await gap(i + 1)];
    return [(a[0] + b[0]) / 2, a[1]];
  };
  const [cx, cy] = await centre(cairo + 3);
  await page.mouse.click(cx, cy);
  await page.keyboard.press('r');
  assert.match(await page.locator('.gl-text-hint').textContent(), /relates to/);
  const [px, py] = await centre(alvarez + 3);
  await page.mouse.click(px, py);
  const relation = (await result()).find((i) => i.type === 'relation');
  const ids = Object.fromEntries((await result()).filter((i) => i.type === 'labels').map((i) => [i.value.text, i.id]));
  assert.deepEqual([relation.from_id, relation.to_id, relation.direction], [ids['القاهرة'], ids[chars.slice(jose, alvarez + 7).join('')], 'right']);
  assert.equal('from_name' in relation, false, 'a relation names no control, as in Label Studio');
  assert.match(await page.locator('.gl-relation-list li').textContent(), /^LOC «القاهرة» → PER «José́ Álvarez»/);
  assert.equal(await page.locator('.gl-relation-list .gl-chip').count(), 0, 'no <Relations>: no labels to give');
  // Delete a span from the list: its relation goes with it; undo brings both back.
  await page.locator('.gl-span-list:not(.gl-relation-list) .gl-span-row').nth(0).locator('button').click();
  assert.equal((await result()).length, 2);
  assert.equal((await result()).some((i) => i.type === 'relation'), false);
  await page.keyboard.press('Control+z');
  assert.equal((await result()).length, 4);
  // With a <Relations> in the config, a relation's row toggles its label (one, or
  // several with choice="multiple") and turns its direction.
  const spansNow = (await result()).filter((i) => i.type !== 'relation');
  const withRelations = { ...config([ner], objects), relations: { labels: [label('works in'), label('born in')], multiple: false } };
  await make(withRelations, [...spansNow, { ...relation, labels: undefined }], { text });
  const chips = page.locator('.gl-relation-list .gl-chip');
  assert.deepEqual(await chips.allTextContents(), ['works in', 'born in']);
  await chips.nth(1).click();
  assert.deepEqual((await result()).find((i) => i.type === 'relation').labels, ['born in']);
  await chips.nth(0).click();
  assert.deepEqual((await result()).find((i) => i.type === 'relation').labels, ['works in'], 'one label unless multiple');
  await page.locator('.gl-relation-direction').click();
  assert.equal((await result()).find((i) => i.type === 'relation').direction, 'left');
  await make({ ...withRelations, relations: { ...withRelations.relations, multiple: true } }, [...spansNow, { ...relation, labels: ['works in'] }], { text });
  await page.locator('.gl-relation-list .gl-chip').nth(1).click();
  assert.deepEqual((await result()).find((i) => i.type === 'relation').labels, ['works in', 'born in']);
  // The text is text: markup in it is not read.
  await make(config([ner], objects), [], { text: '<img src=x onerror="window.hacked=1"> Bob' });
  assert.equal(await page.evaluate(() => document.querySelector('.gl-text-spans')?.textContent), '<img src=x onerror="window.hacked=1"> Bob');
  assert.equal(await page.evaluate(() => 'hacked' in window), false);
});

test('paragraphs: a dialogue shown with its authors, spans within and across paragraphs as Label Studio writes them', async () => {
  const dialogue = [
    { author: 'Alice', text: 'Hi Bob, how are you?' },
    { author: 'Bob', text: 'Fine 😀 thanks.' },
    { author: 'Alice', text: 'See you in القاهرة.' },
  ];
  const objects = [{ kind: 'Paragraphs', name: 'chat', value: 'dialogue', attributes: { layout: 'dialogue' }, line: 1, column: 1 }];
  const intents = { ...control('ParagraphLabels', 'intent', [label('Greeting', { hotkey: 'g' }), label('Place', { hotkey: 'p' })]), to_names: ['chat'] };
  // A Label Studio result over "Hi": paragraph indexes as strings.
  const given = { id: 'hi', from_name: 'intent', to_name: 'chat', type: 'paragraphlabels', value: { start: '0', end: '0', startOffset: 0, endOffset: 2, text: 'Hi', paragraphlabels: ['Greeting'] } };
  await make(config([intents], objects), [given], { dialogue });
  assert.deepEqual(await page.locator('.gl-paragraph-author').allTextContents(), ['Alice', 'Bob', 'Alice']);
  assert.equal(await page.locator('.gl-mark').first().textContent(), 'Hi');
  /** Client point of the gap before code point `i` of paragraph `p`, or after it (`end`). */
  const gap = (/** @type {number} */ p, /** @type {number} */ i, end = false) => page.evaluate(([paragraph, index, after]) => {
    const block = /** @type {HTMLElement} */ (document.querySelectorAll('.gl-paragraph')[paragraph]);
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!(/** @type {HTMLElement} */ (node.parentElement).dataset.start)) continue; // the author
      const points = Array.from(node.textContent ?? '');
      if (after ? index <= seen + points.length : index < seen + points.length) {
        const unit = points.slice(0, index - seen).join('').length;
        const range = document.createRange();
        range.setStart(node, after ? unit - 1 : unit);
        range.setEnd(node, after ? unit : unit + 1);
        const r = range.getBoundingClientRect();
        return [after ? r.right - 0.5 : r.left + 0.5, r.top + r.height / 2];
      }
      seen += points.length;
    }
    return [0, 0];
  }, [p, i, end]);
  const select = async (/** @type {number[]} */ from, /** @type {number[]} */ to) => {
    const a = await gap(from[0], from[1]);
    const b = await gap(to[0], to[1], true);
    await page.mouse.move(a[0], a[1]);
    await page.mouse.down();
    await page.mouse.move(b[0], b[1], { steps: 4 });
    await page.mouse.up();
  };
  // "Fine 😀 thanks." to "See": across two paragraphs, with the key first.
  await page.keyboard.press('g');
  await select([1, 0], [2, 3]);
  // "القاهرة" inside the third paragraph.
  await page.keyboard.press('p');
  await select([2, 11], [2, 18]);
  const spans = (await result()).filter((i) => i.id !== 'hi').map((i) => i.value);
  assert.deepEqual(spans, [
    { start: 1, end: 2, startOffset: 0, endOffset: 3, text: 'Fine 😀 thanks.\nSee', paragraphlabels: ['Greeting'] },
    { start: 2, end: 2, startOffset: 11, endOffset: 18, text: 'القاهرة', paragraphlabels: ['Place'] },
  ]);
  assert.deepEqual((await result()).find((i) => i.id === 'hi'), given, 'the given span is kept as it came');
});

test('text spans by keyboard: arrows move over tokens, Shift extends, a label key makes the span', async () => {
  const text = 'Alice met Bob in Paris.';
  const objects = [{ kind: 'Text', name: 'text', value: 'text', attributes: {}, line: 1, column: 1 }];
  const ner = { ...control('Labels', 'ner', [label('PER', { hotkey: 'p' }), label('LOC', { hotkey: 'l' })]), to_names: ['text'] };
  await make(config([ner], objects), [], { text });
  await page.locator('.gl-text-view').focus();
  // The first arrow picks the first token: Alice, met, Bob, then Shift adds "in".
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'Shift+ArrowRight']) await page.keyboard.press(key);
  assert.equal(await page.evaluate(() => window.getSelection()?.toString()), 'Bob in');
  await page.keyboard.press('p');
  // Then "Paris": on, and back over the full stop.
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowLeft']) await page.keyboard.press(key);
  await page.keyboard.press('l');
  const spans = (await result()).map((i) => [i.value.labels[0], i.value.start, i.value.end, i.value.text]);
  assert.deepEqual(spans, [['PER', 10, 16, 'Bob in'], ['LOC', 17, 22, 'Paris']]);
});

test('text spans: per-span choices (perRegion) for the span picked; they go with a deleted span', async () => {
  const text = 'Alice met Bob in Paris.';
  const objects = [{ kind: 'Text', name: 'text', value: 'text', attributes: {}, line: 1, column: 1 }];
  const ner = { ...control('Labels', 'ner', [label('PER')]), to_names: ['text'] };
  const mood = { ...control('Choices', 'mood', [label('Friendly'), label('Hostile')], { per_region: true, choice: 'single' }), to_names: ['text'] };
  const spans = [
    { id: 'alice', from_name: 'ner', to_name: 'text', type: 'labels', value: { start: 0, end: 5, text: 'Alice', labels: ['PER'] } },
    { id: 'bob', from_name: 'ner', to_name: 'text', type: 'labels', value: { start: 10, end: 13, text: 'Bob', labels: ['PER'] } },
  ];
  await make(config([ner, mood], objects), spans, { text });
  const panel = page.locator('[data-control=mood]');
  assert.equal(await panel.locator('.gl-choice').first().isVisible(), false, 'no span picked: no place for a per-span choice');
  await page.locator('.gl-mark', { hasText: 'Bob' }).click();
  await panel.locator('.gl-choice', { hasText: 'Hostile' }).click();
  const choice = (await result()).find((i) => i.from_name === 'mood');
  assert.deepEqual([choice.id, choice.to_name, choice.type, choice.value], ['bob', 'text', 'choices', { start: 10, end: 13, text: 'Bob', choices: ['Hostile'] }]);
  // Another span picked: its own (none yet); back to Bob's: Hostile again.
  const checked = () => panel.locator('.gl-choice').evaluateAll((labels) => labels.filter((l) => /** @type {HTMLInputElement} */ (l.querySelector('input')).checked).map((l) => (l.textContent ?? '').replace(/\d+$/, '')));
  await page.locator('.gl-mark', { hasText: 'Alice' }).click();
  assert.deepEqual(await checked(), []);
  await page.locator('.gl-mark', { hasText: 'Bob' }).click();
  assert.deepEqual(await checked(), ['Hostile']);
  // Deleting Bob's span deletes its choice.
  await page.locator('.gl-span-row[data-span=bob] button').click();
  assert.deepEqual((await result()).map((i) => i.id), ['alice']);
});

test('text spans: the view drawn edit by edit is the view drawn at once', async () => {
  // 40 words; spans are added, moved, relabelled and removed in random
  // steps (seeded), each step drawing only what changed; after each, the
  // pieces and the list must be those of a view made from scratch.
  const text = Array.from({ length: 40 }, (_, i) => `w${i}ó`).join(' ');
  const objects = [{ kind: 'Text', name: 'text', value: 'text', attributes: {}, line: 1, column: 1 }];
  const ner = { ...control('Labels', 'ner', [label('PER', { background: '#ff0000' }), label('LOC', { background: '#0000ff' })]), to_names: ['text'] };
  const cfg = config([ner], objects);
  const drawn = () => page.evaluate(() => {
    const body = /** @type {HTMLElement} */ (document.querySelector('.gl-text-spans'));
    const pieces = [...body.querySelectorAll('[data-start]')].map((p) => {
      const e = /** @type {HTMLElement} */ (p);
      return [e.dataset.start, e.dataset.end, e.textContent, e.dataset.spans ?? '', e.style.boxShadow, e.style.backgroundColor].join('|');
    });
    const rows = [...document.querySelectorAll('.gl-span-list:not(.gl-relation-list) .gl-span-row')].map((r) => r.textContent);
    return { pieces, rows };
  });
  let seed = 7;
  const random = (/** @type {number} */ n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const length = Array.from(text).length;
  /** @type {any[]} */
  let spans = [];
  let next = 0;
  /** @type {{spans: any[], view: unknown}[]} */
  const steps = [];
  await make(cfg, [], { text });
  for (let step = 0; step < 30; step++) {
    const op = spans.length < 3 ? 0 : random(4);
    if (op === 0 || op === 1) {
      const start = random(length - 5);
      spans.push({ id: `s${next++}`, from_name: 'ner', to_name: 'text', type: 'labels', value: { start, end: start + 1 + random(12), labels: [random(2) ? 'PER' : 'LOC'] } });
    } else if (op === 2) {
      const at = random(spans.length);
      const s = spans[at];
      spans[at] = { ...s, value: { ...s.value, end: Math.min(length, s.value.end + 3), labels: [s.value.labels[0] === 'PER' ? 'LOC' : 'PER'] } };
    } else {
      spans.splice(random(spans.length), 1);
    }
    spans = spans.map((s) => ({ ...s, value: { ...s.value, end: Math.min(length, s.value.end) } }));
    await page.evaluate((r) => window.gl.ws().setResult(r), spans);
    steps.push({ spans: structuredClone(spans), view: await drawn() });
  }
  for (const [step, { spans: at, view }] of steps.entries()) {
    await make(cfg, at, { text });
    assert.deepEqual(view, await drawn(), `step ${step}`);
  }
});

test('no errors or CSP violations on the page', () => {
  assert.deepEqual(pageErrors, []);
});
