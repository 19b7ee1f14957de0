// Search: query box (English or Chinese), sort, removable filter chips,
// result pages with a total ("Showing 1–96 of 461"), thumbnails with their
// least certain tag's tier and confidence, a facet sidebar (collapsible; a
// drawer on a phone) and drop-an-image-to-find-similar.
//
// Keyboard order: query, search, include flagged, sort, chips, filters
// toggle, results, pages, then the facets (shown left on a wide screen by
// CSS): the first result is a few Tab presses away, or one with the skip link.
import { h, clear, api, conf, t, tier, getLang, fmtNumber, can, uploadWithProgress } from '../lib.js';

export const kPageSize = 96;
const sorts = ['relevance', 'newest', 'oldest', 'name', 'confidence', 'least_confident'];
const narrow = () => window.matchMedia('(max-width: 760px)').matches;

// The search's own parameters from the hash, in the order the API takes them.
export function searchParams(params) {
  const q = params.get('q') || '';
  return {
    q,
    facets: params.getAll('facet'),
    flagged: params.get('flagged') !== '0',
    sort: sorts.includes(params.get('sort')) ? params.get('sort') : 'relevance',
    page: Math.max(1, parseInt(params.get('page') || '1', 10) || 1),
    lang: params.get('lang') || (/[\u3400-\u9fff]/.test(q) ? 'zh' : getLang()),
  };
}

// The API query for a search (offset/limit chosen by the caller).
export function apiQuery(s, offset, limit) {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  for (const f of s.facets) p.append('facet', f);
  if (s.flagged) p.set('flagged', '1');
  if (s.sort !== 'relevance') p.set('sort', s.sort);
  p.set('lang', s.lang);
  p.set('offset', String(offset));
  p.set('limit', String(limit));
  return p;
}

// The same selection as a CSV download (GET /api/v1/export: the search's
// assets with their tags; every export is audited on the server).
export function exportHref(s) {
  const p = new URLSearchParams({ format: 'csv' });
  if (s.q) p.set('q', s.q);
  for (const f of s.facets) p.append('facet', f);
  if (s.flagged) p.set('flagged', '1');
  p.set('lang', s.lang);
  return `/api/v1/export?${p.toString()}`;
}

// The hash for a search state.
export function searchHash(s) {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  for (const f of s.facets) p.append('facet', f);
  if (!s.flagged) p.set('flagged', '0');
  if (s.sort && s.sort !== 'relevance') p.set('sort', s.sort);
  if (s.page > 1) p.set('page', String(s.page));
  return `#/search?${p.toString()}`;
}

function badge(hit) {
  const b = hit.badge;
  if (!b || !b.tier) return null;
  const sure = b.tier === 'confirmed' || b.tier === 'human_set';
  return h('span', { class: `badge tier-${b.tier}`, title: `${b.attribute}=${b.node}` },
    tier(b.tier), sure ? null : ` ${conf(b.confidence)}`);
}

// Upload into the library (reviewers), with a progress bar while the bytes
// travel and the ingest summary after.
function uploadForm() {
  const files = h('input', { type: 'file', id: 'upload-files', multiple: true, accept: 'image/*', 'aria-label': t('upload.label') });
  const bar = h('progress', { id: 'upload-progress', max: 1, value: 0, hidden: true, 'aria-label': t('upload.label') });
  const out = h('p', { id: 'upload-result', role: 'status' });
  return h('form', { class: 'upload', onsubmit: async (ev) => {
    ev.preventDefault();
    if (!files.files.length) return;
    const fd = new FormData();
    for (const f of files.files) fd.append('file', f, f.name);
    bar.hidden = false;
    bar.value = 0;
    try {
      const res = await uploadWithProgress('/api/v1/assets', fd, (x) => {
        bar.value = x;
        out.textContent = x < 1 ? t('upload.progress', { pct: `${Math.round(100 * x)}%` }) : t('upload.processing');
      });
      const rest = res.files.filter((f) => f.status !== 'ingested').map((f) => `${f.filename}: ${f.status}${f.reason ? ` (${f.reason})` : ''}`);
      out.textContent = t('upload.done', { ingested: res.ingested, n: res.files.length, rest: rest.join('; ') || '—' });
    } catch (e) {
      out.textContent = e.message;
    }
  } }, h('h3', {}, t('upload.label')), h('div', { class: 'search-bar' }, files, h('button', { type: 'submit', id: 'upload-go' }, t('upload.go'))), bar, out);
}

