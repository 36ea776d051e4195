// Gold and honeypots end to end: a real `gloss serve`; the manager turns
// honeypots and the pause rule on in Settings; an annotator in Chromium is
// given the gold task first (it looks like any other), answers it wrong and
// is shown why their work is paused; the manager resumes them from the
// Members page, and their queue goes on.
// Run: cd web && node --test tests/gold.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>`;
const PASSWORD = 'gold-test-password';

const { gloss, browser, pageErrors } = glossAndBrowser();

test('a wrong answer on gold pauses the annotator with the reason, until the manager resumes them', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'ann1', password: PASSWORD, role: 'annotator' })).status, 201);
  const made = await api(gloss.base, admin, 'POST', '/projects', { name: 'Pets', label_config: CONFIG });
  const projectId = made.body.id;
  const gold = { completed_by: { username: 'admin' }, ground_truth: true, result: [{ id: 'g', from_name: 'class', to_name: 'text', type: 'choices', value: { choices: ['Cat'] } }] };
  await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [{ data: { text: 'a plain task' } }, { data: { text: 'a check task' }, annotations: [gold] }]);
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username: 'ann1', role: 'annotator' })).status, 200);

  // The manager turns honeypots on in Settings.
  const managing = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const settings = await managing.newPage();
  recordErrors(settings, pageErrors);
  await signIn(settings, gloss.base, 'admin', ADMIN_PASSWORD);
  await settings.goto(`${gloss.base}/projects/${projectId}/settings`);
  await settings.fill('#settings-honeypots', '100');
  await settings.fill('#settings-pause-below', '50');
  await settings.fill('#settings-pause-after', '1');
  assert.equal(await settings.inputValue('#settings-consensus'), 'majority');
  await settings.selectOption('#settings-consensus', 'dawid-skene');
  await settings.click('#settings-general button[type=submit]');
  await settings.waitForSelector('.toast:has-text("Saved")');
  const project = (await api(gloss.base, admin, 'GET', `/projects/${projectId}`)).body;
  assert.deepEqual([project.honeypot_percent, project.gold_pause_below, project.gold_pause_after, project.consensus_method], [100, 0.5, 1, 'dawid-skene']);

  // The annotator gets the check task first, answers Dog, and is paused.
  const annotating = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await annotating.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#workspace').innerText(), /a check task/);
  await page.locator('.gl-choices[data-control="class"] label', { hasText: 'Dog' }).click();
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-paused');
  assert.match(await page.locator('#queue-paused').innerText(), /accuracy on check tasks is 0% over 1 answers, below the project's 50%/);

  // The manager resumes them; the annotator's queue goes on.
  await settings.goto(`${gloss.base}/projects/${projectId}/members`);
  const row = settings.locator('tr[data-username="ann1"]');
  assert.match(await row.innerText(), /paused/);
  await row.locator('button.resume').click();
  await settings.waitForSelector('tr[data-username="ann1"] button.resume', { state: 'detached' });
  await page.reload();
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#workspace').innerText(), /a plain task/);
  // The dashboard tracks accuracy on gold per gold class.
  await settings.goto(`${gloss.base}/projects/${projectId}/quality`);
  await settings.waitForSelector('#gold-by-class');
  assert.deepEqual(await settings.locator('#gold-by-class tbody tr').allInnerTexts(), ['ann1\tCat\t1\t0.0 %']);
  await annotating.close();
  await managing.close();
  assert.deepEqual(pageErrors, []);
});
