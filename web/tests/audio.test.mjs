// Speech end to end: a real `gloss serve`, a project with an Audio, a
// Labels control of speakers and a per-region TextArea for transcripts, a
// generated WAV uploaded; an annotator in Chromium sees its waveform (drawn
// from the server's peaks), draws two overlapping speaker segments with
// the mouse after picking each speaker with its key, types both transcripts
// with the keyboard flow (Enter goes to the next segment), plays with
// Space and submits; the RTTM and WebVTT exports carry what was drawn.
// Run: cd web && node --test tests/audio.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TEMPLATES } from '../app/pages/templates.js';
import { ADMIN_PASSWORD, api, importFiles, launchBrowser, projectWithAnnotator, recordErrors, signIn, startGloss } from './support.mjs';

const PASSWORD = 'annotator-password';
const AUDIO_CONFIG = `<View>
  <Audio name="audio" value="$audio"/>
  <Labels name="speaker" toName="audio">
    <Label value="Alice" hotkey="a" background="#d1242f"/>
    <Label value="Bob" hotkey="b" background="#0969da"/>
  </Labels>
  <TextArea name="transcription" toName="audio" perRegion="true" placeholder="What was said"/>
</View>`;
const SECONDS = 8;

/** A 16-bit mono WAV at 8 kHz: silence, then a tone from the half. */
function wav() {
  const rate = 8000;
  const frames = rate * SECONDS;
  const bytes = Buffer.alloc(44 + frames * 2);
  bytes.write('RIFF', 0);
  bytes.writeUInt32LE(36 + frames * 2, 4);
  bytes.write('WAVEfmt ', 8);
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(1, 20);
  bytes.writeUInt16LE(1, 22);
  bytes.writeUInt32LE(rate, 24);
  bytes.writeUInt32LE(rate * 2, 28);
  bytes.writeUInt16LE(2, 32);
  bytes.writeUInt16LE(16, 34);
  bytes.write('data', 36);
  bytes.writeUInt32LE(frames * 2, 40);
  for (let i = 0; i < frames; i++) {
    const v = i < frames / 2 ? 0 : Math.round(Math.sin((i * 440 * 2 * Math.PI) / rate) * 16000);
    bytes.writeInt16LE(v, 44 + 2 * i);
  }
  return bytes;
}

/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('playwright-core').Browser} */
let browser;
let admin = '';
let projectId = 0;
/** @type {string[]} */
const pageErrors = [];

