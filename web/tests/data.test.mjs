// The data manager screen end to end: a real `gloss serve`, Debian's
// Chromium, a project of 31 tasks (30 with data fields, one uploaded image
// whose media URL they all show as their thumbnail) and annotations by two
// annotators. Run: cd web && node --test tests/data.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launchBrowser, png, signIn, startGloss, tokenFor, ADMIN_PASSWORD, recordErrors } from './support.mjs';
import { apiFilter, readState, writeQuery } from '../app/pages/data.js';

const PASSWORD = 'data-manager-password';
const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <Choices name="class" toName="image" choice="single">
    <Choice value="Cat"/>
    <Choice value="Dog"/>
  </Choices>
</View>`;
const CITIES = ['Lyon', 'Paris', 'Nice'];
const HOSTILE = '<img src=x onerror=alert(1)>';
const LONG = `A long description ${'of many words '.repeat(20)}that ends here`;

/** @type {Awaited<ReturnType<typeof startGloss>>} */
let gloss;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, string>} tokens by username */
const tokens = {};
let projectId = 0;
/** The uploaded image's task, then task ids by number i (0..29). */
let pictureTask = 0;
/** @type {number[]} */
let ids = [];
/** Tasks annotated, by annotator. @type {Record<string, number[]>} */
const annotated = { ann1: [], ann2: [] };
/** @type {string[]} */
const pageErrors = [];
/** @type {string[]} */
const dialogs = [];

/** @param {string} who @param {string} method @param {string} path @param {unknown} [body] */
async function call(who, method, path, body) {
  const answer = await api(gloss.base, tokens[who], method, path, body);
  if (answer.status >= 400) throw new Error(`${method} ${path} as ${who}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Every task of the project in the table's default order. */
async function tableIds(query = '') {
  const page = await call('boss', 'GET', `/projects/${projectId}/task-table?limit=500${query}`);
  return page.items.map((/** @type {any} */ row) => row.id);
}

