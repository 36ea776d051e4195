// Comments and notifications end to end: a real `gloss serve`; a reviewer
// in Chromium picks a span of an annotator's annotation and comments on it
// (Ctrl+Enter); the annotator's bell counts it, the panel lists it, a click
// opens the task (the annotator's own annotation), where the comment shows
// as text with its region; their answer notifies the reviewer.
// Run: cd web && node --test tests/comments.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels>
</View>`;
const PASSWORD = 'comments-test-password';
const COMMENT = 'Is <img src=x onerror="window.__pwned = 1"> a person?';

const { gloss, browser, pageErrors } = glossAndBrowser();

test('a region comment reaches the annotator through the bell, and the answer comes back', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  for (const [username, role] of [['ann1', 'annotator'], ['rev1', 'reviewer']]) {
    assert.equal((await api(gloss.base, admin, 'POST', '/users', { username, password: PASSWORD, role })).status, 201);
  }
  const made = await api(gloss.base, admin, 'POST', '/projects', { name: 'People', label_config: CONFIG });
  const projectId = made.body.id;
  for (const [username, role] of [['ann1', 'annotator'], ['rev1', 'reviewer']]) {
    assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username, role })).status, 200);
  }
  const imported = await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [{
    data: { text: 'Ada Lovelace lived in London.' },
    annotations: [{ completed_by: { username: 'ann1' }, result: [
      { id: 'span1', from_name: 'ner', to_name: 'text', type: 'labels', value: { start: 0, end: 12, text: 'Ada Lovelace', labels: ['PER'] } },
    ] }],
  }]);
  assert.equal(imported.status, 201, JSON.stringify(imported.body));
  const taskId = (await api(gloss.base, admin, 'GET', `/projects/${projectId}/tasks`)).body.items[0].id;

  // The reviewer comments on the span.
  const reviewer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await reviewer.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'rev1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/tasks/${taskId}`);
  await page.waitForSelector('#workspace[data-task]');
  await page.click('#comments-toggle');
  assert.equal(await page.locator('#comment-on-region').isDisabled(), true, 'no span picked yet');
  await page.locator('.gl-mark').first().click();
  await page.waitForFunction(() => !(/** @type {HTMLInputElement} */ (document.querySelector('#comment-on-region'))).disabled);
  await page.check('#comment-on-region');
  await page.fill('#comment-text', COMMENT);
  await page.locator('#comment-text').press('Control+Enter');
  await page.waitForSelector('#comment-list li');
  assert.match(await page.locator('#comment-list li').innerText(), /on region span1/);
  assert.match(await page.locator('#comments-toggle').innerText(), /Comments \(1\)/);
  await reviewer.close();

  // The annotator: the bell counts it; the panel opens the task.
  const annotator = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const own = await annotator.newPage();
  recordErrors(own, pageErrors);
  await signIn(own, gloss.base, 'ann1', PASSWORD);
  await own.waitForSelector('#notification-count:not([hidden])');
  assert.equal(await own.locator('#notification-count').innerText(), '1');
  await own.click('#notifications-bell');
  const item = own.locator('#notification-panel li.unread');
  await item.waitFor();
  assert.match(await item.innerText(), /rev1 commented · People · task #\d+/);
  await item.locator('a').click();
  await own.waitForURL(`**/projects/${projectId}/tasks/${taskId}`);
  await own.waitForSelector('#workspace[data-task]');
  await own.waitForSelector('#notification-count[hidden]', { state: 'attached' });
  await own.click('#comments-toggle');
  const listed = own.locator('#comment-list li .comment-text');
  assert.equal(await listed.innerText(), COMMENT);
  assert.equal(await own.locator('#comment-list img').count(), 0);
  assert.equal(await own.evaluate(() => /** @type {any} */ (window).__pwned), undefined);
  await own.fill('#comment-text', 'Yes: Ada Lovelace, the mathematician.');
  await own.click('#comment-send');
  await own.waitForFunction(() => document.querySelectorAll('#comment-list li').length === 2);
  await annotator.close();

  const rev = await tokenFor(gloss.base, 'rev1', PASSWORD);
  const theirs = await api(gloss.base, rev, 'GET', '/me/notifications?unread=true');
  assert.equal(theirs.body.unread, 1);
  assert.equal(theirs.body.items[0].actor, 'ann1');
  assert.deepEqual(pageErrors, []);
});
