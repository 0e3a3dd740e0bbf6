/** Who is logged in. The CSRF token lives in memory only (js/api.js), re-fetched on load. */
import { api, request, setCsrfToken } from './api.js';

export const session = { user: null, roles: [] };

/** Whether the logged-in user holds an unscoped admin grant (manages users and roles). */
export const isAdmin = () => session.roles.some((g) => g.role === 'admin' && !g.service);
/** Whether the user may run commands on hosts (exec, process lists): an unscoped operator or admin. */
export const canRunCommands = () => session.roles.some((g) => (g.role === 'admin' || g.role === 'operator') && !g.service);

/** GET /api/session → true when logged in; 401 → false. */
export async function loadSession() {
  try {
    const { data } = await request('GET', '/api/session');
    session.user = data.user;
    session.roles = data.roles || [];
    setCsrfToken(data.csrfToken);
    return true;
  } catch (err) {
    if (err.status === 401) {
      forget();
      return false;
    }
    throw err;
  }
}

export async function login(user, password) {
  const data = await api.post('/api/login', { user, password });
  session.user = data.user;
  setCsrfToken(data.csrfToken);
  await loadSession();
}

export async function logout() {
  try {
    await api.post('/api/logout');
  } finally {
    forget();
  }
}

export function forget() {
  session.user = null;
  session.roles = [];
  setCsrfToken(null);
}
