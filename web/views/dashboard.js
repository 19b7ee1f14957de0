// Dashboard: tier shares, review throughput, model versions and their evaluation.
import { h, api, pct } from '../lib.js';

export async function dashboardView(main) {
  const m = await api('GET', '/api/v1/metrics');
  const bars = h('div', { class: 'bars', id: 'tier-shares' });
  for (const [tier, n] of Object.entries(m.tiers)) {
    bars.append(h('div', { class: 'bar' }, h('span', {}, tier),
      h('meter', { min: 0, max: 1, value: m.tier_shares[tier] }), h('span', {}, `${n} (${pct(m.tier_shares[tier])})`)));
  }
  const r = m.review;
  const review = h('div', { id: 'review-throughput' },
    h('p', {}, `${r.pending} waiting for review`),
    h('p', {}, `${r.decisions_last_hour} decisions in the last hour, ${r.decisions_last_day} in the last day`),
    h('p', {}, `${r.per_minute_last_10.toFixed(1)} decisions/minute over the last 10 minutes`));
  const users = h('ul', {});
  for (const [u, n] of Object.entries(r.per_user_last_hour)) users.append(h('li', {}, `${u}: ${n}`));
  review.append(users);

  const models = h('tbody', {});
  for (const mv of m.models) {
    const metrics = typeof mv.metrics === 'object' && mv.metrics
      ? Object.entries(mv.metrics).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(3) : v}`).join(', ')
      : String(mv.metrics || '');
    models.append(h('tr', {}, h('td', {}, mv.version), h('td', {}, mv.kind), h('td', {}, mv.status), h('td', {}, mv.created_at), h('td', {}, metrics)));
  }
  main.append(h('h2', {}, 'Dashboard'), h('p', { class: 'muted' }, `${m.assets} assets · ${m.tags} tags · ${m.events} audit events`),
    h('div', { class: 'panels' },
      h('div', { class: 'panel' }, h('h3', {}, 'Tags per tier'), bars),
      h('div', { class: 'panel' }, h('h3', {}, 'Review throughput'), review),
      h('div', { class: 'panel' }, h('h3', {}, 'Model versions'),
        m.models.length ? h('table', { id: 'models' }, h('thead', {}, h('tr', {}, ['version', 'kind', 'status', 'created', 'evaluation'].map((x) => h('th', {}, x)))), models)
          : h('p', { class: 'muted' }, 'No model versions yet.'))));
}
