// The data manager: a project's tasks as a table (reviewers and managers),
// filtered, sorted and read in keyset pages; saved views of it; and bulk
// actions on a selection or on every matching task (managers).
//
// The filters, the sort, the page size and the chosen columns live in the
// address (so a reload, back and forward keep them and a link shares them);
// the cursors of the pages read so far and the focused row live in the
// history entry, so coming back from a task shows the same page.

import { all, del, get, patch, post, ApiError } from '../api.js';
import { h, replace, toast, when } from '../dom.js';
import { loadProject, manages, projectHeader } from './common.js';

const PAGE_SIZES = [25, 50, 100, 200];
const DEFAULT_LIMIT = 50;
/** The API's limit on priorities. */
const PRIORITY_LIMIT = 1_000_000;
/** @type {[string, string][]} */
const STATUSES = [['new', 'New'], ['in_progress', 'In progress'], ['completed', 'Completed']];
/** Operators of a data condition as the form offers them; `missing` is `eq null`. */
/** @type {[string, string][]} */
const OPERATORS = [['eq', '='], ['contains', 'contains'], ['gt', '>'], ['gte', '≥'], ['lt', '<'], ['lte', '≤'], ['missing', 'is missing']];
const NUMERIC_OPERATORS = ['gt', 'gte', 'lt', 'lte'];
/** Data keys the API filters and sorts by. */
const DATA_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Longest text shown in a cell; the whole value is in its title. */
const CELL_TEXT = 120;

/**
 * @typedef {{key: string, op: string, value: unknown}} DataCondition
 * @typedef {{
 *   status: string[], annotator: string, label: string,
 *   scoreMin: string, scoreMax: string,
 *   createdFrom: string, createdTo: string, updatedFrom: string, updatedTo: string,
 *   data: DataCondition[], sort: string, limit: number,
 *   columns: string[] | null, view: string,
 * }} State
 * @typedef {{id: number, data: Record<string, unknown>, image: string | null, status: string,
 *   priority: number, annotation_count: number, prediction_count: number,
 *   prediction_score: number | null, annotators: string[], created_at: string, updated_at: string}} Row
 * @typedef {{id: number, name: string, shared: boolean, owner: string | null, filter: any,
 *   sort: string | null, columns: string[]}} View
 * @typedef {{key: string, title: string, sort?: string, head?: Node, cell: (row: Row, index: number) => HTMLTableCellElement}} Column
 */

/** @type {[keyof State, string, 'start' | 'end'][]} state field, address parameter, end of the day */
const DAYS = [
  ['createdFrom', 'created_from', 'start'],
  ['createdTo', 'created_to', 'end'],
  ['updatedFrom', 'updated_from', 'start'],
  ['updatedTo', 'updated_to', 'end'],
];
/** @type {Record<string, string>} address parameter → the API's filter field */
const DAY_FILTER = {
  created_from: 'created_after',
  created_to: 'created_before',
  updated_from: 'updated_after',
  updated_to: 'updated_before',
};

/** @param {number} limit @returns {State} */
function emptyState(limit = DEFAULT_LIMIT) {
  return {
    status: [], annotator: '', label: '', scoreMin: '', scoreMax: '',
    createdFrom: '', createdTo: '', updatedFrom: '', updatedTo: '',
    data: [], sort: '', limit, columns: null, view: '',
  };
}

/** The state an address holds. @param {URLSearchParams} query @returns {State} */
export function readState(query) {
  const limit = Number(query.get('limit'));
  const state = emptyState(PAGE_SIZES.includes(limit) ? limit : DEFAULT_LIMIT);
  const statuses = STATUSES.map(([name]) => name);
  state.status = (query.get('status') ?? '').split(',').filter((name) => statuses.includes(name));
  state.annotator = query.get('annotator') ?? '';
  state.label = query.get('label') ?? '';
  state.scoreMin = NUMBER.test(query.get('score_min') ?? '') ? /** @type {string} */ (query.get('score_min')) : '';
  state.scoreMax = NUMBER.test(query.get('score_max') ?? '') ? /** @type {string} */ (query.get('score_max')) : '';
  for (const [field, param] of DAYS) {
    const day = query.get(param) ?? '';
    /** @type {any} */ (state)[field] = DAY.test(day) ? day : '';
  }
  try {
    const data = JSON.parse(query.get('data') ?? '[]');
    if (Array.isArray(data)) {
      state.data = data.filter((condition) => condition && typeof condition.key === 'string' && typeof condition.op === 'string' && 'value' in condition)
        .map((condition) => ({ key: condition.key, op: condition.op, value: condition.value }));
    }
  } catch {
    state.data = [];
  }
  state.sort = query.get('sort') ?? '';
  state.columns = query.has('columns') ? (query.get('columns') ?? '').split(',').filter(Boolean) : null;
  state.view = /^\d+$/.test(query.get('view') ?? '') ? /** @type {string} */ (query.get('view')) : '';
  return state;
}

/** The address of a state (`?…`, or '' for the defaults). @param {State} state */
export function writeQuery(state) {
  const query = new URLSearchParams();
  if (state.view) query.set('view', state.view);
  if (state.status.length) query.set('status', state.status.join(','));
  if (state.annotator) query.set('annotator', state.annotator);
  if (state.label) query.set('label', state.label);
  if (state.scoreMin) query.set('score_min', state.scoreMin);
  if (state.scoreMax) query.set('score_max', state.scoreMax);
  for (const [field, param] of DAYS) {
    if (state[field]) query.set(param, String(state[field]));
  }
  if (state.data.length) query.set('data', JSON.stringify(state.data));
  if (state.sort) query.set('sort', state.sort);
  if (state.limit !== DEFAULT_LIMIT) query.set('limit', String(state.limit));
  if (state.columns) query.set('columns', state.columns.join(','));
  const text = query.toString();
  return text ? `?${text}` : '';
}

/**
 * A local calendar day as an RFC 3339 moment: its first or its last millisecond.
 * @param {string} day  YYYY-MM-DD
 * @param {'start' | 'end'} end
 */
function dayMoment(day, end) {
  const [year, month, date] = day.split('-').map(Number);
  const moment = end === 'start' ? new Date(year, month - 1, date) : new Date(year, month - 1, date, 23, 59, 59, 999);
  return moment.toISOString();
}

