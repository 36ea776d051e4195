// Training and qualification end to end: a real `gloss serve`. An annotator
// invited by link into a project that requires a certification is told
// they need it, with a link to the test; they take the test and fail, take
// it again and pass (the certification shown with its expiry), acknowledge
// the project's guidelines and label its tasks, paid per task: their
// timesheet shows the week's tasks and earnings, and a manager approves
// the week on the Payroll page and downloads the payroll CSV with their
// row. In a training project, a
// wrong answer's feedback screen shows the missed region and the task's
// explanation (as text), and "Next task" goes on.
// Run: cd web && node --test tests/qualification.test.mjs
// (scripts/test-all.sh builds the binary first and sets GLOSS_BIN.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { api, glossAndBrowser, recordErrors, signIn, tokenFor, ADMIN_PASSWORD } from './support.mjs';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/></Labels>
  <Choices name="class" toName="text" choice="single"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>`;
// The test and the gated project ask for a class only.
const CLASS_CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>`;
const PASSWORD = 'qualification-test-password';

/** @param {string} label */
const choice = (label) => [{ id: 'c', from_name: 'class', to_name: 'text', type: 'choices', value: { choices: [label] } }];

const { gloss, browser, pageErrors } = glossAndBrowser();

/**
 * @param {string} admin @param {string} name @param {Record<string, unknown>} settings
 * @param {unknown[]} tasks @param {string} [config]
 */
async function project(admin, name, settings, tasks, config = CONFIG) {
  const made = await api(gloss.base, admin, 'POST', '/projects', { name, label_config: config });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const changed = await api(gloss.base, admin, 'PATCH', `/projects/${made.body.id}`, settings);
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  const imported = await api(gloss.base, admin, 'POST', `/projects/${made.body.id}/tasks`, tasks);
  assert.equal(imported.status, 201, JSON.stringify(imported.body));
  return /** @type {number} */ (made.body.id);
}

/**
 * Answers the test's tasks in the page: `labels[i]` for the i-th.
 * @param {import('playwright-core').Page} page @param {string[]} labels
 */
async function answer(page, labels) {
  for (const [index, label] of labels.entries()) {
    await page.waitForSelector(`#test-progress:has-text("Task ${index + 1} of ${labels.length}")`);
    await page.waitForSelector('#qualification-body .label-host[data-task]');
    await page.locator('.gl-choices[data-control="class"] label', { hasText: label }).click();
    await page.click('#answer-submit');
  }
  await page.waitForSelector('#test-result');
}

