// Dashboard for a manager: tier shares now, tag changes per day by tier,
// review throughput, auto-tier precision from audit samples and per-attribute
// accuracy (with Wilson 95% intervals), and drift of the models' score
// distributions between versions. Charts are SVG drawn here (no library):
// each has a title and a text summary for screen readers.
import { h, api, pct, t, fmtDate, fmtNumber, attributeLabel } from '../lib.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const tierColours = { auto: '#2f5d8a', flagged: '#b54708', suggested: '#8e9aaf', confirmed: '#1f7a4d',
                      human_set: '#5b3f9e', rejected: '#b42318', removed: '#6b7280' };
const tierOrder = ['auto', 'flagged', 'suggested', 'confirmed', 'human_set', 'rejected', 'removed'];

function chart(label, width, height, ...children) {
  return s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, class: 'chart', preserveAspectRatio: 'xMidYMid meet' },
    s('title', {}, label), ...children);
}

// Stacked bars: rows [{x, parts: {key: n}}], keys in order with colours.
function stackedBars(label, rows, keys, colours) {
  const W = 600, H = 220, left = 40, bottom = 30, top = 10;
  const max = Math.max(1, ...rows.map((r) => keys.reduce((a, k) => a + (r.parts[k] || 0), 0)));
  const bw = (W - left - 10) / Math.max(1, rows.length);
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const g = s('g', {});
  g.append(s('line', { x1: left, y1: y(0), x2: W - 5, y2: y(0), stroke: '#c9ced6' }),
    s('text', { x: left - 4, y: y(max) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4b5563' }, fmtNumber(max)),
    s('text', { x: left - 4, y: y(0), 'text-anchor': 'end', 'font-size': 11, fill: '#4b5563' }, '0'));
  rows.forEach((r, i) => {
    let acc = 0;
    for (const k of keys) {
      const v = r.parts[k] || 0;
      if (!v) continue;
      g.append(s('rect', { x: left + i * bw + 1, y: y(acc + v), width: Math.max(1, bw - 2), height: y(acc) - y(acc + v), fill: colours[k] || '#999' },
        s('title', {}, `${r.x} · ${k}: ${v}`)));
      acc += v;
    }
    if (rows.length <= 16 || i % Math.ceil(rows.length / 8) === 0) {
      g.append(s('text', { x: left + i * bw + bw / 2, y: H - 12, 'text-anchor': 'middle', 'font-size': 10, fill: '#4b5563' }, r.x.slice(5)));
    }
  });
  return chart(label, W, H, g);
}

function legend(keys, colours, labels) {
  return h('ul', { class: 'legend' }, keys.map((k) => {
    const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = colours[k];
    return h('li', {}, sw, labels[k] || k);
  }));
}

// Intervals: rows [{label, rate, low, high, note}] as a dot with whiskers on 0..1.
function intervals(label, rows) {
  const W = 600, rowH = 26, left = 150, right = 20, H = rows.length * rowH + 24;
  const x = (v) => left + (W - left - right) * v;
  const g = s('g', {});
  for (const v of [0, 0.5, 1]) {
    g.append(s('line', { x1: x(v), y1: 4, x2: x(v), y2: H - 18, stroke: '#e2e5ea' }),
      s('text', { x: x(v), y: H - 4, 'text-anchor': 'middle', 'font-size': 11, fill: '#4b5563' }, pct(v).replace('.0', '')));
  }
  rows.forEach((r, i) => {
    const cy = 4 + i * rowH + rowH / 2;
    g.append(s('text', { x: left - 8, y: cy + 4, 'text-anchor': 'end', 'font-size': 12, fill: '#1d2430' }, r.label),
      s('line', { x1: x(r.low), y1: cy, x2: x(r.high), y2: cy, stroke: '#2f5d8a', 'stroke-width': 3 }),
      s('circle', { cx: x(r.rate), cy, r: 5, fill: '#1d2430' }, s('title', {}, r.note)));
  });
  return chart(label, W, H, g);
}

// Score histograms (10 bins of confidence) as lines, one per population.
function histograms(label, pops) {
  const W = 600, H = 220, left = 40, bottom = 28, top = 10;
  const colours = ['#2f5d8a', '#b54708', '#8e9aaf'];
  const shares = pops.map((p) => { const n = p.bins.reduce((a, b) => a + b, 0) || 1; return p.bins.map((b) => b / n); });
  const max = Math.max(0.01, ...shares.flat());
  const x = (i) => left + (W - left - 10) * (i + 0.5) / 10;
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const g = s('g', {});
  for (let i = 0; i <= 10; i += 2) {
    g.append(s('text', { x: left + (W - left - 10) * i / 10, y: H - 8, 'text-anchor': 'middle', 'font-size': 11, fill: '#4b5563' }, (i / 10).toFixed(1)));
  }
  g.append(s('line', { x1: left, y1: y(0), x2: W - 5, y2: y(0), stroke: '#c9ced6' }),
    s('text', { x: left - 4, y: y(max) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4b5563' }, pct(max).replace('.0', '')));
  shares.forEach((sh, k) => {
    g.append(s('polyline', { points: sh.map((v, i) => `${x(i)},${y(v)}`).join(' '), fill: 'none', stroke: colours[k], 'stroke-width': 2.5 }));
    sh.forEach((v, i) => g.append(s('circle', { cx: x(i), cy: y(v), r: 3, fill: colours[k] }, s('title', {}, `${pops[k].model_version} ${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${pct(v)}`))));
  });
  return { svg: chart(label, W, H, g), colours };
}

function table(id, cols, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { id, class: 'stack' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`col.${c}`))))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((v, i) => h('td', { 'data-label': t(`col.${cols[i]}`) }, v)))))));
}

