// Keypoints with a skeleton, ellipses, polylines, numbers and brush masks
// end to end: a real `gloss serve`, a project whose label config has them,
// one imported image, the labeling page in Debian's Chromium at 1280×720,
// and the annotation as the server stored and exports it.
// Run: cd web && node --test tests/vision.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, dragMouse, importFiles, launchBrowser, png, recordErrors, signIn, startGloss, tokenFor, ADMIN_PASSWORD, BRUSH_CONFIG, VISION_CONFIG } from './support.mjs';
import { paintLine, pixelsOf, sorted, bboxOf } from './masks-support.mjs';
import { countsFromString } from '../app/labeling/rle.js';

const PASSWORD = 'annotator-password';

/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {string} */
let admin;
let projectId = 0;
let taskId = 0;
/** Errors any page logged; none are expected. @type {string[]} */
const pageErrors = [];

before(async () => {
  gloss = await startGloss();
  browser = await launchBrowser();
  admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'ann1', password: PASSWORD, role: 'annotator' })).status, 201);
  const project = await api(gloss.base, admin, 'POST', '/projects', { name: 'Poses', label_config: VISION_CONFIG });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  projectId = project.body.id;
  await importFiles(gloss.base, admin, projectId, [{ name: 'person.png', bytes: png(320, 240, [90, 140, 200]) }]);
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username: 'ann1', role: 'annotator' })).status, 200);
  taskId = (await api(gloss.base, admin, 'GET', `/projects/${projectId}/tasks?limit=1`)).body.items[0].id;
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

/**
 * The annotator's labeling page of a project at 1280×720, in a browser
 * context of its own, and the overlay canvas's box.
 * @param {number} project
 */
async function openLabeling(project) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${project}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const box = await page.locator('.gl-overlay-canvas').boundingBox();
  assert.ok(box);
  return { context, page, box };
}

