// The app's other screens end to end: the config editor's problems and
// preview, a config change with its impact and migration, members, an
// import that is refused, the account (password, API tokens), the labeling
// screen's extras (label palette, pre-annotations, skip, back and update,
// pan, the keyboard map, brightness) and signing out. A real `gloss serve`,
// Debian's Chromium at 1280×720, real clicks and keys; each test sets up
// what it needs through the API. Run: cd web && node --test tests/screens.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launchBrowser, png, signIn, startGloss, tokenFor, ADMIN_PASSWORD, recordErrors } from './support.mjs';

const PASSWORD = 'screens-password';

/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, string>} tokens by username */
const tokens = {};
/** Errors any page logged; none are expected. @type {string[]} */
const pageErrors = [];

/** @param {string} who @param {string} method @param {string} path @param {unknown} [body] */
async function call(who, method, path, body) {
  const answer = await api(gloss.base, tokens[who], method, path, body);
  if (answer.status >= 400) throw new Error(`${method} ${path} as ${who}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

before(async () => {
  gloss = await startGloss();
  browser = await launchBrowser();
  tokens.admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  for (const [username, role] of [['boss', 'manager'], ['ann1', 'annotator'], ['ann2', 'annotator'], ['ann3', 'annotator'], ['acct', 'annotator']]) {
    await call('admin', 'POST', '/users', { username, password: PASSWORD, role });
    tokens[username] = await tokenFor(gloss.base, username, PASSWORD);
  }
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

/** A fresh browser (its own cookies) at 1280×720 that accepts every confirm(). */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  page.on('dialog', (dialog) => {
    dialog.accept().catch(() => {});
  });
  return page;
}

/** A project of the manager `boss` with members. @param {string} name @param {string} config @param {[string, string][]} [members] */
async function makeProject(name, config, members = []) {
  const project = await call('boss', 'POST', '/projects', { name, label_config: config });
  for (const [username, role] of members) await call('boss', 'POST', `/projects/${project.id}/members`, { username, role });
  return /** @type {number} */ (project.id);
}

/** Uploads PNGs into a project (one task each); returns the media URL of each, in order. @param {number} projectId @param {number} count */
async function uploadImages(projectId, count) {
  const form = new FormData();
  form.append('format', 'auto');
  for (let i = 0; i < count; i++) {
    form.append('file', new Blob([png(320, 240, [60 + i * 50, 180 - i * 30, 90])], { type: 'image/png' }), `img${i}.png`);
  }
  const response = await fetch(`${gloss.base}/api/v1/projects/${projectId}/imports`, {
    method: 'POST', headers: { Authorization: `Bearer ${tokens.boss}` }, body: form,
  });
  let job = await response.json();
  assert.ok(response.ok, JSON.stringify(job));
  while (job.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, 50));
    job = await call('boss', 'GET', `/imports/${job.id}`);
  }
  assert.equal(job.state, 'completed', JSON.stringify(job));
  const tasks = (await call('boss', 'GET', `/projects/${projectId}/tasks?limit=100`)).items;
  return tasks.map((/** @type {any} */ task) => /** @type {string} */ (task.data.image));
}

/** The line (from 1) the textarea's cursor is on. @param {import('playwright-core').Page} page @param {string} selector */
function cursorLine(page, selector) {
  return page.$eval(selector, (element) => {
    const text = /** @type {HTMLTextAreaElement} */ (element);
    return text.value.slice(0, text.selectionStart).split('\n').length;
  });
}

/** @param {import('playwright-core').Page} page */
async function regionCount(page) {
  const title = await page.locator('.gl-regions .gl-panel-title').textContent();
  return Number(/\((\d+)\)/.exec(title ?? '')?.[1] ?? NaN);
}

/** The region list's row texts. @param {import('playwright-core').Page} page */
function regionRows(page) {
  return page.$$eval('.gl-region-row:not([hidden]) .gl-region-text', (rows) => rows.map((row) => row.textContent));
}

/** Waits until the labeling screen shows a task other than `than`; returns its id. @param {import('playwright-core').Page} page @param {number} [than] */
async function shownTask(page, than = 0) {
  const handle = await page.waitForFunction((other) => {
    const id = Number(document.querySelector('#workspace')?.getAttribute('data-task'));
    return id && id !== other ? id : null;
  }, than);
  return /** @type {number} */ (await handle.jsonValue());
}

/** Image pixel coordinates the status bar shows under the mouse at (x, y). @param {import('playwright-core').Page} page @param {number} x @param {number} y */
async function imagePointAt(page, x, y) {
  await page.mouse.move(x - 3, y - 3);
  await page.mouse.move(x, y);
  const text = await page.textContent('.gl-status span:first-child');
  const found = /^(\d+), (\d+) px$/.exec(text ?? '');
  assert.ok(found, `coordinates under the mouse: "${text}"`);
  return [Number(found[1]), Number(found[2])];
}

/** @param {number[]} actual @param {number[]} expected */
function near(actual, expected, slack = 1) {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]) <= slack), `${JSON.stringify(actual)} ≈ ${JSON.stringify(expected)}`);
}

const BROKEN_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="picture">
    <Label value="Car"/>
    <Label value="Person"/>
  </RectangleLabels>
  <Choices name="scene" toName="photo" choice="single">
    <Choice value="Day">
  </Choices>
</View>`;

test('the config editor shows each problem at its line, jumps there, and previews the fixed config', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'boss', PASSWORD);
  await page.click('#new-project');
  await page.waitForSelector('#config-preview .gl-overlay-canvas');

  // An unclosed <Choice> (line 8): the XML stops parsing where </Choices> comes, on line 9.
  await page.fill('#label-config', BROKEN_CONFIG);
  await page.waitForFunction(() => /line 9:/.test(document.querySelector('#config-problems')?.textContent ?? ''));
  assert.equal(await page.textContent('#config-status'), 'Fix the errors below before saving.');
  assert.match(await page.textContent('#config-problems li') ?? '', /error: XML syntax error/);
  // The preview keeps the last valid config and says it is out of date.
  assert.ok(await page.isVisible('#preview-stale'));
  await page.click('#config-problems li button');
  assert.equal(await cursorLine(page, '#label-config'), 9);
  // The cursor is where the closing tag is missing: typing it there fixes the XML.
  await page.keyboard.type('</Choice>');

  // Now the two `toName`s that point to no object: each with its line.
  await page.waitForFunction(() => document.querySelectorAll('#config-problems li').length === 2);
  const problems = await page.$$eval('#config-problems li', (items) => items.map((item) => item.textContent ?? ''));
  assert.match(problems.join('\n'), /line 3:\d+error: .*picture/);
  assert.match(problems.join('\n'), /line 7:\d+error: .*photo/);
  for (const index of [1, 0]) {
    const line = Number(/^line (\d+):/.exec(problems[index])?.[1]);
    await page.click(`#config-problems li:nth-child(${index + 1}) button`);
    assert.equal(await cursorLine(page, '#label-config'), line, problems[index]);
  }

  const fixed = BROKEN_CONFIG.replace('toName="picture"', 'toName="image"').replace('toName="photo"', 'toName="image"').replace('"Day">', '"Day"/>');
  await page.fill('#label-config', fixed);
  await page.waitForFunction(() => document.querySelector('#config-status')?.textContent === 'The config is valid.');
  assert.ok(await page.isHidden('#preview-stale'));
  // The preview shows the labeling screen of this config (the template's had a third label).
  await page.waitForFunction(() => [...document.querySelectorAll('#config-preview .gl-label .gl-option-text')].map((l) => l.textContent).join() === 'Car,Person');
  assert.equal(await page.locator('#config-preview .gl-overlay-canvas').count(), 1);
  assert.equal(await page.locator('#config-problems li').count(), 0);

  await page.fill('#project-name', 'Checked config');
  await page.click('#create-project');
  await page.waitForURL(/\/projects\/\d+\/import$/);
  const id = Number(/projects\/(\d+)/.exec(page.url())?.[1]);
  assert.equal((await call('boss', 'GET', `/projects/${id}`)).label_config, fixed);
  await page.context().close();
});

