// LLM feedback end to end: a real `gloss serve`, projects made from the
// "LLM response ranking" and "Pairwise preference" templates, an annotator
// in Chromium ranking three responses with the keyboard and by dragging,
// rating them, rewriting one and giving a rationale; then two pairwise
// choices (one with a strength, one a tie); and the preference-jsonl and
// ranking-jsonl exports as the server writes them. A response whose Markdown
// holds `<img src=x onerror=…>` and a `javascript:` link shows harmless.
// Run: cd web && node --test tests/llm.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launchBrowser, recordErrors, signIn, startGloss, tokenFor, ADMIN_PASSWORD } from './support.mjs';
import { TEMPLATES } from '../app/pages/templates.js';
import { serve } from './static-server.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const PASSWORD = 'annotator-password';
const template = (/** @type {string} */ id) => /** @type {{config: string}} */ (TEMPLATES.find((t) => t.id === id)).config;

/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('playwright-core').Browser} */
let browser;
let admin = '';
/** The workspace test page, for the workspace alone. @type {Awaited<ReturnType<typeof serve>>} */
let statics;
/** @type {string[]} */
const pageErrors = [];

const MESSAGES = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'What is the capital of **France**?' },
];
const RESPONSES = [
  { id: 'r1', title: 'Model A', body: 'Paris.' },
  { id: 'r2', title: 'Model B', body: 'It is **Paris**. <img src=x onerror="window.__pwned = 1"> [more](javascript:window.__pwned=2)' },
  { id: 'r3', title: 'Model C', body: 'The capital of France is *Paris*, on the Seine.' },
];

