// The browser app's core flows in Firefox: a real `gloss serve`, Debian's
// Firefox ESR driven over WebDriver BiDi by puppeteer-core (playwright-core
// needs its own patched Firefox build). Run: cd web && node --test tests/firefox.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)
//
// Without Firefox the tests are skipped, unless CI is set: then they fail.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { api, dragMouse, importFiles, png, startGloss, tokenFor, ADMIN_PASSWORD, BRUSH_CONFIG, IMAGE_CONFIG as CONFIG, VISION_CONFIG } from './support.mjs';
import { paintLine, pixelsOf, sorted } from './masks-support.mjs';
import { countsFromString } from '../app/labeling/rle.js';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const PASSWORD = 'annotator-password';
/** node:test's skip option: a reason when Firefox is missing outside CI. */
const skip = !existsSync(FIREFOX) && !process.env.CI
  ? `Firefox not found at ${FIREFOX} (Debian: apt-get install -y firefox-esr, or set FIREFOX); set CI to make this an error`
  : false;


/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('puppeteer-core').Browser} */
let browser;
/** @type {string} */
let admin;
/** @type {string} */
let annotator;
let projectId = 0;
/** Errors any page logged; none are expected. @type {string[]} */
const pageErrors = [];

/** @param {string | null} token @param {string} method @param {string} path @param {unknown} [body] */
async function call(token, method, path, body) {
  const answer = await api(gloss.base, token, method, path, body);
  if (answer.status >= 400) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

before(async () => {
  if (skip) return;
  assert.ok(existsSync(FIREFOX), `Firefox not found at ${FIREFOX} (CI is set, so the Firefox tests must run)`);
  gloss = await startGloss();
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    // A fresh temporary profile (puppeteer's default), with nothing that
    // reaches out to the network on its own.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.downloads.remote.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
    // The smallest window the app is made for.
    defaultViewport: { width: 1280, height: 720 },
  });
  admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  await call(admin, 'POST', '/users', { username: 'ann1', password: PASSWORD, role: 'annotator' });
  annotator = await tokenFor(gloss.base, 'ann1', PASSWORD);

  const project = await call(admin, 'POST', '/projects', { name: 'Street scenes', label_config: CONFIG });
  projectId = project.id;
  await importFiles(gloss.base, admin, projectId, [
    { name: 'a.png', bytes: png(320, 240, [200, 60, 60]) },
    { name: 'b.png', bytes: png(320, 240, [60, 200, 60]) },
    { name: 'c.png', bytes: png(320, 240, [60, 60, 200]) },
  ]);
  await call(admin, 'POST', `/projects/${projectId}/members`, { username: 'ann1', role: 'annotator' });
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

/** A page in a fresh browser context (its own cookies: a different browser, as far as the server knows). */
async function newPage() {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  // Firefox reports script errors and Content Security Policy violations as
  // page errors.
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  // Firefox's console messages name a logged Error object only as a handle
  // ("JSHandle@error"), so the page logs errors as their text and stack.
  await page.evaluateOnNewDocument(() => {
    const logError = console.error.bind(console);
    console.error = (...args) => logError(...args.map((arg) => (arg instanceof Error ? `${arg.name}: ${arg.message}\n${arg.stack}` : arg)));
  });
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('response', (response) => {
    // Failed requests, but for the missing favicon and the session check of
    // a browser not signed in yet.
    const path = new URL(response.url()).pathname;
    const expected = path === '/favicon.ico' || (response.status() === 401 && path === '/api/v1/auth/session');
    if (response.status() >= 400 && !expected) pageErrors.push(`${response.status()} ${response.url()}`);
  });
  return page;
}

/**
 * Signs in through the sign-in page.
 * @param {import('puppeteer-core').Page} page @param {string} username @param {string} password
 */
async function signIn(page, username, password) {
  await page.goto(`${gloss.base}/login`);
  await page.waitForSelector('#login input[name=username]');
  await page.type('#login input[name=username]', username);
  await page.type('#login input[name=password]', password);
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => !location.pathname.startsWith('/login'));
  // The page signed in to has rendered: a test that goes elsewhere before
  // then cuts its requests short, and Firefox still runs the page's error
  // handling for them ("NetworkError when attempting to fetch resource").
  await page.waitForFunction(() => (document.querySelector('main.page')?.childElementCount ?? 0) > 0);
}