export async function searchView(main, _arg, params) {
  const s = searchParams(params);
  const go = (over = {}) => { location.hash = searchHash({ ...s, page: 1, ...over }); };

  const input = h('input', { type: 'search', id: 'q', value: s.q, placeholder: t('search.placeholder'), 'aria-label': t('search.label') });
  const flaggedBox = h('input', { type: 'checkbox', id: 'flagged', checked: s.flagged });
  const sortSelect = h('select', { id: 'sort', 'aria-label': t('search.sort') },
    sorts.map((k) => h('option', { value: k, selected: k === s.sort }, t(`sort.${k}`))));
  const form = h('form', { class: 'search-bar', role: 'search', onsubmit: (ev) => { ev.preventDefault(); go({ q: input.value.trim(), facets: [] }); } },
    input, h('button', { class: 'primary', type: 'submit', id: 'search-go' }, t('search.go')),
    h('label', { class: 'check' }, flaggedBox, ' ', t('search.flagged')),
    h('label', { class: 'check' }, h('span', { class: 'muted' }, t('search.sort')), ' ', sortSelect),
    h('a', { id: 'export-csv', class: 'export-link', href: exportHref(s), download: '' }, t('search.export')));
  flaggedBox.addEventListener('change', () => go({ flagged: flaggedBox.checked }));
  sortSelect.addEventListener('change', () => go({ sort: sortSelect.value }));

  const sidebar = h('aside', { class: 'facets', id: 'facets', 'aria-label': t('search.filters') });
  const toggle = h('button', { type: 'button', id: 'filters-toggle', class: 'filters-toggle', 'aria-controls': 'facets' },
    s.facets.length ? t('search.filters.count', { n: s.facets.length }) : t('search.filters'));
  const setOpen = (open) => {
    sidebar.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  };
  setOpen(!narrow());
  toggle.addEventListener('click', () => {
    setOpen(sidebar.hidden);
    if (!sidebar.hidden) sidebar.querySelector('input')?.focus();
  });

  // Removable chips for the explicit filters; "clear all" also clears the query.
  const chips = h('div', { class: 'chips', id: 'chips', role: 'group', 'aria-label': t('search.active') });
  const status = h('p', { class: 'muted', id: 'search-status', role: 'status' }, t('search.loading'));
  const hint = h('p', { class: 'hint', id: 'search-hint', hidden: true });
  const grid = h('div', { class: 'grid', id: 'results', role: 'region', 'aria-label': t('search.results'), tabindex: '-1' });
  const pager = h('nav', { class: 'pager', id: 'pager', 'aria-label': t('pager.label') });
  const fileInput = h('input', { type: 'file', accept: 'image/*', id: 'similar-file', class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
  const drop = h('div', { class: 'dropzone', id: 'dropzone' },
    t('drop.text'), ' ',
    h('button', { type: 'button', id: 'similar-choose', onclick: () => fileInput.click() }, t('drop.choose')), fileInput);

  main.append(form, h('div', { class: 'toolbar' }, toggle, chips),
    h('div', { class: 'search-layout' },
      h('section', { class: 'results-pane' }, status, hint, grid, pager, drop, can('reviewer') ? uploadForm() : null), sidebar));

  const showHits = (hits, offset, from) => {
    clear(grid);
    hits.forEach((hit, i) => {
      const href = from ? `#/asset/${hit.id}?${new URLSearchParams({ from, i: String(offset + i) }).toString()}` : `#/asset/${hit.id}`;
      grid.append(h('a', { class: 'card', href, title: hit.why || '', dataset: { asset: hit.id } },
        h('img', { src: hit.thumbnail, alt: hit.name || `asset ${hit.id}`, loading: 'lazy' }),
        badge(hit),
        h('span', { class: 'cap' }, hit.name || `#${hit.id}`,
          hit.similarity !== undefined ? ` · ${conf(hit.similarity)}` : '')));
    });
  };

  const similar = async (file) => {
    const fd = new FormData();
    fd.append('file', file);
    status.textContent = t('similar.looking');
    hint.hidden = true;
    clear(pager);
    try {
      const res = await api('POST', '/api/v1/search/similar', fd);
      status.textContent = res.hits.length ? t('similar.found', { n: res.hits.length, name: file.name })
        : t('similar.none', { name: file.name });
      if (res.hint) { hint.textContent = res.hint; hint.hidden = false; }
      showHits(res.hits, 0, null);
      pager.append(h('a', { href: searchHash(s), class: 'button' }, t('similar.back')));
    } catch (e) {
      status.textContent = e.message;
    }
  };
  fileInput.addEventListener('change', () => { if (fileInput.files[0]) similar(fileInput.files[0]); });
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const file = ev.dataTransfer.files[0];
    if (file) similar(file);
  });

  const offset = (s.page - 1) * kPageSize;
  let res;
  try {
    res = await api('GET', `/api/v1/search?${apiQuery(s, offset, kPageSize).toString()}`);
  } catch (e) {
    status.textContent = e.message;
    status.className = 'error';
    return;
  }
  const labelOf = new Map(res.counts.map((c) => [`${c.attribute}=${c.node}`, c]));
  const understood = res.filter.map((c) => c.any_of.map((v) => {
    const known = labelOf.get(`${v.attribute}=${v.node}`);
    return `${known ? known.attribute_label : v.attribute}: ${known ? known.label : v.node}`;
  }).join(' / ')).join(' + ');
  const total = res.total;
  const shown = res.hits.length;
  status.dataset.total = String(total);
  status.textContent = (total === 0 ? t('search.none')
    : t('search.showing', { from: fmtNumber(offset + 1), to: fmtNumber(offset + shown), total: fmtNumber(total) })) +
    (understood ? ` · ${t('search.for', { what: understood })}` : '') + (res.notes.length ? ` — ${res.notes.join('; ')}` : '');
  if (res.hint) { hint.textContent = res.hint; hint.hidden = false; }
  showHits(res.hits, offset, searchHash(s).replace(/^#\/search\??/, ''));

  // Chips: one per explicit facet, removable; "clear all".
  for (const f of s.facets) {
    const c = labelOf.get(f);
    const what = c ? `${c.attribute_label}: ${c.label}` : f;
    chips.append(h('button', { type: 'button', class: 'chip', dataset: { facet: f },
      'aria-label': t('search.remove', { what }), onclick: () => go({ facets: s.facets.filter((x) => x !== f) }) },
    what, h('span', { 'aria-hidden': 'true', class: 'x' }, ' ×')));
  }
  if (s.facets.length || s.q) {
    chips.append(h('button', { type: 'button', class: 'chip clear', id: 'clear-all', onclick: () => go({ q: '', facets: [] }) }, t('search.clear')));
  }

  // Pages: first, previous, "page N of M", next, last.
  const pages = Math.max(1, Math.ceil(total / kPageSize));
  if (pages > 1) {
    const link = (label, page, id, disabled) => (disabled
      ? h('span', { class: 'button disabled', 'aria-disabled': 'true', id }, label)
      : h('a', { class: 'button', href: searchHash({ ...s, page }), id }, label));
    pager.append(link(t('pager.first'), 1, 'page-first', s.page === 1),
      link(t('pager.prev'), s.page - 1, 'page-prev', s.page === 1),
      h('span', { class: 'page-of', id: 'page-of' }, t('pager.page', { page: fmtNumber(s.page), pages: fmtNumber(pages) })),
      link(t('pager.next'), s.page + 1, 'page-next', s.page >= pages),
      link(t('pager.last'), pages, 'page-last', s.page >= pages));
  }

  // Facet sidebar: counts over the current result set; ticking one adds a filter.
  const byAttr = new Map();
  for (const c of res.counts) {
    if (!byAttr.has(c.attribute)) byAttr.set(c.attribute, []);
    byAttr.get(c.attribute).push(c);
  }
  for (const [attr, values] of byAttr) {
    const heading = ['format', 'month', 'folder', 'size'].includes(attr) ? t(`facet.${attr}`) : values[0].attribute_label || attr;
    const group = h('fieldset', { class: 'facet', dataset: { attribute: attr } }, h('legend', {}, heading));
    for (const v of values.slice(0, 12)) {
      const key = `${v.attribute}=${v.node}`;
      const box = h('input', { type: 'checkbox', checked: s.facets.includes(key), dataset: { facet: key } });
      box.addEventListener('change', () => {
        go({ facets: box.checked ? [...s.facets, key] : s.facets.filter((f) => f !== key) });
      });
      group.append(h('label', {}, h('span', {}, box, ' ', v.label), h('span', { class: 'count' }, fmtNumber(v.count))));
    }
    sidebar.append(group);
  }
}
