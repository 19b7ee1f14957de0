// The review queue, built for speed: one asset large, the proposal, its
// alternatives and reason. Keys: J next, K previous, Y confirm, N reject,
// C correct (type-ahead over the attribute's values).
import { h, clear, api, conf, toast } from '../lib.js';

export async function reviewView(main) {
  const started = Date.now();
  let decided = 0;
  let items = [];
  let pending = 0;
  let i = 0;
  const taxonomy = await api('GET', '/api/v1/taxonomy');
  const nodesOf = (attr) => {
    const a = taxonomy.attributes.find((x) => x.id === attr);
    return a ? a.nodes : [];
  };

  const progress = h('p', { class: 'muted', id: 'review-progress' });
  const stage = h('div', { class: 'review', id: 'review-stage' });
  main.append(h('div', { class: 'keys muted' },
    h('kbd', {}, 'J'), ' next · ', h('kbd', {}, 'K'), ' previous · ', h('kbd', {}, 'Y'), ' confirm · ',
    h('kbd', {}, 'N'), ' reject · ', h('kbd', {}, 'C'), ' correct'), progress, stage);

  async function load() {
    const res = await api('GET', '/api/v1/review/next?limit=50');
    items = res.items;
    pending = res.pending;
    i = 0;
  }

  function updateProgress() {
    const minutes = Math.max((Date.now() - started) / 60000, 1 / 60);
    progress.textContent = `${decided} decided this session · ${Math.max(pending - decided, 0)} waiting · ` +
      `${(decided / minutes).toFixed(1)} items/minute`;
  }

  let correcting = null;
  function render() {
    clear(stage);
    updateProgress();
    const item = items[i];
    if (!item) {
      stage.append(h('p', { id: 'review-empty' }, 'Nothing waiting for review. ', h('a', { href: '#/search' }, 'Back to search')));
      return;
    }
    const alts = h('ul', { id: 'review-alternatives' });
    for (const a of item.alternatives) alts.append(h('li', {}, `${a.node} (${a.state} ${conf(a.confidence)})`));
    if (!item.alternatives.length) alts.append(h('li', { class: 'muted' }, 'none'));
    const outcome = item.decided ? h('p', { class: `decided-${item.decided}`, id: 'review-outcome' }, `${item.decided}ed`) : null;
    stage.append(
      h('div', {}, h('img', { class: 'large', src: `/api/v1/assets/${item.asset}/original`, alt: `asset ${item.asset}` })),
      h('div', { id: 'review-item', dataset: { asset: item.asset, attribute: item.attribute, node: item.node } },
        h('p', { class: 'muted' }, `Item ${i + 1} of ${items.length} · asset `,
          h('a', { href: `#/asset/${item.asset}` }, `#${item.asset}`)),
        h('div', {}, item.attribute),
        h('div', { class: 'proposal', id: 'review-proposal' }, item.label || item.node),
        h('p', {}, `${item.state}, confidence ${conf(item.confidence)}, by ${item.actor}`,
          item.model_version ? ` (${item.model_version})` : ''),
        h('h4', {}, 'Alternatives'), alts,
        h('h4', {}, 'Reason'), h('p', { id: 'review-reason' }, item.reason || 'no explanation recorded'),
        outcome,
        h('div', {},
          h('button', { class: 'primary', onclick: () => decide('confirm') }, 'Confirm (Y)'), ' ',
          h('button', { onclick: () => decide('reject') }, 'Reject (N)'), ' ',
          h('button', { onclick: () => startCorrect() }, 'Correct (C)')),
        correcting));
  }

  async function decide(action, to) {
    const item = items[i];
    if (!item || item.decided) return;
    const body = { asset: item.asset, attribute: item.attribute, node: item.node };
    if (action === 'correct') { body.from = item.node; body.to = to; }
    try {
      await api('POST', `/api/v1/review/${action}`, body);
      item.decided = action;
      decided += 1;
      correcting = null;
      if (i < items.length - 1) i += 1;
      else await load();
      render();
    } catch (e) {
      toast(e.message);
    }
  }

  function startCorrect() {
    const item = items[i];
    if (!item) return;
    const listId = 'correct-options';
    const list = h('datalist', { id: listId });
    for (const n of nodesOf(item.attribute)) list.append(h('option', { value: n.id }, (n.labels && n.labels.en) || n.id));
    const input = h('input', { type: 'text', id: 'correct-input', list: listId, placeholder: 'correct value…', autocomplete: 'off' });
    correcting = h('form', { id: 'correct-form', onsubmit: (ev) => {
      ev.preventDefault();
      if (input.value.trim()) decide('correct', input.value.trim());
    } }, input, list, h('button', { type: 'submit' }, 'Apply'));
    render();
    document.getElementById('correct-input').focus();
  }

  function onKey(ev) {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) {
      if (ev.key === 'Escape') { correcting = null; render(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key.toLowerCase();
    if (k === 'j') { if (i < items.length - 1) { i += 1; correcting = null; render(); } }
    else if (k === 'k') { if (i > 0) { i -= 1; correcting = null; render(); } }
    else if (k === 'y') decide('confirm');
    else if (k === 'n') decide('reject');
    else if (k === 'c') { ev.preventDefault(); startCorrect(); }
    else return;
    ev.preventDefault();
  }

  await load();
  render();
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}