const VEHICLES = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/>
    <Label value="Truck"/>
    <Label value="Person"/>
  </RectangleLabels>
</View>`;

/** @param {string} id @param {string} label @param {number} x */
function boxResult(id, label, x) {
  return { id, from_name: 'box', to_name: 'image', type: 'rectanglelabels', original_width: 320, original_height: 240,
    value: { x, y: 10, width: 20, height: 20, rotation: 0, rectanglelabels: [label] } };
}

test('a config change shows its impact, maps the removed labels and migrates the annotations', async () => {
  const projectId = await makeProject('Vehicles', VEHICLES, [['ann1', 'annotator']]);
  await call('boss', 'POST', `/projects/${projectId}/tasks`, [{ image: 'one.png' }, { image: 'two.png' }]);
  /** @type {{task: number, annotation: number}[]} */
  const made = [];
  for (const result of [
    [boxResult('a', 'Car', 5), boxResult('b', 'Truck', 40), boxResult('c', 'Person', 70)],
    [boxResult('d', 'Car', 10)],
  ]) {
    const next = await call('ann1', 'GET', `/projects/${projectId}/next`);
    const annotation = await call('ann1', 'POST', `/tasks/${next.task.id}/annotations`, { result });
    made.push({ task: next.task.id, annotation: annotation.id });
  }

  const page = await newPage();
  await signIn(page, gloss.base, 'boss', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/settings`);
  await page.waitForFunction(() => document.querySelector('#config-status')?.textContent === 'The config is valid.');
  assert.ok(await page.isHidden('#preview-stale'));
  const changed = VEHICLES.replace('"Car"', '"Vehicle"').replace('    <Label value="Truck"/>\n', '');
  await page.fill('#label-config', changed);
  await page.click('#save-config');

  await page.waitForSelector('#config-impact table');
  const rows = await page.$$eval('#config-impact tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
  assert.deepEqual(rows.sort(), [['box', 'Car', '2'], ['box', 'Truck', '1']]);
  // Each lost label can be removed or renamed/merged into a label the new config has.
  const offered = await page.$$eval('#config-impact select[data-label=Truck] option', (options) => options.map((o) => /** @type {HTMLOptionElement} */ (o).value));
  assert.deepEqual(offered, ['', 'Vehicle', 'Person']);
  await page.selectOption('#config-impact select[data-label=Car]', 'Vehicle');
  await page.selectOption('#config-impact select[data-label=Truck]', 'Vehicle');
  assert.equal((await call('boss', 'GET', `/projects/${projectId}`)).label_config, VEHICLES, 'nothing saved before applying');
  await page.click('#apply-config');
  await page.waitForSelector('#config-impact table', { state: 'detached' });
  await page.waitForSelector('.toast >> text=Label config saved.');

  assert.equal((await call('boss', 'GET', `/projects/${projectId}`)).label_config, changed);
  const labelsOf = (/** @type {any[]} */ result) => result.map((item) => item.value.rectanglelabels[0]);
  const first = await call('boss', 'GET', `/tasks/${made[0].task}`);
  assert.deepEqual(labelsOf(first.annotations[0].result), ['Vehicle', 'Vehicle', 'Person']);
  assert.equal(first.annotations[0].version, 2);
  const second = await call('boss', 'GET', `/tasks/${made[1].task}`);
  assert.deepEqual(labelsOf(second.annotations[0].result), ['Vehicle']);
  const versions = await call('boss', 'GET', `/annotations/${made[0].annotation}/versions`);
  assert.deepEqual(versions.map((/** @type {any} */ v) => v.version), [1, 2]);
  assert.deepEqual(labelsOf(versions[0].result), ['Car', 'Truck', 'Person'], 'the old version is kept');
  await page.context().close();
});

