// Video frames in Firefox: the workspace test page in Debian's Firefox ESR
// (driven over WebDriver BiDi by puppeteer-core), seeking and stepping the
// generated VFR H.264 video (when this Firefox decodes H.264: it needs
// ffmpeg's libraries), with the element and, served with its sample table,
// with WebCodecs, and the VP9 WebM clip, each frame read back from the
// pattern drawn in it. Run: cd web && node --test tests/video-firefox.test.mjs
//
// Without Firefox the tests are skipped, unless CI is set: then they fail.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { serve } from './static-server.mjs';
import { videoFixtures, vfrCopyWithSamples, VFR_FRAMES, WEBM_FRAMES } from './video-fixtures.mjs';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const skip = !existsSync(FIREFOX) && !process.env.CI
  ? `Firefox not found at ${FIREFOX} (Debian: apt-get install -y firefox-esr, or set FIREFOX); set CI to make this an error`
  : false;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = {
  objects: [{ kind: 'Video', name: 'video', value: 'video', attributes: { frameRate: '25' } }],
  controls: [{ kind: 'VideoRectangle', name: 'box', to_names: ['video'], labels: [], labels_from: null, choice: null, per_region: false, required: false, attributes: {} }],
  layout: [{ node: 'view', attributes: {}, children: [{ node: 'object', name: 'video' }, { node: 'control', name: 'box' }] }],
};

/** @type {Awaited<ReturnType<typeof serve>>} */
let server;
/** @type {import('puppeteer-core').Browser} */
let browser;
/** @type {import('puppeteer-core').Page} */
let page;
/** @type {string[]} */
const pageErrors = [];

before(async () => {
  if (skip) return;
  await videoFixtures();
  server = await serve(repoRoot);
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: { 'app.update.enabled': false, 'network.captive-portal-service.enabled': false, 'network.connectivity-service.enabled': false, 'media.autoplay.default': 0 },
    defaultViewport: { width: 1280, height: 800 },
  });
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${server.url}/web/tests/pages/workspace.html`);
  await page.waitForFunction(() => 'gl' in window);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Opens a video (unless `url` is null: the one open) and checks the frames
 * shown at `seeks`, then while stepping forward with → from the last.
 * @param {string | null} url @param {number[]} seeks @param {number} steps
 */
async function checkFrames(url, seeks, steps) {
  if (url) await page.evaluate(async (u, c) => { await window.gl.make(c, [], { video: u }); }, url, CONFIG);
  const name = url ?? 'the video open';
  const shown = () => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
    resolve({ frame: window.gl.video().player.frame, source: window.gl.shownPattern('source'), canvas: window.gl.shownPattern('canvas') });
  }))));
  for (const i of seeks) {
    await page.evaluate((f) => window.gl.video().player.seek(f), i);
    assert.deepEqual(await shown(), { frame: i, source: i, canvas: i }, `${name}: frame ${i}`);
  }
  let i = seeks[seeks.length - 1];
  for (let n = 0; n < steps; n++) {
    await page.keyboard.press('ArrowRight');
    i++;
    await page.waitForFunction((f) => window.gl.video().player.frame === f && !window.gl.video().player.seeking, {}, i);
    assert.deepEqual(await shown(), { frame: i, source: i, canvas: i }, `${name}: stepped to frame ${i}`);
  }
}

test('VFR H.264 with B-frames: seeks and steps show exactly the frame asked for', { skip }, async (t) => {
  const h264 = await page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.64001e"'));
  if (!h264) return t.skip('this Firefox does not decode H.264 (ffmpeg\'s libraries are missing); the WebM test below covers stepping');
  await checkFrames('/api/v1/media/vfr.mp4', [0, VFR_FRAMES - 1, 1, 29, 30, 31, 61, 97, 148, 10], 30);
  // Which read frames ahead: the element, or WebCodecs where a sample table is served.
  t.diagnostic(`read ahead by: ${await page.evaluate(() => window.gl.video().player.decoder)}`);
});

test('H.264 with a sample table: WebCodecs seeks pass by B-frames no picture refers to, and show exactly the frame asked for', { skip }, async (t) => {
  const h264 = await page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.64001e"'));
  if (!h264) return t.skip('this Firefox does not decode H.264 (ffmpeg\'s libraries are missing)');
  vfrCopyWithSamples('vfr-firefox.mp4');
  await page.evaluate(async (u, c) => { await window.gl.make(c, [], { video: u }); }, '/api/v1/media/vfr-firefox.mp4', CONFIG);
  const decoder = await page.evaluate(() => window.gl.video().player.decoder);
  if (decoder !== 'webcodecs') return t.skip(`this Firefox reads ahead with the ${decoder}, not WebCodecs`);
  // A small window, so that seeks late in a group pass samples by.
  await page.evaluate(() => {
    const cache = window.gl.video().player.cache;
    cache.limit = 12;
    cache.evict();
  });
  await checkFrames(null, [37, 140, 2, 119, 61, 143, 90, 28], 12);
  const passedBy = await page.evaluate(() => /** @type {any} */ (window.gl.video().player.readAhead).passedBy);
  assert.ok(passedBy >= 20, `${passedBy} samples passed by`);
  assert.equal(await page.evaluate(() => window.gl.video().player.decoder), 'webcodecs');
});

test('VP9 WebM: seeks and steps show exactly the frame asked for', { skip }, async () => {
  await checkFrames('/api/v1/media/clip.webm', [0, WEBM_FRAMES - 1, 1, 24, 25, 40, 10], 20);
});

test('no page logged an error', { skip }, () => {
  assert.deepEqual(pageErrors, []);
});