/** A project from `config` with ann1 as its annotator and `tasks` imported. @param {string} name @param {string} config @param {unknown[]} tasks */
async function project(name, config, tasks) {
  const made = await api(gloss.base, admin, 'POST', '/projects', { name, label_config: config });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.id;
  const created = await api(gloss.base, admin, 'POST', `/projects/${id}/tasks`, tasks);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${id}/members`, { username: 'ann1', role: 'annotator' })).status, 200);
  return id;
}

/** The export's lines. @param {number} id @param {string} format */
async function exported(id, format) {
  const response = await fetch(`${gloss.base}/api/v1/projects/${id}/export?format=${format}`, { headers: { Authorization: `Bearer ${admin}` } });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

before(async () => {
  gloss = await startGloss();
  statics = await serve(repoRoot);
  browser = await launchBrowser();
  admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'ann1', password: PASSWORD, role: 'annotator' })).status, 201);
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
  await statics?.close();
});

test('three responses ranked by keys and by dragging, rated, one rewritten; the exports hold every pair', async () => {
  const projectId = await project('Ranking', template('llm-ranking'), [{ data: { messages: MESSAGES, responses: RESPONSES } }]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const task = Number(await page.locator('#workspace').getAttribute('data-task'));
  const order = () => page.locator('.gl-card').evaluateAll((cards) => cards.map((c) => /** @type {HTMLElement} */ (c).dataset.id));
  assert.deepEqual(await order(), ['r1', 'r2', 'r3']);

  // Markdown rendered by the server; the handler and the javascript: link are gone.
  assert.equal(await page.locator('.gl-message.gl-role-user strong').textContent(), 'France');
  const r2 = page.locator('.gl-card[data-id="r2"] .gl-md');
  assert.equal(await r2.locator('strong').textContent(), 'Paris');
  assert.equal(await r2.locator('img').count(), 0);
  assert.equal(await page.locator('[onerror], a[href^="javascript"]').count(), 0);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__pwned), undefined);

  // Keyboard: focus r1, Alt+↓ twice takes it to the bottom.
  await page.locator('.gl-card[data-id="r1"] .gl-card-title').click();
  await page.keyboard.press('Alt+ArrowDown');
  await page.keyboard.press('Alt+ArrowDown');
  assert.deepEqual(await order(), ['r2', 'r3', 'r1']);
  assert.equal(await page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement).dataset.id), 'r1', 'the moved card keeps the focus');
  // Mouse: drag r3 onto the top half of r2.
  await page.locator('.gl-card[data-id="r3"]').dragTo(page.locator('.gl-card[data-id="r2"]'), { targetPosition: { x: 40, y: 6 } });
  assert.deepEqual(await order(), ['r3', 'r2', 'r1']);
  assert.equal(await page.locator('.gl-card[data-id="r3"] .gl-rank').textContent(), '#1');

  // Ratings: Alt+5 on the focused card (its first criterion), stars by mouse for the others.
  await page.locator('.gl-card[data-id="r3"] .gl-card-title').click();
  await page.keyboard.press('Alt+5');
  await page.locator('.gl-card[data-id="r2"] [data-control="truthfulness"] .gl-star').nth(3).click();
  await page.locator('.gl-card[data-id="r1"] [data-control="harmlessness"] .gl-star').nth(1).click();
  assert.equal(await page.locator('.gl-card[data-id="r3"] [data-control="helpfulness"] .gl-star.gl-on').count(), 5);

  // Rewrite r1: E on the focused card opens its response to edit.
  await page.locator('.gl-card[data-id="r1"] .gl-card-title').click();
  await page.keyboard.press('e');
  const rewrite = page.locator('.gl-card[data-id="r1"] textarea');
  assert.equal(await rewrite.inputValue(), 'Paris.', 'the box starts from the response');
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'TEXTAREA');
  await rewrite.fill('Paris, the capital of France.');
  await page.keyboard.press('Escape');
  await page.locator('textarea[aria-label="Your reasons"]').fill('C is complete and right.');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done');
  await context.close();

  const { body: detail } = await api(gloss.base, admin, 'GET', `/tasks/${task}`);
  const result = detail.annotations[0].result;
  const ranker = result.find((/** @type {any} */ r) => r.type === 'ranker');
  assert.deepEqual([ranker.from_name, ranker.to_name, ranker.value], ['rank', 'responses', { ranker: { rank: ['r3', 'r2', 'r1'] } }], 'Label Studio\'s ranker result');
  const ratings = result.filter((/** @type {any} */ r) => r.type === 'rating').map((/** @type {any} */ r) => [r.from_name, r.item_index, r.value.rating]).sort();
  assert.deepEqual(ratings, [['harmlessness', 0, 2], ['helpfulness', 2, 5], ['truthfulness', 1, 4]]);

  const pairs = await exported(projectId, 'preference-jsonl');
  const text = (/** @type {any[]} */ turn) => turn[0].content;
  assert.deepEqual(pairs.map((p) => [p.source, text(p.chosen), text(p.rejected)]), [
    ['ranking', RESPONSES[2].body, RESPONSES[1].body],
    ['ranking', RESPONSES[2].body, RESPONSES[0].body],
    ['ranking', RESPONSES[1].body, RESPONSES[0].body],
    ['rewrite', 'Paris, the capital of France.', RESPONSES[0].body],
  ]);
  assert.deepEqual(pairs[0].prompt, MESSAGES, 'the chat history is the conversational prompt');
  assert.deepEqual(pairs[0].chosen[0].role, 'assistant');
  assert.equal(pairs[0].annotator, 'ann1');

  const [line] = await exported(projectId, 'ranking-jsonl');
  assert.deepEqual(line.ranking, ['r3', 'r2', 'r1']);
  assert.deepEqual(line.ratings, { harmlessness: { r1: 2 }, helpfulness: { r3: 5 }, truthfulness: { r2: 4 } });
  assert.deepEqual(line.rationale, { rationale: 'C is complete and right.' });
  assert.deepEqual(line.rewrites, { r1: 'Paris, the capital of France.' });
});

test('pairwise: B better by 2 with the keys, then a tie; the tie gives no pair', async () => {
  const projectId = await project('Pairs', template('llm-pairwise'), [
    { data: { prompt: 'Say **hello**.', answer_a: 'Go away.', answer_b: 'Hello! How can I help?' } },
    { data: { prompt: 'Is 2+2 four?', answer_a: 'Yes.', answer_b: 'Yes, it is.' } },
  ]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#workspace[data-task]');
  assert.equal(await page.locator('[data-object="prompt"] strong').textContent(), 'hello');
  // The rewrite box starts from B's answer; left alone, it writes nothing.
  assert.equal(await page.locator('[data-control="rewrite_b"] textarea').inputValue(), 'Hello! How can I help?');
  await page.keyboard.press('b');
  await page.keyboard.press('Alt+2');
  assert.equal(await page.locator('.gl-pick.gl-on').getAttribute('data-selected'), 'right');
  assert.equal(await page.locator('.gl-strength.gl-on').textContent(), '2');
  assert.ok(await page.locator('[data-object="b"].gl-preferred').count());
  const first = await page.locator('#workspace').getAttribute('data-task');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((shown) => document.querySelector('#workspace')?.getAttribute('data-task') !== shown && document.querySelector('#workspace[data-task]'), first);
  await page.keyboard.press('t');
  await page.keyboard.press('Alt+1');
  assert.equal(await page.locator('.gl-pick.gl-on').getAttribute('data-selected'), 'tie');
  assert.equal(await page.locator('.gl-strength.gl-on').count(), 0, 'a tie has no strength');
  assert.ok(await page.locator('.gl-strength').first().isDisabled());
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done');
  await context.close();

  const pairs = await exported(projectId, 'preference-jsonl');
  assert.deepEqual(pairs.map((p) => [p.prompt, p.chosen, p.rejected, p.source, p.strength]), [
    ['Say **hello**.', 'Hello! How can I help?', 'Go away.', 'pairwise', 2],
  ]);
  const lines = await exported(projectId, 'ranking-jsonl');
  assert.deepEqual(lines.map((l) => l.pairwise.preference), [{ selected: 'right', strength: 2 }, { selected: 'tie', strength: null }]);
});

/** The workspace alone (tests/pages/workspace.html) with `config` (as the server's schema gives it). */
async function workspacePage(/** @type {any} */ config, /** @type {any[]} */ result, /** @type {Record<string, unknown>} */ data, /** @type {any} */ extra = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  recordErrors(page, pageErrors);
  await page.goto(`${statics.url}/web/tests/pages/workspace.html`);
  await page.waitForFunction(() => 'gl' in window);
  await page.evaluate(([c, r, d, x]) => /** @type {any} */ (window).gl.make(c, r, d, x), [config, result, data, extra]);
  return page;
}

/** A config as the server's schema crate serializes it. @param {string} xml */
async function parsed(xml) {
  const { status, body } = await api(gloss.base, admin, 'POST', '/label-config/check', { label_config: xml });
  assert.equal(status, 200);
  assert.ok(body.valid, JSON.stringify(body.problems));
  return body.config;
}

test('in the workspace alone: buckets, per-response choices, undo, plain text without a renderer, read-only', async () => {
  const config = await parsed(`<View>
  <List name="answers" value="$responses"/>
  <Ranker name="sort" toName="answers"><Bucket name="good" title="Good"/><Bucket name="bad" title="Bad"/></Ranker>
  <Choices name="tone" toName="answers" perItem="true"><Choice value="Polite"/><Choice value="Rude"/></Choices>
  <Ranker name="rank" toName="answers"/>
</View>`);
  const data = { responses: [{ id: 'r1', title: 'One', body: 'a <b>bold</b> claim' }, { id: 'r2', title: 'Two', body: 'second' }, 'third, a plain string'] };
  const page = await workspacePage(config, [], data);
  // Without a renderer, Markdown is shown as the text it is.
  assert.equal(await page.locator('.gl-card[data-id="r1"] .gl-md-plain').textContent(), 'a <b>bold</b> claim');
  assert.equal(await page.locator('.gl-card b').count(), 0);
  assert.equal(await page.locator('.gl-card[data-id="2"] .gl-card-title').textContent(), 'Response 3', 'a string item: its index is its id');
  // Buckets: a press puts the response in, a second takes it out; the rest stay under "_".
  await page.locator('.gl-card[data-id="r2"] [data-bucket="good"]').click();
  await page.locator('.gl-card[data-id="2"] [data-bucket="bad"]').click();
  const ranker = async () => (await page.evaluate(() => /** @type {any} */ (window).gl.result())).find((/** @type {any} */ r) => r.from_name === 'sort');
  assert.deepEqual((await ranker()).value.ranker, { good: ['r2'], bad: ['2'], _: ['r1'] });
  await page.locator('.gl-card[data-id="2"] [data-bucket="bad"]').click();
  assert.deepEqual((await ranker()).value.ranker, { good: ['r2'], bad: [], _: ['r1', '2'] });
  // Per-response choices carry the item's index.
  await page.locator('.gl-card[data-id="r2"] [data-control="tone"] [data-value="Rude"]').click();
  const tone = (await page.evaluate(() => /** @type {any} */ (window).gl.result())).find((/** @type {any} */ r) => r.from_name === 'tone');
  assert.deepEqual([tone.type, tone.to_name, tone.item_index, tone.value], ['choices', 'answers', 1, { choices: ['Rude'] }]);
  // The first Ranker sorts into buckets, so the keys rank nothing; undo takes the choice back.
  await page.keyboard.press('Control+z');
  assert.equal((await page.evaluate(() => /** @type {any} */ (window).gl.result())).some((/** @type {any} */ r) => r.from_name === 'tone'), false);
  // The keyboard map lists the responses' keys.
  await page.keyboard.press('?');
  assert.match(await page.locator('.gl-keymap').textContent() ?? '', /Focus the next response/);
  await page.close();

  // Read-only (a reviewer's view): nothing moves or changes.
  const ranked = await parsed('<View><List name="answers" value="$responses"/><Ranker name="rank" toName="answers"/></View>');
  const view = await workspacePage(ranked, [{ id: 'k', from_name: 'rank', to_name: 'answers', type: 'ranker', value: { ranker: { rank: ['r2', 'r1'] } } }],
    { responses: data.responses.slice(0, 2) }, { readOnly: true });
  assert.deepEqual(await view.locator('.gl-card').evaluateAll((cards) => cards.map((c) => /** @type {HTMLElement} */ (c).dataset.id)), ['r2', 'r1']);
  assert.equal(await view.locator('.gl-card[draggable="true"]').count(), 0);
  await view.locator('.gl-card[data-id="r1"] .gl-card-title').click();
  await view.keyboard.press('Alt+ArrowUp');
  assert.deepEqual(await view.locator('.gl-card').evaluateAll((cards) => cards.map((c) => /** @type {HTMLElement} */ (c).dataset.id)), ['r2', 'r1']);
  await view.close();
});

test('in the workspace alone: a pairwise without ties or strength takes A and B only; undo and redo', async () => {
  const config = await parsed('<View><Text name="a" value="$a" markdown="true"/><Text name="b" value="$b" markdown="true"/><Pairwise name="pw" toName="a,b"/></View>');
  const page = await workspacePage(config, [], { a: 'left', b: 'right' });
  assert.equal(await page.locator('.gl-pick').count(), 2);
  assert.equal(await page.locator('.gl-strength').count(), 0);
  await page.keyboard.press('t');
  await page.keyboard.press('Alt+1');
  assert.deepEqual(await page.evaluate(() => /** @type {any} */ (window).gl.result()), []);
  await page.keyboard.press('a');
  await page.keyboard.press('b');
  const value = async () => (await page.evaluate(() => /** @type {any} */ (window).gl.result()))[0]?.value ?? null;
  assert.deepEqual(await value(), { selected: 'right' });
  await page.keyboard.press('Control+z');
  assert.deepEqual(await value(), { selected: 'left' });
  assert.ok(await page.locator('[data-object="a"].gl-preferred').count());
  await page.keyboard.press('a');
  assert.equal(await value(), null, 'pressing the choice made takes it back');
  await page.close();
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