test('an invited annotator fails and then passes the qualification test, and labels the gated project', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  const gold = (/** @type {string} */ text, /** @type {string} */ label) => ({ data: { text },
    annotations: [{ completed_by: { username: 'admin' }, ground_truth: true, result: choice(label) }] });
  const testId = await project(admin, 'Pet test', {
    kind: 'qualification', pass_score: 1, cooldown_minutes: 0, grants_certification: 'pets', certification_valid_days: 365,
  }, [gold('a purring animal', 'Cat'), gold('a barking animal', 'Dog')], CLASS_CONFIG);
  const gatedId = await project(admin, 'Pets', { required_certifications: ['pets'], pay: { mode: 'per_task', rate: '0.50', currency: 'EUR' } },
    [{ data: { text: 'first pet' } }, { data: { text: 'second pet' } }], CLASS_CONFIG);
  assert.equal((await api(gloss.base, admin, 'PUT', `/projects/${gatedId}/guidelines`, { text: '# Pets\n\nLabel each pet.' })).status, 200);
  const invite = await api(gloss.base, admin, 'POST', `/projects/${gatedId}/invites`, { role: 'annotator' });
  assert.equal(invite.status, 201, JSON.stringify(invite.body));

  // Signed up by the link.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await page.goto(`${gloss.base}/invite/${invite.body.code}`);
  await page.fill('#invite-username', 'newbie');
  await page.fill('#invite-password', PASSWORD);
  await page.fill('#invite-repeat', PASSWORD);
  await page.click('#accept-invite button[type=submit]');
  await page.waitForURL(`${gloss.base}/projects/${gatedId}`);

  // Told what is missing, with the test to take.
  await page.click('#start-labeling');
  await page.waitForSelector('#queue-unqualified');
  assert.match(await page.locator('#queue-unqualified').innerText(), /pets/);
  await page.click(`#test-links a[data-test="${testId}"]`);
  await page.waitForURL(`${gloss.base}/projects/${testId}/qualification`);
  await page.waitForSelector('#qualification-status');
  assert.match(await page.locator('#qualification-status').innerText(), /2 tasks/);

  // A fail (one of two right, 100 % needed), then a pass.
  await page.click('#start-test');
  await answer(page, ['Cat', 'Cat']);
  assert.equal(await page.getAttribute('#test-result', 'data-passed'), 'false');
  assert.match(await page.locator('#test-score').innerText(), /50%/);
  assert.equal(await page.locator('#test-certification').count(), 0);
  await page.click('#test-back');
  await page.waitForSelector('#qualification-status');
  assert.match(await page.locator('#start-test').innerText(), /again/);
  await page.click('#start-test');
  await answer(page, ['Cat', 'Dog']);
  assert.equal(await page.getAttribute('#test-result', 'data-passed'), 'true');
  assert.match(await page.locator('#test-score').innerText(), /100%/);
  assert.match(await page.locator('#test-certification').innerText(), /"pets" until/);
  const me = await api(gloss.base, await tokenFor(gloss.base, 'newbie', PASSWORD), 'GET', '/me');
  assert.equal(me.body.certifications[0].name, 'pets');

  // The managers see both attempts.
  const results = await api(gloss.base, admin, 'GET', `/projects/${testId}/qualification/results`);
  assert.deepEqual(results.body.map((/** @type {any} */ r) => r.passed), [false, true]);

  // Now the gated project: its guidelines, then its tasks.
  await page.goto(`${gloss.base}/projects/${gatedId}/label`);
  await page.waitForSelector('#queue-guidelines');
  await page.click('#acknowledge-guidelines');
  for (const text of ['first pet', 'second pet']) {
    // The next task replaces the one just submitted.
    await page.waitForFunction((t) => document.querySelector('#workspace[data-task]')?.textContent?.includes(t), text);
    await page.locator('.gl-choices[data-control="class"] label', { hasText: 'Cat' }).click();
    await page.keyboard.press('Control+Enter');
  }
  await page.waitForSelector('#queue-done');
  const { body: tasks } = await api(gloss.base, admin, 'GET', `/projects/${gatedId}/tasks`);
  assert.deepEqual(tasks.items.map((/** @type {any} */ t) => t.annotation_count), [1, 1]);

  // Their timesheet: this week, the two tasks at the project's 0.50 EUR each.
  await page.click('#nav-timesheet');
  await page.waitForSelector('#timesheet');
  const week = page.locator('#timesheet tbody tr').first();
  assert.deepEqual([await week.locator('td.tasks').innerText(), await week.locator('td.earnings').innerText(),
    await week.locator('td.status').innerText()], ['2', '1.00 EUR', 'Open']);
  const periodStart = await week.getAttribute('data-period');

  // The manager approves the week and downloads the payroll.
  const managing = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const payroll = await managing.newPage();
  recordErrors(payroll, pageErrors);
  await signIn(payroll, gloss.base, 'admin', ADMIN_PASSWORD);
  await payroll.click('#nav-payroll');
  await payroll.waitForSelector('#payroll tr[data-username="newbie"]');
  const approve = payroll.locator(`#payroll-weeks tr[data-username="newbie"][data-period="${periodStart}"] button.approve`);
  await approve.click();
  await payroll.waitForSelector(`#payroll-weeks tr[data-username="newbie"][data-period="${periodStart}"] td.status:has-text("Approved")`);
  const [download] = await Promise.all([payroll.waitForEvent('download'), payroll.click('#payroll-csv')]);
  const csv = await readFile(/** @type {string} */ (await download.path()), 'utf8');
  const line = csv.trim().split('\n').find((row) => row.startsWith('newbie,'));
  assert.ok(line, csv);
  assert.deepEqual(line.split(',').slice(2), ['2', '0', '1.00', 'EUR']);
  await page.reload();
  await page.waitForSelector('#timesheet');
  assert.match(await page.locator('#timesheet tbody tr td.status').first().innerText(), /^Approved/);

  // The manager revokes the certification on the test's page: no more tasks.
  payroll.on('dialog', (dialog) => dialog.accept());
  await payroll.goto(`${gloss.base}/projects/${testId}/qualification`);
  await payroll.waitForSelector('#qualification-results');
  assert.equal(await payroll.locator('#qualification-results button.revoke').count(), 1, 'only the passing attempt');
  await payroll.click('#qualification-results button.revoke');
  await payroll.waitForSelector('.toast:has-text("Revoked newbie")');
  // After a reload the attempt says so, with nothing to revoke.
  await payroll.reload();
  await payroll.waitForSelector('#qualification-results');
  assert.equal(await payroll.locator('#qualification-results button.revoke').count(), 0);
  assert.equal(await payroll.locator('#qualification-results td.certification:has-text("Certification revoked or expired")').count(), 1);
  const refused = await api(gloss.base, await tokenFor(gloss.base, 'newbie', PASSWORD), 'GET', `/projects/${gatedId}/next`);
  assert.equal(refused.status, 403);
  assert.deepEqual(refused.body.details.problems.qualification.expired_certifications, ['pets']);
  // The Members page shows it expired.
  await payroll.goto(`${gloss.base}/projects/${gatedId}/members`);
  await payroll.waitForSelector('tr[data-username="newbie"] .certifications');
  assert.match(await payroll.locator('tr[data-username="newbie"] .certifications').innerText(), /Certified: pets \(expired\)/);
  await managing.close();
  await context.close();
});