// Library health: queued work (refreshed while the page is open), rejected
// files and near-duplicate groups.
function healthPanels(lh) {
  const work = h('div', { id: 'work-progress' });
  const renderWork = (x) => {
    const j = x.work.ingest_jobs;
    const jobsTotal = j.queued + j.running + j.done + j.failed;
    work.replaceChildren(...[
      h('p', {}, t('health.tagging', { n: fmtNumber(x.work.tagging_pending) })),
      h('progress', { max: Math.max(1, x.assets), value: Math.max(0, x.assets - x.work.tagging_pending), 'aria-label': t('health.tagging', { n: x.work.tagging_pending }) }),
      h('p', {}, t('health.jobs', { queued: j.queued, running: j.running, done: j.done, failed: j.failed })),
      jobsTotal ? h('progress', { max: jobsTotal, value: j.done + j.failed, 'aria-label': t('health.work') }) : null,
      x.work.failed_jobs.length ? h('ul', { class: 'diag' }, x.work.failed_jobs.map((f) => h('li', {}, `${f.target}: ${f.error}`))) : null,
    ].filter(Boolean));
  };
  renderWork(lh);
  const rejected = lh.rejected.files.length
    ? table('rejected-files', ['path', 'reason', 'at'], lh.rejected.files.map((f) => [f.path, f.reason, fmtDate(f.at)]))
    : h('p', { class: 'muted' }, t('health.rejected.none'));
  const dups = h('div', { id: 'duplicate-groups' });
  if (!lh.duplicates.groups.length) dups.append(h('p', { class: 'muted' }, t('health.duplicates.none')));
  for (const g of lh.duplicates.groups) {
    dups.append(h('div', { class: 'dup-group' }, g.assets.map((a) => h('a', { href: `#/asset/${a.id}`, class: 'dup' },
      h('img', { src: a.thumbnail, alt: a.name || `#${a.id}`, loading: 'lazy' }))),
    g.size > g.assets.length ? h('span', { class: 'muted' }, `+${fmtNumber(g.size - g.assets.length)}`) : null));
  }
  return {
    panels: [
      h('section', { class: 'panel' }, h('h3', {}, t('health.work')), work),
      h('section', { class: 'panel' }, h('h3', {}, t('health.rejected', { n: fmtNumber(lh.rejected.total) })), rejected),
      h('section', { class: 'panel' }, h('h3', {}, t('health.duplicates', { n: fmtNumber(lh.duplicates.total) })), dups)],
    renderWork,
  };
}