test('an annotator places a skeleton with an absent and an occluded joint, an ellipse with a number, a polyline, and submits', async () => {
  const { context, page, box } = await openLabeling(projectId);
  /** A client point at fractions of the canvas (which shows the whole image with margins). */
  const at = (/** @type {number} */ fx, /** @type {number} */ fy) => [box.x + box.width * fx, box.y + box.height * fy];
  const click = async (/** @type {number} */ fx, /** @type {number} */ fy) => {
    const [x, y] = at(fx, fy);
    await page.mouse.click(x, y);
  };

  // The skeleton: head, hip absent (N), foot; O makes the foot occluded.
  await page.keyboard.press('s');
  await click(0.3, 0.2);
  await page.keyboard.press('n');
  await click(0.32, 0.75);
  await page.waitForFunction(() => /Joint foot/.test(document.querySelector('.gl-hint')?.textContent ?? ''));
  await page.keyboard.press('o');

  // A Ball ellipse with its per-region confidence.
  await page.keyboard.press('e');
  await dragMouse(page.mouse, at(0.55, 0.3), at(0.75, 0.55));
  await page.fill('.gl-attributes [data-control=confidence] input', '0.8');
  await page.locator('.gl-attributes [data-control=confidence] input').press('Escape');

  // A lane: two clicks and a double-click.
  await page.keyboard.press('l');
  await click(0.1, 0.9);
  await click(0.5, 0.85);
  const [lx, ly] = at(0.9, 0.9);
  await page.mouse.dblclick(lx, ly);
  await page.fill('[data-control=people] input', '1');

  // At 1280×720 the page fits the window, the region attributes included.
  const layout = await page.evaluate(() => {
    const bottom = (/** @type {string} */ selector) => document.querySelector(selector)?.getBoundingClientRect().bottom ?? Infinity;
    return { page: document.documentElement.scrollHeight, window: innerHeight, submit: bottom('#submit'), attributes: bottom('.gl-attributes'), people: bottom('[data-control=people] input') };
  });
  assert.ok(Object.values(layout).every((v) => v <= layout.window), JSON.stringify(layout));
  const rows = await page.$$eval('.gl-region-row:not([hidden]) .gl-region-text', (r) => r.map((row) => row.textContent));
  assert.deepEqual(rows, ['1. person · 2/3 joints', '2. Ball · ellipse', '3. Lane · polyline']);

  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done');
  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${taskId}`);
  assert.equal(detail.annotations.length, 1);
  const result = detail.annotations[0].result;
  const points = result.filter((/** @type {any} */ item) => item.type === 'keypointlabels');
  assert.deepEqual(points.map((/** @type {any} */ p) => p.value.keypointlabels[0]), ['head', 'foot'], 'the absent hip has no result');
  assert.equal(points[0].parentID, points[1].parentID);
  assert.ok(points[0].parentID && !result.some((/** @type {any} */ item) => item.id === points[0].parentID));
  assert.equal(points[0].value.visibility, undefined);
  assert.equal(points[1].value.visibility, 'occluded');
  assert.ok(points[1].value.y > points[0].value.y + 30, JSON.stringify(points));
  const ellipse = result.find((/** @type {any} */ item) => item.type === 'ellipselabels');
  assert.deepEqual(ellipse.value.ellipselabels, ['Ball']);
  assert.ok(ellipse.value.radiusX > 5 && ellipse.value.radiusY > 5 && ellipse.value.x > 50 && ellipse.value.x < 100, JSON.stringify(ellipse.value));
  assert.equal(ellipse.original_width, 320);
  const confidence = result.find((/** @type {any} */ item) => item.from_name === 'confidence');
  assert.equal(confidence.id, ellipse.id);
  assert.equal(confidence.value.number, 0.8);
  const lane = result.find((/** @type {any} */ item) => item.type === 'polylinelabels');
  assert.equal(lane.value.points.length, 3, JSON.stringify(lane.value.points));
  const people = result.find((/** @type {any} */ item) => item.from_name === 'people');
  assert.deepEqual(people.value, { number: 1 });
  assert.equal(result.length, 6);
  await context.close();
});

test('an annotator paints a mask and erases part of it; the server stores it and exports the same pixels as COCO RLE', async () => {
  const project = await api(gloss.base, admin, 'POST', '/projects', { name: 'Masks', label_config: BRUSH_CONFIG });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  const id = project.body.id;
  await importFiles(gloss.base, admin, id, [{ name: 'street.png', bytes: png(320, 240, [120, 120, 120]) }]);
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${id}/members`, { username: 'ann1', role: 'annotator' })).status, 200);
  const { context, page, box } = await openLabeling(id);
  const task = Number(await page.locator('#workspace').getAttribute('data-task'));
  const at = (/** @type {number} */ fx, /** @type {number} */ fy) => [Math.round(box.x + box.width * fx), Math.round(box.y + box.height * fy)];

  // The brush is the config's only tool; 10 → 12 → 14 → 17 pixels wide.
  assert.equal(await page.locator('.gl-tool.gl-on').textContent(), 'Brush');
  for (let i = 0; i < 3; i++) await page.keyboard.press(']');
  assert.equal(await page.locator('input[aria-label="Brush size"]').inputValue(), '17');
  const painted = await paintLine(page, at(0.3, 0.45), at(0.7, 0.45), 17);
  // Shift+drag down across the stroke erases a band from it.
  await page.keyboard.down('Shift');
  const erased = await paintLine(page, at(0.5, 0.3), at(0.5, 0.6), 17);
  await page.keyboard.up('Shift');
  const expected = new Set([...painted].filter((p) => !erased.has(p)));
  assert.ok(expected.size > 500 && expected.size < painted.size);
  assert.deepEqual(await page.$$eval('.gl-region-row:not([hidden]) .gl-region-text', (r) => r.map((row) => row.textContent)), ['1. Road · mask']);
  const layout = await page.evaluate(() => ({ page: document.documentElement.scrollHeight, window: innerHeight, submit: document.querySelector('#submit')?.getBoundingClientRect().bottom ?? Infinity }));
  assert.ok(layout.page <= layout.window && layout.submit <= layout.window, JSON.stringify(layout));

  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done');
  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${task}`);
  const [mask] = detail.annotations[0].result;
  assert.equal(detail.annotations[0].result.length, 1);
  assert.equal(mask.type, 'brushlabels');
  assert.deepEqual(mask.value.brushlabels, ['Road']);
  assert.equal(mask.value.format, 'coco_rle');
  assert.deepEqual([mask.original_width, mask.original_height], [320, 240]);
  assert.deepEqual(sorted(pixelsOf(countsFromString(mask.value.counts), 240)), sorted(expected), 'the stored mask is the pixels painted');

  // The COCO export decodes the mask on the server and writes it as COCO RLE: the same counts, area and bbox.
  const exported = await fetch(`${gloss.base}/api/v1/projects/${id}/export?format=coco&images=false`, { headers: { Authorization: `Bearer ${admin}` } });
  assert.equal(exported.status, 200);
  const coco = await exported.json();
  assert.equal(coco.annotations.length, 1, JSON.stringify(coco.annotations));
  const [annotation] = coco.annotations;
  assert.equal(coco.categories.find((/** @type {any} */ c) => c.id === annotation.category_id).name, 'Road');
  assert.deepEqual(annotation.segmentation, { size: [240, 320], counts: mask.value.counts });
  assert.equal(annotation.area, expected.size);
  assert.deepEqual(annotation.bbox, bboxOf(expected));
  await context.close();
});

test('a big image is decoded and halved in the worker under the app\'s CSP, then drawn', async () => {
  const project = await api(gloss.base, admin, 'POST', '/projects', { name: 'Big', label_config: BRUSH_CONFIG });
  const id = project.body.id;
  await importFiles(gloss.base, admin, id, [{ name: 'big.png', bytes: png(2400, 1800, [40, 160, 90]) }]);
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${id}/members`, { username: 'ann1', role: 'annotator' })).status, 200);
  const { context, page } = await openLabeling(id);
  await page.waitForFunction(() => {
    const canvas = /** @type {HTMLCanvasElement | null} */ (document.querySelector('.gl-image-canvas'));
    if (!canvas) return false;
    const [r, g, b, a] = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')).getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
    return a === 255 && g > r && g > b;
  }, null, { timeout: 15_000 });
  // The worker fetched the image itself (the page's CSP lets it: same origin).
  const worker = page.workers().find((w) => w.url().endsWith('/labeling/image-worker.js'));
  assert.ok(worker, page.workers().map((w) => w.url()).join());
  const fetched = await worker.evaluate(() => performance.getEntriesByType('resource').map((e) => [e.name, /** @type {PerformanceResourceTiming} */ (e).responseStatus]));
  assert.equal(fetched.length, 1, JSON.stringify(fetched));
  assert.equal(fetched[0][1], 200, JSON.stringify(fetched));
  await context.close();
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
