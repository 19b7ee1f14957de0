// tagsmith web UI: a hash-routed single page over /api/v1.
import { h, clear, session, loadSession, logout, can, parseHash, t, getLang, setLang } from './lib.js';
import { loginView } from './views/login.js';
import { searchView } from './views/search.js';
import { reviewView } from './views/review.js';
import { assetView } from './views/asset.js';
import { taxonomyView } from './views/taxonomy.js';
import { dashboardView } from './views/dashboard.js';

const views = { login: loginView, search: searchView, review: reviewView, asset: assetView,
                taxonomy: taxonomyView, dashboard: dashboardView };
let cleanup = null;

function renderChrome() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const out = document.getElementById('logout');
  const lang = document.getElementById('lang');
  const u = session.user;
  nav.hidden = !u;
  out.hidden = !u;
  who.textContent = u ? `${u.name} · ${u.role}` : '';
  out.textContent = t('logout');
  nav.setAttribute('aria-label', t('nav.main'));
  document.getElementById('lang-label').textContent = t('lang.label');
  lang.value = getLang();
  document.documentElement.lang = getLang() === 'zh' ? 'zh-CN' : 'en';
  const { view } = parseHash();
  document.getElementById('skip').textContent = view === 'search' ? t('skip.results') : t('skip');
  for (const a of nav.querySelectorAll('a')) {
    a.hidden = a.dataset.role ? !can(a.dataset.role) : false;
    a.textContent = t(`nav.${a.dataset.view}`);
    a.classList.toggle('active', a.dataset.view === view);
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const { view, arg, params } = parseHash();
  const main = clear(document.getElementById('main'));
  if (!session.user && view !== 'login') {
    location.hash = '#/login';
    return;
  }
  renderChrome();
  const render = views[view] || searchView;
  try {
    cleanup = (await render(main, arg, params)) || null;
  } catch (e) {
    main.append(h('p', { class: 'error' }, e.message));
  }
}

// The skip link moves focus without touching the hash (the router's).
document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  const target = document.getElementById('results') || document.getElementById('main');
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
});
document.getElementById('lang').addEventListener('change', (ev) => {
  setLang(ev.target.value);
  route();
});
document.getElementById('logout').addEventListener('click', async () => {
  await logout();
  renderChrome();
  location.hash = '#/login';
});
window.addEventListener('hashchange', route);
await loadSession();
if (!location.hash) location.hash = session.user ? '#/search' : '#/login';
route();
