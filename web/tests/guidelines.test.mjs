// Guidelines end to end: a real `gloss serve`; the manager writes the
// project's guidelines in Settings (Markdown, previewed as the server
// renders it) and saves them; an annotator in Chromium is shown them before
// their first task, rendered without the script they hold, acknowledges
// them and labels; they read them again from the labeling bar; a new
// version asks again before the next task.
// Run: cd web && node --test tests/guidelines.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>`;
const PASSWORD = 'guidelines-test-password';

const { gloss, browser, pageErrors } = glossAndBrowser();

test('an annotator reads and acknowledges the guidelines before labeling, and again after a change', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'ann1', password: PASSWORD, role: 'annotator' })).status, 201);
  const made = await api(gloss.base, admin, 'POST', '/projects', { name: 'Pets', label_config: CONFIG });
  const projectId = made.body.id;
  await api(gloss.base, admin, 'POST', `/projects/${projectId}/tasks`, [{ data: { text: 'first' } }, { data: { text: 'second' } }]);
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${projectId}/members`, { username: 'ann1', role: 'annotator' })).status, 200);

  // The manager writes them in Settings, previews and saves.
  const managing = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const settings = await managing.newPage();
  recordErrors(settings, pageErrors);
  await signIn(settings, gloss.base, 'admin', ADMIN_PASSWORD);
  await settings.goto(`${gloss.base}/projects/${projectId}/settings`);
  await settings.waitForSelector('#settings-guidelines');
  assert.match(await settings.locator('#guidelines-info').innerText(), /No guidelines yet/);
  await settings.fill('#settings-guidelines', '# Pets\n\nA **cat** is Cat. <script>window.pwned = 1</script>');
  await settings.click('#preview-guidelines');
  await settings.waitForSelector('#guidelines-preview h1');
  assert.equal(await settings.locator('#guidelines-preview strong').innerText(), 'cat');
  await settings.click('#save-guidelines');
  await settings.waitForSelector('.toast:has-text("version 1")');
  assert.match(await settings.locator('#guidelines-info').innerText(), /^Version 1, written by admin/);
  assert.equal(await settings.locator('#guideline-versions li').count(), 1);

  // The annotator is shown them first, acknowledges, and labels.
  const annotating = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await annotating.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  await page.waitForSelector('#queue-guidelines');
  assert.match(await page.locator('#queue-guidelines h2').innerText(), /Read the guidelines before you start/);
  assert.equal(await page.locator('#queue-guidelines .guidelines-text h1').innerText(), 'Pets');
  assert.equal(await page.locator('#queue-guidelines script').count(), 0);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).pwned), undefined);
  await page.click('#acknowledge-guidelines');
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#workspace').innerText(), /first/);
  // They read them again from the bar.
  await page.click('#guidelines-button');
  await page.waitForSelector('#guidelines-panel:not([hidden]) .guidelines-text h1');
  await page.click('#guidelines-button');
  assert.equal(await page.locator('#guidelines-panel').isHidden(), true);

  // A new version: the next task waits until it is acknowledged.
  const changed = await api(gloss.base, admin, 'PUT', `/projects/${projectId}/guidelines`, { text: '# Pets\n\nKittens are Cat too.' });
  assert.equal(changed.body.current.version, 2);
  await page.locator('.gl-choices[data-control="class"] label', { hasText: 'Cat' }).click();
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#queue-guidelines');
  assert.match(await page.locator('#queue-guidelines h2').innerText(), /The guidelines changed/);
  assert.match(await page.locator('#queue-guidelines').innerText(), /Kittens are Cat too/);
  await page.click('#acknowledge-guidelines');
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#workspace').innerText(), /second/);
  // The first submit was stored.
  const { body: tasks } = await api(gloss.base, admin, 'GET', `/projects/${projectId}/tasks`);
  assert.equal(tasks.items[0].annotation_count, 1);
  await annotating.close();
  await managing.close();
  assert.deepEqual(pageErrors, []);
});
