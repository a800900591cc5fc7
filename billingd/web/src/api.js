// api.js - the web manager talks to billingd's API only (/api/v1/).
// A session cookie (HttpOnly) carries the login; every write sends the
// CSRF token the login answer gave (kept in memory and re-read from
// /api/v1/me after a reload).
import { setDisplay } from './ui.js';

let csrf = '';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
    this.errors = e.errors || [];
  }
}

export async function api(method, path, body, extra) {
  const headers = { Accept: 'application/json', ...(extra || {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(`/api/v1/${path}`, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (res.status === 401 && path !== 'login' && path !== 'me') {
    dispatchEvent(new CustomEvent('tandem-api', { detail: 401 }));
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export async function login(username, password) {
  const r = await api('POST', 'login', { username, password });
  csrf = r.csrf || '';
  setDisplay(r.display);
  return r.user;
}

// the signed-in user, or null
export async function me() {
  try {
    const r = await api('GET', 'me');
    csrf = r.csrf || csrf;
    setDisplay(r.display);
    return r.user;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function logout() {
  try { await api('POST', 'logout', {}); } finally { csrf = ''; }
}
