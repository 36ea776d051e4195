// The workforce end to end: a real `gloss serve`; a manager makes an
// invitation that presets a tier and skills, pauses an annotator on the
// Members page (who is then told so instead of getting a task) and sets
// them active again; the project's Productivity page ranks the annotators
// and flags a run of identical answers; the leaderboard adds up the
// manager's projects.
// Run: cd web && node --test tests/workforce.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single"><Choice value="Spam"/><Choice value="Ham"/></Choices>
</View>`;
const PASSWORD = 'workforce-test-password';

const { gloss, browser, pageErrors } = glossAndBrowser();

after(() => assert.deepEqual(pageErrors, []));

/** @param {string} label */
function answer(label) {
  return [{ id: 'a', from_name: 'class', to_name: 'text', type: 'choices', value: { choices: [label] } }];
}

test('a manager invites with a preset, pauses and resumes a person, and reads productivity and flags', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'boss', password: PASSWORD, role: 'manager' })).status, 201);
  const manager = await tokenFor(gloss.base, 'boss', PASSWORD);
  const made = await api(gloss.base, manager, 'POST', '/projects', { name: 'Mail', label_config: CONFIG });
  const projectId = made.body.id;
  await api(gloss.base, manager, 'PATCH', `/projects/${projectId}`, { same_answer_streak: 3 });
  await api(gloss.base, manager, 'POST', `/projects/${projectId}/tasks`,
    Array.from({ length: 8 }, (_, i) => ({ data: { text: `message ${i}` } })));

  // An invitation with a tier and skills.
  const managing = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const members = await managing.newPage();
  recordErrors(members, pageErrors);
  await signIn(members, gloss.base, 'boss', PASSWORD);
  await members.goto(`${gloss.base}/projects/${projectId}/members`);
  await members.selectOption('#invite-tier', 'specialist');
  await members.fill('#invite-skills', 'Legal, de');
  await members.click('#make-invite button[type=submit]');
  const link = await members.locator('#invite-link').innerText();
  const code = link.split('/invite/')[1];
  const accepted = await api(gloss.base, null, 'POST', `/invites/${code}/accept`, { username: 'ivy', password: PASSWORD });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.deepEqual([accepted.body.user.tier, accepted.body.user.skills], ['specialist', ['de', 'legal']]);
  const fast = await tokenFor(gloss.base, 'ivy', PASSWORD);
  assert.equal((await api(gloss.base, manager, 'POST', `/projects/${projectId}/members`, { username: 'ivy', role: 'annotator' })).status, 200);

  // Paused on the Members page: no task, and a clear reason.
  await members.reload();
  const row = members.locator('tr[data-username="ivy"]');
  await row.locator('select.status-select').selectOption('paused');
  await members.waitForSelector('.toast:has-text("ivy is now paused")');
  const annotating = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await annotating.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ivy', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#queue-paused');
  assert.match(await page.locator('#queue-paused').innerText(), /Your account is paused/);

  // Active again: the queue opens; they answer "Spam" five times in a row.
  await row.locator('select.status-select').selectOption('active');
  await members.waitForSelector('.toast:has-text("ivy is now active")');
  await page.reload();
  await page.waitForSelector('#workspace[data-task]');
  for (let i = 0; i < 5; i += 1) {
    const next = await api(gloss.base, fast, 'GET', `/projects/${projectId}/next`);
    assert.equal(next.status, 200);
    assert.equal((await api(gloss.base, fast, 'POST', `/tasks/${next.body.task.id}/annotations`, { result: answer('Spam') })).status, 201);
  }
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username: 'admin', role: 'annotator' })).status, 200);
  for (const label of ['Spam', 'Ham']) {
    const next = await api(gloss.base, admin, 'GET', `/projects/${projectId}/next`);
    await api(gloss.base, admin, 'POST', `/tasks/${next.body.task.id}/annotations`, { result: answer(label) });
  }

  // The Productivity tab ranks them and flags the run.
  const report = await managing.newPage();
  recordErrors(report, pageErrors);
  await report.goto(`${gloss.base}/projects/${projectId}/productivity`);
  await report.waitForSelector('#productivity-table');
  const rows = await report.locator('#productivity-table tbody tr').allInnerTexts();
  assert.equal(rows.length, 2);
  assert.match(rows[0], /^1\s+ivy\s+5\b/);
  assert.match(rows[1], /^2\s+admin\s+2\b/);
  assert.equal(await report.locator('#productivity-table tbody tr:first-child [data-flag="same_answers"]').count(), 1);
  assert.equal(await report.locator('#productivity-table tbody tr:nth-child(2) [data-flag]').count(), 0);
  assert.equal(await report.locator('#chart-tasks circle').count(), 2);
  // A CSV of the same rows.
  const [download] = await Promise.all([report.waitForEvent('download'), report.click('[data-csv="productivity-table"]')]);
  const text = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
  assert.match(text.split('\r\n')[1], /^1,ivy,5,/);

  // The leaderboard across the manager's projects; an annotator sees only themselves.
  await report.click('#nav-leaderboard');
  await report.waitForSelector('#productivity-table');
  assert.match((await report.locator('#productivity-table tbody tr').allInnerTexts())[0], /ivy/);
  await page.goto(`${gloss.base}/projects/${projectId}/productivity`);
  await page.waitForSelector('#productivity-table');
  const own = await page.locator('#productivity-table tbody tr').allInnerTexts();
  assert.equal(own.length, 1);
  assert.match(own[0], /ivy/);
  assert.equal(await page.locator('#nav-leaderboard').count(), 0);

  // The People page: a manager's people, filtered by a skill; status in place.
  await report.click('#nav-people');
  await report.waitForSelector('#people-table');
  const names = await report.locator('#people-table tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(names.sort(), ['admin', 'boss', 'ivy']);
  await report.fill('#people-filter', 'legal');
  assert.deepEqual(await report.locator('#people-table tbody tr td:first-child').allInnerTexts(), ['ivy']);
  await report.locator('tr[data-username="ivy"] select.status-select').selectOption('paused');
  await report.waitForSelector('.toast:has-text("ivy is now paused")');
  assert.equal((await api(gloss.base, admin, 'GET', '/users/ivy')).body.status, 'paused');

  // An admin makes an account there.
  const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const adminPage = await adminContext.newPage();
  recordErrors(adminPage, pageErrors);
  await signIn(adminPage, gloss.base, 'admin', ADMIN_PASSWORD);
  await adminPage.goto(`${gloss.base}/people`);
  await adminPage.fill('#new-username', 'newcomer');
  await adminPage.fill('#new-password', PASSWORD);
  await adminPage.selectOption('#new-role', 'reviewer');
  await adminPage.click('#new-account button[type=submit]');
  await adminPage.waitForSelector('tr[data-username="newcomer"]');
  assert.equal((await api(gloss.base, admin, 'GET', '/users/newcomer')).body.role, 'reviewer');
});
