// tagsmith web UI: a hash-routed single page over /api/v1.
import { h, clear, session, loadSession, logout, can, parseHash } from './lib.js';
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
  const u = session.user;
  nav.hidden = !u;
  out.hidden = !u;
  who.textContent = u ? `${u.name} · ${u.role}` : '';
  const { view } = parseHash();
  for (const a of nav.querySelectorAll('a')) {
    a.hidden = a.dataset.role ? !can(a.dataset.role) : false;
    a.classList.toggle('active', a.dataset.view === view);
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

document.getElementById('logout').addEventListener('click', async () => {
  await logout();
  renderChrome();
  location.hash = '#/login';
});
window.addEventListener('hashchange', route);
await loadSession();
if (!location.hash) location.hash = session.user ? '#/search' : '#/login';
route();
