// People end to end: a real `gloss serve`; the manager asks for a skill
// and a tier in Settings; an annotator without them is told what they lack
// instead of getting a task; the manager gives them on the Members page and
// the annotator's queue opens; the annotator fills in their profile.
// Run: cd web && node --test tests/people.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single"><Choice value="Benign"/><Choice value="Malignant"/></Choices>
</View>`;
const PASSWORD = 'people-test-password';

const { gloss, browser, pageErrors } = glossAndBrowser();

test('a project that needs a skill and a tier opens to an annotator once a manager gives them', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'ann1', password: PASSWORD, role: 'annotator' })).status, 201);
  const made = await api(gloss.base, admin, 'POST', '/projects', { name: 'Radiology', label_config: CONFIG });
  const projectId = made.body.id;
  await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [{ data: { text: 'scan one' } }]);
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username: 'ann1', role: 'annotator' })).status, 200);

  // The manager asks for the skill "medical" and the tier "specialist".
  const managing = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const settings = await managing.newPage();
  recordErrors(settings, pageErrors);
  await signIn(settings, gloss.base, 'admin', ADMIN_PASSWORD);
  await settings.goto(`${gloss.base}/projects/${projectId}/settings`);
  await settings.fill('#settings-required-skills', 'Medical');
  await settings.selectOption('#settings-required-tier', 'specialist');
  await settings.click('#settings-general button[type=submit]');
  await settings.waitForSelector('.toast:has-text("Saved")');
  const project = (await api(gloss.base, admin, 'GET', `/projects/${projectId}`)).body;
  assert.deepEqual([project.required_skills, project.required_tier], [['medical'], 'specialist']);

  // The annotator is told what they lack.
  const annotating = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await annotating.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#queue-unqualified');
  assert.match(await page.locator('#queue-unqualified').innerText(), /the skills medical \(you lack them\) and the tier specialist or above \(yours: none\)/);

  // The manager gives them on the Members page.
  await settings.goto(`${gloss.base}/projects/${projectId}/members`);
  const row = settings.locator('tr[data-username="ann1"]');
  await row.locator('input.skills').fill('medical, de');
  await row.locator('select.tier').selectOption('qa-analyst');
  await row.locator('button.save-qualifications').click();
  await settings.waitForSelector(".toast:has-text(\"Saved ann1's skills and tier\")");
  const person = (await api(gloss.base, admin, 'GET', '/users/ann1')).body;
  assert.deepEqual([person.skills, person.tier], [['de', 'medical'], 'qa-analyst']);

  // Signed in afresh (the account is read at each request), the queue opens.
  await page.reload();
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#workspace').innerText(), /scan one/);

  // Their work list: the project, a task left, and a daily limit the manager sets.
  await api(gloss.base, admin, 'PATCH', `/projects/${projectId}`, { daily_limit: 1 });
  await page.goto(`${gloss.base}/`);
  await page.waitForSelector('#my-work');
  assert.deepEqual(await page.locator(`#my-work tr[data-work-project="${projectId}"] td`).allInnerTexts(), ['Radiology', '1', '0 of 1', 'Ready', 'Label']);
  await page.click(`#my-work tr[data-work-project="${projectId}"] a.button`);
  await page.waitForSelector('#workspace[data-task]');
  await page.locator('.gl-choices[data-control="class"] label', { hasText: 'Benign' }).click();
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-done, #queue-daily-limit');
  await page.goto(`${gloss.base}/`);
  await page.waitForSelector('#my-work');
  assert.deepEqual(await page.locator(`#my-work tr[data-work-project="${projectId}"] td`).allInnerTexts(), ['Radiology', '0', '1 of 1', 'Done for today', '']);

  // The annotator's own profile.
  await page.goto(`${gloss.base}/account`);
  await page.waitForSelector('#profile');
  assert.match(await page.locator('#profile-qualifications').innerText(), /Skills: de, medical\. Tier: qa-analyst\./);
  await page.fill('#profile-display-name', 'Ann Lee');
  await page.fill('#profile-languages', 'de, en-GB');
  await page.fill('#profile-time-zone', 'Europe/Berlin');
  await page.click('#profile button[type=submit]');
  await page.waitForSelector('.toast:has-text("Profile saved")');
  const saved = (await api(gloss.base, admin, 'GET', '/users/ann1')).body;
  assert.deepEqual([saved.display_name, saved.languages, saved.time_zone], ['Ann Lee', ['de', 'en-GB'], 'Europe/Berlin']);
  await page.fill('#profile-time-zone', 'Mars Base');
  await page.click('#profile button[type=submit]');
  await page.waitForSelector('#profile .error:has-text("is not a time zone name")');
  await annotating.close();
  await managing.close();
  assert.deepEqual(pageErrors, []);
});
