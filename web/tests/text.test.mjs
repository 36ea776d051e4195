// Named entities end to end: a real `gloss serve`, a project with a Text and
// a Labels control, a task imported with one span already on it (emoji,
// Arabic and a combining accent in its text), an annotator adding spans and a
// relation with the keyboard and the mouse in Chromium, and the exports (JSON offsets in
// code points, CoNLL-2003) as the server writes them.
// Run: cd web && node --test tests/text.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launchBrowser, recordErrors, signIn, startGloss, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const PASSWORD = 'annotator-password';
const NER_CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text">
    <Label value="PER" hotkey="p" background="#d1242f"/>
    <Label value="LOC" hotkey="l" background="#0969da"/>
  </Labels>
  <Relations><Relation value="lives in"/><Relation value="visited"/></Relations>
</View>`;
/** Code points: "José" is J o s e + U+0301 (5), the emoji one. */
const TEXT = 'José\u0301 🙂 met Ali in القاهرة.';

/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('playwright-core').Browser} */
let browser;
let admin = '';
let projectId = 0;
/** @type {string[]} */
const pageErrors = [];

/** The code point offset of `word` in TEXT. @param {string} word */
const at = (word) => Array.from(TEXT.slice(0, TEXT.indexOf(word))).length;

before(async () => {
  gloss = await startGloss();
  browser = await launchBrowser();
  admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'ann1', password: PASSWORD, role: 'annotator' })).status, 201);
  const project = await api(gloss.base, admin, 'POST', '/projects', { name: 'News', label_config: NER_CONFIG });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  projectId = project.body.id;
  // One task with José already marked (as a Label Studio export carries it).
  const task = { data: { text: TEXT }, predictions: [{ model_version: 'ner-1', result: [
    { id: 'jose', from_name: 'ner', to_name: 'text', type: 'labels', value: { start: 0, end: 5, text: 'José\u0301', labels: ['PER'] } },
  ] }] };
  const created = await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [task]);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username: 'ann1', role: 'annotator' })).status, 200);
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

test('an annotator marks entities with the keyboard and the mouse, and the exports keep code point offsets', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const task = Number(await page.locator('#workspace').getAttribute('data-task'));
  // The prediction shows as a span to correct.
  await page.waitForSelector('.gl-span-row');
  assert.equal(await page.locator('.gl-span-row').count(), 1);

  /** Selects code points [from, to) of the text with the mouse. */
  const select = async (/** @type {number} */ from, /** @type {number} */ to) => {
    const points = await page.evaluate(([text, a, b]) => {
      const body = /** @type {HTMLElement} */ (document.querySelector('.gl-text-spans'));
      /** The client point at the gap before code point i. @param {number} i @param {boolean} end */
      const point = (i, end) => {
        const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
        let seen = 0;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const cps = Array.from(node.textContent ?? '');
          if (i < seen + cps.length || (end && i === seen + cps.length)) {
            const unit = cps.slice(0, i - seen).join('').length;
            const range = document.createRange();
            range.setStart(node, end ? unit - cps[i - seen - 1].length : unit);
            range.setEnd(node, end ? unit : unit + cps[i - seen].length);
            const r = range.getBoundingClientRect();
            return [end ? r.right - 0.5 : r.left + 0.5, r.top + r.height / 2];
          }
          seen += cps.length;
        }
        return [0, 0];
      };
      return [point(a, false), point(b, true)];
    }, [TEXT, from, to]);
    await page.mouse.move(points[0][0], points[0][1]);
    await page.mouse.down();
    await page.mouse.move(points[1][0], points[1][1], { steps: 4 });
    await page.mouse.up();
  };
  // القاهرة: selected first (no label picked yet), then LOC's key; Ali: PER's key first, then selected.
  await select(at('القاهرة'), at('القاهرة') + 7);
  await page.keyboard.press('l');
  await page.keyboard.press('p');
  await select(at('Ali'), at('Ali') + 3);
  assert.equal(await page.locator('.gl-span-list:not(.gl-relation-list) .gl-span-row').count(), 3);
  // Ali relates to القاهرة: click Ali's span, R, click القاهرة's.
  const middle = async (/** @type {string} */ word) => {
    const piece = page.locator('.gl-mark', { hasText: word }).first();
    const box = /** @type {{x: number, y: number, width: number, height: number}} */ (await piece.boundingBox());
    return [box.x + box.width / 2, box.y + box.height / 2];
  };
  const ali = await middle('Ali');
  await page.mouse.click(ali[0], ali[1]);
  await page.keyboard.press('r');
  const cairo = await middle('القاهرة');
  await page.mouse.click(cairo[0], cairo[1]);
  assert.equal(await page.locator('.gl-relation-list li').count(), 1);
  // Its label, from the config's <Relations>.
  await page.locator('.gl-relation-list .gl-chip', { hasText: 'visited' }).click();
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done');
  await context.close();

  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${task}`);
  const relation = detail.annotations[0].result.find((/** @type {any} */ r) => r.type === 'relation');
  const byText = Object.fromEntries(detail.annotations[0].result.filter((/** @type {any} */ r) => r.type === 'labels').map((/** @type {any} */ r) => [r.value.text, r.id]));
  assert.deepEqual([relation.from_id, relation.to_id, relation.direction, relation.labels], [byText.Ali, byText['القاهرة'], 'right', ['visited']], 'the server kept the relation and its label');
  const spans = detail.annotations[0].result
    .filter((/** @type {any} */ r) => r.type === 'labels')
    .map((/** @type {any} */ r) => [r.value.labels[0], r.value.start, r.value.end, r.value.text])
    .sort((/** @type {any[]} */ a, /** @type {any[]} */ b) => a[1] - b[1]);
  assert.deepEqual(spans, [
    ['PER', 0, 5, 'José\u0301'],
    ['PER', at('Ali'), at('Ali') + 3, 'Ali'],
    ['LOC', at('القاهرة'), at('القاهرة') + 7, 'القاهرة'],
  ]);
  assert.equal(at('Ali'), 12, 'the accent and the emoji count one code point each');

  const response = await fetch(`${gloss.base}/api/v1/projects/${projectId}/export?format=conll2003`, { headers: { Authorization: `Bearer ${admin}` } });
  assert.equal(response.status, 200);
  const tags = (await response.text()).split('\n').filter((l) => l && !l.startsWith('-DOCSTART-')).map((l) => [l.split(' ')[0], l.split(' ').pop()]);
  assert.deepEqual(tags, [
    ['José\u0301', 'B-PER'], ['🙂', 'O'], ['met', 'O'], ['Ali', 'B-PER'], ['in', 'O'], ['القاهرة', 'B-LOC'], ['.', 'O'],
  ]);
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
