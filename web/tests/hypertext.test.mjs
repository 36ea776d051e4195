// HTML spans end to end: a real `gloss serve`, a project with a HyperText
// and a HyperTextLabels control, a task whose HTML carries a script and an
// image with an event handler; in Chromium the HTML shows cleaned, an
// annotator marks words in two elements (label key first, then a
// selection), and the result holds Label Studio's XPaths and offsets.
// Run: cd web && node --test tests/hypertext.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launchBrowser, projectWithAnnotator, recordErrors, signIn, startGloss } from './support.mjs';

const PASSWORD = 'annotator-password';
const CONFIG = `<View>
  <HyperText name="page" value="$html"/>
  <HyperTextLabels name="ner" toName="page">
    <Label value="PER" hotkey="p" background="#d1242f"/>
    <Label value="ORG" hotkey="o" background="#0969da"/>
  </HyperTextLabels>
</View>`;
const HTML = '<p>Ada <b>Lovelace</b> wrote notes.</p><script>window.hacked = 1</script><p>She met <i>Babbage</i><img src="x" onerror="window.hacked = 2"> in London.</p>';

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
  ({ admin, projectId } = await projectWithAnnotator(gloss.base, 'Pages', CONFIG, PASSWORD));
  const created = await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [{ data: { html: HTML } }]);
  assert.equal(created.status, 201, JSON.stringify(created.body));
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

test('HTML shows cleaned, and spans over it carry XPaths and offsets as Label Studio writes them', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const task = Number(await page.locator('#workspace').getAttribute('data-task'));
  await page.waitForSelector('.gl-hypertext b');
  assert.equal(await page.locator('.gl-hypertext script, .gl-hypertext img').count(), 0, 'script and image removed');
  assert.equal(await page.evaluate(() => 'hacked' in window), false);

  /** Selects `word` (whole) inside the element matching `selector`, with the mouse. */
  const select = async (/** @type {string} */ selector, /** @type {string} */ word) => {
    const [a, b] = await page.evaluate(([sel, w]) => {
      const node = /** @type {Element} */ (document.querySelector(`.gl-hypertext ${sel}`));
      const text = /** @type {Text} */ ([...node.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').includes(w)));
      const at = (text.textContent ?? '').indexOf(w);
      const range = document.createRange();
      range.setStart(text, at);
      range.setEnd(text, at + 1);
      const first = range.getBoundingClientRect();
      range.setStart(text, at + w.length - 1);
      range.setEnd(text, at + w.length);
      const last = range.getBoundingClientRect();
      return [[first.left + 1, first.top + first.height / 2], [last.right - 0.5, last.top + last.height / 2]];
    }, [selector, word]);
    await page.mouse.move(a[0], a[1]);
    await page.mouse.down();
    await page.mouse.move(b[0], b[1], { steps: 4 });
    await page.mouse.up();
  };
  await page.keyboard.press('p');
  await select('b', 'Lovelace');
  await select('i', 'Babbage');
  await page.keyboard.press('o');
  await select('p:nth-of-type(2)', 'London');
  assert.deepEqual(await page.locator('.gl-span-list .gl-span-row q').allTextContents(), ['Lovelace', 'Babbage', 'London']);
  assert.ok(await page.evaluate(() => CSS.highlights.size > 0), 'spans are painted as highlights');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done');
  await context.close();

  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${task}`);
  const spans = detail.annotations[0].result.map((/** @type {any} */ r) => [r.type, r.value.htmllabels[0], r.value.start, r.value.end, r.value.startOffset, r.value.endOffset, r.value.globalOffsets, r.value.text]);
  // The text: "Ada Lovelace wrote notes." then "She met Babbage in London." (the script's text gone).
  assert.deepEqual(spans, [
    ['hypertextlabels', 'PER', '/p[1]/b[1]/text()[1]', '/p[1]/b[1]/text()[1]', 0, 8, { start: 4, end: 12 }, 'Lovelace'],
    ['hypertextlabels', 'PER', '/p[2]/i[1]/text()[1]', '/p[2]/i[1]/text()[1]', 0, 7, { start: 33, end: 40 }, 'Babbage'],
    ['hypertextlabels', 'ORG', '/p[2]/text()[2]', '/p[2]/text()[2]', 4, 10, { start: 44, end: 50 }, 'London'],
  ]);
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
