// Small helpers shared by the views. Everything user-supplied reaches the
// page through textContent or attribute setters: never through innerHTML.

// h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', childNode, [more])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let csrf = null;
export const session = { user: null };

export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

// fetch() with the session's CSRF token on state changes and JSON errors
// turned into ApiError. A 401 sends the user to the login page.
export async function api(method, path, body) {
  const headers = {};
  let payload;
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const err = new ApiError(res.status, (data && data.error && data.error.message) || res.statusText,
                             data && data.error && data.error.details);
    if (res.status === 401 && path !== '/api/v1/session') location.hash = '#/login';
    throw err;
  }
  return data;
}

// POST of a FormData with upload progress (fetch() cannot report it):
// onProgress(fraction 0..1). Resolves to the JSON answer; rejects with ApiError.
export function uploadWithProgress(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (ev) => { if (ev.lengthComputable) onProgress(ev.loaded / ev.total); });
    xhr.addEventListener('load', () => {
      const data = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, (data && data.error && data.error.message) || xhr.statusText, data && data.error && data.error.details));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'the upload did not reach the server')));
    xhr.send(form);
  });
}

export async function loadSession() {
  try {
    const me = await api('GET', '/api/v1/session');
    session.user = me;
    csrf = me.csrf_token || null;
  } catch (e) {
    session.user = null;
    csrf = null;
  }
  return session.user;
}

export async function login(name, password) {
  const me = await api('POST', '/api/v1/session', { name, password });
  session.user = me;
  csrf = me.csrf_token;
  return me;
}

export async function logout() {
  try { await api('DELETE', '/api/v1/session'); } catch (e) { /* already gone */ }
  session.user = null;
  csrf = null;
}

const ranks = { viewer: 1, reviewer: 2, admin: 3 };
export function can(role) {
  return !!session.user && ranks[session.user.role] >= ranks[role];
}

export function toast(message) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 2500);
}

// Parses "#/view/arg?k=v&k=v2" into {view, arg, params}.
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const [view = 'search', arg = ''] = path.split('/');
  return { view, arg: decodeURIComponent(arg), params: new URLSearchParams(query) };
}

export function pct(x) { return `${(100 * x).toFixed(1)}%`; }
export function conf(x) { return typeof x === 'number' ? x.toFixed(2) : ''; }