/** @param {import('puppeteer-core').Page} page @param {string} selector */
function text(page, selector) {
  return page.$eval(selector, (element) => element.textContent ?? '');
}

/** The overlay canvas's box on the page. @param {import('puppeteer-core').Page} page */
async function canvasBox(page) {
  const canvas = await page.$('.gl-overlay-canvas');
  const box = await canvas?.boundingBox();
  assert.ok(box, 'the labeling canvas is on screen');
  return box;
}

/** @param {import('puppeteer-core').Page} page */
async function regionCount(page) {
  return Number(/\((\d+)\)/.exec(await text(page, '.gl-regions .gl-panel-title'))?.[1] ?? NaN);
}

/**
 * A key with modifiers held (puppeteer presses one key at a time).
 * @param {import('puppeteer-core').Page} page
 * @param {import('puppeteer-core').KeyInput[]} modifiers
 * @param {import('puppeteer-core').KeyInput} key
 */
async function chord(page, modifiers, key) {
  for (const modifier of modifiers) await page.keyboard.down(modifier);
  await page.keyboard.press(key);
  for (const modifier of [...modifiers].reverse()) await page.keyboard.up(modifier);
}

test('an admin signs in through the sign-in page and sees the project', { skip }, async () => {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.waitForSelector(`[data-project="${projectId}"] .progress`);
  assert.match(await text(page, `[data-project="${projectId}"]`), /0 \/ 3 completed/);
  await page.browserContext().close();
});

/** @type {import('puppeteer-core').Page} */
let labeling;