before(async () => {
  gloss = await startGloss();
  browser = await launchBrowser();
  tokens.admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  for (const [username, role] of [['boss', 'manager'], ['rev', 'reviewer'], ['ann1', 'annotator'], ['ann2', 'annotator']]) {
    await call('admin', 'POST', '/users', { username, password: PASSWORD, role });
    tokens[username] = await tokenFor(gloss.base, username, PASSWORD);
  }
  const project = await call('boss', 'POST', '/projects', { name: 'Cities', label_config: CONFIG });
  projectId = project.id;
  for (const [username, role] of [['rev', 'reviewer'], ['ann1', 'annotator'], ['ann2', 'annotator']]) {
    await call('boss', 'POST', `/projects/${projectId}/members`, { username, role });
  }

  // One uploaded image: its media URL is every task's thumbnail.
  const form = new FormData();
  form.append('format', 'auto');
  form.append('file', new Blob([png(64, 48, [40, 120, 200])], { type: 'image/png' }), 'street.png');
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
  const [picture] = (await call('boss', 'GET', `/projects/${projectId}/tasks?limit=10`)).items;
  pictureTask = picture.id;
  const imageUrl = picture.data.image;
  assert.match(imageUrl, /^\/api\/v1\/media\//);

  const rows = Array.from({ length: 30 }, (_, i) => ({
    image: imageUrl,
    city: CITIES[i % 3],
    width: 100 + i * 10,
    n: i,
    note: i === 7 ? HOSTILE : i === 3 ? LONG : `note ${i}`,
  }));
  await call('boss', 'POST', `/projects/${projectId}/tasks`, rows);
  ids = (await tableIds()).filter((id) => id !== pictureTask);
  assert.equal(ids.length, 30);

  // Two annotators label from their queues: ann1 three tasks, ann2 two.
  for (const [who, times, choice] of /** @type {[string, number, string][]} */ ([['ann1', 3, 'Cat'], ['ann2', 2, 'Dog']])) {
    for (let k = 0; k < times; k++) {
      const next = await call(who, 'GET', `/projects/${projectId}/next`);
      await call(who, 'POST', `/tasks/${next.task.id}/annotations`, {
        result: [{ id: `c${k}`, from_name: 'class', to_name: 'image', type: 'choices', value: { choices: [choice] } }],
      });
      annotated[who].push(next.task.id);
    }
  }
});

after(async () => {
  await browser?.close();
  await gloss?.stop();
});

/** A fresh browser (its own cookies) at 1280×720. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  recordErrors(page, pageErrors);
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return page;
}

/** The ids of the table's rows once they are `expected`. @param {import('playwright-core').Page} page @param {number[]} expected */
async function expectRows(page, expected) {
  try {
    await page.waitForFunction((want) => {
      const wrap = document.querySelector('.dm-table-wrap');
      const shown = [...document.querySelectorAll('#dm-table tbody tr')].map((tr) => Number(tr.getAttribute('data-id')));
      return wrap && !wrap.classList.contains('loading') && JSON.stringify(shown) === JSON.stringify(want);
    }, expected, { timeout: 5000 });
  } catch {
    const shown = await page.$$eval('#dm-table tbody tr', (trs) => trs.map((tr) => Number(tr.getAttribute('data-id'))));
    const error = await page.textContent('#dm-error').catch(() => '');
    assert.deepEqual(shown, expected, `the table's rows (error: ${error})`);
  }
}

/** @param {(i: number) => boolean} pick task numbers → ids */
function idsWhere(pick) {
  return ids.filter((_, i) => pick(i));
}

test('the address holds the state and gives it back', () => {
  const query = new URLSearchParams('status=new,completed,bogus&annotator=ann1&label=Cat&score_min=0.5&created_from=2026-01-02&created_to=2026-01-03'
    + `&data=${encodeURIComponent(JSON.stringify([{ key: 'city', op: 'eq', value: 'Lyon' }, { key: 'width', op: 'gt', value: 200 }]))}`
    + '&sort=-data.width&limit=100&columns=city,width&view=4');
  const state = readState(query);
  assert.deepEqual(state.status, ['new', 'completed']);
  assert.equal(state.limit, 100);
  assert.deepEqual(state.columns, ['city', 'width']);
  assert.deepEqual(readState(new URLSearchParams(writeQuery(state).slice(1))), state);
  const filter = apiFilter(state);
  assert.equal(filter.prediction_score_min, 0.5);
  assert.deepEqual(filter.data, [{ key: 'city', op: 'eq', value: 'Lyon' }, { key: 'width', op: 'gt', value: 200 }]);
  // Days are whole local days, in RFC 3339.
  const from = new Date(/** @type {string} */ (filter.created_after));
  const to = new Date(/** @type {string} */ (filter.created_before));
  assert.deepEqual([from.getDate(), from.getHours(), to.getDate(), to.getHours(), to.getMinutes()], [2, 0, 3, 23, 59]);
  assert.equal(writeQuery(readState(new URLSearchParams('limit=7&data=nonsense'))), '');
});

test('a manager browses, sorts, filters, pages and saves views', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'boss', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}`);
  await page.click('#open-data');
  await page.waitForURL(`${gloss.base}/projects/${projectId}/data`);
  await expectRows(page, [pictureTask, ...ids]);
  assert.equal(await page.textContent('#dm-total'), '31 tasks');

  // Thumbnails: lazy, small, and really loaded (the media URL, same origin).
  assert.equal(await page.locator('#dm-table img.dm-thumb').count(), 31);
  assert.equal(await page.getAttribute('#dm-table img.dm-thumb >> nth=0', 'loading'), 'lazy');
  await page.waitForFunction(() => {
    const image = /** @type {HTMLImageElement | null} */ (document.querySelector('#dm-table img.dm-thumb'));
    return image !== null && image.complete && image.naturalWidth === 64;
  });
  const box = await page.locator('#dm-table img.dm-thumb >> nth=0').boundingBox();
  assert.ok(box && box.width === 48 && box.height === 36, JSON.stringify(box));
  // Data fields are columns, in the order the server keeps the keys (the
  // image itself is the thumbnail, not a column).
  const heads = await page.$$eval('#dm-table thead th[data-column^="data."]', (ths) => ths.map((th) => th.getAttribute('data-column')));
  assert.deepEqual(heads, ['data.city', 'data.n', 'data.note', 'data.width']);
  // Long text is cut, the whole of it in the title.
  const long = page.locator(`#dm-table tr[data-id="${ids[3]}"] td.dm-text[title]`);
  assert.equal(await long.getAttribute('title'), LONG);
  assert.ok((await long.textContent())?.endsWith('…'));
  // Annotators, statuses.
  const first = ids[0];
  assert.equal(await page.textContent(`#dm-table tr[data-id="${annotated.ann1[1]}"] .dm-badge`), 'completed');
  assert.match(await page.textContent(`#dm-table tr[data-id="${annotated.ann2[0]}"]`) ?? '', /ann2/);
  assert.equal(await page.textContent(`#dm-table tr[data-id="${ids[20]}"] .dm-badge`), 'new');

  // Task data is text: the hostile note shows as written, nothing injected.
  const hostileCell = page.locator(`#dm-table tr[data-id="${ids[7]}"] td.dm-text`).filter({ hasText: 'onerror' });
  assert.equal(await hostileCell.textContent(), HOSTILE);
  assert.equal(await page.locator('#dm-table img:not(.dm-thumb)').count(), 0);

  // The column chooser hides a data field; the address keeps the choice.
  await page.click('#dm-columns summary');
  await page.uncheck('#dm-columns input[data-key="note"]');
  await page.waitForSelector('th[data-column="data.note"]', { state: 'detached' });
  assert.match(page.url(), /columns=city%2Cn%2Cwidth$/);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#dm-columns[open]').count(), 0);
  await page.reload();
  await expectRows(page, [pictureTask, ...ids]);
  assert.equal(await page.locator('th[data-column="data.note"]').count(), 0);
  assert.equal(await page.locator('th[data-column="data.width"]').count(), 1);
  await page.click('#dm-columns summary');
  await page.click('#dm-columns-default');
  await page.waitForSelector('th[data-column="data.note"]');
  assert.doesNotMatch(page.url(), /columns=/);
  await page.click('h1');
  assert.equal(await page.locator('#dm-columns[open]').count(), 0);

  // Sorting by a data field, then descending.
  await page.click('th[data-column="data.width"] button');
  await expectRows(page, [pictureTask, ...ids]);
  assert.match(page.url(), /sort=data\.width/);
  assert.equal(await page.getAttribute('th[data-column="data.width"]', 'aria-sort'), 'ascending');
  await page.click('th[data-column="data.width"] button');
  await expectRows(page, [...ids].reverse().concat(pictureTask));
  assert.match(page.url(), /sort=-data\.width/);
  await page.click('th[data-column="data.city"] button');
  const byCity = [pictureTask, ...['Lyon', 'Nice', 'Paris'].flatMap((city) => idsWhere((i) => CITIES[i % 3] === city))];
  await expectRows(page, byCity);

  // Filters: a status and data conditions narrow the rows, kept in the address.
  await page.click('th[data-column="id"] button'); // back to id order
  await expectRows(page, [pictureTask, ...ids]);
  await page.check('#dm-status-new');
  const isNew = (/** @type {number} */ id) => !annotated.ann1.includes(id) && !annotated.ann2.includes(id);
  await expectRows(page, ids.filter(isNew));
  assert.match(page.url(), /status=new/);
  await page.click('#dm-add-condition');
  await page.fill('.dm-condition >> nth=0 >> .dm-cond-key', 'city');
  await page.selectOption('.dm-condition >> nth=0 >> .dm-cond-op', 'contains');
  await page.fill('.dm-condition >> nth=0 >> .dm-cond-value', 'par');
  await page.press('.dm-condition >> nth=0 >> .dm-cond-value', 'Enter');
  const parisNew = idsWhere((i) => i % 3 === 1).filter(isNew);
  await expectRows(page, parisNew);
  await page.click('#dm-add-condition');
  await page.fill('.dm-condition >> nth=1 >> .dm-cond-key', 'width');
  await page.selectOption('.dm-condition >> nth=1 >> .dm-cond-op', 'gt');
  await page.fill('.dm-condition >> nth=1 >> .dm-cond-value', '200');
  await page.click('#dm-apply');
  const wideParisNew = idsWhere((i) => i % 3 === 1 && 100 + i * 10 > 200).filter(isNew);
  await expectRows(page, wideParisNew);
  await page.waitForFunction((text) => document.querySelector('#dm-total')?.textContent === text, `${wideParisNew.length} tasks match`);
  const filtered = page.url();
  await page.reload();
  await expectRows(page, wideParisNew);
  assert.equal(page.url(), filtered);
  assert.ok(await page.isChecked('#dm-status-new'));
  assert.equal(await page.inputValue('.dm-condition >> nth=1 >> .dm-cond-value'), '200');
  // Back goes to the previous filters, forward returns.
  await page.goBack();
  await expectRows(page, parisNew);
  await page.goForward();
  await expectRows(page, wideParisNew);

  // A mistake in a condition is said, and nothing is asked of the server.
  await page.fill('.dm-condition >> nth=1 >> .dm-cond-value', 'wide');
  await page.click('#dm-apply');
  await page.waitForSelector('#dm-filter-problem:not(:empty)');
  assert.match(await page.textContent('#dm-filter-problem') ?? '', /Data condition 2: width > needs a number/);
  await page.fill('.dm-condition >> nth=1 >> .dm-cond-value', '200');
  await page.click('#dm-apply');
  await page.waitForSelector('#dm-filter-problem:empty', { state: 'attached' });

  // Date ranges: created since yesterday keeps the rows, up to yesterday none.
  const day = (/** @type {number} */ offset) => {
    const moment = new Date(Date.now() + offset * 86_400_000);
    return `${moment.getFullYear()}-${String(moment.getMonth() + 1).padStart(2, '0')}-${String(moment.getDate()).padStart(2, '0')}`;
  };
  await page.fill('#dm-created-from', day(-1));
  await page.fill('#dm-created-to', day(0));
  await page.waitForURL(/created_to=/);
  await expectRows(page, wideParisNew);
  await page.fill('#dm-created-to', day(-1));
  await expectRows(page, []);
  await page.fill('#dm-created-from', '');
  await page.fill('#dm-created-to', '');
  await expectRows(page, wideParisNew);
  assert.doesNotMatch(page.url(), /created_/);

  // Save the view (shared), clear the filters, then pick the view again.
  await page.click('#dm-view-save');
  await page.fill('#dm-view-name', 'Wide Paris backlog');
  await page.check('#dm-view-shared');
  await page.click('#dm-dialog-confirm');
  await page.waitForURL(/view=\d+/);
  const [view] = await call('boss', 'GET', `/projects/${projectId}/views`);
  assert.equal(view.name, 'Wide Paris backlog');
  assert.equal(view.shared, true);
  assert.deepEqual(view.filter, { status: ['new'], data: [{ key: 'city', op: 'contains', value: 'par' }, { key: 'width', op: 'gt', value: 200 }] });
  await page.click('#dm-clear');
  await expectRows(page, [pictureTask, ...ids]);
  await page.waitForSelector('#dm-view-changed');
  await page.goto(`${gloss.base}/projects/${projectId}/data`);
  await expectRows(page, [pictureTask, ...ids]);
  await page.selectOption('#dm-view', String(view.id));
  await expectRows(page, wideParisNew);
  assert.ok(await page.isChecked('#dm-status-new'));
  assert.equal(await page.locator('#dm-view-changed').count(), 0);
  await page.reload();
  await expectRows(page, wideParisNew);
  assert.equal(await page.inputValue('#dm-view'), String(view.id));
  await page.click('#dm-view-rename');
  await page.fill('#dm-view-name', 'Paris, wide, new');
  await page.click('#dm-dialog-confirm');
  await page.waitForFunction(() => document.querySelector('#dm-view option:checked')?.textContent === 'Paris, wide, new');
  assert.equal((await call('boss', 'GET', `/projects/${projectId}/views`))[0].name, 'Paris, wide, new');
  await page.click('#dm-view-delete');
  assert.match(await page.textContent('#dm-dialog h2') ?? '', /Delete the view “Paris, wide, new”/);
  await page.click('#dm-dialog-confirm');
  await page.waitForFunction(() => !/view=/.test(location.search) && document.querySelector('#dm-view-delete') === null);
  assert.deepEqual(await call('boss', 'GET', `/projects/${projectId}/views`), []);
  await expectRows(page, wideParisNew);

  // Pages of 25: next and previous show the right ids.
  await page.click('#dm-clear');
  await expectRows(page, [pictureTask, ...ids]);
  await page.selectOption('#dm-limit', '25');
  const all = [pictureTask, ...ids];
  await expectRows(page, all.slice(0, 25));
  assert.match(page.url(), /limit=25/);
  assert.ok(await page.isDisabled('#dm-prev'));
  await page.click('#dm-next');
  await expectRows(page, all.slice(25));
  assert.equal(await page.textContent('#dm-page-info'), 'Page 2 · tasks 26–31 of 31');
  assert.ok(await page.isDisabled('#dm-next'));
  await page.click('#dm-prev');
  await expectRows(page, all.slice(0, 25));
  await page.click('#dm-next');
  await expectRows(page, all.slice(25));
  // A reload keeps the page too.
  await page.reload();
  await expectRows(page, all.slice(25));
  await page.click('#dm-prev');
  await expectRows(page, all.slice(0, 25));

  assert.equal(first, ids[0]);
  await page.context().close();
});

