// One asset: a large preview with previous/next through the search it was
// opened from and a way back to those results; every tag with its tier,
// confidence, actor and model version, why it carries it (what `tagsmith
// why` prints), and the full audit history.
import { h, api, conf, can, toast, t, tier, fmtDate, attributeLabel, valueLabel, safeHex } from '../lib.js';
import { searchParams, apiQuery, kPageSize } from './search.js';

// The id of the result at `index` of the search `from` (a search hash's
// query string), or null.
async function neighbour(from, index) {
  if (index < 0) return null;
  const s = searchParams(new URLSearchParams(from));
  const p = apiQuery(s, index, 1);
  try {
    const res = await api('GET', `/api/v1/search?${p.toString()}`);
    return res.hits.length ? res.hits[0].id : null;
  } catch (e) {
    return null;
  }
}

export async function assetView(main, id, params) {
  if (!/^\d+$/.test(id)) { main.append(h('p', { class: 'error' }, t('asset.none'))); return; }
  const from = params.get('from');
  const index = parseInt(params.get('i') || '', 10);
  const browsing = from !== null && Number.isInteger(index);
  const [a, hist, prevId, nextId] = await Promise.all([
    api('GET', `/api/v1/assets/${id}`), api('GET', `/api/v1/assets/${id}/history`),
    browsing ? neighbour(from, index - 1) : null, browsing ? neighbour(from, index + 1) : null]);

  // Back to the results page this photo was on, and its neighbours.
  const nav = h('nav', { class: 'asset-nav', 'aria-label': t('asset.back') });
  if (browsing) {
    const back = new URLSearchParams(from);
    const page = Math.floor(index / kPageSize) + 1;
    if (page > 1) back.set('page', String(page)); else back.delete('page');
    nav.append(h('a', { class: 'button', id: 'asset-back', href: `#/search?${back.toString()}` }, '← ', t('asset.back')));
    const step = (otherId, i, label, elId) => (otherId
      ? h('a', { class: 'button', id: elId, href: `#/asset/${otherId}?${new URLSearchParams({ from, i: String(i) }).toString()}` }, label)
      : h('span', { class: 'button disabled', id: elId, 'aria-disabled': 'true' }, label));
    nav.append(step(prevId, index - 1, `‹ ${t('asset.prev')}`, 'asset-prev'), step(nextId, index + 1, `${t('asset.next')} ›`, 'asset-next'));
  } else {
    nav.append(h('a', { class: 'button', id: 'asset-back', href: '#/search' }, '← ', t('asset.back')));
  }
  main.append(nav);

  const colours = h('ul', { class: 'colours', 'aria-label': t('asset.colours') });
  for (const c of a.colours) {
    const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = safeHex(c.hex) || '#fff';
    colours.append(h('li', {}, sw, `${c.shade} (${c.family}) ${(100 * c.share).toFixed(0)}%`));
  }
  const title = a.display_path || a.name;
  main.append(h('div', { class: 'asset-head' },
    h('a', { class: 'preview', href: a.original, title: t('asset.open') }, h('img', { src: a.thumbnail, alt: title })),
    h('div', { class: 'asset-meta' }, h('h2', { id: 'asset-title' }, title),
      h('p', { class: 'muted' }, `#${a.id} · ${a.width}×${a.height} ${a.format} · ${(a.file_size / 1024).toFixed(0)} KB · `,
        t('asset.ingested', { date: fmtDate(a.ingested_at) })),
      h('p', { class: 'muted mono' }, `sha256 ${a.sha256}`), colours)));

  // Tags, with labels in the interface language and a "why" per attribute.
  const why = h('div', { id: 'asset-why', class: 'why', hidden: true, role: 'region', 'aria-live': 'polite' });
  const tags = h('tbody', {});
  for (const tg of a.tags) {
    const [attrLabel, nodeLabel] = await Promise.all([attributeLabel(tg.attribute), valueLabel(tg.attribute, tg.node)]);
    const actions = h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'why-button', 'aria-label': `${t('asset.why')} ${attrLabel}`, onclick: async () => {
        try {
          const w = await api('GET', `/api/v1/assets/${a.id}/why/${encodeURIComponent(tg.attribute)}`);
          why.replaceChildren(h('h3', {}, t('asset.why.title', { attribute: attrLabel })), h('pre', {}, w.text || ''));
          why.hidden = false;
          why.scrollIntoView({ block: 'nearest' });
        } catch (e) { toast(e.message); }
      } }, t('asset.why')));
    if (can('reviewer')) {
      actions.append(' ', h('button', { type: 'button', 'aria-label': t('asset.remove.label', { what: `${attrLabel}: ${nodeLabel}` }), onclick: async () => {
        try {
          await api('DELETE', `/api/v1/assets/${a.id}/tags/${encodeURIComponent(tg.attribute)}/${encodeURIComponent(tg.node)}`);
          location.reload();
        } catch (e) { toast(e.message); }
      } }, t('asset.remove')));
    }
    tags.append(h('tr', { dataset: { attribute: tg.attribute, node: tg.node } },
      h('td', { 'data-label': t('col.attribute') }, attrLabel), h('td', { 'data-label': t('col.value') }, nodeLabel),
      h('td', { 'data-label': t('col.tier') }, h('span', { class: `badge tier-${tg.state}` }, tier(tg.state)), h('span', { class: 'sr-only' }, ` ${tg.state}`)),
      h('td', { 'data-label': t('col.confidence') }, conf(tg.confidence)),
      h('td', { 'data-label': t('col.actor') }, tg.actor), h('td', { 'data-label': t('col.model') }, tg.model_version || '—'),
      h('td', { 'data-label': t('col.updated') }, fmtDate(tg.updated_at)), actions));
  }
  main.append(h('h3', {}, t('asset.tags')), h('div', { class: 'table-wrap' }, h('table', { id: 'asset-tags', class: 'stack' },
    h('thead', {}, h('tr', {}, ['attribute', 'value', 'tier', 'confidence', 'actor', 'model', 'updated', 'actions'].map((x) => h('th', { scope: 'col' }, t(`col.${x}`))))), tags)), why);

  if (can('reviewer')) {
    const attr = h('input', { type: 'text', id: 'set-attribute', placeholder: t('asset.attribute'), 'aria-label': t('asset.attribute') });
    const node = h('input', { type: 'text', id: 'set-node', placeholder: t('asset.value'), 'aria-label': t('asset.value') });
    main.append(h('form', { class: 'search-bar', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `/api/v1/assets/${a.id}/tags`, { attribute: attr.value.trim(), node: node.value.trim() });
        location.reload();
      } catch (e) { toast(e.message); }
    } }, attr, node, h('button', { type: 'submit' }, t('asset.set'))));
  }

  const events = h('tbody', {});
  for (const e of hist.events) {
    events.append(h('tr', {}, h('td', { 'data-label': t('col.at') }, fmtDate(e.at)), h('td', { 'data-label': t('col.action') }, e.action),
      h('td', { 'data-label': t('col.attribute') }, e.attribute),
      h('td', { 'data-label': t('col.value') }, e.previous_node ? `${e.previous_node} → ${e.node}` : e.node), h('td', { 'data-label': t('col.actor') }, e.actor),
      h('td', { 'data-label': t('col.confidence') }, conf(e.confidence)), h('td', { 'data-label': t('col.model') }, e.model_version || '—'),
      h('td', { 'data-label': t('col.taxonomy') }, `v${e.taxonomy_version}`)));
  }
  main.append(h('h3', {}, t('asset.history', { n: hist.events.length })), h('div', { class: 'table-wrap' }, h('table', { id: 'asset-history', class: 'stack' },
    h('thead', {}, h('tr', {}, ['at', 'action', 'attribute', 'value', 'actor', 'confidence', 'model', 'taxonomy'].map((x) => h('th', { scope: 'col' }, t(`col.${x}`))))), events)));
}