test('an annotator draws a box and a polygon, picks a class, undoes and redoes, the draft is saved, and submits', { skip }, async () => {
  const page = labeling = await newPage();
  await signIn(page, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const taskId = Number(await page.$eval('#workspace', (element) => element.getAttribute('data-task')));
  assert.equal(await text(page, '#task-status'), `Task #${taskId}`);
  // At 1280×720 the page fits the window: the submit button and the last
  // row of options show without scrolling.
  const layout = await page.evaluate(() => {
    const bottom = (/** @type {string} */ selector) => document.querySelector(selector)?.getBoundingClientRect().bottom ?? Infinity;
    return { page: document.documentElement.scrollHeight, window: innerHeight, submit: bottom('#submit'), choices: bottom('.gl-workspace input[type=checkbox]') };
  });
  assert.ok(layout.page <= layout.window && layout.submit <= layout.window && layout.choices <= layout.window, JSON.stringify(layout));
  const box = await canvasBox(page);
  const at = (/** @type {number} */ fx, /** @type {number} */ fy) => [box.x + box.width * fx, box.y + box.height * fy];

  // A Car box: its label by hotkey, then a drag on the canvas.
  await page.keyboard.press('1');
  const [x1, y1] = at(0.3, 0.3);
  const [x2, y2] = at(0.5, 0.55);
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, { steps: 3 });
  await page.mouse.move(x2, y2, { steps: 3 });
  await page.mouse.up();
  assert.equal(await regionCount(page), 1, 'the box was drawn');

  // A Road polygon: three clicks and Enter.
  await page.keyboard.press('p');
  await page.keyboard.press('3');
  for (const [fx, fy] of [[0.1, 0.8], [0.9, 0.8], [0.5, 0.65]]) {
    const [x, y] = at(fx, fy);
    await page.mouse.click(x, y);
  }
  await page.keyboard.press('Enter');
  assert.equal(await regionCount(page), 2, 'the polygon was drawn');

  // The scene class by hotkey, then undo and redo both edits.
  await page.keyboard.press('4');
  await chord(page, ['Control'], 'z');
  await chord(page, ['Control'], 'z');
  assert.equal(await regionCount(page), 1, 'undo took back the class and the polygon');
  await chord(page, ['Control', 'Shift'], 'z');
  await chord(page, ['Control', 'Shift'], 'z');
  assert.equal(await regionCount(page), 2, 'redo brought both back');

  // The draft is saved within two seconds, with all three items.
  await page.waitForFunction(() => document.querySelector('#draft-status')?.textContent === 'Draft saved', { timeout: 5000 });
  const draft = await call(annotator, 'GET', `/tasks/${taskId}/draft`);
  assert.deepEqual(draft.result.map((/** @type {any} */ item) => item.type).sort(), ['choices', 'polygonlabels', 'rectanglelabels']);

  await chord(page, ['Control'], 'Enter');
  await page.waitForFunction((first) => {
    const shown = document.querySelector('#workspace')?.getAttribute('data-task');
    return shown && Number(shown) !== first;
  }, {}, taskId);

  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${taskId}`);
  assert.equal(detail.annotations.length, 1);
  const result = detail.annotations[0].result;
  const byType = Object.fromEntries(result.map((/** @type {any} */ item) => [item.type, item]));
  assert.deepEqual(byType.rectanglelabels.value.rectanglelabels, ['Car']);
  assert.deepEqual(byType.polygonlabels.value.polygonlabels, ['Road']);
  assert.equal(byType.polygonlabels.value.points.length, 3);
  assert.deepEqual(byType.choices.value.choices, ['Day']);
  // The box was drawn from 30% to 50% across and 30% to 55% down the canvas,
  // which shows the whole image with margins: it lies inside that span, in
  // percent of the image.
  const rect = byType.rectanglelabels.value;
  assert.ok(rect.width > 5 && rect.height > 5 && rect.x > 0 && rect.y > 0 && rect.x + rect.width < 100 && rect.y + rect.height < 100, JSON.stringify(rect));
  assert.equal(byType.rectanglelabels.original_width, 320);
  assert.equal(byType.rectanglelabels.original_height, 240);
  for (const [px, py] of byType.polygonlabels.value.points) assert.ok(px >= 0 && px <= 100 && py >= 0 && py <= 100, JSON.stringify(byType.polygonlabels.value.points));
});

test('the mouse wheel zooms the canvas, and the zoom shown changes', { skip }, async () => {
  const page = labeling;
  await page.waitForSelector('#workspace[data-task]');
  const zoom = () => text(page, '.gl-status span:last-child');
  const before = await zoom();
  assert.match(before, /^\d+%$/);
  const box = await canvasBox(page);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel({ deltaY: -300 });
  await page.waitForFunction((was) => {
    const shown = document.querySelector('.gl-status span:last-child')?.textContent;
    return shown !== was;
  }, { timeout: 3000 }, before);
  const zoomed = await zoom();
  assert.ok(parseInt(zoomed, 10) > parseInt(before, 10), `zoomed in: ${before} → ${zoomed}`);
  // A real mouse wheel in Firefox scrolls by lines (deltaMode 1), three a
  // notch: one notch back out zooms about as much as 48 pixels would.
  await page.$eval('.gl-overlay-canvas', (canvas) => {
    const { left, top, width, height } = canvas.getBoundingClientRect();
    canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: 3, deltaMode: 1, clientX: left + width / 2, clientY: top + height / 2, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction((was) => document.querySelector('.gl-status span:last-child')?.textContent !== was, { timeout: 3000 }, zoomed);
  const out = parseInt(await zoom(), 10) / parseInt(zoomed, 10);
  assert.ok(out > 0.85 && out < 0.95, `one line-mode notch out: ${zoomed} → ${await zoom()}`);
  await page.browserContext().close();
});

/**
 * A project of `config` with one 320×240 image, its labeling page opened
 * by the annotator: the page, the task and the canvas's box.
 * @param {string} name @param {string} config
 */
async function labelOneImage(name, config) {
  const project = await call(admin, 'POST', '/projects', { name, label_config: config });
  await importFiles(gloss.base, admin, project.id, [{ name: `${name}.png`, bytes: png(320, 240, [90, 140, 200]) }]);
  await call(admin, 'POST', `/projects/${project.id}/members`, { username: 'ann1', role: 'annotator' });
  const page = await newPage();
  await signIn(page, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${project.id}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const taskId = Number(await page.$eval('#workspace', (element) => element.getAttribute('data-task')));
  return { page, taskId, box: await canvasBox(page) };
}

test('a skeleton with a skipped and an occluded joint and an ellipse are drawn and submitted', { skip }, async () => {
  const { page, taskId, box } = await labelOneImage('Poses', VISION_CONFIG);
  const at = (/** @type {number} */ fx, /** @type {number} */ fy) => [box.x + box.width * fx, box.y + box.height * fy];

  // Head, hip absent (N), foot; O makes the foot occluded.
  await page.keyboard.press('s');
  await page.mouse.click(...at(0.4, 0.2));
  await page.keyboard.press('n');
  await page.mouse.click(...at(0.42, 0.8));
  await page.keyboard.press('o');
  // An ellipse, corner to corner.
  await page.keyboard.press('e');
  await dragMouse(page.mouse, at(0.55, 0.3), at(0.65, 0.5));
  assert.equal(await regionCount(page), 2);

  await chord(page, ['Control'], 'Enter');
  await page.waitForSelector('#queue-done');
  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${taskId}`);
  const result = detail.annotations[0].result;
  const points = result.filter((/** @type {any} */ item) => item.type === 'keypointlabels');
  assert.deepEqual(points.map((/** @type {any} */ p) => [p.value.keypointlabels[0], p.value.visibility ?? 'visible']), [['head', 'visible'], ['foot', 'occluded']]);
  assert.equal(points[0].parentID, points[1].parentID);
  const ellipse = result.find((/** @type {any} */ item) => item.type === 'ellipselabels');
  assert.ok(ellipse.value.radiusX > 2 && ellipse.value.radiusY > 2 && ellipse.value.rotation === 0, JSON.stringify(ellipse.value));
  await page.browserContext().close();
});

