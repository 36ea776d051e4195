// The caller's timesheet: per week (Monday to Sunday in their time zone)
// and project, active hours, tasks, rejected tasks, earnings and whether a
// manager approved it; a period's ledger entries on request.

import { get, ApiError } from '../api.js';
import { h, replace, when } from '../dom.js';

/**
 * @typedef {{currency: string, amount: string, exact: string}} Money
 * @typedef {{username: string, project_id: number, project_name: string, period_start: string,
 *   period_end: string, active_ms: number, hours: string, tasks: number, rejected: number,
 *   earnings: Money[], entries: number, approved: boolean, approved_at: string | null}} Period
 * @typedef {{id: number, project_id: number, task_id: number | null, kind: string, active_ms: number,
 *   amount: string, bonus: string, currency: string | null, work_date: string, period_start: string,
 *   created_at: string}} Entry
 */

/** Earnings as text: "1.60 USD, 3 JPY". @param {Money[]} earnings */
export function earningsText(earnings) {
  return earnings.map((m) => (m.currency ? `${m.amount} ${m.currency}` : `${m.amount} (no rate)`)).join(', ') || '0';
}

/** @param {import('../main.js').PageContext} context */
export async function render({ root, user }) {
  const username = /** @type {{username: string}} */ (user).username;
  /** @type {{username: string, time_zone: string, periods: Period[]}} */
  const sheet = await get('/me/timesheet');
  const details = h('div', { id: 'timesheet-entries' });
  const rows = sheet.periods.map((p) => h('tr', { 'data-period': p.period_start, 'data-project': String(p.project_id) },
    h('td', null, `${p.period_start} – ${p.period_end}`),
    h('td', null, p.project_name),
    h('td', { class: 'hours' }, p.hours),
    h('td', { class: 'tasks' }, String(p.tasks)),
    h('td', { class: 'rejected' }, String(p.rejected)),
    h('td', { class: 'earnings' }, earningsText(p.earnings)),
    h('td', { class: 'status' }, p.approved ? `Approved ${when(p.approved_at)}` : 'Open'),
    h('td', null, h('button', { class: 'small', onclick: () => showEntries(p) }, 'Entries')),
  ));
  replace(root,
    h('h1', null, 'Timesheet'),
    h('p', { class: 'muted' }, `Weeks run Monday to Sunday in your time zone (${sheet.time_zone}). Hours are active time: the labeling tab focused, with input in the last minute or so.`),
    sheet.periods.length === 0 ? h('p', { id: 'timesheet-empty' }, 'No work recorded yet.')
      : h('table', { class: 'list', id: 'timesheet' },
        h('thead', null, h('tr', null, ['Week', 'Project', 'Hours', 'Tasks', 'Rejected', 'Earnings', 'Status', ''].map((t) => h('th', null, t)))),
        h('tbody', null, rows)),
    details);

  /** @param {Period} period */
  async function showEntries(period) {
    try {
      /** @type {{entries: Entry[]}} */
      const { entries } = await get(`/users/${encodeURIComponent(username)}/pay-entries?period=${period.period_start}&project=${period.project_id}`);
      replace(details,
        h('h2', null, `${period.project_name}, week of ${period.period_start}`),
        h('table', { class: 'list' },
          h('thead', null, h('tr', null, ['Date', 'Work', 'Task', 'Active seconds', 'Amount', 'Bonus'].map((t) => h('th', null, t)))),
          h('tbody', null, entries.map((e) => h('tr', null,
            h('td', null, e.work_date),
            h('td', null, e.kind),
            h('td', null, e.task_id === null ? '' : String(e.task_id)),
            h('td', null, (e.active_ms / 1000).toFixed(1)),
            h('td', null, e.currency ? `${e.amount} ${e.currency}` : e.amount),
            h('td', null, e.bonus === '0' ? '' : e.bonus),
          )))));
    } catch (error) {
      replace(details, h('p', { class: 'error' }, error instanceof ApiError ? error.message : String(error)));
    }
  }
}
