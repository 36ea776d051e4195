// Payroll (managers and admins): per person and currency for a date range
// (each person's own dates) and optionally one project, with the CSV the
// API writes, and each person's weeks to approve.

import { all, get, post, ApiError } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { earningsText } from './timesheet.js';

/**
 * @typedef {{username: string, hours: string, tasks: number, rejected: number, gross: string,
 *   currency: string, entries: number}} Row
 * @typedef {import('./timesheet.js').Period} Period
 */

/** A date as YYYY-MM-DD in local time. @param {Date} date */
function isoDate(date) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** @param {import('../main.js').PageContext} context */
export async function render({ root }) {
  const today = new Date();
  const monday = new Date(today);
  monday.setDate(today.getDate() - ((today.getDay() + 6) % 7));
  const from = h('input', { type: 'date', id: 'payroll-from', value: isoDate(monday) });
  const to = h('input', { type: 'date', id: 'payroll-to', value: isoDate(today) });
  const project = h('select', { id: 'payroll-project' }, h('option', { value: '' }, 'All my projects'));
  /** @type {{id: number, name: string, my_role: string}[]} */
  const projects = await all('/projects');
  for (const p of projects.filter((p) => p.my_role === 'manager')) project.append(h('option', { value: String(p.id) }, p.name));
  const download = h('a', { id: 'payroll-csv', class: 'button', download: '' }, 'Download CSV');
  const table = h('div', { id: 'payroll-table' });
  const periods = h('div', { id: 'payroll-periods' });
  const form = h('form', { class: 'row', id: 'payroll-form' },
    h('label', null, 'From ', from), h('label', null, 'To ', to), h('label', null, 'Project ', project),
    h('button', { type: 'submit', class: 'primary' }, 'Show'), download);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show().catch((error) => replace(table, h('p', { class: 'error' }, error instanceof ApiError ? error.lines().join('\n') : String(error))));
  });
  replace(root, h('h1', null, 'Payroll'),
    h('p', { class: 'muted' }, 'Dates are inclusive, in each person\'s time zone. Gross is rounded once, to the currency\'s minor unit.'),
    form, table, h('h2', null, 'Weeks to approve'), periods);

  function query() {
    const params = new URLSearchParams({ from: from.value, to: to.value });
    if (project.value) params.set('project', project.value);
    return params.toString();
  }

  async function show() {
    const q = query();
    download.setAttribute('href', `/api/v1/payroll?${q}&format=csv`);
    /** @type {{rows: Row[]}} */
    const payroll = await get(`/payroll?${q}`);
    replace(table, payroll.rows.length === 0 ? h('p', { id: 'payroll-empty' }, 'No work in this range.')
      : h('table', { class: 'list', id: 'payroll' },
        h('thead', null, h('tr', null, ['Person', 'Hours', 'Tasks', 'Rejected', 'Gross', 'Currency'].map((t) => h('th', null, t)))),
        h('tbody', null, payroll.rows.map((r) => h('tr', { 'data-username': r.username },
          h('td', null, r.username), h('td', null, r.hours), h('td', null, String(r.tasks)),
          h('td', null, String(r.rejected)), h('td', { class: 'gross' }, r.gross), h('td', null, r.currency))))));
    await showPeriods([...new Set(payroll.rows.map((r) => r.username))]);
  }

  /** Each person's weeks overlapping the range, with Approve. @param {string[]} people */
  async function showPeriods(people) {
    /** @type {HTMLElement[]} */
    const rows = [];
    for (const username of people) {
      /** @type {{periods: Period[]}} */
      const sheet = await get(`/users/${encodeURIComponent(username)}/timesheet`);
      for (const p of sheet.periods) {
        if (p.period_end < from.value || p.period_start > to.value) continue;
        if (project.value && String(p.project_id) !== project.value) continue;
        const approve = h('button', { class: 'approve primary small', onclick: async () => {
          try {
            await post(`/projects/${p.project_id}/timesheets/${encodeURIComponent(username)}/${p.period_start}/approve`, undefined);
            toast(`Approved ${username}'s week of ${p.period_start}.`);
            await showPeriods(people);
          } catch (error) {
            toast(error instanceof ApiError ? error.message : String(error), 'error');
          }
        } }, 'Approve');
        rows.push(h('tr', { 'data-username': username, 'data-period': p.period_start, 'data-project': String(p.project_id) },
          h('td', null, username), h('td', null, p.project_name), h('td', null, `${p.period_start} – ${p.period_end}`),
          h('td', null, p.hours), h('td', null, String(p.tasks)), h('td', null, earningsText(p.earnings)),
          h('td', { class: 'status' }, p.approved ? 'Approved' : approve)));
      }
    }
    replace(periods, rows.length === 0 ? h('p', null, 'Nothing in this range.')
      : h('table', { class: 'list', id: 'payroll-weeks' },
        h('thead', null, h('tr', null, ['Person', 'Project', 'Week', 'Hours', 'Tasks', 'Earnings', ''].map((t) => h('th', null, t)))),
        h('tbody', null, rows)));
  }

  await show();
}