export async function dashboardView(main, _arg, params) {
  const days = Math.min(365, Math.max(1, parseInt(params.get('days') || '30', 10) || 30));
  const [m, d, lh] = await Promise.all([api('GET', '/api/v1/metrics'), api('GET', `/api/v1/dashboard?days=${days}`),
    api('GET', '/api/v1/library/health?limit=10')]);
  const health = healthPanels(lh);
  const tierLabels = Object.fromEntries(tierOrder.map((k) => [k, t(`tier.${k}`)]));

  const period = h('select', { id: 'dash-days', 'aria-label': t('dash.days') },
    [7, 30, 90, 365].map((n) => h('option', { value: n, selected: n === days }, `${n} d`)));
  period.addEventListener('change', () => { location.hash = `#/dashboard?days=${period.value}`; });

  const bars = h('div', { class: 'bars', id: 'tier-shares' });
  for (const [k, n] of Object.entries(m.tiers)) {
    bars.append(h('div', { class: 'bar' }, h('span', {}, tierLabels[k] || k),
      h('meter', { min: 0, max: 1, value: m.tier_shares[k], 'aria-label': tierLabels[k] || k }), h('span', {}, `${fmtNumber(n)} (${pct(m.tier_shares[k])})`)));
  }

  const perDay = d.tiers_per_day.map((r) => ({ x: r.day, parts: r.tiers }));
  const tiersChart = h('div', { id: 'tiers-over-time' }, perDay.length
    ? [stackedBars(t('dash.tiers.time'), perDay, tierOrder, tierColours), legend(tierOrder, tierColours, tierLabels)]
    : h('p', { class: 'muted' }, t('dash.nodata')));

  const r = m.review;
  const reviewers = [...new Set(d.throughput_per_day.flatMap((x) => Object.keys(x.by_user)))];
  const palette = ['#2f5d8a', '#1f7a4d', '#b54708', '#5b3f9e', '#8e9aaf', '#b42318'];
  const reviewerColours = Object.fromEntries(reviewers.map((u, i) => [u, palette[i % palette.length]]));
  const review = h('div', { id: 'review-throughput' },
    h('p', {}, t('dash.pending', { n: fmtNumber(r.pending) })),
    h('p', {}, t('dash.hour', { h: fmtNumber(r.decisions_last_hour), d: fmtNumber(r.decisions_last_day) })),
    h('p', {}, t('dash.rate', { r: r.per_minute_last_10.toFixed(1) })),
    d.throughput_per_day.length
      ? [stackedBars(t('dash.perday'), d.throughput_per_day.map((x) => ({ x: x.day, parts: x.by_user })), reviewers, reviewerColours),
        legend(reviewers, reviewerColours, {})]
      : h('p', { class: 'muted' }, t('dash.nodata')));

  const ci = (x) => t('dash.ci', { low: pct(x.low), high: pct(x.high), k: x.correct, n: x.reviewed });
  const label = async (a) => (a === 'all' ? (t('col.total')) : attributeLabel(a));
  const auditRows = d.audit.filter((a) => a.reviewed > 0);
  const audit = h('div', { id: 'audit-precision' });
  if (auditRows.length) {
    const labels = await Promise.all(auditRows.map((a) => label(a.attribute)));
    audit.append(intervals(t('dash.audit'), auditRows.map((a, i) => ({ label: labels[i], rate: a.precision, low: a.low, high: a.high, note: ci(a) }))),
      table('audit-table', ['attribute', 'precision', 'interval', 'reviewed'],
        auditRows.map((a, i) => [labels[i], pct(a.precision), `${pct(a.low)}–${pct(a.high)}`, `${a.correct}/${a.reviewed}`])));
  } else {
    audit.append(h('p', { class: 'muted' }, t('dash.audit.none')));
  }

  const accuracy = h('div', { id: 'attribute-accuracy' });
  if (d.accuracy.length) {
    const labels = await Promise.all(d.accuracy.map((a) => label(a.attribute)));
    accuracy.append(intervals(t('dash.accuracy'), d.accuracy.map((a, i) => ({ label: labels[i], rate: a.rate, low: a.low, high: a.high, note: ci(a) }))),
      table('accuracy-table', ['attribute', 'accuracy', 'interval', 'reviewed'],
        d.accuracy.map((a, i) => [labels[i], pct(a.rate), `${pct(a.low)}–${pct(a.high)}`, `${a.correct}/${a.reviewed}`])));
  } else {
    accuracy.append(h('p', { class: 'muted' }, t('dash.accuracy.none')));
  }

  const drift = h('div', { id: 'score-drift' });
  if (d.drift.length) {
    const pops = d.drift.slice(0, 3);
    const { svg, colours } = histograms(t('dash.drift'), pops);
    drift.append(svg, h('ul', { class: 'legend' }, pops.map((p, i) => {
      const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.background = colours[i];
      return h('li', {}, sw, `${p.model_version} · taxonomy v${p.taxonomy_version} · ${fmtNumber(p.proposals)} · ${fmtDate(p.newest_at)}`);
    })));
    if (typeof d.drift_psi === 'number') {
      const verdict = d.drift_psi > 0.25 ? 'major' : d.drift_psi > 0.1 ? 'moderate' : 'stable';
      drift.append(h('p', { id: 'drift-psi' }, t('dash.psi', { psi: d.drift_psi.toFixed(3), verdict: t(`dash.psi.${verdict}`) })));
    }
  } else {
    drift.append(h('p', { class: 'muted' }, t('dash.drift.none')));
  }

  const models = m.models.map((mv) => {
    const metrics = typeof mv.metrics === 'object' && mv.metrics
      ? Object.entries(mv.metrics).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(3) : v}`).join(', ')
      : String(mv.metrics || '');
    return [mv.version, mv.kind, mv.status, fmtDate(mv.created_at), metrics];
  });

  main.append(h('div', { class: 'dash-head' }, h('h2', {}, t('dash.title')),
    h('label', { class: 'check' }, h('span', { class: 'muted' }, t('dash.days')), ' ', period)),
  h('p', { class: 'muted' }, t('dash.summary', { assets: fmtNumber(m.assets), tags: fmtNumber(m.tags), events: fmtNumber(m.events) })),
  h('div', { class: 'panels' },
    h('section', { class: 'panel' }, h('h3', {}, t('dash.tiers')), bars),
    h('section', { class: 'panel' }, h('h3', {}, t('dash.tiers.time')), tiersChart),
    h('section', { class: 'panel' }, h('h3', {}, t('dash.throughput')), review),
    h('section', { class: 'panel' }, h('h3', {}, t('dash.audit')), audit),
    h('section', { class: 'panel' }, h('h3', {}, t('dash.accuracy')), accuracy),
    h('section', { class: 'panel' }, h('h3', {}, t('dash.drift')), drift),
    h('section', { class: 'panel' }, h('h3', {}, t('dash.models')),
      models.length ? table('models', ['version', 'kind', 'status', 'created', 'evaluation'], models) : h('p', { class: 'muted' }, t('dash.models.none'))),
    health.panels));
  // Long jobs move on while the page is open: their progress is re-read.
  const timer = setInterval(async () => {
    try { health.renderWork(await api('GET', '/api/v1/library/health?limit=1&duplicates=0')); } catch (e) { /* next time */ }
  }, 5000);
  return () => clearInterval(timer);
}