test('a wrong answer in a training project shows the missed region and the explanation', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await api(gloss.base, admin, 'POST', '/users', { username: 'trainee', password: PASSWORD, role: 'annotator' })).status, 201);
  const truth = [...choice('Cat'), { id: 'g0', from_name: 'ner', to_name: 'text', type: 'labels', value: { start: 0, end: 5, labels: ['PER'] } }];
  const id = await project(admin, 'Practice', { kind: 'training' }, [
    { data: { text: 'Alice has a cat', explanation: 'Alice is a person <b>and</b> the pet is a cat.' },
      annotations: [{ completed_by: { username: 'admin' }, ground_truth: true, result: truth }] },
    { data: { text: 'Bob has a dog' },
      annotations: [{ completed_by: { username: 'admin' }, ground_truth: true, result: choice('Dog') }] },
  ]);
  assert.equal((await api(gloss.base, admin, 'POST', `/projects/${id}/members`, { username: 'trainee', role: 'annotator' })).status, 200);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'trainee', PASSWORD);
  await page.goto(`${gloss.base}/projects/${id}/label`);
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#workspace').innerText(), /Alice has a cat/);
  await page.locator('.gl-choices[data-control="class"] label', { hasText: 'Dog' }).click();
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#training-feedback');
  assert.match(await page.locator('#feedback-score').innerText(), /0%/);
  assert.match(await page.locator('#feedback-controls li[data-control="class"]').innerText(), /wrong.*you answered Dog, expected Cat/);
  assert.match(await page.locator('#feedback-missed').innerText(), /missed 1 region/);
  assert.equal(await page.locator('#feedback-explanation p').innerText(), 'Alice is a person <b>and</b> the pet is a cat.');
  assert.equal(await page.locator('#feedback-explanation b').count(), 0);
  // The expected column holds the missed span; the answer has none.
  assert.match(await page.locator('#feedback-expected').innerText(), /Alice/);
  await page.click('#feedback-next');
  await page.waitForSelector('#workspace[data-task]');
  assert.match(await page.locator('#workspace').innerText(), /Bob has a dog/);
  await page.locator('.gl-choices[data-control="class"] label', { hasText: 'Dog' }).click();
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#training-feedback');
  assert.match(await page.locator('#feedback-score').innerText(), /100%/);
  assert.equal(await page.locator('#feedback-missed').count(), 0);
  await context.close();
});

test('a manager makes a project a qualification test and requires its certification in Settings', async () => {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  const testId = await project(admin, 'Bird test', {}, [{ data: { text: 'a bird' } }], CLASS_CONFIG);
  const gatedId = await project(admin, 'Birds', {}, [{ data: { text: 'another bird' } }], CLASS_CONFIG);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  await signIn(page, gloss.base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${gloss.base}/projects/${testId}/settings`);
  await page.waitForSelector('#settings-kind');
  assert.equal(await page.locator('#settings-qualification').isHidden(), true);
  await page.selectOption('#settings-kind', 'qualification');
  assert.equal(await page.locator('#settings-qualification').isVisible(), true);
  await page.fill('#settings-pass-score', '90');
  await page.fill('#settings-max-attempts', '2');
  await page.fill('#settings-cooldown', '30');
  await page.fill('#settings-grants-certification', 'Birds');
  await page.fill('#settings-valid-days', '180');
  await page.click('#settings-general button[type=submit]');
  await page.waitForSelector('.toast:has-text("Saved")');
  const { body: saved } = await api(gloss.base, admin, 'GET', `/projects/${testId}`);
  assert.equal(saved.kind, 'qualification');
  assert.deepEqual(saved.qualification, { pass_score: 0.9, max_attempts: 2, cooldown_minutes: 30, grants_certification: 'birds', certification_valid_days: 180, grants_skill: null });

  await page.goto(`${gloss.base}/projects/${gatedId}/settings`);
  await page.waitForSelector('#settings-required-certifications');
  await page.fill('#settings-required-certifications', 'birds, pets');
  await page.click('#settings-general button[type=submit]');
  await page.waitForSelector('.toast:has-text("Saved")');
  const { body: gated } = await api(gloss.base, admin, 'GET', `/projects/${gatedId}`);
  assert.deepEqual(gated.required_certifications, ['birds', 'pets']);
  // The test's page links to it instead of labeling.
  await page.goto(`${gloss.base}/projects/${testId}`);
  await page.waitForSelector('#take-test');
  await page.click('#take-test');
  await page.waitForSelector('#qualification-results');
  await context.close();
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