test('a mask is painted, part of it erased, and submitted: the stored counts are the pixels painted', { skip }, async () => {
  const { page, taskId, box } = await labelOneImage('Masks', BRUSH_CONFIG);
  const at = (/** @type {number} */ fx, /** @type {number} */ fy) => [Math.round(box.x + box.width * fx), Math.round(box.y + box.height * fy)];

  // 10 → 8 → 6 → 5 pixels wide: odd, so the brush centres on the pixel under the pointer.
  for (let i = 0; i < 3; i++) await page.keyboard.press('[');
  const painted = await paintLine(page, at(0.3, 0.5), at(0.6, 0.5), 5);
  await page.keyboard.down('Shift');
  const erased = await paintLine(page, at(0.45, 0.4), at(0.45, 0.6), 5);
  await page.keyboard.up('Shift');
  const expected = new Set([...painted].filter((p) => !erased.has(p)));
  assert.equal(await regionCount(page), 1);

  await chord(page, ['Control'], 'Enter');
  await page.waitForSelector('#queue-done');
  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${taskId}`);
  const [mask] = detail.annotations[0].result;
  assert.equal(mask.value.format, 'coco_rle');
  assert.deepEqual(sorted(pixelsOf(countsFromString(mask.value.counts), 240)), sorted(expected));
  await page.browserContext().close();
});

test('the admin sees the tasks in the data manager', { skip }, async () => {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/data`);
  await page.waitForFunction(() => {
    const wrap = document.querySelector('.dm-table-wrap');
    return wrap && !wrap.classList.contains('loading') && document.querySelectorAll('#dm-table tbody tr').length === 3;
  }, { timeout: 5000 });
  assert.equal(await text(page, '#dm-total'), '3 tasks');
  const { items } = await call(admin, 'GET', `/projects/${projectId}/tasks?limit=10`);
  const shown = await page.$$eval('#dm-table tbody tr', (rows) => rows.map((row) => Number(row.getAttribute('data-id'))));
  assert.deepEqual(shown.sort(), items.map((/** @type {any} */ task) => task.id).sort());
  await page.browserContext().close();
});

test('leaving a page while it loads shows and logs no error', { skip }, async () => {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  // The moment "Something went wrong" is shown, logged as an error.
  await page.evaluateOnNewDocument(() => {
    new MutationObserver(() => {
      if (document.querySelector('main.page h1')?.textContent === 'Something went wrong') console.error('the page showed "Something went wrong"');
    }).observe(document, { childList: true, subtree: true });
  });
  const before = pageErrors.length;
  // Each page is left at a different moment of its loading: Firefox cuts
  // its requests short then.
  for (let i = 0; i < 12; i++) {
    await page.goto(`${gloss.base}/`, { waitUntil: 'domcontentloaded' });
    await new Promise((resolve) => setTimeout(resolve, (i % 6) * 4));
    await page.goto(`${gloss.base}/projects/${projectId}/data`, { waitUntil: 'domcontentloaded' });
    await new Promise((resolve) => setTimeout(resolve, (i % 4) * 5));
  }
  await page.waitForSelector('#dm-table tbody tr');
  assert.deepEqual(pageErrors.slice(before), []);
  await page.browserContext().close();
});

test('no page logged an error', { skip }, () => {
  assert.deepEqual(pageErrors, []);
});
