// The review queue, built for a team and for speed: one asset large, the
// proposal with its labels (and colour swatch), the alternatives and the
// reason. Items are claimed for the reviewer who has them open, a decision
// someone else took first is refused (409) and said so, and the last
// decisions can be undone. A grid mode selects many items for one decision.
//
// Keys: J next, K previous, Y confirm, N reject, C correct (type-ahead),
// S skip, U undo, G grid/card. On a phone: the buttons, or swipe the card
// (right confirms, left rejects).
import { h, clear, api, conf, toast, getLang } from '../lib.js';

// Interface strings in English and Chinese; the interface language is the
// one lib.js keeps per user (getLang).
const STRINGS = {
  keys: 'J next · K previous · Y confirm · N reject · C correct · S skip · U undo · G grid',
  confirm: 'Confirm', reject: 'Reject', correct: 'Correct', skip: 'Skip', undo: 'Undo',
  grid: 'Grid', card: 'Card', apply: 'Apply', order: 'Order', lowValue: 'Include low-value suggestions',
  orderValue: 'Most valuable first', orderConfidence: 'Lowest confidence', orderMargin: 'Closest call',
  orderAttribute: 'By attribute',
  nothing: 'Nothing waiting for review. ', back: 'Back to search',
  alternatives: 'Alternatives', reason: 'Reason', none: 'none', higher: 'scored higher',
  selectAll: 'Select all', selected: (n) => `${n} selected`, setTo: 'Set to…', set: 'Set',
  conflict: 'Not saved — someone else got there first: ',
  taken: (n) => `${n} not saved: taken or changed by someone else`,
  undone: (d) => `Undone: ${d.action} of ${d.attribute}=${d.node} on asset ${d.asset}`,
  nothingToUndo: 'Nothing to undo',
  claimed: (until) => `Held for you until ${until.slice(11, 16)} UTC`,
  progress: (done, waiting, rate) => `${done} decided this session · ${waiting} waiting · ${rate} items/minute`,
  item: (k, n) => `Item ${k} of ${n} · asset `,
  value: (v) => `value ${v.toFixed(2)}`,
  noReason: 'no explanation recorded',
};
const STRINGS_ZH = {
  keys: 'J 下一项 · K 上一项 · Y 确认 · N 拒绝 · C 更正 · S 跳过 · U 撤销 · G 网格',
  confirm: '确认', reject: '拒绝', correct: '更正', skip: '跳过', undo: '撤销',
  grid: '网格', card: '卡片', apply: '应用', order: '排序', lowValue: '包括低价值建议',
  orderValue: '最有价值优先', orderConfidence: '置信度最低', orderMargin: '最难判断',
  orderAttribute: '按属性',
  nothing: '没有待审核的项目。', back: '返回搜索',
  alternatives: '其他候选', reason: '原因', none: '无', higher: '得分更高',
  selectAll: '全选', selected: (n) => `已选 ${n} 项`, setTo: '设为…', set: '设置',
  conflict: '未保存——已有其他人先处理：',
  taken: (n) => `${n} 项未保存：已被他人领取或修改`,
  undone: (d) => `已撤销：资产 ${d.asset} 上 ${d.attribute}=${d.node} 的${d.action}`,
  nothingToUndo: '没有可撤销的操作',
  claimed: (until) => `为你保留至 ${until.slice(11, 16)} UTC`,
  progress: (done, waiting, rate) => `本次已处理 ${done} 项 · ${waiting} 项待处理 · 每分钟 ${rate} 项`,
  item: (k, n) => `第 ${k} 项，共 ${n} 项 · 资产 `,
  value: (v) => `价值 ${v.toFixed(2)}`,
  noReason: '没有记录说明',
};
const tr = (key, ...args) => {
  const table = getLang() === 'zh' ? STRINGS_ZH : STRINGS;
  const s = table[key] ?? STRINGS[key];
  return typeof s === 'function' ? s(...args) : s;
};

const OUTCOME = { confirm: 'confirmed', reject: 'rejected', correct: 'corrected', taken: 'taken by someone else' };
const OUTCOME_ZH = { confirm: '已确认', reject: '已拒绝', correct: '已更正', taken: '已被他人处理' };
const outcomeOf = (d) => (getLang() === 'zh' ? OUTCOME_ZH[d] : OUTCOME[d]) || d;
const labelOf = (x) => (x.labels && (x.labels[getLang()] || x.labels.en)) || x.label || x.node;
const otherLabels = (x) => Object.entries(x.labels || {}).filter(([lang]) => lang !== getLang()).map(([, l]) => l);

