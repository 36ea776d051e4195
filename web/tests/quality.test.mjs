// The quality dashboard end to end: a real `gloss serve`, three annotators'
// classes imported, the manager's dashboard in Chromium showing agreement,
// the per-label chart, the confusion matrix and the annotators' table; a
// table's CSV download; a task's consensus opened from the least agreed;
// and a new submit showing within 5 seconds.
// Run: cd web && node --test tests/quality.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>`;
const PASSWORD = 'quality-test-password';

const { gloss, browser, pageErrors } = glossAndBrowser();

/** @param {string} who @param {string} label */
function answer(who, label) {
  return { completed_by: { username: who }, result: [{ id: 'c', from_name: 'class', to_name: 'text', type: 'choices', value: { choices: [label] } }] };
}

test('the dashboard shows agreement, labels, the confusion matrix and annotators, downloads CSV, and follows submits', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  for (const username of ['ann', 'bob', 'cat']) {
    assert.equal((await api(gloss.base, admin, 'POST', '/users', { username, password: PASSWORD, role: 'annotator' })).status, 201);
  }
  const made = await api(gloss.base, admin, 'POST', '/projects', { name: 'Pets', label_config: CONFIG });
  const projectId = made.body.id;
  const imported = await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [
    { data: { text: 'one' }, annotations: [answer('ann', 'Cat'), answer('bob', 'Cat'), answer('cat', 'Dog')] },
    { data: { text: 'two' }, annotations: [answer('ann', 'Dog'), answer('bob', 'Dog'), answer('cat', 'Dog'), { ...answer('admin', 'Dog'), ground_truth: true }] },
    { data: { text: 'three' }, annotations: [answer('ann', 'Cat'), answer('bob', 'Dog')] },
    { data: { text: 'four' } },
  ]);
  assert.equal(imported.status, 201, JSON.stringify(imported.body));
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username: 'cat', role: 'annotator' })).status, 200);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}`);
  await page.click('[data-tab="quality"]');
  const control = page.locator('[data-control="class"]');
  await control.waitFor();
  // Task agreements 1/3, 1 and 0.
  assert.equal(await control.locator('[data-figure="agreement"]').innerText(), '44.4 %');
  assert.match(await control.locator('[data-figure="alpha"]').innerText(), /^-?\d\.\d{3}$/);
  assert.equal(await control.locator('svg[aria-label="Agreement per label of class"] .chart-bar').count(), 2);
  const confusion = await page.locator('#confusion-class tbody td').allInnerTexts();
  assert.deepEqual(confusion, ['2', '3', '3', '6']);
  const rows = await page.locator('#annotators tbody tr').allInnerTexts();
  assert.equal(rows.length, 3);
  assert.match(rows.find((r) => r.startsWith('ann')) ?? '', /^ann\t3\t100\.0 %/);
  assert.match(await page.locator('#quality-summary').innerText(), /^8 annotations on 3 tasks; 3 tasks/);
  // Accuracy against gold (task two is gold, answered Dog by all three) over time.
  assert.equal(await page.locator('#chart-over-time .chart-point-gold').count(), 1);
  assert.match(await page.locator('#over-time tbody tr').first().innerText(), /^\d{4}-\d\d-\d\d\t8\t[\d.]+ %\t3\t100\.0 %$/);
  assert.equal(await page.locator('#gold-by-day tbody tr').count(), 3);

  // The annotators table as CSV.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-csv="annotators"]'),
  ]);
  assert.equal(download.suggestedFilename(), 'Pets-annotators.csv');
  const text = await readFile(/** @type {string} */ (await download.path()), 'utf8');
  const lines = text.trim().split('\r\n');
  assert.equal(lines[0], 'annotator,annotations,agreement with consensus,gold answers,accuracy vs gold,reviewed,rejected,rejection rate,hours,per hour');
  assert.equal(lines.length, 4);
  assert.match(lines.find((l) => l.startsWith('bob,')) ?? '', /^bob,3,0\.666/);

  // The least agreed task opens from the dashboard; its consensus is shown to start from.
  await page.locator('#tasks-to-check a').first().click();
  await page.waitForSelector('#workspace[data-task]');
  const taskId = Number(await page.locator('#workspace').getAttribute('data-task'));
  const listed = await api(gloss.base, admin, 'GET', `/projects/${projectId}/tasks`);
  const first = listed.body.items[0].id;
  assert.equal(taskId, listed.body.items[2].id, 'task three: Cat against Dog');
  await page.goto(`${gloss.base}/projects/${projectId}/tasks/${first}`);
  await page.waitForSelector('#workspace[data-task]');
  await page.selectOption('#annotation-picker', 'consensus');
  await page.waitForFunction(() => document.querySelector('#draft-status')?.textContent?.startsWith('Consensus of annotations'));
  const checked = page.locator('.gl-choices[data-control="class"] input:checked');
  assert.equal(await checked.count(), 1);
  assert.match(await checked.locator('xpath=..').innerText(), /^Cat/);
  // Side by side from the task: three columns, cat's Dog agreeing with nobody.
  await page.click('#compare-link');
  await page.waitForSelector('#compare-grid .compare-column');
  assert.equal(await page.locator('#compare-grid .compare-column').count(), 3);
  assert.equal(await page.locator('.compare-column .gl-workspace').count(), 3);
  const cats = page.locator('.compare-column').nth(2);
  assert.match(await cats.locator('header').innerText(), /^cat · #\d+/);
  assert.equal(await cats.locator('.compare-controls li.disagrees').innerText(), 'class: agrees with none');
  assert.equal(await page.locator('.compare-column').nth(0).locator('.compare-controls li.partly').count(), 1);
  await page.goto(`${gloss.base}/projects/${projectId}/quality`);
  await page.locator('[data-control="class"]').waitFor();

  // cat submits the fourth task: the page shows it within 5 seconds.
  const cat = await tokenFor(gloss.base, 'cat', PASSWORD);
  const next = await api(gloss.base, cat, 'GET', `/projects/${projectId}/next`);
  assert.equal(next.status, 200, JSON.stringify(next.body));
  const submitted = await api(gloss.base, cat, 'POST', `/tasks/${next.body.task.id}/annotations`, { result: answer('cat', 'Cat').result });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
  const started = Date.now();
  await page.waitForFunction(() => document.querySelector('#quality-summary')?.textContent?.startsWith('9 annotations on 4 tasks'), null, { timeout: 6000 });
  assert.ok(Date.now() - started <= 6000);
  await context.close();
  assert.deepEqual(pageErrors, []);
});
