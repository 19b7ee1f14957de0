// Search: query box (English or Chinese), facet sidebar with counts over the
// result set, thumbnail grid, and drop-an-image-to-find-similar.
import { h, clear, api, conf } from '../lib.js';

export async function searchView(main, _arg, params) {
  const q = params.get('q') || '';
  const facets = params.getAll('facet');
  const lang = params.get('lang') || (/[\u3400-\u9fff]/.test(q) ? 'zh' : 'en');
  const flagged = params.get('flagged') !== '0';

  const input = h('input', { type: 'search', id: 'q', value: q, placeholder: 'e.g. white dress · 白色连衣裙', 'aria-label': 'Search' });
  const flaggedBox = h('input', { type: 'checkbox', id: 'flagged', checked: flagged });
  const go = (over = {}) => {
    const p = new URLSearchParams();
    const text = over.q !== undefined ? over.q : input.value.trim();
    if (text) p.set('q', text);
    for (const f of over.facets || facets) p.append('facet', f);
    if (!flaggedBox.checked) p.set('flagged', '0');
    location.hash = `#/search?${p.toString()}`;
  };
  const form = h('form', { class: 'search-bar', onsubmit: (ev) => { ev.preventDefault(); go({ facets: [] }); } },
    input, h('button', { class: 'primary', type: 'submit', id: 'search-go' }, 'Search'),
    h('label', {}, flaggedBox, ' include flagged'));
  flaggedBox.addEventListener('change', () => go());

  const sidebar = h('aside', { class: 'facets', id: 'facets' });
  const status = h('p', { class: 'muted', id: 'search-status' });
  const grid = h('div', { class: 'grid', id: 'results' });
  const fileInput = h('input', { type: 'file', accept: 'image/*', id: 'similar-file', hidden: true });
  const drop = h('div', { class: 'dropzone', id: 'dropzone' },
    'Drop an image here to find similar photos, or ',
    h('button', { type: 'button', onclick: () => fileInput.click() }, 'choose a file'), fileInput);

  main.append(form, h('div', { class: 'search-layout' }, sidebar, h('section', {}, drop, status, grid)));

  const showHits = (hits) => {
    clear(grid);
    for (const hit of hits) {
      grid.append(h('a', { class: 'card', href: `#/asset/${hit.id}`, title: hit.why || '', dataset: { asset: hit.id } },
        h('img', { src: hit.thumbnail, alt: hit.name || `asset ${hit.id}`, loading: 'lazy' }),
        h('div', { class: 'cap' }, `#${hit.id} `, hit.name || '', hit.similarity !== undefined ? ` · ${conf(hit.similarity)}` : '')));
    }
  };

  const similar = async (file) => {
    const fd = new FormData();
    fd.append('file', file);
    status.textContent = 'Looking for similar photos…';
    try {
      const res = await api('POST', '/api/v1/search/similar', fd);
      status.textContent = `${res.hits.length} photos most similar to ${file.name} (${res.method})`;
      showHits(res.hits);
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

  const p = new URLSearchParams();
  if (q) p.set('q', q);
  for (const f of facets) p.append('facet', f);
  if (flagged) p.set('flagged', '1');
  p.set('lang', lang);
  p.set('limit', '96');
  let res;
  try {
    res = await api('GET', `/api/v1/search?${p.toString()}`);
  } catch (e) {
    status.textContent = e.message;
    status.className = 'error';
    return;
  }
  const understood = res.filter.map((c) => c.any_of.map((v) => `${v.attribute}=${v.node}`).join(' or ')).join(' and ');
  status.textContent = `${res.total} result${res.total === 1 ? '' : 's'}` +
    (understood ? ` for ${understood}` : '') + (res.notes.length ? ` — ${res.notes.join('; ')}` : '');
  showHits(res.hits);

  // Facet sidebar: counts over the current result set; ticking one adds a filter.
  const byAttr = new Map();
  for (const c of res.counts) {
    if (!byAttr.has(c.attribute)) byAttr.set(c.attribute, []);
    byAttr.get(c.attribute).push(c);
  }
  for (const [attr, values] of byAttr) {
    sidebar.append(h('h3', {}, attr));
    for (const v of values.slice(0, 12)) {
      const key = `${v.attribute}=${v.node}`;
      const box = h('input', { type: 'checkbox', checked: facets.includes(key), dataset: { facet: key } });
      box.addEventListener('change', () => {
        const next = box.checked ? [...facets, key] : facets.filter((f) => f !== key);
        go({ facets: next, q });
      });
      sidebar.append(h('label', {}, h('span', {}, box, ' ', v.label), h('span', { class: 'count' }, v.count)));
    }
  }
}