// Set through the CSSOM: the CSP refuses inline style attributes.
function swatch(hex) {
  if (!/^#[0-9a-f]{6}$/i.test(hex || '')) return null;
  const el = h('span', { class: 'swatch', title: hex, 'aria-hidden': 'true', dataset: { hex } });
  el.style.background = hex;
  return el;
}

export async function reviewView(main) {
  const started = Date.now();
  let decided = 0;
  let items = [];
  let pending = 0;
  let i = 0;
  let mode = 'card';
  let order = 'value';
  let lowValue = false;
  const selected = new Set();  // indexes into items, grid mode
  const taxonomy = await api('GET', '/api/v1/taxonomy');
  const nodesOf = (attr) => {
    const a = taxonomy.attributes.find((x) => x.id === attr);
    return a ? a.nodes : [];
  };

  const progress = h('p', { class: 'muted', id: 'review-progress' });
  const notice = h('div', { id: 'review-notice', role: 'alert', class: 'review-notice', hidden: true });
  const stage = h('div', { class: 'review', id: 'review-stage' });
  const orderSelect = h('select', { id: 'review-order', 'aria-label': tr('order'), onchange: async () => {
    order = orderSelect.value;
    await reload();
  } },
  h('option', { value: 'value' }, tr('orderValue')), h('option', { value: 'confidence' }, tr('orderConfidence')),
  h('option', { value: 'margin' }, tr('orderMargin')), h('option', { value: 'attribute' }, tr('orderAttribute')));
  const lowBox = h('input', { type: 'checkbox', id: 'review-low-value', onchange: async () => {
    lowValue = lowBox.checked;
    await reload();
  } });
  const modeButton = h('button', { type: 'button', id: 'review-mode', onclick: () => toggleMode() }, tr('grid'));
  const undoButton = h('button', { type: 'button', id: 'review-undo', onclick: () => undo() }, `${tr('undo')} (U)`);
  main.append(
    h('div', { class: 'review-toolbar' }, orderSelect,
      h('label', { class: 'review-check' }, lowBox, ' ', tr('lowValue')), modeButton, undoButton),
    h('div', { class: 'keys muted' }, tr('keys')), progress, notice, stage);

  function say(message, kind = 'conflict') {
    notice.hidden = !message;
    notice.className = `review-notice ${kind}`;
    notice.textContent = message || '';
  }

  async function load() {
    const q = new URLSearchParams({ limit: '50', order });
    if (lowValue) q.set('include_low_value', '1');
    const res = await api('GET', `/api/v1/review/next?${q}`);
    items = res.items;
    pending = res.pending;
    i = 0;
    selected.clear();
  }

  async function reload() {
    await release();
    await load();
    render();
  }

  // Gives back the claims on what this page holds and has not decided.
  function release(which) {
    const body = which ? { items: which.map((x) => ({ asset: x.asset, attribute: x.attribute, node: x.node })) } : {};
    return api('POST', '/api/v1/review/release', body).catch(() => {});
  }

  function updateProgress() {
    const minutes = Math.max((Date.now() - started) / 60000, 1 / 60);
    progress.textContent = tr('progress', decided, Math.max(pending - decided, 0), (decided / minutes).toFixed(1));
  }

  let correcting = null;
  function render() {
    clear(stage);
    updateProgress();
    stage.classList.toggle('review-grid-mode', mode === 'grid');
    modeButton.textContent = mode === 'grid' ? tr('card') : tr('grid');
    if (mode === 'grid') return renderGrid();
    const item = items[i];
    if (!item) {
      stage.append(h('p', { id: 'review-empty' }, tr('nothing'), h('a', { href: '#/search' }, tr('back'))));
      return;
    }
    const alts = h('ul', { id: 'review-alternatives', class: 'review-alts' });
    for (const a of item.alternatives) {
      alts.append(h('li', { dataset: { node: a.node }, class: a.outranks ? 'outranks' : null },
        swatch(a.swatch), h('span', { class: 'alt-label' }, labelOf(a)),
        otherLabels(a).length ? h('span', { class: 'muted' }, ` ${otherLabels(a).join(' · ')}`) : null,
        h('span', { class: 'muted' }, ` ${a.node} · ${conf(a.confidence)}`),
        a.outranks ? h('span', { class: 'muted' }, ` · ${tr('higher')}`) : null));
    }
    if (!item.alternatives.length) alts.append(h('li', { class: 'muted' }, tr('none')));
    const outcome = item.decided ? h('p', { class: `decided-${item.decided}`, id: 'review-outcome' }, outcomeOf(item.decided)) : null;
    const card = h('div', { id: 'review-item', class: 'review-card', dataset: { asset: item.asset, attribute: item.attribute, node: item.node, version: item.version } },
      h('p', { class: 'muted' }, tr('item', i + 1, items.length),
        h('a', { href: `#/asset/${item.asset}` }, `#${item.asset}`)),
      h('div', { class: 'muted' }, item.attribute),
      h('div', { class: 'proposal', id: 'review-proposal' }, swatch(item.swatch), labelOf(item)),
      h('p', { class: 'muted', id: 'review-labels' }, [item.node, ...otherLabels(item)].join(' · ')),
      h('p', {}, `${item.state}, confidence ${conf(item.confidence)}, by ${item.actor}`,
        item.model_version ? ` (${item.model_version})` : '',
        item.value ? h('span', { class: 'muted' }, ` · ${tr('value', item.value.total)}`) : null),
      item.claim_expires_at ? h('p', { class: 'muted', id: 'review-claim' }, tr('claimed', item.claim_expires_at)) : null,
      h('h4', {}, tr('alternatives')), alts,
      h('h4', {}, tr('reason')), h('p', { id: 'review-reason' }, item.reason || tr('noReason')),
      outcome,
      h('div', { class: 'review-actions' },
        h('button', { type: 'button', class: 'primary', id: 'review-confirm', onclick: () => decide('confirm') }, `${tr('confirm')} (Y)`),
        h('button', { type: 'button', id: 'review-reject', onclick: () => decide('reject') }, `${tr('reject')} (N)`),
        h('button', { type: 'button', id: 'review-correct', onclick: () => startCorrect() }, `${tr('correct')} (C)`),
        h('button', { type: 'button', id: 'review-skip', onclick: () => skip() }, `${tr('skip')} (S)`)),
      correcting);
    const photo = h('div', { class: 'review-photo' },
      h('img', { class: 'large', src: `/api/v1/assets/${item.asset}/original`, alt: `asset ${item.asset}`, draggable: 'false' }));
    swipeable(photo);
    stage.append(photo, card);
  }

  // Right swipe confirms, left rejects: a touch alternative to Y and N.
  function swipeable(el) {
    let x0 = null;
    let y0 = null;
    el.addEventListener('pointerdown', (ev) => { x0 = ev.clientX; y0 = ev.clientY; });
    el.addEventListener('pointerup', (ev) => {
      if (x0 === null) return;
      const dx = ev.clientX - x0;
      const dy = ev.clientY - y0;
      x0 = null;
      if (Math.abs(dx) > 80 && Math.abs(dx) > 2 * Math.abs(dy)) decide(dx > 0 ? 'confirm' : 'reject');
    });
    el.addEventListener('pointercancel', () => { x0 = null; });
  }

  function renderGrid() {
    const open = items.map((x, k) => [x, k]).filter(([x]) => !x.decided);
    if (!open.length) {
      stage.append(h('p', { id: 'review-empty' }, tr('nothing'), h('a', { href: '#/search' }, tr('back'))));
      return;
    }
    const attrs = new Set([...selected].map((k) => items[k].attribute));
    const setSelect = h('select', { id: 'review-bulk-node', 'aria-label': tr('setTo'), disabled: attrs.size !== 1 },
      h('option', { value: '' }, tr('setTo')),
      attrs.size === 1 ? nodesOf([...attrs][0]).map((n) => h('option', { value: n.id }, (n.labels && n.labels.en) || n.id)) : []);
    const bar = h('div', { class: 'review-bulk', id: 'review-bulk' },
      h('label', { class: 'review-check' }, h('input', { type: 'checkbox', id: 'review-select-all',
        checked: selected.size === open.length, onchange: (ev) => {
          selected.clear();
          if (ev.target.checked) for (const [, k] of open) selected.add(k);
          render();
        } }), ' ', tr('selectAll')),
      h('span', { class: 'muted', id: 'review-selected' }, tr('selected', selected.size)),
      h('button', { type: 'button', class: 'primary', id: 'review-bulk-confirm', disabled: !selected.size, onclick: () => bulk('confirm') }, tr('confirm')),
      h('button', { type: 'button', id: 'review-bulk-reject', disabled: !selected.size, onclick: () => bulk('reject') }, tr('reject')),
      setSelect,
      h('button', { type: 'button', id: 'review-bulk-set', disabled: attrs.size !== 1, onclick: () => {
        if (setSelect.value) bulk('correct', setSelect.value);
      } }, tr('set')));
    const grid = h('div', { class: 'grid review-tiles', id: 'review-grid' });
    for (const [x, k] of open) {
      const box = h('input', { type: 'checkbox', 'aria-label': `select asset ${x.asset} ${x.attribute}=${x.node}`,
        checked: selected.has(k), onchange: (ev) => {
          if (ev.target.checked) selected.add(k); else selected.delete(k);
          render();
        } });
      grid.append(h('label', { class: 'card review-tile', dataset: { asset: x.asset, attribute: x.attribute, node: x.node } },
        h('img', { src: x.thumbnail, alt: `asset ${x.asset}`, loading: 'lazy' }),
        h('div', { class: 'cap' }, box, ' ', swatch(x.swatch), `${x.attribute}: ${labelOf(x)} ${conf(x.confidence)}`)));
    }
    stage.append(bar, grid);
  }

  function toggleMode() {
    mode = mode === 'grid' ? 'card' : 'grid';
    correcting = null;
    selected.clear();
    // Back on the card: the first item still open (the grid may have decided some).
    if (mode === 'card' && items[i] && items[i].decided) i = Math.max(0, items.findIndex((x) => !x.decided));
    render();
  }

  function advance() {
    correcting = null;
    while (i < items.length - 1 && items[i].decided) i += 1;
  }

  async function decide(action, to) {
    const item = items[i];
    if (!item || item.decided) return;
    const body = { asset: item.asset, attribute: item.attribute, node: item.node, version: item.version };
    if (action === 'correct') { body.from = item.node; body.to = to; }
    try {
      await api('POST', `/api/v1/review/${action}`, body);
      item.decided = action;
      decided += 1;
      say('');
      if (i < items.length - 1) { i += 1; advance(); } else await load();
      correcting = null;
      render();
    } catch (e) {
      if (e.status === 409) {
        // Someone else decided it or holds it: theirs. Say so, move on.
        say(tr('conflict') + e.message);
        item.decided = 'taken';
        if (i < items.length - 1) i += 1;
        correcting = null;
        render();
      } else {
        toast(e.message);
      }
    }
  }

  async function skip() {
    const item = items[i];
    if (!item) return;
    await release([item]);
    if (i < items.length - 1) { i += 1; correcting = null; render(); }
  }

  async function undo() {
    try {
      const res = await api('POST', '/api/v1/review/undo', { count: 1 });
      const u = res.undone[0];
      decided = Math.max(decided - 1, 0);
      say(tr('undone', u), 'info');
      // Back to that item with its new version, to decide again.
      let k = items.findIndex((x) => String(x.asset) === String(u.asset) && x.attribute === u.attribute && x.node === u.node);
      if (u.item) {
        if (k < 0) { items.splice(i, 0, u.item); k = i; } else items[k] = u.item;
      }
      if (k >= 0) i = k;
      correcting = null;
      render();
    } catch (e) {
      if (e.status === 404) say(tr('nothingToUndo'), 'info');
      else say(e.message);
    }
  }

  async function bulk(action, to) {
    const chosen = [...selected].map((k) => items[k]);
    if (!chosen.length) return;
    const body = { action, items: chosen.map((x) => ({ asset: x.asset, attribute: x.attribute, node: x.node, version: x.version })) };
    if (to) body.to = to;
    try {
      const res = await api('POST', '/api/v1/review/batch', body);
      const lost = [];
      res.results.forEach((r, n) => {
        if (r.ok) { chosen[n].decided = action; decided += 1; }
        else { chosen[n].decided = 'taken'; lost.push(`asset ${chosen[n].asset} ${chosen[n].attribute}: ${r.error}`); }
      });
      selected.clear();
      if (lost.length) say(`${tr('taken', lost.length)} — ${lost.join('; ')}`);
      else say('');
      if (items.every((x) => x.decided)) await load();
      render();
    } catch (e) {
      toast(e.message);
    }
  }

  function startCorrect() {
    const item = items[i];
    if (!item || mode === 'grid') return;
    const listId = 'correct-options';
    const list = h('datalist', { id: listId });
    for (const n of nodesOf(item.attribute)) list.append(h('option', { value: n.id }, (n.labels && n.labels.en) || n.id));
    const input = h('input', { type: 'text', id: 'correct-input', list: listId, placeholder: 'correct value…', autocomplete: 'off', 'aria-label': 'correct value' });
    correcting = h('form', { id: 'correct-form', class: 'review-correct', onsubmit: (ev) => {
      ev.preventDefault();
      if (input.value.trim()) decide('correct', input.value.trim());
    } }, input, list, h('button', { type: 'submit' }, tr('apply')));
    render();
    document.getElementById('correct-input').focus();
  }

  function onKey(ev) {
    const t = ev.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) {
      if (ev.key === 'Escape') { correcting = null; render(); }
      if (!(t instanceof HTMLInputElement && t.type === 'checkbox')) return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key.toLowerCase();
    if (k === 'g') toggleMode();
    else if (k === 'u') undo();
    else if (mode === 'grid') return;
    else if (k === 'j') { if (i < items.length - 1) { i += 1; correcting = null; render(); } }
    else if (k === 'k') { if (i > 0) { i -= 1; correcting = null; render(); } }
    else if (k === 'y') decide('confirm');
    else if (k === 'n') decide('reject');
    else if (k === 's') skip();
    else if (k === 'c') { ev.preventDefault(); startCorrect(); }
    else return;
    ev.preventDefault();
  }

  await load();
  render();
  document.addEventListener('keydown', onKey);
  return () => {
    document.removeEventListener('keydown', onKey);
    release();  // leaving the page gives the items back to the team
  };
}
