// The app's entry point: who is signed in, and which page an address shows.
// Pages are modules exporting `render(context)`; the router loads them on
// demand, so the labeling screen's code is only fetched by those who label.

import { get, setCsrfToken, whenSignedOut, post, ApiError, isLeaving } from './api.js';
import { h, replace, toast } from './dom.js';

/**
 * @typedef {{id: number, username: string, role: string}} SessionUser
 * @typedef {{
 *   root: HTMLElement,
 *   params: Record<string, string>,
 *   query: URLSearchParams,
 *   user: SessionUser,
 *   previous: string | null,
 *   navigate: (path: string, options?: {replace?: boolean}) => void,
 *   setUser: (user: SessionUser | null) => void,
 * }} PageContext
 * @typedef {(context: PageContext) => (void | (() => void) | Promise<void | (() => void)>)} PageRender
 */

/** @type {[RegExp, string, boolean][]} address pattern, page module, needs sign-in */
const ROUTES = [
  [/^\/login$/, './pages/login.js', false],
  [/^\/invite\/(?<code>[^/]+)$/, './pages/invite.js', false],
  [/^\/$/, './pages/projects.js', true],
  [/^\/projects\/new$/, './pages/project-new.js', true],
  [/^\/projects\/(?<project>\d+)$/, './pages/project.js', true],
  [/^\/projects\/(?<project>\d+)\/data$/, './pages/data.js', true],
  [/^\/projects\/(?<project>\d+)\/import$/, './pages/import.js', true],
  [/^\/projects\/(?<project>\d+)\/export$/, './pages/export.js', true],
  [/^\/projects\/(?<project>\d+)\/members$/, './pages/members.js', true],
  [/^\/projects\/(?<project>\d+)\/settings$/, './pages/settings.js', true],
  [/^\/projects\/(?<project>\d+)\/quality$/, './pages/quality.js', true],
  [/^\/projects\/(?<project>\d+)\/productivity$/, './pages/productivity.js', true],
  [/^\/productivity$/, './pages/productivity.js', true],
  [/^\/people$/, './pages/people.js', true],
  [/^\/projects\/(?<project>\d+)\/qualification$/, './pages/qualification.js', true],
  [/^\/projects\/(?<project>\d+)\/label$/, './pages/label.js', true],
  [/^\/projects\/(?<project>\d+)\/(?<mode>review)$/, './pages/label.js', true],
  [/^\/projects\/(?<project>\d+)\/tasks\/(?<task>\d+)$/, './pages/label.js', true],
  [/^\/projects\/(?<project>\d+)\/tasks\/(?<task>\d+)\/compare$/, './pages/compare.js', true],
  [/^\/account$/, './pages/account.js', true],
  [/^\/timesheet$/, './pages/timesheet.js', true],
  [/^\/payroll$/, './pages/payroll.js', true],
];

/** @type {SessionUser | null} */
let user = null;
/** @type {(() => void) | null} */
let cleanup = null;
let renderCount = 0;
/** The address (path and query) of the page shown before this one. @type {string | null} */
let previousAddress = null;
/** @type {string | null} */
let currentAddress = null;

const app = /** @type {HTMLElement} */ (document.getElementById('app'));

/** @param {string} path @param {{replace?: boolean}} [options] */
function navigate(path, options = {}) {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  show();
}

/** @param {SessionUser | null} next */
function setUser(next) {
  user = next;
}