// ---- interface language ---------------------------------------------------
// t(key, vars) looks the key up in the user's language (English or Chinese),
// falling back to English and then to the key itself. The choice is kept per
// user in localStorage ("tagsmith.lang.<user>", and "tagsmith.lang" for the
// login page). {name} in a message is replaced by vars.name.
const messages = {
  en: {
    'skip': 'Skip to content', 'skip.results': 'Skip to results',
    'nav.search': 'Search', 'nav.review': 'Review', 'nav.taxonomy': 'Taxonomy', 'nav.dashboard': 'Dashboard',
    'nav.main': 'Main', 'logout': 'Log out', 'lang.label': 'Language',
    'login.title': 'Log in', 'login.name': 'Name', 'login.password': 'Password',
    'search.placeholder': 'e.g. white dress · 白色连衣裙', 'search.label': 'Search', 'search.go': 'Search',
    'search.flagged': 'include flagged', 'search.sort': 'Sort',
    'sort.relevance': 'Best match', 'sort.newest': 'Newest', 'sort.oldest': 'Oldest', 'sort.name': 'Name (A–Z)',
    'sort.confidence': 'Most confident', 'sort.least_confident': 'Least confident',
    'search.filters': 'Filters', 'search.filters.count': 'Filters ({n})', 'search.clear': 'Clear all', 'search.export': 'Export CSV',
    'search.remove': 'Remove filter {what}', 'search.showing': 'Showing {from}–{to} of {total}',
    'search.none': 'No results', 'search.for': 'for {what}', 'search.loading': 'Searching…',
    'search.results': 'Results', 'search.active': 'Active filters',
    'pager.label': 'Pages', 'pager.first': 'First', 'pager.prev': 'Previous', 'pager.next': 'Next', 'pager.last': 'Last',
    'pager.page': 'Page {page} of {pages}',
    'drop.text': 'Drop an image here to find similar photos, or', 'drop.choose': 'choose a file',
    'similar.looking': 'Looking for similar photos…', 'similar.found': '{n} photos similar to {name}',
    'similar.none': 'No close match for {name}.', 'similar.back': 'Back to search',
    'tier.auto': 'auto', 'tier.flagged': 'flagged', 'tier.suggested': 'suggested', 'tier.confirmed': 'confirmed',
    'tier.human_set': 'set by a person', 'tier.rejected': 'rejected', 'tier.removed': 'removed',
    'facet.format': 'File format', 'facet.month': 'Month ingested', 'facet.folder': 'Folder', 'facet.size': 'File size',
    'asset.back': 'Back to results', 'asset.prev': 'Previous photo', 'asset.next': 'Next photo',
    'asset.open': 'Open the original', 'asset.ingested': 'ingested {date}', 'asset.tags': 'Tags',
    'asset.history': 'History ({n} events)', 'asset.remove': 'Remove', 'asset.remove.label': 'Remove {what}',
    'asset.set': 'Set tag', 'asset.attribute': 'Attribute', 'asset.value': 'Value', 'asset.why': 'Why?',
    'asset.why.title': 'Why {attribute}', 'asset.colours': 'Colours', 'asset.none': 'No such asset.',
    'col.attribute': 'attribute', 'col.value': 'value', 'col.tier': 'tier', 'col.confidence': 'confidence',
    'col.actor': 'by', 'col.model': 'model', 'col.updated': 'updated', 'col.at': 'when', 'col.action': 'action',
    'col.taxonomy': 'taxonomy', 'col.actions': 'actions',
    'tax.title': 'Taxonomy v{v}', 'tax.attributes': 'Attributes', 'tax.versions': 'Versions',
    'tax.values': '{kind}-valued, {n} values', 'tax.multi': 'multi', 'tax.single': 'single',
    'tax.import': 'Import a new version', 'tax.yaml': 'Taxonomy YAML', 'tax.file': 'Or choose a YAML file',
    'tax.submit': 'Validate and import', 'tax.stored': 'Stored as v{v} (was v{prev}).',
    'tax.same': 'Identical to the current version; nothing stored.', 'tax.errors': 'Errors (select one to jump to its line)',
    'tax.line': 'line {line}, column {column}: {message}',
    'dash.title': 'Dashboard', 'dash.summary': '{assets} assets · {tags} tags · {events} audit events',
    'dash.tiers': 'Tags per tier', 'dash.tiers.time': 'Tag changes per day, by tier', 'dash.throughput': 'Review throughput',
    'dash.pending': '{n} waiting for review', 'dash.hour': '{h} decisions in the last hour, {d} in the last day',
    'dash.rate': '{r} decisions/minute over the last 10 minutes', 'dash.perday': 'Decisions per day',
    'dash.audit': 'Auto-tier precision (audit samples)', 'dash.audit.none': 'No audit samples reviewed yet: draw one with `tagsmith review --audit`.',
    'dash.accuracy': 'Accuracy per attribute (people’s decisions on model proposals)', 'dash.accuracy.none': 'No decisions on model proposals in this period.',
    'dash.drift': 'Score distribution per model version', 'dash.drift.none': 'No model proposals in this period.',
    'dash.psi': 'Population stability index, newest vs previous: {psi} ({verdict})',
    'dash.psi.stable': 'stable', 'dash.psi.moderate': 'moderate shift', 'dash.psi.major': 'major shift',
    'dash.models': 'Model versions', 'dash.models.none': 'No model versions yet.', 'dash.days': 'Period',
    'dash.nodata': 'No data in this period.', 'dash.ci': '95% interval {low}–{high}, {k} of {n}',
    'col.version': 'version', 'col.kind': 'kind', 'col.status': 'status', 'col.created': 'created', 'col.evaluation': 'evaluation',
    'col.precision': 'precision', 'col.interval': '95% interval', 'col.reviewed': 'reviewed', 'col.accuracy': 'accuracy',
    'col.day': 'day', 'col.total': 'total',
    'upload.label': 'Upload photos into the library', 'upload.go': 'Upload', 'upload.progress': 'Uploading {pct}…',
    'upload.done': '{ingested} of {n} files ingested; the rest: {rest}', 'upload.processing': 'Upload sent; ingesting…',
    'health.title': 'Library health', 'health.work': 'Work in progress', 'health.tagging': '{n} photos waiting to be tagged',
    'health.jobs': 'Ingest jobs: {queued} queued, {running} running, {done} done, {failed} failed',
    'health.rejected': 'Rejected files ({n})', 'health.rejected.none': 'No file was rejected.',
    'health.duplicates': 'Near-duplicate groups ({n})', 'health.duplicates.none': 'No near-duplicates.',
    'col.path': 'file', 'col.reason': 'reason',
  },
  zh: {
    'skip': '跳到正文', 'skip.results': '跳到结果',
    'nav.search': '搜索', 'nav.review': '审核', 'nav.taxonomy': '分类体系', 'nav.dashboard': '概览',
    'nav.main': '主导航', 'logout': '退出', 'lang.label': '语言',
    'login.title': '登录', 'login.name': '用户名', 'login.password': '密码',
    'search.placeholder': '例如 白色连衣裙 · white dress', 'search.label': '搜索', 'search.go': '搜索',
    'search.flagged': '包括待确认', 'search.sort': '排序',
    'sort.relevance': '最匹配', 'sort.newest': '最新', 'sort.oldest': '最早', 'sort.name': '名称 (A–Z)',
    'sort.confidence': '置信度最高', 'sort.least_confident': '置信度最低',
    'search.filters': '筛选', 'search.filters.count': '筛选 ({n})', 'search.clear': '全部清除', 'search.export': '导出 CSV',
    'search.remove': '移除筛选 {what}', 'search.showing': '显示第 {from}–{to} 项，共 {total} 项',
    'search.none': '没有结果', 'search.for': '条件：{what}', 'search.loading': '正在搜索…',
    'search.results': '结果', 'search.active': '当前筛选',
    'pager.label': '分页', 'pager.first': '首页', 'pager.prev': '上一页', 'pager.next': '下一页', 'pager.last': '末页',
    'pager.page': '第 {page} 页，共 {pages} 页',
    'drop.text': '把图片拖到这里查找相似照片，或', 'drop.choose': '选择文件',
    'similar.looking': '正在查找相似照片…', 'similar.found': '与 {name} 相似的照片 {n} 张',
    'similar.none': '没有与 {name} 相近的照片。', 'similar.back': '返回搜索',
    'tier.auto': '自动', 'tier.flagged': '待确认', 'tier.suggested': '建议', 'tier.confirmed': '已确认',
    'tier.human_set': '人工设定', 'tier.rejected': '已拒绝', 'tier.removed': '已移除',
    'facet.format': '文件格式', 'facet.month': '导入月份', 'facet.folder': '文件夹', 'facet.size': '文件大小',
    'asset.back': '返回结果', 'asset.prev': '上一张', 'asset.next': '下一张',
    'asset.open': '打开原图', 'asset.ingested': '导入于 {date}', 'asset.tags': '标签',
    'asset.history': '历史（{n} 条记录）', 'asset.remove': '移除', 'asset.remove.label': '移除 {what}',
    'asset.set': '设置标签', 'asset.attribute': '属性', 'asset.value': '值', 'asset.why': '原因',
    'asset.why.title': '{attribute} 的原因', 'asset.colours': '颜色', 'asset.none': '没有这个素材。',
    'col.attribute': '属性', 'col.value': '值', 'col.tier': '层级', 'col.confidence': '置信度',
    'col.actor': '操作者', 'col.model': '模型', 'col.updated': '更新时间', 'col.at': '时间', 'col.action': '操作',
    'col.taxonomy': '分类版本', 'col.actions': '操作',
    'tax.title': '分类体系 v{v}', 'tax.attributes': '属性', 'tax.versions': '版本',
    'tax.values': '{kind}，{n} 个值', 'tax.multi': '多值', 'tax.single': '单值',
    'tax.import': '导入新版本', 'tax.yaml': '分类体系 YAML', 'tax.file': '或选择 YAML 文件',
    'tax.submit': '校验并导入', 'tax.stored': '已保存为 v{v}（原为 v{prev}）。',
    'tax.same': '与当前版本相同，未保存。', 'tax.errors': '错误（选择一条可跳到对应行）',
    'tax.line': '第 {line} 行第 {column} 列：{message}',
    'dash.title': '概览', 'dash.summary': '{assets} 个素材 · {tags} 个标签 · {events} 条审计记录',
    'dash.tiers': '各层级标签', 'dash.tiers.time': '每日标签变化（按层级）', 'dash.throughput': '审核效率',
    'dash.pending': '{n} 项待审核', 'dash.hour': '最近一小时 {h} 个决定，最近一天 {d} 个',
    'dash.rate': '最近 10 分钟每分钟 {r} 个决定', 'dash.perday': '每日决定数',
    'dash.audit': '自动层级精确率（抽样审计）', 'dash.audit.none': '还没有审核过的抽样：用 `tagsmith review --audit` 抽取。',
    'dash.accuracy': '各属性准确率（人工对模型建议的决定）', 'dash.accuracy.none': '此期间没有对模型建议的决定。',
    'dash.drift': '各模型版本的分数分布', 'dash.drift.none': '此期间没有模型建议。',
    'dash.psi': '群体稳定性指数（最新对比上一版）：{psi}（{verdict}）',
    'dash.psi.stable': '稳定', 'dash.psi.moderate': '中等偏移', 'dash.psi.major': '显著偏移',
    'dash.models': '模型版本', 'dash.models.none': '还没有模型版本。', 'dash.days': '时间范围',
    'dash.nodata': '此期间没有数据。', 'dash.ci': '95% 区间 {low}–{high}，{n} 个中 {k} 个',
    'col.version': '版本', 'col.kind': '类型', 'col.status': '状态', 'col.created': '创建时间', 'col.evaluation': '评估',
    'col.precision': '精确率', 'col.interval': '95% 区间', 'col.reviewed': '已审核', 'col.accuracy': '准确率',
    'col.day': '日期', 'col.total': '合计',
    'upload.label': '上传照片到素材库', 'upload.go': '上传', 'upload.progress': '正在上传 {pct}…',
    'upload.done': '{n} 个文件中 {ingested} 个已导入；其余：{rest}', 'upload.processing': '已上传，正在导入…',
    'health.title': '素材库状况', 'health.work': '进行中的工作', 'health.tagging': '{n} 张照片等待打标签',
    'health.jobs': '导入任务：排队 {queued}，进行中 {running}，完成 {done}，失败 {failed}',
    'health.rejected': '被拒绝的文件（{n}）', 'health.rejected.none': '没有被拒绝的文件。',
    'health.duplicates': '近似重复组（{n}）', 'health.duplicates.none': '没有近似重复。',
    'col.path': '文件', 'col.reason': '原因',
  },
};
export const languages = { en: 'English', zh: '中文' };

