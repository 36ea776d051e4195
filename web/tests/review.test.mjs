// Review end to end: a real `gloss serve`, an annotator's two submitted
// annotations, a reviewer in Chromium who corrects the first (accept with a
// fix) and rejects the second with a comment, all with the keyboard; then
// the annotator, whose queue gives the rejected work back first with the
// comment shown as text, changes it and sends it back to review. The
// reviewer marks the fixed annotation as ground truth from its task page.
// Run: cd web && node --test tests/review.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>`;
const PASSWORD = 'review-test-password';
const COMMENT = 'It is negative <img src=x onerror="window.__pwned = 1">';

const { gloss, browser, pageErrors } = glossAndBrowser();

/** @param {import('playwright-core').Page} page @param {string} label */
function choice(page, label) {
  return page.locator('.gl-choices[data-control="sentiment"] label', { hasText: label });
}

test('a reviewer fixes one annotation and rejects another; the annotator reworks it', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  for (const [username, role] of [['ann1', 'annotator'], ['rev1', 'reviewer']]) {
    assert.equal((await api(gloss.base, admin, 'POST', '/users', { username, password: PASSWORD, role })).status, 201);
  }
  const made = await api(gloss.base, admin, 'POST', '/projects', { name: 'Sentiment', label_config: CONFIG });
  const projectId = made.body.id;
  await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [{ text: 'I loved it.' }, { text: 'Awful service.' }]);
  for (const [username, role] of [['ann1', 'annotator'], ['rev1', 'reviewer']]) {
    assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username, role })).status, 200);
  }
  // ann1 says both are positive.
  const ann = await tokenFor(gloss.base, 'ann1', PASSWORD);
  /** @type {number[]} */
  const annotations = [];
  for (let i = 0; i < 2; i++) {
    const next = await api(gloss.base, ann, 'GET', `/projects/${projectId}/next`);
    const result = [{ id: 's', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }];
    const submitted = await api(gloss.base, ann, 'POST', `/tasks/${next.body.task.id}/annotations`, { result });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
    annotations.push(submitted.body.id);
  }

  // The reviewer: the first is right about nothing; they correct it and accept.
  const reviewer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await reviewer.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'rev1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}`);
  await page.click('#start-review');
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#review-subject').innerText(), new RegExp(`annotation #${annotations[0]} by ann1, version 1`));
  assert.equal(await choice(page, 'Positive').locator('input').isChecked(), true);
  await choice(page, 'Negative').click();
  assert.equal(await page.locator('#submit').innerText(), 'Accept with fix');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((id) => document.querySelector('#review-subject')?.textContent?.includes(`#${id}`), annotations[1]);

  // The second: rejected with a comment, by keys.
  await page.keyboard.press('Control+Shift+Enter');
  const box = page.locator('#reject-comment');
  await box.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'reject-comment');
  await box.fill(COMMENT);
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#review-done');
  await reviewer.close();

  const fixed = await api(gloss.base, admin, 'GET', `/annotations/${annotations[0]}`);
  assert.equal(fixed.body.review_state, 'accepted');
  assert.equal(fixed.body.version, 2);
  assert.deepEqual(fixed.body.result[0].value.choices, ['Negative']);
  const reviews = await api(gloss.base, admin, 'GET', `/annotations/${annotations[0]}/reviews`);
  assert.equal(reviews.body[0].verdict, 'fix');
  assert.equal(reviews.body[0].reviewer, 'rev1');
  assert.equal((await api(gloss.base, admin, 'GET', `/annotations/${annotations[1]}`)).body.review_state, 'rejected');

  // The reviewer opens the fixed task and marks its annotation as ground truth.
  const marking = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const taskPage = await marking.newPage();
  recordErrors(taskPage, pageErrors);
  await signIn(taskPage, gloss.base, 'rev1', PASSWORD);
  await taskPage.goto(`${gloss.base}/projects/${projectId}/tasks/${fixed.body.task_id}`);
  await taskPage.waitForSelector('#workspace[data-task]');
  assert.equal(await taskPage.locator('#ground-truth').isChecked(), false);
  await taskPage.locator('#ground-truth').check();
  await taskPage.waitForSelector('.toast:has-text("ground truth")');
  assert.equal((await api(gloss.base, admin, 'GET', `/annotations/${annotations[0]}`)).body.ground_truth, true);
  await marking.close();

  // The annotator gets the rejected work first, with the comment as text.
  const annotator = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const labeler = await annotator.newPage();
  recordErrors(labeler, pageErrors);
  await signIn(labeler, gloss.base, 'ann1', PASSWORD);
  await labeler.goto(`${gloss.base}/projects/${projectId}/label`);
  await labeler.waitForSelector('#rework-note');
  assert.equal(await labeler.locator('#rework-note').innerText(), `Sent back by rev1: ${COMMENT}`);
  assert.equal(await labeler.locator('#rework-note img').count(), 0);
  assert.equal(await labeler.evaluate(() => /** @type {any} */ (window).__pwned), undefined);
  assert.equal(await labeler.locator('#submit').innerText(), 'Update');
  await choice(labeler, 'Negative').click();
  await labeler.keyboard.press('Control+Enter');
  await labeler.waitForSelector('#queue-done');
  await annotator.close();

  const reworked = await api(gloss.base, admin, 'GET', `/annotations/${annotations[1]}`);
  assert.equal(reworked.body.review_state, 'pending');
  assert.equal(reworked.body.version, 2);
  assert.deepEqual(reworked.body.result[0].value.choices, ['Negative']);
  assert.deepEqual(pageErrors, []);
});
