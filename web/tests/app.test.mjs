// The browser app end to end: a real `gloss serve`, Debian's Chromium, real
// clicks and keys. Run: cd web && node --test tests/app.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, launchBrowser, png, signIn, startGloss, tokenFor, ADMIN_PASSWORD, IMAGE_CONFIG as CONFIG, recordErrors } from './support.mjs';

const PASSWORD = 'annotator-password';


/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {string} */
let admin;
/** @type {number} */
let projectId;
/** Errors any page logged; none are expected. @type {string[]} */
const pageErrors = [];

before(async () => {
  gloss = await startGloss();
  browser = await launchBrowser();
  admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  for (const username of ['ann1', 'ann2', 'outsider']) {
    const { status } = await api(gloss.base, admin, 'POST', '/users', { username, password: PASSWORD, role: 'annotator' });
    assert.equal(status, 201);
  }
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

/** A fresh browser context (its own cookies: a different browser, as far as the server knows). */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  return page;
}

/** The overlay canvas's top-left corner on the page. @param {import('playwright-core').Page} page */
async function canvasBox(page) {
  const box = await page.locator('.gl-overlay-canvas').boundingBox();
  assert.ok(box, 'the labeling canvas is on screen');
  return box;
}

/** @param {import('playwright-core').Page} page */
async function regionCount(page) {
  const title = await page.locator('.gl-regions .gl-panel-title').textContent();
  return Number(/\((\d+)\)/.exec(title ?? '')?.[1] ?? NaN);
}

test('a manager creates a project from a template, imports three images and adds annotators', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'admin', ADMIN_PASSWORD);
  await page.click('#new-project');
  await page.click('[data-template=image-polygons]');
  assert.match(await page.inputValue('#label-config'), /<PolygonLabels/);
  await page.waitForSelector('#config-preview .gl-overlay-canvas');

  // A Label Studio config pasted over the template, with a mistake first.
  await page.fill('#label-config', CONFIG.replace('name="scene" toName="image"', 'name="scene" toName="picture"'));
  await page.waitForSelector('#config-problems li');
  assert.match(await page.textContent('#config-problems'), /line 10/);
  await page.fill('#label-config', CONFIG);
  await page.waitForFunction(() => document.querySelector('#config-status')?.textContent === 'The config is valid.');
  await page.fill('#project-name', 'Street scenes');
  await page.click('#create-project');
  await page.waitForURL(/\/projects\/\d+\/import$/);
  projectId = Number(/projects\/(\d+)/.exec(page.url())?.[1]);

  await page.setInputFiles('#import-files', [
    { name: 'a.png', mimeType: 'image/png', buffer: png(320, 240, [200, 60, 60]) },
    { name: 'b.png', mimeType: 'image/png', buffer: png(320, 240, [60, 200, 60]) },
    { name: 'c.png', mimeType: 'image/png', buffer: png(320, 240, [60, 60, 200]) },
  ]);
  await page.waitForSelector('#import-done');
  assert.match(await page.textContent('#import-done'), /Imported 3 tasks/);

  await page.goto(`${gloss.base}/projects/${projectId}/members`);
  for (const username of ['ann1', 'ann2']) {
    await page.fill('#member-username', username);
    await page.selectOption('#member-role', 'annotator');
    await page.click('#add-member button[type=submit]');
    await page.waitForSelector(`#members tr[data-username=${username}]`);
  }
  await page.goto(`${gloss.base}/`);
  await page.waitForSelector(`[data-project="${projectId}"] .progress`);
  assert.match(await page.textContent(`[data-project="${projectId}"]`), /0 \/ 3 completed/);
  await page.context().close();
});