before(async () => {
  gloss = await startGloss();
  browser = await launchBrowser();
  ({ admin, projectId } = await projectWithAnnotator(gloss.base, 'Calls', AUDIO_CONFIG, PASSWORD));
  await importFiles(gloss.base, admin, projectId, [{ name: 'call.wav', bytes: wav(), type: 'audio/wav' }]);
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

test('an annotator marks two overlapping speakers and their words, and RTTM and WebVTT carry them', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const task = Number(await page.locator('#workspace').getAttribute('data-task'));
  await page.waitForSelector('.gl-audio canvas');
  // The waveform came from the server: the status line empties, and the
  // canvas shows a flat line over the silent half and a tall wave over the tone.
  await page.waitForFunction(() => document.querySelector('.gl-audio-status')?.textContent === '');
  const ink = await page.evaluate(() => {
    const canvas = /** @type {HTMLCanvasElement} */ (document.querySelector('.gl-audio-canvas'));
    const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    const { data } = g.getImageData(0, canvas.height * 0.3, canvas.width, canvas.height * 0.4);
    const columns = new Array(canvas.width).fill(0);
    for (let i = 0; i < data.length; i += 4) if (data[i + 2] > 120 && data[i] < 100) columns[(i / 4) % canvas.width]++;
    const quarter = Math.floor(canvas.width / 4);
    // Tallest ink over the silent first quarter; shortest over the loud last one.
    return { silent: Math.max(...columns.slice(0, quarter)), loud: Math.min(...columns.slice(3 * quarter, canvas.width - 2)) };
  });
  assert.ok(ink.silent <= 2, `a flat line over the silence (${ink.silent} pixels high)`);
  assert.ok(ink.loud > 20, `the tone is drawn (${ink.loud} pixels high)`);

  const box = /** @type {{x: number, y: number, width: number, height: number}} */ (await page.locator('.gl-audio-canvas').boundingBox());
  /** The x of second `t` (the whole sound fits the view at first). @param {number} t */
  const xOf = (t) => box.x + (t / SECONDS) * box.width;
  const y = box.y + box.height * 0.6;
  const drag = async (/** @type {number} */ from, /** @type {number} */ to) => {
    await page.mouse.move(xOf(from), y);
    await page.mouse.down();
    await page.mouse.move(xOf(to), y, { steps: 6 });
    await page.mouse.up();
  };
  await page.keyboard.press('a');
  await drag(1, 3);
  // A new segment stays selected, and a speaker's key would relabel it: Escape first.
  await page.keyboard.press('Escape');
  await page.keyboard.press('b');
  await drag(2.5, 5);
  assert.equal(await page.locator('.gl-segment-row').count(), 2);
  assert.deepEqual(await page.locator('.gl-segment-label').allTextContents(), ['Alice', 'Bob']);

  // Transcripts: T opens the selected (Bob's) one; click Alice's row's box, type, Enter goes to Bob's.
  await page.locator('.gl-transcript').first().click();
  await page.keyboard.type('Hello Bob.');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.closest('.gl-segment-row')?.querySelector('.gl-segment-label')?.textContent), 'Bob');
  await page.keyboard.type('Hi Alice!');
  // Enter also played Bob's segment; Escape leaves the box, Space pauses and plays again.
  const paused = () => page.evaluate(() => (/** @type {HTMLAudioElement} */ (document.querySelector('.gl-audio audio'))).paused);
  assert.equal(await paused(), false, 'the next segment plays');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Space');
  assert.equal(await paused(), true);
  await page.keyboard.press('Space');
  assert.equal(await paused(), false);
  await page.keyboard.press('Space');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done');
  await context.close();

  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${task}`);
  const result = detail.annotations[0].result;
  const segments = result.filter((/** @type {any} */ r) => r.type === 'labels')
    .map((/** @type {any} */ r) => ({ id: r.id, who: r.value.labels[0], start: r.value.start, end: r.value.end, channel: r.value.channel }))
    .sort((/** @type {any} */ a, /** @type {any} */ b) => a.start - b.start);
  assert.deepEqual(segments.map((s) => s.who), ['Alice', 'Bob']);
  const near = (/** @type {number} */ a, /** @type {number} */ b) => Math.abs(a - b) < 0.1;
  assert.ok(near(segments[0].start, 1) && near(segments[0].end, 3), JSON.stringify(segments[0]));
  assert.ok(near(segments[1].start, 2.5) && near(segments[1].end, 5), JSON.stringify(segments[1]));
  assert.equal(segments[0].channel, 0);
  const texts = Object.fromEntries(result.filter((/** @type {any} */ r) => r.type === 'textarea').map((/** @type {any} */ r) => [r.id, r.value.text[0]]));
  assert.deepEqual([texts[segments[0].id], texts[segments[1].id]], ['Hello Bob.', 'Hi Alice!']);

  const rttm = await (await fetch(`${gloss.base}/api/v1/projects/${projectId}/export?format=rttm`, { headers: { Authorization: `Bearer ${admin}` } })).text();
  const rows = rttm.trim().split('\n').map((line) => line.split(' '));
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[7]]), [['SPEAKER', 'call', 'Alice'], ['SPEAKER', 'call', 'Bob']]);
  assert.ok(near(Number(rows[0][3]), segments[0].start) && near(Number(rows[0][4]), segments[0].end - segments[0].start));
  const vtt = await fetch(`${gloss.base}/api/v1/projects/${projectId}/export?format=webvtt`, { headers: { Authorization: `Bearer ${admin}` } });
  assert.equal(vtt.headers.get('content-type'), 'application/zip');
});

test('side by side, each sound segment takes the colour of its agreement with the other annotation', async () => {
  const { body: tasks } = await api(gloss.base, admin, 'GET', `/projects/${projectId}/tasks`);
  const sound = tasks.items[0].data.audio;
  const segment = (/** @type {string} */ id, /** @type {string} */ who, /** @type {number} */ start, /** @type {number} */ end) =>
    ({ id, from_name: 'speaker', to_name: 'audio', type: 'labels', value: { start, end, channel: 0, labels: [who] } });
  const made = await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [{ data: { audio: sound }, annotations: [
    { completed_by: { username: 'ann1' }, result: [segment('a1', 'Alice', 1, 3)] },
    { completed_by: { username: 'admin' }, result: [segment('b1', 'Alice', 1.2, 3), segment('b2', 'Bob', 6, 7)] },
  ] }]);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const { body: listed } = await api(gloss.base, admin, 'GET', `/projects/${projectId}/tasks?limit=10`);
  const task = { id: Math.max(...listed.items.map((/** @type {any} */ t) => t.id)) };
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/tasks/${task.id}/compare`);
  await page.waitForSelector('#compare-grid .compare-column .gl-segment-row');
  /** Each column's segment rows: label and swatch colour. */
  const rows = await page.evaluate(() => [...document.querySelectorAll('.compare-column')].map((column) =>
    [...column.querySelectorAll('.gl-segment-row')].map((row) => [
      row.querySelector('.gl-segment-label')?.textContent,
      getComputedStyle(/** @type {HTMLElement} */ (row.querySelector('.gl-swatch'))).backgroundColor,
    ])));
  const green = 'rgb(22, 163, 74)';
  const red = 'rgb(220, 38, 38)';
  assert.deepEqual(rows, [[['Alice', green]], [['Alice', green], ['Bob', red]]]);
  await context.close();
});

test('every template but the blank one makes a project without a problem', async () => {
  // The blank one is a start: it has no control yet, which a project needs.
  for (const template of TEMPLATES.filter((t) => t.id !== 'blank')) {
    const created = await api(gloss.base, admin, 'POST', '/projects', { name: template.title, label_config: template.config });
    assert.equal(created.status, 201, `${template.id}: ${JSON.stringify(created.body)}`);
    const { body } = await api(gloss.base, admin, 'POST', '/label-config/check', { label_config: template.config });
    assert.deepEqual([body.valid, body.problems], [true, []], template.id);
  }
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