test('a manager changes a member\'s role and removes a member', async () => {
  const projectId = await makeProject('Team', VEHICLES, [['ann1', 'annotator'], ['ann2', 'annotator']]);
  const page = await newPage();
  await signIn(page, gloss.base, 'boss', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/members`);
  await page.waitForSelector('#members tr[data-username=ann2]');

  await page.selectOption('#members tr[data-username=ann1] select[aria-label="Role"]', 'reviewer');
  await page.waitForSelector('.toast >> text=ann1 is now reviewer.');
  await page.click('#members tr[data-username=ann2] button.danger');
  await page.waitForSelector('#members tr[data-username=ann2]', { state: 'detached' });
  assert.equal(await page.locator('#members tr[data-username=ann1] select[aria-label="Role"]').inputValue(), 'reviewer');

  const members = await call('boss', 'GET', `/projects/${projectId}/members`);
  const roles = Object.fromEntries(members.items.map((/** @type {any} */ m) => [m.username, m.role]));
  assert.deepEqual(roles, { boss: 'manager', ann1: 'reviewer' });
  assert.equal((await api(gloss.base, tokens.ann2, 'GET', `/projects/${projectId}`)).status, 404, 'ann2 no longer sees the project');
  await page.context().close();
});

test('an import with a bad row shows the row and the reason, and imports nothing', async () => {
  const projectId = await makeProject('Imports', VEHICLES);
  await call('boss', 'POST', `/projects/${projectId}/tasks`, [{ image: 'kept-1.png' }, { image: 'kept-2.png' }]);
  const before = (await call('boss', 'GET', `/projects/${projectId}/tasks?limit=100`)).items.length;
  assert.equal(before, 2);

  const page = await newPage();
  await signIn(page, gloss.base, 'boss', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/import`);
  const rows = [{ image: 'a.png' }, { picture: 'b.png' }, { image: 'c.png' }, { image: 42 }];
  await page.setInputFiles('#import-files', { name: 'tasks.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(rows)) });
  await page.waitForSelector('#import-failed');
  assert.match(await page.textContent('#import-failed .error') ?? '', /Nothing was imported: 2 rows were rejected/);
  const reasons = await page.$$eval('#import-failed li', (items) => items.map((item) => item.textContent));
  assert.deepEqual(reasons, [
    'tasks.json, row 2, data.image: missing: the label config shows $image',
    'tasks.json, row 4, data.image: an image reference must be a string',
  ]);
  assert.equal(await page.textContent('#uploads .upload-row:first-child span'), 'Nothing imported');

  const after = await call('boss', 'GET', `/projects/${projectId}/tasks?limit=100`);
  assert.equal(after.items.length, before, 'not even the good rows were written');
  await page.context().close();
});

test('the account page changes the password and makes and revokes an API token', async () => {
  const NEW_PASSWORD = 'a-brand-new-password';
  const page = await newPage();
  await signIn(page, gloss.base, 'acct', PASSWORD);
  await page.click('a.who');
  await page.waitForSelector('#change-password');
  await page.fill('#current-password', PASSWORD);
  await page.fill('#new-password', NEW_PASSWORD);
  await page.click('#change-password button[type=submit]');
  await page.waitForURL((url) => url.pathname === '/login');
  assert.equal((await api(gloss.base, null, 'POST', '/auth/token', { username: 'acct', password: PASSWORD })).status, 401);
  assert.equal((await api(gloss.base, null, 'POST', '/auth/token', { username: 'acct', password: NEW_PASSWORD })).status, 201);

  await signIn(page, gloss.base, 'acct', NEW_PASSWORD);
  await page.goto(`${gloss.base}/account`);
  await page.waitForSelector('#tokens');
  await page.fill('#token-name', 'training script');
  await page.press('#token-name', 'Enter');
  await page.waitForSelector('#token-secret .secret');
  const secret = (await page.textContent('#token-secret .secret')) ?? '';
  assert.ok(secret.length >= 20, secret);
  await page.waitForSelector('#tokens td >> text=training script');
  const me = await api(gloss.base, secret, 'GET', '/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.username, 'acct');

  // Shown once: back on the page, only its name and first characters are listed.
  await page.reload();
  await page.waitForSelector('#tokens td >> text=training script');
  assert.equal(await page.textContent('#token-secret'), '');
  assert.ok(!(await page.textContent('main'))?.includes(secret));

  await page.click('#tokens tr:has-text("training script") button.danger');
  await page.waitForSelector('#tokens td >> text=training script', { state: 'detached' });
  assert.equal((await api(gloss.base, secret, 'GET', '/me')).status, 401);
  await page.context().close();
});

/** 120 labels: `Label 000`…`Label 118` and one `Zebra crossing` in the middle. */
const MANY_LABELS = Array.from({ length: 119 }, (_, i) => `Label ${String(i).padStart(3, '0')}`);
MANY_LABELS.splice(77, 0, 'Zebra crossing');
const MANY_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
${MANY_LABELS.map((label) => `    <Label value="${label}"/>`).join('\n')}
  </RectangleLabels>
</View>`;

test('labeling: the label palette, pre-annotations, skip, back and update, pan, the keyboard map and brightness', async () => {
  const projectId = await makeProject('Many labels', MANY_CONFIG, [['ann3', 'annotator']]);
  const [image] = await uploadImages(projectId, 1);
  const predicted = [boxResult('p1', 'Label 005', 10), boxResult('p2', 'Zebra crossing', 50)];
  await call('boss', 'POST', `/projects/${projectId}/tasks`, [
    { data: { image }, predictions: [{ model_version: 'detector-v1', score: 0.9, result: predicted }] },
    { image }, { image }, { image },
  ]);
  const taskIds = (await call('boss', 'GET', `/projects/${projectId}/tasks?limit=100`)).items.map((/** @type {any} */ t) => t.id).sort((a, b) => a - b);

  const page = await newPage();
  await signIn(page, gloss.base, 'ann3', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/label`);
  const first = await shownTask(page);
  assert.equal(first, taskIds[0]);
  const box = await page.locator('.gl-overlay-canvas').boundingBox();
  assert.ok(box && box.width > 200 && box.height > 150, JSON.stringify(box));
  assert.equal(await page.locator('.gl-labels .gl-label').count(), 120);

  // `/` opens the palette; part of a name finds the label; Enter picks it for the next box.
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('gl-filter')), true);
  await page.keyboard.type('zebra');
  assert.deepEqual(await page.$$eval('.gl-labels .gl-label:not([hidden]) .gl-option-text', (labels) => labels.map((l) => l.textContent)), ['Zebra crossing']);
  await page.keyboard.press('Enter');
  assert.equal(await page.textContent('.gl-labels .gl-label.gl-on .gl-option-text'), 'Zebra crossing');
  assert.equal(await page.locator('.gl-labels .gl-label:not([hidden])').count(), 120, 'the filter is cleared');
  const [x0, y0] = [box.x + box.width * 0.35, box.y + box.height * 0.35];
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move(x0 + 40, y0 + 30, { steps: 3 });
  await page.mouse.move(x0 + 80, y0 + 60, { steps: 3 });
  await page.mouse.up();
  assert.deepEqual(await regionRows(page), ['1. Zebra crossing · box']);

  // Panning with Space+drag and with the middle button: the image point
  // under the cursor moves with the drag.
  const start = [box.x + box.width * 0.5, box.y + box.height * 0.5];
  const before = await imagePointAt(page, start[0], start[1]);
  await page.keyboard.down('Space');
  await page.mouse.down();
  await page.mouse.move(start[0] + 30, start[1] + 20, { steps: 3 });
  await page.mouse.move(start[0] + 60, start[1] + 40, { steps: 3 });
  await page.mouse.up();
  await page.keyboard.up('Space');
  near(await imagePointAt(page, start[0] + 60, start[1] + 40), before);
  assert.notDeepEqual(await imagePointAt(page, start[0], start[1]), before);
  assert.equal(await regionCount(page), 1, 'the drag panned and drew nothing');
  await page.mouse.move(start[0] + 60, start[1] + 40);
  await page.mouse.down({ button: 'middle' });
  await page.mouse.move(start[0] + 20, start[1] + 10, { steps: 3 });
  await page.mouse.move(start[0] - 20, start[1] - 20, { steps: 3 });
  await page.mouse.up({ button: 'middle' });
  near(await imagePointAt(page, start[0] - 20, start[1] - 20), before);
  assert.equal(await regionCount(page), 1);

  // `?` shows the keyboard map, with the page's keys; Escape closes it.
  await page.keyboard.press('?');
  await page.waitForSelector('.gl-keymap');
  const keys = await page.$$eval('.gl-keymap kbd', (kbds) => kbds.map((k) => k.textContent));
  assert.ok(keys.includes('Ctrl+Enter') && keys.includes('Ctrl+Space') && keys.includes('/'), JSON.stringify(keys));
  await page.keyboard.press('Escape');
  await page.waitForSelector('.gl-keymap', { state: 'detached' });

  // The brightness slider filters the image canvas.
  assert.equal(await page.$eval('.gl-image-canvas', (c) => /** @type {HTMLElement} */ (c).style.filter), '');
  const slider = await page.locator('input[aria-label=Brightness]').boundingBox();
  assert.ok(slider);
  await page.mouse.click(slider.x + slider.width * 0.9, slider.y + slider.height / 2);
  const filter = await page.$eval('.gl-image-canvas', (c) => getComputedStyle(c).filter);
  const brightness = Number(/brightness\(([\d.]+)/.exec(filter)?.[1]);
  assert.ok(brightness > 1.5, filter);
  await page.click('.gl-toolbar button:has-text("Reset")');
  assert.equal(await page.$eval('.gl-image-canvas', (c) => getComputedStyle(c).filter), 'none');

  await page.keyboard.press('Control+Enter');
  const second = await shownTask(page, first);
  const stored = await call('boss', 'GET', `/tasks/${first}`);
  assert.deepEqual(stored.annotations[0].result.map((/** @type {any} */ r) => r.value.rectanglelabels), [['Zebra crossing']]);

  // The predicted task comes pre-annotated; submitting it unchanged keeps the prediction.
  assert.equal(second, taskIds[1]);
  assert.equal(await page.textContent('#draft-status'), 'Pre-annotated by detector-v1');
  assert.deepEqual(await regionRows(page), ['1. Label 005 · box', '2. Zebra crossing · box']);
  await page.keyboard.press('Control+Enter');
  const third = await shownTask(page, second);
  const { annotations: [annotation] } = await call('boss', 'GET', `/tasks/${second}`);
  const geometry = (/** @type {any[]} */ result) => result.map((r) => ({ label: r.value.rectanglelabels[0], x: r.value.x, y: r.value.y, w: r.value.width, h: r.value.height }));
  const stable = (/** @type {any[]} */ rows) => rows.map((r) => ({ ...r, x: r.x.toFixed(3), y: r.y.toFixed(3), w: r.w.toFixed(3), h: r.h.toFixed(3) }));
  assert.deepEqual(stable(geometry(annotation.result)), stable(geometry(predicted)));

  // Ctrl+Space skips to another task.
  await page.keyboard.press('Control+Space');
  const fourth = await shownTask(page, third);
  assert.ok(![first, second, third].includes(fourth), `${fourth} is a new task`);

  // Ctrl+Backspace goes back to the task submitted last; deleting a region and Update makes version 2.
  await page.keyboard.press('Control+Backspace');
  await page.waitForFunction((id) => document.querySelector('#task-status')?.textContent === `Task #${id}` && document.querySelector('#workspace')?.getAttribute('data-task') === String(id), second);
  assert.equal(await page.textContent('#submit'), 'Update');
  assert.equal(await page.textContent('#draft-status'), 'Your submitted annotation (version 1)');
  await page.click('.gl-region-row:has-text("Label 005") .gl-delete');
  assert.deepEqual(await regionRows(page), ['1. Zebra crossing · box']);
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((id) => document.querySelector('#workspace')?.getAttribute('data-task') !== String(id) && document.querySelector('#workspace')?.getAttribute('data-task'), second);
  const versions = await call('boss', 'GET', `/annotations/${annotation.id}/versions`);
  assert.deepEqual(versions.map((/** @type {any} */ v) => v.version), [1, 2]);
  assert.deepEqual(versions[1].result.map((/** @type {any} */ r) => r.value.rectanglelabels[0]), ['Zebra crossing']);
  await page.context().close();
});

test('signing out goes to the sign-in page, and the page before then asks to sign in', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'ann1', PASSWORD);
  await page.goto(`${gloss.base}/account`);
  await page.waitForSelector('#change-password');
  await page.click('#sign-out');
  await page.waitForURL((url) => url.pathname === '/login');
  await page.waitForSelector('#login');
  await page.goto(`${gloss.base}/account`);
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/account');
  await page.waitForSelector('#login');
  assert.equal(await page.locator('#sign-out').count(), 0);
  await page.context().close();
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