async function show() {
  const count = ++renderCount;
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
    cleanup = null;
  }
  const path = location.pathname;
  if (currentAddress !== path + location.search) {
    previousAddress = currentAddress;
    currentAddress = path + location.search;
  }
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!route) {
    replace(app, frame(h('main', { class: 'page' }, h('h1', null, 'Not found'), h('p', null, 'There is no page at this address. '), h('a', { href: '/' }, 'Projects'))));
    return;
  }
  const [pattern, modulePath, needsUser] = route;
  if (needsUser && !user) {
    navigate(`/login?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    return;
  }
  const params = /** @type {Record<string, string>} */ ({ ...(pattern.exec(path)?.groups ?? {}) });
  /** @type {{render: PageRender}} */
  let page;
  try {
    page = await import(modulePath);
  } catch (error) {
    // Firefox fails a module's loading when the page is left meanwhile.
    if (count !== renderCount || isLeaving()) return;
    throw error;
  }
  if (count !== renderCount) return;
  const root = h('main', { class: 'page' });
  replace(app, needsUser ? frame(root) : root);
  if (needsUser) watchNotifications();
  try {
    const done = await page.render({
      root,
      params,
      query: new URLSearchParams(location.search),
      user: /** @type {SessionUser} */ (user),
      previous: previousAddress,
      navigate,
      setUser,
    });
    if (count === renderCount && typeof done === 'function') cleanup = done;
    else if (typeof done === 'function') done();
  } catch (error) {
    if (count !== renderCount) return;
    showFailure(root, error);
  }
}

/**
 * A page's failure: a missing object is "not found" (another project's
 * address looks exactly like one that does not exist).
 * @param {HTMLElement} root
 * @param {unknown} error
 */
export function showFailure(root, error) {
  if (error instanceof ApiError && error.status === 404) {
    replace(root, h('h1', null, 'Not found'), h('p', null, 'This does not exist, or you are not a member of its project.'), h('a', { href: '/' }, 'Back to projects'));
  } else if (error instanceof ApiError && error.status === 401) {
    // whenSignedOut already went to the sign-in page.
  } else if (isLeaving() && !(error instanceof ApiError)) {
    // A request or a module cut short because the page is being left.
  } else {
    console.error(error);
    replace(root, h('h1', null, 'Something went wrong'), h('p', { class: 'error' }, error instanceof Error ? error.message : String(error)));
  }
}

/**
 * The header bar around a signed-in page.
 * @param {HTMLElement} content
 */
function frame(content) {
  const signedIn = /** @type {SessionUser} */ (user);
  return h('div', { class: 'frame' },
    h('header', { class: 'topbar' },
      h('a', { href: '/', class: 'brand' }, 'Gloss'),
      h('nav', null, h('a', { href: '/' }, 'Projects'), h('a', { href: '/timesheet', id: 'nav-timesheet' }, 'Timesheet'),
        signedIn.role === 'admin' || signedIn.role === 'manager' ? h('a', { href: '/people', id: 'nav-people' }, 'People') : null,
        signedIn.role === 'admin' || signedIn.role === 'manager' ? h('a', { href: '/productivity', id: 'nav-leaderboard' }, 'Leaderboard') : null,
        signedIn.role === 'admin' || signedIn.role === 'manager' ? h('a', { href: '/payroll', id: 'nav-payroll' }, 'Payroll') : null),
      h('span', { class: 'spacer' }),
      bell,
      h('a', { href: '/account', class: 'who', title: 'Your account' }, `${signedIn.username} (${signedIn.role})`),
      h('button', { class: 'link', id: 'sign-out', onclick: signOut }, 'Sign out'),
    ),
    notificationPanel,
    content,
  );
}

// ---- Notifications: comments on tasks you work on, rejections of your work ----

const bellCount = h('span', { class: 'count', id: 'notification-count', hidden: true });
const bell = h('button', { class: 'bell', id: 'notifications-bell', type: 'button', 'aria-label': 'Notifications', 'aria-expanded': 'false', onclick: () => toggleNotifications() }, bellIcon(), bellCount);

/** A bell drawn in SVG (fonts may lack an emoji for it). */
function bellIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const icon = document.createElementNS(ns, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('width', '18');
  icon.setAttribute('height', '18');
  icon.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M12 2a6 6 0 0 0-6 6v4.6L4.3 16a1 1 0 0 0 .9 1.4h13.6a1 1 0 0 0 .9-1.4L18 12.6V8a6 6 0 0 0-6-6zm0 20a3 3 0 0 0 3-3H9a3 3 0 0 0 3 3z');
  path.setAttribute('fill', 'currentColor');
  icon.append(path);
  return icon;
}
const notificationPanel = h('div', { class: 'notification-panel', id: 'notification-panel', hidden: true });
/** How often the unread count is asked for. */
const NOTIFICATION_POLL_MS = 30_000;
let notificationTimer = 0;

/** Asks for the unread count (and, with the panel open, the list). */
async function refreshNotifications() {
  if (!user) return;
  try {
    const found = await get(`/me/notifications?limit=30${notificationPanel.hidden ? '&unread=true' : ''}`);
    bellCount.textContent = String(found.unread);
    bellCount.hidden = found.unread === 0;
    bell.setAttribute('aria-label', `Notifications: ${found.unread} unread`);
    if (!notificationPanel.hidden) renderNotifications(found.items);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) console.error(error);
  }
}

/** @param {any[]} items */
function renderNotifications(items) {
  const markAll = h('button', { type: 'button', class: 'link', id: 'notifications-read-all' }, 'Mark all read');
  markAll.addEventListener('click', async () => {
    await post('/me/notifications/read', {});
    refreshNotifications();
  });
  replace(notificationPanel,
    h('div', { class: 'panel-bar' }, h('strong', null, 'Notifications'), markAll),
    items.length
      ? h('ul', null, items.map((item) => {
        const what = item.kind === 'rejection' ? 'sent your annotation back' : 'commented';
        const link = h('a', { href: item.task_id ? `/projects/${item.project_id}/tasks/${item.task_id}` : `/projects/${item.project_id}` },
          h('div', { class: 'note-head' }, `${item.actor ?? 'Someone'} ${what} · ${item.project_name}${item.task_id ? ` · task #${item.task_id}` : ''} · ${new Date(item.created_at).toLocaleString()}`),
          h('div', { class: 'note-text' }, item.message));
        link.addEventListener('click', () => {
          notificationPanel.hidden = true;
          bell.setAttribute('aria-expanded', 'false');
          if (!item.read) post('/me/notifications/read', { ids: [item.id] }).then(refreshNotifications, () => {});
        });
        return h('li', { class: item.read ? null : 'unread', 'data-notification': item.id }, link);
      }))
      : h('p', { class: 'muted note-empty' }, 'Nothing yet.'));
}

function toggleNotifications() {
  notificationPanel.hidden = !notificationPanel.hidden;
  bell.setAttribute('aria-expanded', String(!notificationPanel.hidden));
  if (!notificationPanel.hidden) refreshNotifications();
}

/** Starts (once) the poll of the unread count. */
function watchNotifications() {
  refreshNotifications();
  if (!notificationTimer) notificationTimer = window.setInterval(refreshNotifications, NOTIFICATION_POLL_MS);
}

async function signOut() {
  try {
    await post('/auth/logout', undefined);
  } catch (error) {
    console.error(error);
  }
  user = null;
  navigate('/login', { replace: true });
}

// Links inside the app change the page without a reload.
document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('a') : null;
  if (!target || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const href = target.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('/api/') || target.hasAttribute('download') || target.target) return;
  event.preventDefault();
  navigate(href);
});
window.addEventListener('popstate', () => show());

whenSignedOut(() => {
  if (!user) return;
  user = null;
  toast('Your session ended; please sign in again.', 'error');
  navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
});

async function start() {
  try {
    const session = await get('/auth/session', {});
    user = session.user;
    setCsrfToken(session.csrf_token);
  } catch {
    user = null;
  }
  show();
}

start();