function langKey() { return session.user ? `tagsmith.lang.${session.user.name}` : 'tagsmith.lang'; }
export function getLang() {
  let l = null;
  try { l = localStorage.getItem(langKey()) || localStorage.getItem('tagsmith.lang'); } catch (e) { /* private mode */ }
  if (l && messages[l]) return l;
  return /^zh/i.test(navigator.language || '') ? 'zh' : 'en';
}
export function setLang(l) {
  if (!messages[l]) return;
  try {
    localStorage.setItem(langKey(), l);
    localStorage.setItem('tagsmith.lang', l);
  } catch (e) { /* private mode: this page only */ }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}
export function t(key, vars = {}) {
  const l = getLang();
  const m = (messages[l] && messages[l][key]) ?? messages.en[key] ?? key;
  return m.replace(/\{(\w+)\}/g, (_, k) => (vars[k] !== undefined ? String(vars[k]) : `{${k}}`));
}
export function tier(state) { return state ? t(`tier.${state}`) : ''; }

// A stored timestamp ("2026-11-30T14:03:07.123Z") in the interface language,
// to the minute: no ISO milliseconds on the page.
export function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(getLang() === 'zh' ? 'zh-CN' : 'en-GB',
    { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
export function fmtNumber(n) {
  return new Intl.NumberFormat(getLang() === 'zh' ? 'zh-CN' : 'en-US').format(n);
}

// Attribute and value labels in the interface language, from the current
// taxonomy (fetched once per page load; metadata facets come from t()).
let taxonomyCache = null;
export async function taxonomyLabels(refresh = false) {
  if (!taxonomyCache || refresh) {
    taxonomyCache = api('GET', '/api/v1/taxonomy').catch(() => ({ attributes: [] }));
  }
  return taxonomyCache;
}
export function forgetTaxonomy() { taxonomyCache = null; }
export function labelIn(labels, fallback) {
  const l = getLang();
  return (labels && (labels[l] || labels.en)) || fallback;
}
export async function attributeLabel(attr) {
  if (['format', 'month', 'folder', 'size'].includes(attr)) return t(`facet.${attr}`);
  const tax = await taxonomyLabels();
  const a = tax.attributes.find((x) => x.id === attr);
  return a ? labelIn(a.labels, attr) : attr;
}
export async function valueLabel(attr, node) {
  const tax = await taxonomyLabels();
  const a = tax.attributes.find((x) => x.id === attr);
  const n = a && a.nodes.find((x) => x.id === node);
  return n ? labelIn(n.labels, node) : node;
}
// Whether a taxonomy colour value has a swatch colour (#rrggbb), for display.
export function safeHex(hex) { return typeof hex === 'string' && /^#[0-9a-fA-F]{6}$/.test(hex) ? hex : null; }
