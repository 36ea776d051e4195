// Time and pay end to end: a real `gloss serve`; a manager sets a rate in
// Settings; an annotator labels two tasks and sees hours, tasks and
// earnings on their timesheet; the manager approves the week on the
// Payroll page and downloads the payroll CSV.
// Run: cd web && node --test tests/pay.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single"><Choice value="Spam"/><Choice value="Ham"/></Choices>
</View>`;
const PASSWORD = 'pay-test-password';

const { gloss, browser, pageErrors } = glossAndBrowser();

test('a rate set in Settings pays labeled tasks, shown on the timesheet, approved and exported as CSV', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'boss', password: PASSWORD, role: 'manager' })).status, 201);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'ann', password: PASSWORD, role: 'annotator' })).status, 201);
  const boss = await tokenFor(gloss.base, 'boss', PASSWORD);
  const made = await api(gloss.base, boss, 'POST', '/projects', { name: 'Mail', label_config: CONFIG });
  const projectId = made.body.id;
  await api(gloss.base, boss, 'POST', `/projects/${projectId}/tasks`, [{ data: { text: 'win a prize' } }, { data: { text: 'lunch at one?' } }]);
  assert.equal((await api(gloss.base, boss, 'POST', `/projects/${projectId}/members`, { username: 'ann', role: 'annotator' })).status, 200);

  // The manager adds a per-task rate with a piece rate in Settings.
  const managing = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const settings = await managing.newPage();
  recordErrors(settings, pageErrors);
  await signIn(settings, gloss.base, 'boss', PASSWORD);
  await settings.goto(`${gloss.base}/projects/${projectId}/settings`);
  await settings.waitForSelector('#settings-pay');
  await settings.fill('#pay-rate', '0.35');
  await settings.fill('#pay-currency', 'USD');
  await settings.fill('#pay-pieces', 'Spam=0.05');
  await settings.click('#pay-add');
  await settings.waitForSelector('#pay-rates td.rate:has-text("0.35 USD")');
  // A float-looking mistake is refused by field.
  await settings.fill('#pay-rate', '0.1.2');
  await settings.click('#pay-add');
  await settings.waitForSelector('#pay-message:has-text("rate")');
  const rates = (await api(gloss.base, boss, 'GET', `/projects/${projectId}/pay-rates`)).body.rates;
  assert.equal(rates.length, 1);
  assert.deepEqual([rates[0].mode, rates[0].rate, rates[0].currency, rates[0].pieces], ['per_task', '0.35', 'USD', { Spam: '0.05' }]);

  // The annotator labels both tasks.
  const annotating = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await annotating.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  for (const label of ['Spam', 'Ham']) {
    await page.waitForSelector('#workspace[data-task]');
    const task = await page.locator('#workspace').getAttribute('data-task');
    await page.mouse.move(300, 300);
    await page.waitForTimeout(400);
    await page.locator('.gl-choices[data-control="class"] label', { hasText: label }).click();
    await page.keyboard.press('Control+Enter');
    await page.waitForFunction((previous) => document.querySelector('#workspace')?.getAttribute('data-task') !== previous || document.querySelector('#queue-done'), task);
  }
  await page.waitForSelector('#queue-done');

  // Their timesheet: this week, two tasks, 0.75 USD (0.35 + 0.05, and 0.35).
  await page.click('#nav-timesheet');
  await page.waitForSelector('#timesheet');
  const row = page.locator('#timesheet tbody tr').first();
  assert.equal(await row.locator('td.tasks').innerText(), '2');
  assert.equal(await row.locator('td.rejected').innerText(), '0');
  assert.equal(await row.locator('td.earnings').innerText(), '0.75 USD');
  assert.match(await row.locator('td.hours').innerText(), /^\d+\.\d\d$/);
  assert.equal(await row.locator('td.status').innerText(), 'Open');
  const periodStart = await row.getAttribute('data-period');
  // The stored active time is what the workspace measured, capped by the server.
  const entries = (await api(gloss.base, boss, 'GET', `/users/ann/pay-entries?period=${periodStart}`)).body.entries;
  assert.equal(entries.length, 2);
  assert.ok(entries.every((/** @type {{active_ms: number}} */ e) => e.active_ms >= 0 && e.active_ms < 120_000), JSON.stringify(entries));
  await row.locator('button', { hasText: 'Entries' }).click();
  await page.waitForSelector('#timesheet-entries table');
  assert.equal(await page.locator('#timesheet-entries tbody tr').count(), 2);
  // No payroll for annotators.
  assert.equal(await page.locator('#nav-payroll').count(), 0);

  // The manager's payroll: the row, the week approved, the CSV downloaded.
  await settings.click('#nav-payroll');
  await settings.waitForSelector('#payroll');
  const cells = await settings.locator('#payroll tr[data-username="ann"] td').allInnerTexts();
  assert.match(cells[1], /^\d+\.\d\d$/);
  assert.deepEqual([cells[0], ...cells.slice(2)], ['ann', '2', '0', '0.75', 'USD']);
  const week = settings.locator(`#payroll-weeks tr[data-username="ann"][data-period="${periodStart}"]`);
  await week.locator('button.approve').click();
  await settings.waitForSelector(`#payroll-weeks tr[data-username="ann"][data-period="${periodStart}"] td.status:has-text("Approved")`);
  const again = await api(gloss.base, boss, 'POST', `/projects/${projectId}/timesheets/ann/${periodStart}/approve`);
  assert.equal(again.status, 409);
  const [download] = await Promise.all([settings.waitForEvent('download'), settings.click('#payroll-csv')]);
  const csv = await readFile(/** @type {string} */ (await download.path()), 'utf8');
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'username,hours,tasks,rejected,gross,currency');
  const annLine = lines.find((line) => line.startsWith('ann,'));
  assert.ok(annLine, csv);
  const [, hours, tasks, rejected, gross, currency] = /** @type {string} */ (annLine).split(',');
  assert.match(hours, /^\d+\.\d\d$/);
  assert.deepEqual([tasks, rejected, gross, currency], ['2', '0', '0.75', 'USD']);

  // The annotator sees the week approved.
  await page.reload();
  await page.waitForSelector('#timesheet');
  assert.match(await page.locator('#timesheet tbody tr td.status').first().innerText(), /^Approved/);
  assert.deepEqual(pageErrors, []);
});
