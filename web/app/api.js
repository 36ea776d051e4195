// The one way the app talks to the server: the public REST API under
// /api/v1, with the session cookie and its CSRF token on every write.

/** @typedef {{id: number, username: string, role: string, display_name?: string}} User */
/** @typedef {{items: any[], next: string | null}} Page */

/** An error answer of the API: `{code, message, details}`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {any} [details]
   */
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Every problem the server listed, one line each (`field: reason`). */
  lines() {
    /** @type {string[]} */
    const lines = [];
    const problems = this.details?.problems;
    if (Array.isArray(problems)) {
      for (const problem of problems) {
        if (typeof problem === 'string') lines.push(problem);
        else if (problem && typeof problem === 'object') {
          const where = problem.field ?? problem.line ?? problem.row ?? '';
          lines.push(where !== '' ? `${where}: ${problem.message ?? JSON.stringify(problem)}` : problem.message ?? JSON.stringify(problem));
        }
      }
    }
    return lines.length ? lines : [this.message];
  }
}

/** The session's CSRF token, set at sign-in or on reload from /auth/session. */
let csrfToken = '';

/** The CSRF token, for the rare request made without `request` (keepalive). */
export function csrf() {
  return csrfToken;
}

/** @param {string} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when any request finds the session gone (the app shows sign-in). */
/** @type {() => void} */
let onSignedOut = () => {};

/** @param {() => void} handler */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/**
 * A JSON request to the API. Resolves to the parsed body (`null` for 204).
 * @param {string} method
 * @param {string} path  below /api/v1, e.g. `/projects`
 * @param {unknown} [body]
 * @param {{signal?: AbortSignal, quiet401?: boolean}} [options]
 * @returns {Promise<any>}
 */
export async function request(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    const response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: options.signal,
    });
    return await answer(response, options.quiet401);
  } catch (error) {
    if (isLeaving() && !(error instanceof ApiError) && !options.signal?.aborted) {
      // Cut short because the page is being left: nothing to show.
      return new Promise(() => {});
    }
    throw error;
  }
}

/** How long a page being left keeps the mark (see `leavingSince`). */
const LEAVING_MS = 3000;

/**
 * When the page began to be left (a link to another document, a reload, an
 * address typed), or `null`. Firefox then cuts the page's requests short
 * and rejects them as network errors while the page still runs, so that
 * the page would show "Something went wrong" for a moment and log it;
 * such a request settles never instead. A download also starts as leaving
 * the page and then stays on it, so the mark holds for a few seconds only.
 * @type {number | null}
 */
let leavingSince = null;
// (Not in Node, where tests import this module.)
globalThis.addEventListener?.('beforeunload', () => {
  const since = performance.now();
  leavingSince = since;
  setTimeout(() => {
    if (leavingSince === since) leavingSince = null;
  }, LEAVING_MS);
});
globalThis.addEventListener?.('pageshow', () => {
  leavingSince = null;
});

/** Whether the page is being left (see `leavingSince`). */
export function isLeaving() {
  return leavingSince !== null;
}

/**
 * @param {Response} response
 * @param {boolean} [quiet401]
 */
async function answer(response, quiet401) {
  if (response.status === 204) return null;
  const text = await response.text();
  /** @type {any} */
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = new ApiError(
      response.status,
      parsed?.code ?? 'http_error',
      parsed?.message ?? `${response.status} ${response.statusText}`,
      parsed?.details,
    );
    if (response.status === 401 && !quiet401) onSignedOut();
    throw error;
  }
  return parsed;
}

export const get = (/** @type {string} */ path, /** @type {{signal?: AbortSignal}} */ options = {}) =>
  request('GET', path, undefined, options);
export const post = (/** @type {string} */ path, /** @type {unknown} */ body) => request('POST', path, body);
export const put = (/** @type {string} */ path, /** @type {unknown} */ body) => request('PUT', path, body);
export const patch = (/** @type {string} */ path, /** @type {unknown} */ body) => request('PATCH', path, body);
/**
 * Markdown (LLM prompts and responses) as the server renders and sanitizes it.
 * @param {string[]} texts
 * @returns {Promise<string[]>}
 */
export const renderMarkdown = async (texts) => /** @type {{html: string[]}} */ (await post('/markdown', { texts })).html;
/** HTML (a HyperText's) cleaned by the server's allow-list, in order. @param {string[]} texts */
export const sanitizeHtml = async (texts) => /** @type {{html: string[]}} */ (await post('/html', { texts })).html;
export const del = (/** @type {string} */ path) => request('DELETE', path);

/**
 * Upload a form (files) with progress, which `fetch` cannot report.
 * @param {string} path  below /api/v1
 * @param {FormData} form
 * @param {(sent: number, total: number) => void} onProgress
 * @returns {Promise<any>}
 */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1${path}`);
    xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed: the server could not be reached'));
    xhr.onload = () => {
      const response = new Response(xhr.status === 204 ? null : xhr.responseText, {
        status: xhr.status,
        statusText: xhr.statusText,
      });
      answer(response).then(resolve, reject);
    };
    xhr.send(form);
  });
}

/**
 * Every page of a list, for short lists (members, tokens).
 * @param {string} path
 * @returns {Promise<any[]>}
 */
export async function all(path) {
  /** @type {any[]} */
  const items = [];
  let after = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const url = after ? `${path}${separator}limit=1000&after=${encodeURIComponent(after)}` : `${path}${separator}limit=1000`;
    /** @type {Page} */
    const page = await get(url);
    items.push(...page.items);
    after = page.next;
  } while (after);
  return items;
}
