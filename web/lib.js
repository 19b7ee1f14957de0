// Small helpers shared by the views. Everything user-supplied reaches the
// page through textContent or attribute setters: never through innerHTML.

// h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', childNode, [more])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let csrf = null;
export const session = { user: null };

export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

// fetch() with the session's CSRF token on state changes and JSON errors
// turned into ApiError. A 401 sends the user to the login page.
export async function api(method, path, body) {
  const headers = {};
  let payload;
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const err = new ApiError(res.status, (data && data.error && data.error.message) || res.statusText,
                             data && data.error && data.error.details);
    if (res.status === 401 && path !== '/api/v1/session') location.hash = '#/login';
    throw err;
  }
  return data;
}

export async function loadSession() {
  try {
    const me = await api('GET', '/api/v1/session');
    session.user = me;
    csrf = me.csrf_token || null;
  } catch (e) {
    session.user = null;
    csrf = null;
  }
  return session.user;
}

export async function login(name, password) {
  const me = await api('POST', '/api/v1/session', { name, password });
  session.user = me;
  csrf = me.csrf_token;
  return me;
}

export async function logout() {
  try { await api('DELETE', '/api/v1/session'); } catch (e) { /* already gone */ }
  session.user = null;
  csrf = null;
}

const ranks = { viewer: 1, reviewer: 2, admin: 3 };
export function can(role) {
  return !!session.user && ranks[session.user.role] >= ranks[role];
}

export function toast(message) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 2500);
}

// Parses "#/view/arg?k=v&k=v2" into {view, arg, params}.
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const [view = 'search', arg = ''] = path.split('/');
  return { view, arg: decodeURIComponent(arg), params: new URLSearchParams(query) };
}

export function pct(x) { return `${(100 * x).toFixed(1)}%`; }
export function conf(x) { return typeof x === 'number' ? x.toFixed(2) : ''; }
