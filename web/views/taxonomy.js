// Taxonomy: browse the current version; admins import a new one, with
// validation errors shown inline (line:column).
import { h, api, can, clear } from '../lib.js';

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
  const [tax, versions] = await Promise.all([api('GET', '/api/v1/taxonomy'), api('GET', '/api/v1/taxonomy/versions')]);
  main.append(h('h2', {}, `Taxonomy v${tax.version} `, h('span', { class: 'muted' }, tax.name || '', ` (${tax.source})`)));
  const browse = h('div', { class: 'tree', id: 'taxonomy-tree' });
  for (const a of tax.attributes) {
    browse.append(h('details', {}, h('summary', {}, h('strong', {}, a.id), ` — ${a.multi ? 'multi' : 'single'}-valued, ${a.nodes.length} values`), tree(a)));
  }
  const vlist = h('ul', {});
  for (const v of versions.versions) vlist.append(h('li', {}, `v${v.version} · ${v.created_at} · ${v.source}`));
  main.append(h('div', { class: 'panels' }, h('div', { class: 'panel' }, h('h3', {}, 'Attributes'), browse),
    h('div', { class: 'panel' }, h('h3', {}, 'Versions'), vlist, can('admin') ? importForm() : null)));
}

function importForm() {
  const text = h('textarea', { id: 'taxonomy-yaml', rows: 14, cols: 60, spellcheck: 'false', placeholder: 'Paste taxonomy YAML, or choose a file' });
  const file = h('input', { type: 'file', accept: '.yaml,.yml,text/yaml' });
  let source = 'web upload';
  file.addEventListener('change', async () => {
    if (!file.files[0]) return;
    source = file.files[0].name;
    text.value = await file.files[0].text();
  });
  const out = h('div', { id: 'taxonomy-import-result' });
  const form = h('form', { onsubmit: async (ev) => {
    ev.preventDefault();
    clear(out);
    try {
      const res = await api('POST', '/api/v1/taxonomy', { yaml: text.value, source });
      out.append(h('p', {}, res.stored ? `Stored as v${res.version} (was v${res.previous}).` : 'Identical to the current version; nothing stored.'),
        h('pre', {}, res.diff_text || ''));
    } catch (e) {
      out.append(h('p', { class: 'error' }, e.message));
      if (e.details && e.details.errors) {
        const ul = h('ul', { class: 'diag error', id: 'taxonomy-errors' });
        for (const d of e.details.errors) ul.append(h('li', {}, `${d.line}:${d.column}: ${d.message}`));
        out.append(ul);
      }
    }
  } }, h('h3', {}, 'Import a new version'), text, h('div', {}, file, ' ', h('button', { class: 'primary', type: 'submit' }, 'Validate and import')), out);
  return form;
}
