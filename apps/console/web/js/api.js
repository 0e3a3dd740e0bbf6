/**
 * The one place that talks HTTP to the console API: same-origin cookie, the CSRF token on
 * every mutating request, and problem+json turned into an ApiError carrying `detail`.
 */

let csrfToken = null;
let onUnauthorized = () => {};

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called on a 401 from any call but login/session (the session has expired). */
export function setUnauthorizedHandler(f) {
  onUnauthorized = f;
}

export class ApiError extends Error {
  constructor(status, problem, fallback) {
    const detail = problem && (problem.detail || problem.title);
    super(detail || fallback || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/**
 * request('GET', '/api/x', { headers, signal }) → { status, etag, data }.
 * Mutating methods always send a JSON object body (at least {}), so `reason` has a home.
 */
export async function request(method, path, { body, headers = {}, signal } = {}) {
  const h = { Accept: 'application/json', ...headers };
  const init = { method, credentials: 'same-origin', headers: h, signal };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrfToken) h['X-CSRF-Token'] = csrfToken;
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, init);
  const etag = res.headers.get('etag');
  if (res.status === 304) return { status: 304, etag, data: null };
  const text = await res.text();
  let data = null;
  if (text && /json/.test(res.headers.get('content-type') || '')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/login' && path !== '/api/session') onUnauthorized();
    throw new ApiError(res.status, data, text.slice(0, 200) || res.statusText);
  }
  return { status: res.status, etag, data: data ?? text };
}

/** Drops empty optional fields (e.g. an empty reason) so the server's defaults apply. */
function compact(body) {
  if (!body) return body;
  const out = {};
  for (const [k, v] of Object.entries(body)) if (v !== '' && v !== undefined && v !== null) out[k] = v;
  return out;
}

export const api = {
  get: async (path, opts) => (await request('GET', path, opts)).data,
  post: async (path, body) => (await request('POST', path, { body: compact(body) })).data,
  put: async (path, body) => (await request('PUT', path, { body: compact(body) })).data,
  del: async (path, body) => (await request('DELETE', path, { body: compact(body) })).data,
};

/**
 * Uploads a file's bytes as application/octet-stream (PUT path?query). A reason travels in the
 * X-Msec-Reason header, which carries printable ASCII only.
 */
export async function upload(path, file, { query = {}, reason = '' } = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== '' && v !== undefined && v !== null) q.set(k, String(v));
  const headers = { Accept: 'application/json', 'Content-Type': 'application/octet-stream' };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (reason) {
    if (!/^[\x20-\x7e]*$/.test(reason)) throw new ApiError(400, { detail: 'the reason of an upload travels in a header: use plain ASCII characters' });
    headers['X-Msec-Reason'] = reason;
  }
  const res = await fetch(`${path}${q.toString() ? `?${q}` : ''}`, { method: 'PUT', credentials: 'same-origin', headers, body: file });
  const text = await res.text();
  let data = null;
  try {
    data = text && /json/.test(res.headers.get('content-type') || '') ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, data, text.slice(0, 200) || res.statusText);
  }
  return data;
}

/** '/api/services/' + seg('Flight.mod_flight') — each path segment encoded. */
export const seg = (s) => encodeURIComponent(String(s));