test('a manager selects, sets priorities, opens tasks by click and key, and deletes a filtered set', async () => {
  const page = await newPage();
  await signIn(page, gloss.base, 'boss', PASSWORD);
  await page.goto(`${gloss.base}/projects/${projectId}/data?limit=25`);
  const all = [pictureTask, ...ids];
  await expectRows(page, all.slice(0, 25));

  // Two rows selected by their boxes; priority 7 for both.
  await page.click(`tr[data-id="${ids[10]}"] .dm-row-check`);
  await page.click(`tr[data-id="${ids[11]}"] .dm-row-check`);
  assert.equal(await page.textContent('#dm-selected'), '2 tasks selected.');
  await page.click('#dm-priority');
  await page.fill('#dm-priority-value', '7');
  await page.click('#dm-dialog-confirm');
  await page.waitForSelector('.toast >> text=Set priority 7 on 2 tasks.');
  for (const id of [ids[10], ids[11]]) assert.equal((await call('boss', 'GET', `/tasks/${id}`)).priority, 7);
  assert.equal((await call('boss', 'GET', `/tasks/${ids[12]}`)).priority, 0);
  await page.waitForFunction((id) => document.querySelector(`tr[data-id="${id}"]`)?.textContent?.includes('7'), ids[10]);
  assert.equal(await page.textContent('#dm-selected'), 'Select tasks to change them together.');

  // Keys: j j moves down, x selects, k goes up, Enter opens; back returns to the row.
  await page.click('[data-tab=overview]');
  await page.click('[data-tab=data]');
  await expectRows(page, all);
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  assert.equal(await page.textContent('#dm-selected'), '1 task selected.');
  assert.ok(await page.isChecked(`tr[data-id="${all[1]}"] .dm-row-check`));
  await page.keyboard.press('x');
  assert.equal(await page.textContent('#dm-selected'), 'Select tasks to change them together.');
  await page.keyboard.press('k');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${gloss.base}/projects/${projectId}/tasks/${all[2]}`);
  await page.waitForSelector('#workspace[data-task]');
  await page.goBack();
  await expectRows(page, all);
  await page.waitForSelector(`tr.dm-focused[data-id="${all[2]}"]`);

  // A click on a row opens its task.
  await page.click(`tr[data-id="${ids[5]}"] td.dm-date`);
  await page.waitForURL(`${gloss.base}/projects/${projectId}/tasks/${ids[5]}`);
  await page.waitForSelector('#workspace[data-task]');
  // The task page's back link returns to the table, as the browser's Back does.
  await page.click('#back-to-data');
  await expectRows(page, all);
  await page.waitForSelector(`tr.dm-focused[data-id="${ids[5]}"]`);
  await page.selectOption('#dm-limit', '25');
  await expectRows(page, all.slice(0, 25));

  // Every task wider than 130 (26 of them, more than a page): select all matching, delete.
  await page.click('#dm-add-condition');
  await page.fill('.dm-cond-key', 'width');
  await page.selectOption('.dm-cond-op', 'gt');
  await page.fill('.dm-cond-value', '130');
  await page.press('.dm-cond-value', 'Enter');
  const wide = idsWhere((i) => 100 + i * 10 > 130);
  assert.equal(wide.length, 26);
  await expectRows(page, wide.slice(0, 25));
  await page.check('#dm-select-page');
  assert.equal(await page.textContent('#dm-selected'), '25 tasks selected.');
  await page.click('#dm-select-all');
  assert.equal(await page.textContent('#dm-selected'), 'All 26 matching tasks are selected.');
  // Unticking a row leaves it out of "all matching"; ticking it again puts it back.
  await page.click(`tr[data-id="${wide[0]}"] .dm-row-check`);
  assert.equal(await page.textContent('#dm-selected'), 'All 26 matching tasks but 1 are selected.');
  await page.click(`tr[data-id="${wide[1]}"] .dm-row-check`);
  await page.click(`tr[data-id="${wide[1]}"] .dm-row-check`);
  assert.equal(await page.textContent('#dm-selected'), 'All 26 matching tasks but 1 are selected.');
  await page.click('#dm-delete');
  assert.equal(await page.textContent('#dm-dialog h2'), 'Delete 25 tasks (those matching the filters but the 1 unticked task)?');
  // Cancelling changes nothing.
  await page.click('#dm-dialog-cancel');
  assert.equal((await call('boss', 'GET', `/projects/${projectId}/task-counts`)).total, 31);
  await page.click('#dm-delete');
  await page.click('#dm-dialog-confirm');
  await page.waitForSelector('.toast >> text=Deleted 25 tasks.');
  await expectRows(page, [wide[0]]);
  // The one left: select all matching again, and delete it too.
  await page.check('#dm-select-page');
  await page.click('#dm-delete');
  await page.click('#dm-dialog-confirm');
  await page.waitForSelector('.toast >> text=Deleted 1 task.');
  await expectRows(page, []);
  await page.waitForSelector('#dm-empty:not([hidden])');
  const counts = await call('boss', 'GET', `/projects/${projectId}/task-counts`);
  assert.equal(counts.total, 5);
  assert.deepEqual(await tableIds(), [pictureTask, ...ids.slice(0, 4)]);

  // Reset a selection: annotations go, the tasks are new again.
  await page.click('#dm-clear');
  await expectRows(page, [pictureTask, ...ids.slice(0, 4)]);
  const done = [...annotated.ann1, ...annotated.ann2].filter((id) => id !== pictureTask).slice(0, 1);
  await page.click(`tr[data-id="${done[0]}"] .dm-row-check`);
  await page.click('#dm-reset');
  assert.match(await page.textContent('#dm-dialog') ?? '', /annotations, drafts, reservations, skips and assignments are removed/);
  await page.click('#dm-dialog-confirm');
  await page.waitForSelector('.toast >> text=Reset 1 task.');
  assert.equal((await call('boss', 'GET', `/tasks/${done[0]}`)).annotations.length, 0);

  // Assign the reset task to both annotators.
  await page.click(`tr[data-id="${done[0]}"] .dm-row-check`);
  await page.click('#dm-assign');
  await page.check('#dm-assignees input[data-username="ann1"]');
  await page.check('#dm-assignees input[data-username="ann2"]');
  await page.click('#dm-dialog-confirm');
  await page.waitForSelector('.toast >> text=Made 2 assignments (ann1, ann2).');
  await page.context().close();
});

test('a reviewer browses without bulk actions; an annotator is sent to labeling', async () => {
  const reviewer = await newPage();
  await signIn(reviewer, gloss.base, 'rev', PASSWORD);
  await reviewer.goto(`${gloss.base}/projects/${projectId}/data`);
  await expectRows(reviewer, [pictureTask, ...ids.slice(0, 4)]);
  assert.equal(await reviewer.locator('#dm-selection, #dm-delete, .dm-row-check').count(), 0);
  // A reviewer's own views cannot be shared.
  await reviewer.click('#dm-view-save');
  assert.equal(await reviewer.locator('#dm-view-shared').count(), 0);
  await reviewer.click('#dm-dialog-cancel');
  await reviewer.context().close();

  const annotator = await newPage();
  await signIn(annotator, gloss.base, 'ann1', PASSWORD);
  await annotator.goto(`${gloss.base}/projects/${projectId}/data`);
  await annotator.waitForSelector('#dm-not-allowed');
  assert.equal(await annotator.locator('#dm-table, #dm-selection, #dm-delete, #dm-reset, #dm-assign').count(), 0);
  assert.equal(await annotator.locator('[data-tab=data]').count(), 0);
  await annotator.context().close();
});

test('no page logged an error or opened a dialog', () => {
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});