test('an annotator draws a box and a polygon, picks a class, undoes and redoes, and submits', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}`);
  await page.click('#start-labeling');
  await page.waitForSelector('#workspace[data-task]');
  const firstTask = await page.textContent('#task-status');
  const box = await canvasBox(page);
  const at = (/** @type {number} */ fx, /** @type {number} */ fy) => [box.x + box.width * fx, box.y + box.height * fy];

  await page.keyboard.press('b');
  await page.keyboard.press('1');
  const [x1, y1] = at(0.3, 0.3);
  const [x2, y2] = at(0.5, 0.55);
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, { steps: 3 });
  await page.mouse.move(x2, y2, { steps: 3 });
  await page.mouse.up();
  assert.equal(await regionCount(page), 1);

  await page.keyboard.press('p');
  await page.keyboard.press('3');
  for (const [fx, fy] of [[0.1, 0.8], [0.9, 0.8], [0.5, 0.65]]) {
    const [x, y] = at(fx, fy);
    await page.mouse.click(x, y);
  }
  await page.keyboard.press('Enter');
  assert.equal(await regionCount(page), 2);

  await page.keyboard.press('4');
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  assert.equal(await regionCount(page), 1, 'undo took back the class and the polygon');
  await page.keyboard.press('Control+Shift+z');
  await page.keyboard.press('Control+Shift+z');
  assert.equal(await regionCount(page), 2, 'redo brought both back');

  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((first) => {
    const ready = document.querySelector('#workspace')?.getAttribute('data-task');
    return ready && `Task #${ready}` !== first;
  }, firstTask);

  const taskId = Number(/#(\d+)/.exec(firstTask ?? '')?.[1]);
  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${taskId}`);
  assert.equal(detail.annotations.length, 1);
  const result = detail.annotations[0].result;
  const byType = Object.fromEntries(result.map((/** @type {any} */ item) => [item.type, item]));
  assert.deepEqual(byType.rectanglelabels.value.rectanglelabels, ['Car']);
  assert.deepEqual(byType.polygonlabels.value.polygonlabels, ['Road']);
  assert.equal(byType.polygonlabels.value.points.length, 3);
  assert.deepEqual(byType.choices.value.choices, ['Day']);
  // The box was drawn from 30% to 50% across and 30% to 55% down the canvas,
  // which shows the whole image with margins: it lies inside that span.
  const rect = byType.rectanglelabels.value;
  assert.ok(rect.width > 5 && rect.height > 5 && rect.x > 0 && rect.y > 0, JSON.stringify(rect));
  assert.equal(byType.rectanglelabels.original_width, 320);

  // The draft of the next task survives closing the browser mid-annotation.
  const secondTask = await page.textContent('#task-status');
  await page.keyboard.press('b');
  await page.keyboard.press('2');
  const [a1, b1] = at(0.4, 0.4);
  await page.mouse.move(a1, b1);
  await page.mouse.down();
  await page.mouse.move(a1 + 60, b1 + 40, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('#draft-status')?.textContent === 'Draft saved', null, { timeout: 3000 })
    .catch(async (error) => { throw new Error(`${error.message}: draft status "${await page.textContent('#draft-status')}", regions ${await regionCount(page)}`); });
  await page.context().close();

  const again = await newPage();
  await signIn(again, gloss.base, 'ann1', PASSWORD);
  await again.goto(`${gloss.base}/projects/${projectId}/label`);
  await again.waitForSelector('#workspace[data-task]');
  assert.equal(await again.textContent('#task-status'), secondTask, 'the reserved task comes back');
  assert.equal(await again.textContent('#draft-status'), 'Draft restored');
  assert.equal(await regionCount(again), 1);

  // Another annotator gets a different task meanwhile.
  const other = await newPage();
  await signIn(other, gloss.base, 'ann2', PASSWORD);
  await other.goto(`${gloss.base}/projects/${projectId}/label`);
  await other.waitForSelector('#workspace[data-task]');
  const otherTask = await other.textContent('#task-status');
  assert.notEqual(otherTask, secondTask);
  assert.notEqual(otherTask, firstTask);
  await again.context().close();
  await other.context().close();
});

test('the manager exports COCO with the drawn shapes', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/export`);
  await page.selectOption('#export-format', 'coco');
  await page.uncheck('#export-images');
  const download = page.waitForEvent('download');
  await page.click('#export-start');
  const file = await (await download).path();
  const coco = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(coco.images.length, 3);
  const names = Object.fromEntries(coco.categories.map((/** @type {any} */ c) => [c.id, c.name]));
  const shapes = coco.annotations.map((/** @type {any} */ a) => names[a.category_id]).sort();
  assert.deepEqual(shapes, ['Car', 'Road']);
  const car = coco.annotations.find((/** @type {any} */ a) => names[a.category_id] === 'Car');
  assert.ok(car.bbox[2] > 10 && car.bbox[3] > 10 && car.bbox[0] + car.bbox[2] <= 320, JSON.stringify(car.bbox));
  const road = coco.annotations.find((/** @type {any} */ a) => names[a.category_id] === 'Road');
  assert.equal(road.segmentation[0].length, 6);
  await page.context().close();
});

test('an annotator cannot open another project, and task text is shown as text', async () => {
  const { body: other } = await api(gloss.base, admin, 'POST', '/projects', {
    name: 'Texts',
    label_config: '<View><Text name="text" value="$text"/><Choices name="mood" toName="text"><Choice value="Fine"/></Choices></View>',
  });
  const hostile = '<img src=x id=injected><script>window.injected = 1</script><b>bold</b>';
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${other.id}/tasks`, [{ text: hostile }])).status, 201);

  const page = await newPage();
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  for (const path of [`/projects/${other.id}`, `/projects/${other.id}/label`]) {
    await page.goto(`${gloss.base}${path}`);
    await page.waitForSelector('main h1');
    assert.equal(await page.textContent('main h1'), 'Not found', path);
  }

  await api(gloss.base, admin, 'POST', `/projects/${other.id}/members`, { username: 'ann1', role: 'annotator' });
  await page.goto(`${gloss.base}/projects/${other.id}/label`);
  await page.waitForSelector('.gl-text');
  assert.equal(await page.textContent('.gl-text'), hostile);
  assert.equal(await page.locator('#injected').count(), 0);
  assert.equal(await page.locator('.gl-text b').count(), 0);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).injected), undefined);
  await page.context().close();
});

test('an invitation link signs a new annotator up into the project', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/members`);
  await page.selectOption('#invite-role', 'annotator');
  await page.click('#make-invite button[type=submit]');
  const link = (await page.textContent('#invite-link')) ?? '';
  assert.match(link, /\/invite\/[A-Za-z0-9_-]{20,}$/);

  const newcomer = await newPage();
  await newcomer.goto(link);
  await newcomer.fill('#invite-username', 'newcomer');
  await newcomer.fill('#invite-password', PASSWORD);
  await newcomer.fill('#invite-repeat', PASSWORD);
  await newcomer.click('#accept-invite button[type=submit]');
  await newcomer.waitForURL(`${gloss.base}/projects/${projectId}`);
  assert.match(await newcomer.textContent('.project-title'), /your role: annotator/);

  // The link worked once.
  const late = await newPage();
  await late.goto(link);
  await late.waitForSelector('.card .error');
  assert.match(await late.textContent('.card .error'), /does not work/);
  await page.context().close();
  await newcomer.context().close();
  await late.context().close();
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
