/** The error banner (#error) and the success notice (#notice). Errors are never swallowed. */

const byId = (id) => document.getElementById(id);
let noticeTimer = null;
let noticeAt = 0;

/** An error in what the user typed, caught before any request: shown, not logged. */
export function inputError(message) {
  const err = new Error(message);
  err.name = 'InputError';
  return err;
}

export function showError(err) {
  const text = err instanceof Error ? err.message : String(err);
  byId('error-text').textContent = text;
  byId('error').hidden = false;
  byId('notice').hidden = true;
  if (err instanceof Error && err.name !== 'ApiError' && err.name !== 'InputError') console.error(err);
}

export function clearError() {
  byId('error').hidden = true;
  byId('error-text').textContent = '';
}

export function showNotice(text) {
  clearError();
  const el = byId('notice');
  el.textContent = text;
  el.hidden = false;
  noticeAt = Date.now();
  if (noticeTimer) window.clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

/** On navigation: hides a notice unless it was just shown (e.g. "Created X", then its page opens). */
export function clearStaleNotice() {
  if (Date.now() - noticeAt > 1000) document.getElementById('notice').hidden = true;
}

export function installBanner() {
  byId('error-close').addEventListener('click', clearError);
  window.addEventListener('error', (e) => showError(e.error || e.message));
  window.addEventListener('unhandledrejection', (e) => showError(e.reason));
}
