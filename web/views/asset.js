// One asset: every tag with tier, confidence, actor and model version, and
// the full audit history.
import { h, api, conf, can, toast } from '../lib.js';

export async function assetView(main, id) {
  if (!/^\d+$/.test(id)) { main.append(h('p', { class: 'error' }, 'no such asset')); return; }
  const [a, hist] = await Promise.all([api('GET', `/api/v1/assets/${id}`), api('GET', `/api/v1/assets/${id}/history`)]);
  const colours = h('div', {});
  for (const c of a.colours) {
    const sw = h('span', { class: 'swatch' });
    sw.style.background = /^#[0-9a-f]{6}$/.test(c.hex) ? c.hex : '#fff';
    colours.append(h('div', {}, sw, `${c.shade} (${c.family}) ${(100 * c.share).toFixed(0)}%`));
  }
  main.append(h('div', { class: 'asset-head' },
    h('a', { href: a.original }, h('img', { src: a.thumbnail, alt: a.name })),
    h('div', {}, h('h2', { id: 'asset-title' }, `#${a.id} `, a.name),
      h('p', { class: 'muted' }, `${a.width}×${a.height} ${a.format} · ${(a.file_size / 1024).toFixed(0)} KB · ingested ${a.ingested_at}`),
      h('p', { class: 'muted' }, `sha256 ${a.sha256}`), colours)));

  const tags = h('tbody', {});
  for (const t of a.tags) {
    const row = h('tr', { dataset: { attribute: t.attribute, node: t.node } },
      h('td', {}, t.attribute), h('td', {}, t.node), h('td', {}, t.state), h('td', {}, conf(t.confidence)),
      h('td', {}, t.actor), h('td', {}, t.model_version || '—'), h('td', {}, t.updated_at));
    if (can('reviewer')) {
      row.append(h('td', {}, h('button', { onclick: async () => {
        try {
          await api('DELETE', `/api/v1/assets/${a.id}/tags/${encodeURIComponent(t.attribute)}/${encodeURIComponent(t.node)}`);
          location.reload();
        } catch (e) { toast(e.message); }
      } }, 'remove')));
    }
    tags.append(row);
  }
  main.append(h('h3', {}, 'Tags'), h('table', { id: 'asset-tags' },
    h('thead', {}, h('tr', {}, ['attribute', 'value', 'tier', 'confidence', 'actor', 'model', 'updated'].map((x) => h('th', {}, x)))), tags));

  if (can('reviewer')) {
    const attr = h('input', { type: 'text', id: 'set-attribute', placeholder: 'attribute' });
    const node = h('input', { type: 'text', id: 'set-node', placeholder: 'value' });
    main.append(h('form', { class: 'search-bar', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `/api/v1/assets/${a.id}/tags`, { attribute: attr.value.trim(), node: node.value.trim() });
        location.reload();
      } catch (e) { toast(e.message); }
    } }, attr, node, h('button', { type: 'submit' }, 'Set tag')));
  }

  const events = h('tbody', {});
  for (const e of hist.events) {
    events.append(h('tr', {}, h('td', {}, e.at), h('td', {}, e.action), h('td', {}, e.attribute),
      h('td', {}, e.previous_node ? `${e.previous_node} → ${e.node}` : e.node), h('td', {}, e.actor),
      h('td', {}, conf(e.confidence)), h('td', {}, e.model_version || '—'), h('td', {}, `v${e.taxonomy_version}`)));
  }
  main.append(h('h3', {}, `History (${hist.events.length} events)`), h('table', { id: 'asset-history' },
    h('thead', {}, h('tr', {}, ['at', 'action', 'attribute', 'value', 'actor', 'confidence', 'model', 'taxonomy'].map((x) => h('th', {}, x)))), events));
}