/** The local calendar day of a moment (YYYY-MM-DD). @param {string} iso */
function localDay(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return '';
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`;
}

/** The API's `TaskFilter` for a state. @param {State} state @returns {Record<string, unknown>} */
export function apiFilter(state) {
  /** @type {Record<string, unknown>} */
  const filter = {};
  if (state.status.length) filter.status = state.status;
  if (state.annotator) filter.annotator = state.annotator;
  if (state.label) filter.label = state.label;
  if (state.data.length) filter.data = state.data;
  if (state.scoreMin) filter.prediction_score_min = Number(state.scoreMin);
  if (state.scoreMax) filter.prediction_score_max = Number(state.scoreMax);
  for (const [field, param, end] of DAYS) {
    const day = String(state[field]);
    if (day) filter[DAY_FILTER[param]] = dayMoment(day, end);
  }
  return filter;
}

/** Whether counting the filter's tasks is cheap (no filter, or statuses only). @param {Record<string, unknown>} filter */
function cheapCount(filter) {
  return Object.keys(filter).every((key) => key === 'status');
}

/** A view's state. @param {View} view @param {number} limit @returns {State} */
function stateOfView(view, limit) {
  const filter = view.filter ?? {};
  const state = emptyState(limit);
  state.view = String(view.id);
  state.status = Array.isArray(filter.status) ? filter.status : [];
  state.annotator = filter.annotator ?? '';
  state.label = filter.label ?? '';
  state.data = Array.isArray(filter.data) ? filter.data : [];
  state.scoreMin = typeof filter.prediction_score_min === 'number' ? String(filter.prediction_score_min) : '';
  state.scoreMax = typeof filter.prediction_score_max === 'number' ? String(filter.prediction_score_max) : '';
  for (const [field, param] of DAYS) {
    const moment = filter[DAY_FILTER[param]];
    /** @type {any} */ (state)[field] = typeof moment === 'string' ? localDay(moment) : '';
  }
  state.sort = view.sort ?? '';
  state.columns = view.columns?.length ? view.columns : null;
  return state;
}

/** What a view stores of a state. @param {State} state */
function viewBody(state) {
  return { filter: apiFilter(state), sort: state.sort, columns: state.columns ?? [] };
}

/** Whether a state shows what its view saved. @param {State} state @param {View} view */
function showsView(state, view) {
  const plain = (/** @type {State} */ s) => writeQuery({ ...s, view: '', limit: DEFAULT_LIMIT });
  return plain(state) === plain(stateOfView(view, state.limit));
}

/** Whether two states filter the same tasks. @param {State} a @param {State} b */
function sameFilter(a, b) {
  return JSON.stringify(apiFilter(a)) === JSON.stringify(apiFilter(b));
}

/**
 * An API error as lines for people: each problem, or the message with the
 * field it is about.
 * @param {unknown} error
 */
function errorText(error) {
  if (error instanceof ApiError) {
    const lines = error.lines();
    const field = error.details?.field;
    if (typeof field === 'string' && field && lines.length === 1 && lines[0] === error.message) {
      const condition = /^filter\.data\[(\d+)\]\.(\w+)$/.exec(field);
      const where = condition ? `data condition ${Number(condition[1]) + 1} (${condition[2]})` : field.replace(/^filter\./, '');
      return `${where}: ${error.message}`;
    }
    return lines.join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}

/** A value of the task data as one line of text. @param {unknown} value */
function valueText(value) {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? String(value);
}

/** Image URLs a thumbnail may load (the page's policy allows no others anyway). @param {unknown} url */
function thumbnailUrl(url) {
  return typeof url === 'string' && /^(\/|https?:|data:image\/|blob:)/i.test(url) ? url : null;
}

/**
 * What the label config tells the page: the data key of its first image,
 * the data keys its objects read, and its labels and choices.
 * @param {string} labelConfig
 */
function configFacts(labelConfig) {
  /** @type {{imageKey: string | null, keys: string[], labels: string[]}} */
  const facts = { imageKey: null, keys: [], labels: [] };
  const doc = new DOMParser().parseFromString(labelConfig, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) return facts;
  for (const element of doc.getElementsByTagName('*')) {
    const value = element.getAttribute('value') ?? '';
    if (value.startsWith('$')) {
      const key = value.slice(1);
      if (!facts.keys.includes(key)) facts.keys.push(key);
      if (element.tagName === 'Image' && facts.imageKey === null) facts.imageKey = key;
    } else if ((element.tagName === 'Label' || element.tagName === 'Choice') && value && !facts.labels.includes(value)) {
      facts.labels.push(value);
    }
  }
  return facts;
}

/** @param {number} n @param {string} one @param {string} [many] */
function count(n, one, many = `${one}s`) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/**
 * A modal dialog; resolves to whether it was confirmed. `check` may refuse
 * to close it, returning what is wrong.
 * @param {{title: string, body?: (Node | string | null)[], confirm: string, danger?: boolean, check?: () => string}} options
 * @returns {Promise<boolean>}
 */
function ask({ title, body = [], confirm, danger = false, check }) {
  return new Promise((resolve) => {
    const problem = h('p', { class: 'error', id: 'dm-dialog-problem' });
    const dialog = h('dialog', { class: 'dm-dialog', id: 'dm-dialog', 'aria-label': title });
    const form = h('form', { method: 'dialog' },
      h('h2', null, title),
      body,
      problem,
      h('div', { class: 'row dm-dialog-buttons' },
        h('span', { class: 'grow' }),
        h('button', { type: 'button', id: 'dm-dialog-cancel', onclick: () => dialog.close('cancel') }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'danger' : 'primary', id: 'dm-dialog-confirm' }, confirm)),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const wrong = check?.() ?? '';
      if (wrong) replace(problem, wrong);
      else dialog.close('ok');
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok');
    });
    dialog.appendChild(form);
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params, query, user, navigate }) {
  const project = await loadProject(params.project);
  const header = projectHeader(project, 'data');
  if (project.my_role === 'annotator') {
    replace(root, header, notForAnnotators(project.id));
    return;
  }
  const canManage = manages(project);
  const base = `/projects/${project.id}`;
  const facts = configFacts(project.label_config);
  const [members, firstViews] = await Promise.all([
    all(`${base}/members`).catch((error) => {
      toast(`The members could not be listed: ${errorText(error)}`, 'error');
      return /** @type {any[]} */ ([]);
    }),
    get(`${base}/views`),
  ]);
  /** @type {View[]} */
  let views = firstViews;

  // --- What is shown -------------------------------------------------------
  let state = readState(query);
  /** Cursors of the pages read, the last one the page shown (`null`: the first). */
  /** @type {(string | null)[]} */
  let cursors = [null];
  let focus = -1;
  const saved = history.state?.dm;
  if (saved && Array.isArray(saved.cursors) && saved.cursors.length && saved.cursors.every((/** @type {unknown} */ c) => c === null || typeof c === 'string')) {
    cursors = saved.cursors;
    focus = typeof saved.focus === 'number' ? saved.focus : -1;
  }
  /** @type {Row[]} */
  let rows = [];
  /** @type {string | null} */
  let next = null;
  /** @type {number | null} */
  let total = null;
  /** Bumped whenever the set of matching tasks may change, so late counts are dropped. */
  let generation = 0;
  let loadNumber = 0;
  /** @type {AbortController | null} */
  let loading = null;
  /** @type {Set<number>} */
  const selected = new Set();
  let allMatching = false;
  /** With `allMatching`: the tasks unticked since, which an action leaves out. @type {Set<number>} */
  const excluded = new Set();
  let lastChecked = -1;
  /** Data keys seen, in the order first seen; and the JSON types of their values. */
  const knownKeys = [...facts.keys];
  /** @type {Map<string, Set<string>>} */
  const keyTypes = new Map();

  // --- The page's parts ------------------------------------------------------
  const viewBar = h('div', { class: 'dm-views row', id: 'dm-views' });
  const filterForm = h('form', { class: 'dm-filters', id: 'dm-filters' });
  const keyList = h('datalist', { id: 'dm-keys' });
  const labelList = h('datalist', { id: 'dm-labels' }, facts.labels.map((label) => h('option', { value: label })));
  const totalText = h('span', { id: 'dm-total', class: 'dm-total' });
  const columnsMenu = h('details', { class: 'dm-columns', id: 'dm-columns' });
  const pageSize = h('select', { id: 'dm-limit', 'aria-label': 'Tasks per page' },
    PAGE_SIZES.map((size) => h('option', { value: size }, `${size} per page`)));
  const selectionBar = h('div', { class: 'dm-selection row', id: 'dm-selection' });
  const errorBox = h('p', { class: 'error', id: 'dm-error', role: 'alert' });
  const table = h('table', { class: 'dm-table', id: 'dm-table' });
  const tableWrap = h('div', { class: 'dm-table-wrap' }, table);
  const emptyNote = h('div', { class: 'dm-empty', id: 'dm-empty', hidden: true });
  const prevButton = h('button', { type: 'button', id: 'dm-prev', onclick: () => previousPage() }, '← Previous page');
  const nextButton = h('button', { type: 'button', id: 'dm-next', onclick: () => nextPage() }, 'Next page →');
  const pageInfo = h('span', { class: 'muted', id: 'dm-page-info' });

  replace(root,
    header,
    h('div', { class: 'dm' },
      viewBar,
      filterForm,
      keyList,
      labelList,
      h('div', { class: 'dm-toolbar row' }, totalText, h('span', { class: 'grow' }), columnsMenu, pageSize),
      canManage ? selectionBar : null,
      errorBox,
      tableWrap,
      emptyNote,
      h('div', { class: 'dm-pager row' }, prevButton, pageInfo, nextButton),
    ),
  );
  pageSize.value = String(state.limit);
  pageSize.addEventListener('change', () => applyState({ ...state, limit: Number(pageSize.value) }));

  // --- The address and the history entry -----------------------------------
  /** False once the page is left: late answers must not touch the address. */
  let live = true;

  /** Replaces the history entry's page state (cursors and focused row). */
  function remember() {
    if (!live) return;
    history.replaceState({ ...(history.state ?? {}), dm: { cursors, focus } }, '', location.href);
  }

  /**
   * Shows another state from its first page, in a new history entry.
   * @param {State} nextState
   */
  function applyState(nextState) {
    if (!live) return;
    const filterChanged = !sameFilter(state, nextState);
    state = nextState;
    cursors = [null];
    focus = -1;
    if (filterChanged) {
      total = null;
      generation += 1;
      clearSelection();
    }
    const url = location.pathname + writeQuery(state);
    history.pushState({ dm: { cursors, focus } }, '', url);
    pageSize.value = String(state.limit);
    showViews();
    load();
  }

  /** Changes what the address says without reading the table again. @param {State} nextState */
  function rewriteAddress(nextState) {
    if (!live) return;
    state = nextState;
    history.replaceState({ ...(history.state ?? {}), dm: { cursors, focus } }, '', location.pathname + writeQuery(state));
    showViews();
  }

  // --- Saved views ----------------------------------------------------------
  /** @param {View} view */
  function mayChange(view) {
    return view.shared ? canManage || user.role === 'admin' : view.owner === user.username || user.role === 'admin';
  }

  async function reloadViews() {
    views = await get(`${base}/views`);
    showViews();
  }

  function showViews() {
    const current = views.find((view) => String(view.id) === state.view) ?? null;
    const shared = views.filter((view) => view.shared);
    const mine = views.filter((view) => !view.shared);
    const picker = h('select', { id: 'dm-view', 'aria-label': 'Saved view' },
      h('option', { value: '' }, 'All tasks (no saved view)'),
      shared.length ? h('optgroup', { label: 'Shared with the project' }, shared.map((view) => h('option', { value: view.id }, view.name))) : null,
      mine.length ? h('optgroup', { label: 'Only mine' }, mine.map((view) => h('option', { value: view.id }, view.name))) : null,
    );
    picker.value = current ? String(current.id) : '';
    picker.addEventListener('change', () => {
      const view = views.find((v) => String(v.id) === picker.value);
      applyState(view ? stateOfView(view, state.limit) : emptyState(state.limit));
      showFilters();
    });
    const changed = current !== null && !showsView(state, current);
    replace(viewBar,
      h('span', { class: 'dm-label' }, 'View'),
      picker,
      current && changed ? h('span', { class: 'dm-changed', id: 'dm-view-changed' }, 'changed since saved') : null,
      current && changed && mayChange(current) ? h('button', { type: 'button', id: 'dm-view-update', onclick: () => updateView(current) }, 'Save changes') : null,
      current && mayChange(current) ? h('button', { type: 'button', id: 'dm-view-rename', onclick: () => renameView(current) }, 'Rename…') : null,
      current && mayChange(current) ? h('button', { type: 'button', class: 'danger', id: 'dm-view-delete', onclick: () => deleteView(current) }, 'Delete view') : null,
      h('span', { class: 'grow' }),
      h('button', { type: 'button', id: 'dm-view-save', onclick: () => saveView() }, 'Save as view…'),
    );
  }

  async function saveView() {
    const name = h('input', { id: 'dm-view-name', maxlength: 100, autofocus: true, 'aria-label': 'Name of the view' });
    const share = h('input', { type: 'checkbox', id: 'dm-view-shared' });
    const ok = await ask({
      title: 'Save the filters, sort and columns as a view',
      body: [
        h('label', null, 'Name', name),
        canManage ? h('label', { class: 'inline' }, share, 'Share with everyone in the project') : h('p', { class: 'muted' }, 'Only you will see this view.'),
      ],
      confirm: 'Save view',
      check: () => (name.value.trim() ? '' : 'Give the view a name.'),
    });
    if (!ok) return;
    try {
      // A new view's sort is null for the default (an empty one is refused).
      /** @type {View} */
      const view = await post(`${base}/views`, { name: name.value.trim(), shared: share.checked, ...viewBody(state), sort: state.sort || null });
      toast(`Saved the view “${view.name}”${view.shared ? ', shared with the project' : ''}.`);
      state = { ...state, view: String(view.id) };
      rewriteAddress(state);
      await reloadViews();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  /** @param {View} view */
  async function updateView(view) {
    try {
      await patch(`/views/${view.id}`, viewBody(state));
      toast(`Saved the changes to “${view.name}”.`);
      await reloadViews();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  /** @param {View} view */
  async function renameView(view) {
    const name = h('input', { id: 'dm-view-name', maxlength: 100, autofocus: true, value: view.name, 'aria-label': 'New name' });
    const ok = await ask({
      title: `Rename the view “${view.name}”`,
      body: [h('label', null, 'Name', name)],
      confirm: 'Rename',
      check: () => (name.value.trim() ? '' : 'Give the view a name.'),
    });
    if (!ok) return;
    try {
      await patch(`/views/${view.id}`, { name: name.value.trim() });
      toast(`Renamed the view to “${name.value.trim()}”.`);
      await reloadViews();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  /** @param {View} view */
  async function deleteView(view) {
    const ok = await ask({
      title: `Delete the view “${view.name}”?`,
      body: [h('p', null, view.shared ? 'Everyone in the project loses this view. Tasks are not touched.' : 'Tasks are not touched.')],
      confirm: 'Delete view',
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/views/${view.id}`);
      toast(`Deleted the view “${view.name}”.`);
      rewriteAddress({ ...state, view: '' });
      await reloadViews();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  // --- Filters --------------------------------------------------------------
  const filterProblem = h('p', { class: 'error', id: 'dm-filter-problem' });
  const conditionsBox = h('div', { class: 'dm-conditions', id: 'dm-conditions' });

  /** A data condition's row of the form. @param {DataCondition | null} condition */
  function conditionRow(condition) {
    const key = h('input', { class: 'dm-cond-key', list: 'dm-keys', placeholder: 'data key', 'aria-label': 'Data key', value: condition?.key ?? '' });
    const op = h('select', { class: 'dm-cond-op', 'aria-label': 'Operator' }, OPERATORS.map(([name, title]) => h('option', { value: name }, title)));
    const missing = condition !== null && condition.op === 'eq' && condition.value === null;
    op.value = missing ? 'missing' : condition?.op ?? 'eq';
    const value = h('input', { class: 'dm-cond-value', placeholder: 'value', 'aria-label': 'Value', value: missing || !condition ? '' : valueText(condition.value) });
    value.hidden = op.value === 'missing';
    op.addEventListener('change', () => {
      value.hidden = op.value === 'missing';
    });
    const row = h('div', { class: 'dm-condition row' }, key, op, value,
      h('button', { type: 'button', class: 'link dm-cond-remove', title: 'Remove this condition', 'aria-label': 'Remove this condition', onclick: () => {
        row.remove();
        applyForm();
      } }, '✕'));
    return row;
  }

  function showFilters() {
    const statusBoxes = STATUSES.map(([name, title]) => h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name: 'status', value: name, id: `dm-status-${name}`, checked: state.status.includes(name) }), title));
    const annotator = h('select', { name: 'annotator', id: 'dm-annotator', 'aria-label': 'Annotated by' },
      h('option', { value: '' }, 'anyone'),
      members.map((member) => h('option', { value: member.username }, member.username)),
      state.annotator && !members.some((member) => member.username === state.annotator) ? h('option', { value: state.annotator }, state.annotator) : null,
    );
    annotator.value = state.annotator;
    /** @param {string} name @param {string} value @param {Record<string, string | number>} more */
    const input = (name, value, more) => h('input', { name, id: `dm-${name.replace(/_/g, '-')}`, value, ...more });
    replace(conditionsBox, state.data.map((condition) => conditionRow(condition)));
    replace(filterForm,
      h('div', { class: 'dm-filter-line' },
        h('fieldset', { class: 'dm-field' }, h('legend', null, 'Status'), statusBoxes),
        h('label', { class: 'dm-field' }, 'Annotated by', annotator),
        h('label', { class: 'dm-field' }, 'Has label', input('label', state.label, { list: 'dm-labels', placeholder: 'label or choice', size: 14 })),
        h('fieldset', { class: 'dm-field' }, h('legend', null, 'Prediction score'),
          input('score_min', state.scoreMin, { type: 'number', step: 'any', placeholder: 'min', 'aria-label': 'Lowest prediction score', class: 'dm-num-input' }),
          '–',
          input('score_max', state.scoreMax, { type: 'number', step: 'any', placeholder: 'max', 'aria-label': 'Highest prediction score', class: 'dm-num-input' })),
        h('fieldset', { class: 'dm-field' }, h('legend', null, 'Created'),
          input('created_from', state.createdFrom, { type: 'date', 'aria-label': 'Created on or after' }), '–',
          input('created_to', state.createdTo, { type: 'date', 'aria-label': 'Created on or before' })),
        h('fieldset', { class: 'dm-field' }, h('legend', null, 'Updated'),
          input('updated_from', state.updatedFrom, { type: 'date', 'aria-label': 'Updated on or after' }), '–',
          input('updated_to', state.updatedTo, { type: 'date', 'aria-label': 'Updated on or before' })),
      ),
      h('div', { class: 'dm-filter-line' },
        h('span', { class: 'dm-label' }, 'Data'),
        conditionsBox,
        h('button', { type: 'button', id: 'dm-add-condition', onclick: () => {
          const row = conditionRow(null);
          conditionsBox.appendChild(row);
          /** @type {HTMLInputElement} */ (row.querySelector('.dm-cond-key')).focus();
        } }, '+ Condition'),
        h('span', { class: 'grow' }),
        h('button', { type: 'submit', class: 'primary', id: 'dm-apply' }, 'Apply'),
        h('button', { type: 'button', id: 'dm-clear', onclick: () => clearFilters() }, 'Clear filters'),
      ),
      filterProblem,
    );
  }

  /** The form's filters, or what is wrong with them. @returns {{state: State} | {problems: string[]}} */
  function readForm() {
    const form = new FormData(filterForm);
    const text = (/** @type {string} */ name) => String(form.get(name) ?? '').trim();
    /** @type {string[]} */
    const problems = [];
    const nextState = { ...state, data: /** @type {DataCondition[]} */ ([]) };
    nextState.status = form.getAll('status').map(String);
    nextState.annotator = text('annotator');
    nextState.label = text('label');
    nextState.scoreMin = text('score_min');
    nextState.scoreMax = text('score_max');
    for (const [name, title] of [['score_min', 'The lowest score'], ['score_max', 'The highest score']]) {
      if (text(name) && !NUMBER.test(text(name))) problems.push(`${title} must be a number.`);
    }
    for (const [field, param] of DAYS) /** @type {any} */ (nextState)[field] = DAY.test(text(param)) ? text(param) : '';
    [...conditionsBox.querySelectorAll('.dm-condition')].forEach((row, index) => {
      const key = /** @type {HTMLInputElement} */ (row.querySelector('.dm-cond-key')).value.trim();
      const op = /** @type {HTMLSelectElement} */ (row.querySelector('.dm-cond-op')).value;
      const value = /** @type {HTMLInputElement} */ (row.querySelector('.dm-cond-value')).value.trim();
      const where = `Data condition ${index + 1}`;
      if (!key) return; // not written yet
      if (!DATA_KEY.test(key)) {
        problems.push(`${where}: a data key has only letters, digits, _ and - (at most 64).`);
        return;
      }
      if (op === 'missing') {
        nextState.data.push({ key, op: 'eq', value: null });
        return;
      }
      if (!value) return; // not written yet
      if (NUMERIC_OPERATORS.includes(op)) {
        if (!NUMBER.test(value)) problems.push(`${where}: ${key} ${OPERATORS.find(([name]) => name === op)?.[1]} needs a number.`);
        else nextState.data.push({ key, op, value: Number(value) });
      } else if (op === 'contains') {
        nextState.data.push({ key, op, value });
      } else {
        nextState.data.push({ key, op, value: typedValue(key, value) });
      }
    });
    return problems.length ? { problems } : { state: nextState };
  }

  /**
   * The value to compare a data key with: a number or a boolean where the
   * key holds those (or, for numbers, where its values are not known yet).
   * @param {string} key @param {string} text
   */
  function typedValue(key, text) {
    const types = keyTypes.get(key);
    if (NUMBER.test(text) && (!types || types.has('number'))) return Number(text);
    if ((text === 'true' || text === 'false') && types?.has('boolean')) return text === 'true';
    return text;
  }

  let formPending = false;
  /** Applies the form once, after the changes of this turn. */
  function applyForm() {
    if (formPending) return;
    formPending = true;
    setTimeout(() => {
      formPending = false;
      const read = readForm();
      if ('problems' in read) {
        replace(filterProblem, read.problems.join('\n'));
        return;
      }
      replace(filterProblem);
      if (writeQuery(read.state) !== writeQuery(state)) applyState(read.state);
    });
  }

  function clearFilters() {
    const cleared = { ...emptyState(state.limit), sort: state.sort, columns: state.columns, view: state.view };
    applyState(cleared);
    showFilters();
  }

  filterForm.addEventListener('change', () => applyForm());
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    applyForm();
  });

  // --- Columns --------------------------------------------------------------
  /** The data columns shown. */
  function dataColumns() {
    return state.columns ?? knownKeys.filter((key) => key !== facts.imageKey);
  }

  function showColumnsMenu() {
    const open = columnsMenu.open;
    const shown = dataColumns();
    const keys = [...knownKeys, ...shown.filter((key) => !knownKeys.includes(key))];
    replace(keyList, keys.map((key) => h('option', { value: key })));
    replace(columnsMenu,
      h('summary', { class: 'button' }, `Columns (${shown.length}/${keys.length})`),
      h('div', { class: 'dm-menu' },
        h('p', { class: 'muted' }, 'Data fields shown'),
        keys.length ? null : h('p', { class: 'muted' }, 'No data fields yet.'),
        keys.map((key) => {
          const box = h('input', { type: 'checkbox', 'data-key': key, checked: shown.includes(key) });
          box.addEventListener('change', () => {
            const current = dataColumns();
            const columns = box.checked ? [...current.filter((k) => k !== key), key] : current.filter((k) => k !== key);
            // Keep the table's order: known keys in the order they came.
            columns.sort((a, b) => order(a) - order(b));
            rewriteAddress({ ...state, columns });
            showTable();
          });
          return h('label', { class: 'inline' }, box, key);
        }),
        h('div', { class: 'row' },
          h('button', { type: 'button', id: 'dm-columns-all', onclick: () => {
            rewriteAddress({ ...state, columns: [...keys] });
            showTable();
          } }, 'All'),
          h('button', { type: 'button', id: 'dm-columns-default', onclick: () => {
            rewriteAddress({ ...state, columns: null });
            showTable();
          } }, 'Default')),
      ),
    );
    columnsMenu.open = open;
    /** @param {string} key */
    function order(key) {
      const at = keys.indexOf(key);
      return at < 0 ? keys.length : at;
    }
  }

  /** @returns {Column[]} */
  function columns() {
    /** @type {Column[]} */
    const list = [];
    if (canManage) {
      const pageBox = h('input', { type: 'checkbox', id: 'dm-select-page', 'aria-label': 'Select every task on this page' });
      pageBox.addEventListener('change', () => selectPage(pageBox.checked));
      list.push({
        key: 'select', title: '', head: h('label', { class: 'dm-check' }, pageBox),
        cell: (row, index) => {
          const box = h('input', { type: 'checkbox', class: 'dm-row-check', 'aria-label': `Select task ${row.id}` });
          box.addEventListener('click', (event) => toggleRow(index, box.checked, /** @type {MouseEvent} */ (event).shiftKey));
          return h('td', { class: 'dm-check-cell' }, h('label', { class: 'dm-check' }, box));
        },
      });
    }
    list.push({
      key: 'id', title: 'ID', sort: 'id',
      cell: (row) => h('td', { class: 'dm-id' }, h('a', { href: `${base}/tasks/${row.id}`, tabindex: -1 }, String(row.id))),
    });
    if (facts.imageKey || rows.some((row) => row.image)) {
      list.push({
        key: 'image', title: '',
        cell: (row) => {
          const url = thumbnailUrl(row.image);
          return h('td', { class: 'dm-thumb-cell' }, url ? h('img', { class: 'dm-thumb', src: url, loading: 'lazy', alt: '', width: 48, height: 36, decoding: 'async' }) : null);
        },
      });
    }
    for (const key of dataColumns()) {
      list.push({
        key: `data.${key}`, title: key, sort: DATA_KEY.test(key) ? `data.${key}` : undefined,
        cell: (row) => {
          const value = row.data[key];
          const text = valueText(value);
          return h('td', {
            class: `dm-text${typeof value === 'number' ? ' dm-number' : ''}${value === undefined || value === null ? ' muted' : ''}`,
            title: text.length > CELL_TEXT || typeof value === 'object' ? text.slice(0, 4000) : null,
          }, text.length > CELL_TEXT ? `${text.slice(0, CELL_TEXT)}…` : text);
        },
      });
    }
    list.push(
      {
        key: 'status', title: 'Status',
        cell: (row) => h('td', null, h('span', { class: `dm-badge ${row.status}` }, row.status.replace('_', ' '))),
      },
      {
        key: 'annotation_count', title: 'Annotations', sort: 'annotation_count',
        cell: (row) => h('td', { class: 'dm-number' }, String(row.annotation_count)),
      },
      {
        key: 'annotators', title: 'Annotators',
        cell: (row) => {
          const names = row.annotators.join(', ');
          return h('td', { class: 'dm-text', title: names.length > 40 ? names : null }, names);
        },
      },
      {
        key: 'prediction_score', title: 'Score', sort: 'prediction_score',
        cell: (row) => h('td', { class: 'dm-number', title: row.prediction_count ? count(row.prediction_count, 'prediction') : null },
          row.prediction_score === null ? '–' : String(Math.round(row.prediction_score * 1000) / 1000)),
      },
      {
        key: 'priority', title: 'Priority',
        cell: (row) => h('td', { class: 'dm-number' }, String(row.priority)),
      },
      {
        key: 'updated', title: 'Updated', sort: 'updated',
        cell: (row) => h('td', { class: 'dm-date', title: row.updated_at }, shortTime(row.updated_at)),
      },
    );
    return list;
  }

  /** @param {string} iso */
  function shortTime(iso) {
    const moment = new Date(iso);
    return Number.isNaN(moment.getTime()) ? when(iso) : moment.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
  }

  /** @param {Column} column */
  function headCell(column) {
    if (column.head) return h('th', { class: 'dm-check-cell' }, column.head);
    if (!column.sort) return h('th', { 'data-column': column.key }, column.title);
    const sortKey = column.sort;
    const direction = state.sort === sortKey || (!state.sort && sortKey === 'id') ? 'ascending' : state.sort === `-${sortKey}` ? 'descending' : null;
    const button = h('button', {
      type: 'button', class: 'dm-sort', 'data-sort': sortKey,
      title: direction === 'ascending' ? 'Sorted ascending; click to sort descending' : 'Sort ascending',
      onclick: () => applyState({ ...state, sort: direction === 'ascending' ? `-${sortKey}` : sortKey === 'id' ? '' : sortKey }),
    }, column.title, h('span', { class: 'dm-arrow', 'aria-hidden': 'true' }, direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : ''));
    return h('th', { 'aria-sort': direction ?? 'none', 'data-column': column.key }, button);
  }

  function showTable() {
    const list = columns();
    const body = h('tbody', null, rows.map((row, index) => {
      const tr = h('tr', { 'data-id': row.id, tabindex: index === focus ? 0 : -1, class: 'dm-row' }, list.map((column) => column.cell(row, index)));
      tr.addEventListener('click', (event) => {
        const target = event.target;
        if (target instanceof Element && target.closest('a, input, label, button')) return;
        if (String(window.getSelection() ?? '')) return; // selecting text to copy
        openTask(index, /** @type {MouseEvent} */ (event).ctrlKey || /** @type {MouseEvent} */ (event).metaKey);
      });
      tr.addEventListener('focusin', () => {
        if (focus !== index) setFocus(index, false);
      });
      return tr;
    }));
    replace(table, h('thead', null, h('tr', null, list.map(headCell))), body);
    emptyNote.hidden = rows.length > 0;
    if (!rows.length) {
      const filtered = Object.keys(apiFilter(state)).length > 0;
      replace(emptyNote, filtered
        ? h('p', null, 'No task matches these filters. ', h('button', { type: 'button', class: 'link', onclick: () => clearFilters() }, 'Clear the filters'))
        : h('p', null, 'This project has no tasks yet.', canManage ? [' ', h('a', { href: `${base}/import` }, 'Import data'), '.'] : null));
    }
    showSelection();
    showColumnsMenu();
    if (focus >= rows.length) focus = rows.length - 1;
    markFocus();
  }

  function showPager() {
    const first = (cursors.length - 1) * state.limit;
    prevButton.disabled = cursors.length <= 1;
    nextButton.disabled = !next;
    replace(pageInfo, rows.length
      ? `Page ${cursors.length} · tasks ${(first + 1).toLocaleString()}–${(first + rows.length).toLocaleString()}${total !== null ? ` of ${total.toLocaleString()}` : ''}`
      : `Page ${cursors.length}`);
    replace(totalText, total === null ? 'Counting…' : Object.keys(apiFilter(state)).length ? `${count(total, 'task')} match` : count(total, 'task'));
  }

  // --- Reading pages --------------------------------------------------------
  async function load() {
    const number = ++loadNumber;
    loading?.abort();
    const controller = new AbortController();
    loading = controller;
    const filter = apiFilter(state);
    const search = new URLSearchParams();
    if (Object.keys(filter).length) search.set('filter', JSON.stringify(filter));
    if (state.sort) search.set('sort', state.sort);
    search.set('limit', String(state.limit));
    const after = cursors[cursors.length - 1];
    if (after) search.set('after', after);
    const countHere = total === null && cheapCount(filter);
    if (countHere) search.set('count', 'true');
    tableWrap.classList.add('loading');
    try {
      const page = await get(`${base}/task-table?${search}`, { signal: controller.signal });
      if (number !== loadNumber) return;
      replace(errorBox);
      rows = page.items;
      next = page.next;
      if (typeof page.total === 'number') total = page.total;
      learnKeys(rows);
      if (!rows.length && cursors.length > 1) {
        // The page emptied (its tasks were deleted): start again.
        cursors = [null];
        remember();
        load();
        return;
      }
      showTable();
      showPager();
      remember();
      if (total === null && !countHere) countMatching(filter);
    } catch (error) {
      if (number !== loadNumber || controller.signal.aborted) return;
      if (error instanceof ApiError && error.details?.field === 'after' && cursors.length > 1) {
        cursors = [null];
        remember();
        load();
        return;
      }
      rows = [];
      next = null;
      showTable();
      showPager();
      replace(errorBox, errorText(error));
    } finally {
      if (number === loadNumber) tableWrap.classList.remove('loading');
    }
  }

  /** Counts the matching tasks apart from the page, so a slow count never holds the table up. @param {Record<string, unknown>} filter */
  async function countMatching(filter) {
    const counted = generation;
    const search = new URLSearchParams({ limit: '1', count: 'true' });
    if (Object.keys(filter).length) search.set('filter', JSON.stringify(filter));
    try {
      const page = await get(`${base}/task-table?${search}`);
      if (counted !== generation || typeof page.total !== 'number') return;
      total = page.total;
      showPager();
      showSelection();
    } catch (error) {
      if (counted === generation) replace(totalText, `Not counted: ${errorText(error)}`);
    }
  }

  /** @param {Row[]} page */
  function learnKeys(page) {
    for (const row of page) {
      for (const [key, value] of Object.entries(row.data)) {
        if (!knownKeys.includes(key)) knownKeys.push(key);
        let types = keyTypes.get(key);
        if (!types) keyTypes.set(key, (types = new Set()));
        types.add(value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
      }
    }
  }

  function nextPage() {
    if (!next) return;
    cursors = [...cursors, next];
    focus = -1;
    load();
  }

  function previousPage() {
    if (cursors.length <= 1) return;
    cursors = cursors.slice(0, -1);
    focus = -1;
    load();
  }

  // --- Focus, opening -------------------------------------------------------
  function markFocus() {
    table.querySelectorAll('tbody tr').forEach((tr, index) => {
      tr.classList.toggle('dm-focused', index === focus);
      tr.setAttribute('tabindex', index === focus || (focus < 0 && index === 0) ? '0' : '-1');
    });
  }

  /** @param {number} index @param {boolean} [move] whether to move the keyboard focus there */
  function setFocus(index, move = true) {
    focus = Math.max(0, Math.min(rows.length - 1, index));
    markFocus();
    const tr = /** @type {HTMLElement | undefined} */ (table.querySelectorAll('tbody tr')[focus]);
    if (move && tr) {
      tr.focus();
      tr.scrollIntoView({ block: 'nearest' });
    }
    remember();
  }

  /** @param {number} index @param {boolean} [elsewhere] in a new tab */
  function openTask(index, elsewhere = false) {
    const row = rows[index];
    if (!row) return;
    const path = `${base}/tasks/${row.id}`;
    if (elsewhere) {
      window.open(path, '_blank', 'noopener');
      return;
    }
    focus = index;
    remember();
    navigate(path);
  }

  /** @param {KeyboardEvent} event */
  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (event.key === 'Escape' && columnsMenu.open) {
      columnsMenu.open = false;
      return;
    }
    if (typing(target) || document.querySelector('dialog[open]') || !rows.length) return;
    // Enter and x belong to links and buttons that have the focus.
    const onControl = target instanceof Element && target.closest('a, button, summary') !== null;
    switch (event.key) {
      case 'j':
      case 'ArrowDown':
        setFocus(focus < 0 ? 0 : focus + 1);
        break;
      case 'k':
      case 'ArrowUp':
        setFocus(focus < 0 ? 0 : focus - 1);
        break;
      case 'Enter':
        if (onControl || focus < 0) return;
        openTask(focus);
        break;
      case 'x':
        if (!canManage || onControl || focus < 0) return;
        toggleRow(focus, !isSelected(rows[focus].id), false);
        break;
      default:
        return;
    }
    event.preventDefault();
  }
  document.addEventListener('keydown', onKey);

  /** A click elsewhere closes the column chooser. @param {MouseEvent} event */
  function onClick(event) {
    if (columnsMenu.open && event.target instanceof Node && !columnsMenu.contains(event.target)) columnsMenu.open = false;
  }
  document.addEventListener('click', onClick);

  // --- Selection and bulk actions --------------------------------------------
  function clearSelection() {
    selected.clear();
    excluded.clear();
    allMatching = false;
    lastChecked = -1;
  }

  /** @param {number} id */
  function isSelected(id) {
    return allMatching ? !excluded.has(id) : selected.has(id);
  }

  /** @param {number} index @param {boolean} on @param {boolean} range */
  function toggleRow(index, on, range) {
    const [from, to] = range && lastChecked >= 0 ? [Math.min(lastChecked, index), Math.max(lastChecked, index)] : [index, index];
    for (let i = from; i <= to; i++) {
      const id = rows[i].id;
      // With every matching task selected, an unticked row is left out of it.
      if (allMatching) {
        if (on) excluded.delete(id);
        else excluded.add(id);
      } else if (on) {
        selected.add(id);
      } else {
        selected.delete(id);
      }
    }
    lastChecked = index;
    if (focus !== index) setFocus(index, false);
    showSelection();
  }

  /** @param {boolean} on */
  function selectPage(on) {
    for (const row of rows) {
      if (allMatching) {
        if (on) excluded.delete(row.id);
        else excluded.add(row.id);
      } else if (on) {
        selected.add(row.id);
      } else {
        selected.delete(row.id);
      }
    }
    showSelection();
  }

  /** How many tasks an action would change, if known. */
  function selectedCount() {
    return allMatching ? (total === null ? null : total - excluded.size) : selected.size;
  }

  function showSelection() {
    if (!canManage) return;
    const boxes = /** @type {HTMLInputElement[]} */ ([...table.querySelectorAll('tbody .dm-row-check')]);
    boxes.forEach((box, index) => {
      const on = isSelected(rows[index].id);
      box.checked = on;
      box.closest('tr')?.classList.toggle('dm-selected', on);
    });
    const onPage = rows.filter((row) => isSelected(row.id)).length;
    const pageBox = /** @type {HTMLInputElement | null} */ (table.querySelector('#dm-select-page'));
    if (pageBox) {
      pageBox.checked = rows.length > 0 && onPage === rows.length;
      pageBox.indeterminate = onPage > 0 && onPage < rows.length;
    }
    const some = allMatching ? selectedCount() !== 0 : selected.size > 0;
    const more = total === null || total > rows.length;
    replace(selectionBar,
      h('span', { id: 'dm-selected' }, allMatching
        ? excluded.size
          ? `All ${total === null ? '' : `${total.toLocaleString()} `}matching tasks but ${excluded.size.toLocaleString()} are selected.`
          : `All ${total === null ? '' : `${total.toLocaleString()} `}matching tasks are selected.`
        : selected.size ? `${count(selected.size, 'task')} selected${selected.size > onPage ? ` (${onPage} on this page)` : ''}.` : 'Select tasks to change them together.'),
      !allMatching && rows.length > 0 && onPage === rows.length && more
        ? h('button', { type: 'button', class: 'link', id: 'dm-select-all', onclick: () => {
          allMatching = true;
          excluded.clear();
          showSelection();
        } }, total === null ? 'Select every matching task' : `Select all ${total.toLocaleString()} matching tasks`)
        : null,
      some ? h('button', { type: 'button', class: 'link', id: 'dm-clear-selection', onclick: () => {
        clearSelection();
        showSelection();
      } }, 'Clear selection') : null,
      h('span', { class: 'grow' }),
      h('button', { type: 'button', id: 'dm-assign', disabled: !some, onclick: () => assign() }, 'Assign…'),
      h('button', { type: 'button', id: 'dm-priority', disabled: !some, onclick: () => setPriority() }, 'Set priority…'),
      h('button', { type: 'button', id: 'dm-reset', disabled: !some, onclick: () => reset() }, 'Reset…'),
      h('button', { type: 'button', class: 'danger', id: 'dm-delete', disabled: !some, onclick: () => remove() }, 'Delete…'),
    );
  }

  /** "3 tasks", "every matching task (1,204)" for dialogs. */
  function selectionWords() {
    const n = selectedCount();
    if (allMatching) {
      const filtered = Object.keys(apiFilter(state)).length > 0;
      const what = filtered ? 'task matching the filters' : 'task of the project';
      const but = excluded.size ? ` but the ${count(excluded.size, 'unticked task')}` : '';
      if (n === null) return `every ${what}${but}`;
      if (excluded.size) return `${count(n, 'task')} (${filtered ? 'those matching the filters' : 'every task of the project'}${but})`;
      return n === 1 ? `the 1 ${what}` : `all ${n.toLocaleString()} ${filtered ? 'tasks matching the filters' : 'tasks of the project'}`;
    }
    return count(selected.size, 'selected task');
  }

  /**
   * Runs a bulk action on the selection and reads the page again.
   * @param {string} action
   * @param {Record<string, unknown>} extra
   * @param {(affected: number) => string} done
   */
  async function bulk(action, extra, done) {
    const target = allMatching
      ? { filter: apiFilter(state), ...(excluded.size ? { except: [...excluded] } : {}) }
      : { tasks: [...selected] };
    try {
      const answer = await post(`${base}/tasks/bulk`, { action, ...target, ...extra });
      toast(done(Number(answer.affected)));
      clearSelection();
      total = null;
      generation += 1;
      await load();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  async function remove() {
    const ok = await ask({
      title: `Delete ${selectionWords()}?`,
      body: [h('p', null, 'The tasks are removed with their annotations, predictions, drafts and queue state. This cannot be undone.')],
      confirm: 'Delete',
      danger: true,
    });
    if (ok) await bulk('delete', {}, (n) => `Deleted ${count(n, 'task')}.`);
  }

  async function reset() {
    const ok = await ask({
      title: `Reset ${selectionWords()}?`,
      body: [h('p', null, 'Their annotations, drafts, reservations, skips and assignments are removed, and they go back to “new” for labeling again. Predictions stay. This cannot be undone.')],
      confirm: 'Reset',
      danger: true,
    });
    if (ok) await bulk('reset', {}, (n) => `Reset ${count(n, 'task')}.`);
  }

  async function assign() {
    const ranks = ['annotator', 'reviewer', 'manager'];
    const people = [...members].sort((a, b) => ranks.indexOf(a.role) - ranks.indexOf(b.role) || String(a.username).localeCompare(b.username));
    const boxes = people.map((member) => h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name: 'assignee', value: member.username, 'data-username': member.username }),
      member.username, h('span', { class: 'muted' }, member.role)));
    const ok = await ask({
      title: `Assign ${selectionWords()}`,
      body: [
        h('p', { class: 'muted' }, 'Each person chosen gets these tasks first in their queue.'),
        members.length ? h('div', { class: 'dm-assignees', id: 'dm-assignees' }, boxes) : h('p', { class: 'error' }, 'The members could not be listed.'),
      ],
      confirm: 'Assign',
      check: () => (chosen().length ? '' : 'Choose at least one member.'),
    });
    function chosen() {
      return boxes.map((label) => /** @type {HTMLInputElement} */ (label.querySelector('input'))).filter((box) => box.checked).map((box) => box.value);
    }
    if (ok) {
      const users = chosen();
      await bulk('assign', { users }, (n) => `Made ${count(n, 'assignment')} (${users.join(', ')}).`);
    }
  }

  async function setPriority() {
    const value = h('input', { type: 'number', step: 1, min: -PRIORITY_LIMIT, max: PRIORITY_LIMIT, value: 0, id: 'dm-priority-value', autofocus: true, 'aria-label': 'Priority' });
    const ok = await ask({
      title: `Set the priority of ${selectionWords()}`,
      body: [
        h('label', null, 'Priority (higher is labeled first when the queue is ordered by priority)', value),
        project.queue_order === 'priority' ? null : h('p', { class: 'muted' }, 'This project’s queue is not ordered by priority now; its settings can change that.'),
      ],
      confirm: 'Set priority',
      check: () => (/^-?\d+$/.test(value.value.trim()) && Math.abs(Number(value.value)) <= PRIORITY_LIMIT ? '' : `Give a whole number from -${PRIORITY_LIMIT} to ${PRIORITY_LIMIT}.`),
    });
    if (ok) {
      const priority = Number(value.value);
      await bulk('set_priority', { priority }, (n) => `Set priority ${priority} on ${count(n, 'task')}.`);
    }
  }

  // --- Start ----------------------------------------------------------------
  showViews();
  showFilters();
  showColumnsMenu();
  await load();

  return () => {
    live = false;
    loadNumber += 1;
    loading?.abort();
    document.removeEventListener('keydown', onKey);
    document.removeEventListener('click', onClick);
    for (const dialog of document.querySelectorAll('dialog.dm-dialog')) /** @type {HTMLDialogElement} */ (dialog).close('cancel');
  };
}

/**
 * Whether keys go to a field being typed in (check boxes and buttons are
 * not typed in, so the table's keys still work there).
 * @param {EventTarget | null} target
 */
function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
}

/** What an annotator sees at this address. @param {number} projectId */
function notForAnnotators(projectId) {
  return h('div', { class: 'card', id: 'dm-not-allowed' },
    h('p', null, 'The data manager is for the project’s reviewers and managers.'),
    h('p', null, h('a', { href: `/projects/${projectId}/label` }, 'Start labeling'), ' to get your next task.'));
}
