// Taxonomy: browse the current version; admins import a new one, with
// validation errors shown inline (line:column, each a button that selects
// that line in the text). After storing, the page shows the new version at
// once (no reload).
import { h, api, can, clear, t, fmtDate, labelIn, forgetTaxonomy } from '../lib.js';

function tree(attr) {
  const byParent = new Map();
  for (const n of attr.nodes) {
    if (!byParent.has(n.parent)) byParent.set(n.parent, []);
    byParent.get(n.parent).push(n);
  }
  const build = (parent) => {
    const ul = h('ul', {});
    for (const n of byParent.get(parent) || []) {
      const label = Object.entries(n.labels || {}).map(([lang, l]) => `${lang}: ${l}`).join(' · ');
      ul.append(h('li', {}, h('code', {}, n.id), ' ', h('span', { class: 'muted' }, label),
        byParent.has(n.id) ? build(n.id) : null));
    }
    return ul;
  };
  return build('');
}

export async function taxonomyView(main) {
  const title = h('h2', { id: 'taxonomy-title' });
  const browse = h('div', { class: 'tree', id: 'taxonomy-tree' });
  const vlist = h('ul', { id: 'taxonomy-versions' });
  const render = async () => {
    const [tax, versions] = await Promise.all([api('GET', '/api/v1/taxonomy'), api('GET', '/api/v1/taxonomy/versions')]);
    title.replaceChildren(t('tax.title', { v: tax.version }), ' ', h('span', { class: 'muted' }, tax.name || '', ` (${tax.source})`));
    title.dataset.version = String(tax.version);
    clear(browse);
    for (const a of tax.attributes) {
      browse.append(h('details', {}, h('summary', {}, h('strong', {}, labelIn(a.labels, a.id)), ' ', h('code', {}, a.id),
        ` — ${t('tax.values', { kind: t(a.multi ? 'tax.multi' : 'tax.single'), n: a.nodes.length })}`), tree(a)));
    }
    clear(vlist);
    for (const v of [...versions.versions].reverse()) vlist.append(h('li', {}, `v${v.version} · ${fmtDate(v.created_at)} · ${v.source}`));
  };
  await render();
  main.append(title, h('div', { class: 'panels' }, h('section', { class: 'panel' }, h('h3', {}, t('tax.attributes')), browse),
    h('section', { class: 'panel' }, h('h3', {}, t('tax.versions')), vlist, can('admin') ? importForm(async () => { forgetTaxonomy(); await render(); }) : null)));
}

// Selects line `line` (1-based) of a textarea and scrolls it into view.
function selectLine(text, line) {
  const lines = text.value.split('\n');
  const n = Math.min(Math.max(1, line), lines.length);
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += lines[i].length + 1;
  text.focus();
  text.setSelectionRange(start, start + lines[n - 1].length);
  const lineHeight = text.scrollHeight / Math.max(1, lines.length);
  text.scrollTop = Math.max(0, (n - 3) * lineHeight);
}

function importForm(onStored) {
  const text = h('textarea', { id: 'taxonomy-yaml', rows: 14, spellcheck: 'false', 'aria-label': t('tax.yaml'), placeholder: t('tax.yaml') });
  const file = h('input', { type: 'file', id: 'taxonomy-file', accept: '.yaml,.yml,text/yaml', 'aria-label': t('tax.file') });
  let source = 'web upload';
  file.addEventListener('change', async () => {
    if (!file.files[0]) return;
    source = file.files[0].name;
    text.value = await file.files[0].text();
  });
  const out = h('div', { id: 'taxonomy-import-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'import', onsubmit: async (ev) => {
    ev.preventDefault();
    clear(out);
    try {
      const res = await api('POST', '/api/v1/taxonomy', { yaml: text.value, source });
      out.append(h('p', { id: 'taxonomy-stored' }, res.stored ? t('tax.stored', { v: res.version, prev: res.previous }) : t('tax.same')),
        h('pre', {}, res.diff_text || ''));
      if (res.stored) await onStored();
    } catch (e) {
      out.append(h('p', { class: 'error' }, e.message));
      if (e.details && e.details.errors) {
        const ul = h('ul', { class: 'diag error', id: 'taxonomy-errors', 'aria-label': t('tax.errors') });
        for (const d of e.details.errors) {
          ul.append(h('li', {}, h('button', { type: 'button', class: 'link', dataset: { line: d.line },
            onclick: () => selectLine(text, d.line) }, t('tax.line', { line: d.line, column: d.column, message: d.message }))));
        }
        out.append(h('p', { class: 'muted' }, t('tax.errors')), ul);
      }
    }
  } }, h('h3', {}, t('tax.import')), text,
  h('div', { class: 'import-actions' }, h('label', { class: 'file' }, h('span', { class: 'muted' }, t('tax.file')), ' ', file),
    h('button', { class: 'primary', type: 'submit', id: 'taxonomy-submit' }, t('tax.submit'))), out);
  return form;
}
