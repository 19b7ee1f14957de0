#!/usr/bin/env node
// Browser end-to-end test of `tagsmith serve` in Debian's headless Chromium,
// driven by playwright-core (never downloads a browser).
//
//   node tests/web/e2e.mjs --binary build/tagsmith
//
// Builds its own library (sample-photos + ingest + tag), adds users, starts
// the server on a free loopback port, then: logs in, searches "white dress"
// and narrows by a facet, reviews three items by keyboard (Y, N, C + type-
// ahead), and opens an asset's history. Screenshots go to tests/web/artifacts/.
// Then (the functions below main's first part) at 1440x900 and 390x844, for
// the search, asset, taxonomy and dashboard pages: no horizontal overflow,
// every control reachable by Tab and by tap, no serious or critical axe-core
// violation; a 5,000-photo library paged to its last photo with the count the
// API gives; the language switch; the asset page's previous/next and back to
// results; a similar-by-upload with no close match; the taxonomy page's new
// version after an import, and clickable error lines.
// Exit 0 pass, 1 fail, 77 skipped (no chromium or playwright-core).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const binary = resolve(args[args.indexOf('--binary') + 1] || 'build/tagsmith');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const artifacts = join(here, 'artifacts');

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log('SKIP: playwright-core is not installed (run scripts/setup)');
  process.exit(77);
}
if (!existsSync(chromiumPath)) {
  console.log(`SKIP: no browser at ${chromiumPath} (apt-get install chromium)`);
  process.exit(77);
}

const work = mkdtempSync(join(tmpdir(), 'tagsmith-e2e-'));
const lib = join(work, 'lib');
let server = null;
let context = null;

function tagsmith(argv, input) {
  const r = spawnSync(binary, [...argv, '--library', lib, '--quiet'], { input, encoding: 'utf8', timeout: 240000 });
  if (r.status !== 0 && !(argv[0] === 'ingest' && r.status === 3)) {
    throw new Error(`tagsmith ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return r.stdout;
}

function startServer() {
  return new Promise((resolveStart, reject) => {
    const p = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--library', lib], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30000);
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) { clearTimeout(timer); resolveStart({ proc: p, base: m[1] }); }
    });
    p.stderr.on('data', (d) => process.stderr.write(`[serve] ${d}`));
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${out}`)); });
  });
}

async function apiCall(base, token, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

// A 24-bit BMP of a white garment-like shape on a slate studio background.
function whiteProductBmp(seed, w = 360, h = 440) {
  const row = Math.ceil((w * 3) / 4) * 4;
  const size = 54 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0);
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  let s = seed * 9301 + 49297;
  const rnd = () => { s = (s * 9301 + 49297) % 233280; return s / 233280; };
  for (let y = 0; y < h; y++) {
    const yy = h - 1 - y;  // rows are stored bottom-up
    const t = (yy - h * 0.12) / (h * 0.78);
    const half = w * (0.12 + 0.22 * t) * (1 + 0.05 * Math.sin(seed + yy / 20));
    for (let x = 0; x < w; x++) {
      const inside = t >= 0 && t <= 1 && Math.abs(x - w / 2) < half;
      const n = 242 + Math.floor(rnd() * 10);
      const [r, g, bl] = inside ? [n, n, n - 2] : [70, 78, 92];
      const o = 54 + y * row + x * 3;
      b[o] = bl;
      b[o + 1] = g;
      b[o + 2] = r;
    }
  }
  return b;
}

const kScaleCount = 5000;
const started = Date.now();
const viewports = [{ name: 'desktop', width: 1440, height: 900 }, { name: 'phone', width: 390, height: 844 }];
const axeSource = (() => {
  try { return readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'); } catch { return null; }
})();

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message} [${((Date.now() - started) / 1000).toFixed(1)} s]`);
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  console.log(`library in ${work}`);
  tagsmith(['sample-photos', join(work, 'photos')]);
  tagsmith(['ingest', join(work, 'photos')]);
  tagsmith(['tag', '--all']);
  tagsmith(['users', 'add', 'ada', '--role', 'admin', '--password-stdin'], 'admin password 1\n');
  tagsmith(['users', 'add', 'rex', '--role', 'reviewer', '--password-stdin'], 'reviewer password 1\n');
  const token = tagsmith(['users', 'token', 'ada']).trim();
  growLibrary(kScaleCount);

  const started = await startServer();
  server = started.proc;
  const base = started.base;
  console.log(`server at ${base}`);

  // The sample catalogue has no white products and, without a vision model,
  // nothing says "dress": upload four white products (through the API's
  // multipart upload) and tag them as dresses, as a merchandiser would.
  const fd = new FormData();
  for (let i = 1; i <= 4; i++) fd.append('file', new Blob([whiteProductBmp(i)], { type: 'image/bmp' }), `white-dress-${i}.bmp`);
  const up = await fetch(`${base}/api/v1/assets`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: fd });
  const uploaded = await up.json();
  check(up.status === 200 && uploaded.ingested === 4, `four photos uploaded and ingested (${up.status})`);
  for (const f of uploaded.files) {
    await apiCall(base, token, 'POST', `/api/v1/assets/${f.asset.id}/tags`, { attribute: 'garment_type', node: 'dress' });
  }
  // Colour analysis proposes white for them (a calibrated suggestion on this
  // synthetic backdrop, below the flag threshold): the search with
  // suggestions finds them; the merchandiser then confirms white.
  const proposed = await apiCall(base, token, 'GET', '/api/v1/search?facet=colour_family%3Dwhite&flagged=1&suggested=1&limit=100');
  check(proposed.total >= 4, `colour analysis proposes white for the uploads (${proposed.total})`);
  for (const f of uploaded.files) {
    await apiCall(base, token, 'POST', `/api/v1/assets/${f.asset.id}/tags`, { attribute: 'colour_family', node: 'white' });
  }
  const white = await apiCall(base, token, 'GET', '/api/v1/search?facet=colour_family%3Dwhite&flagged=1&limit=100');
  check(white.total >= 4, `the library now has white products (${white.total})`);
  const queue = await apiCall(base, token, 'GET', '/api/v1/review/next?limit=10&claim=0');
  check(queue.items.length >= 3, `the review queue has work (${queue.pending} pending)`);

  context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // 401s are expected (the session probe before login, the wrong password);
  // anything else logged as an error -- a CSP refusal, a script error -- fails.
  page.on('console', (m) => {
    // 422: the taxonomy import check's invalid YAML, answered with its errors.
    const url = m.location()?.url || '';
    if (m.type() === 'error' && !/status of 401/.test(m.text()) &&
        !(/status of 422/.test(m.text()) && url.endsWith('/api/v1/taxonomy'))) problems.push(`console: ${m.text()} ${url}`);
  });
  page.setDefaultTimeout(15000);

  // 1. Log in.
  await page.goto(`${base}/`);
  await page.waitForSelector('#login-name');
  await page.fill('#login-name', 'rex');
  await page.fill('#login-password', 'wrong password');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  check(true, 'a wrong password is refused');
  await page.fill('#login-password', 'reviewer password 1');
  await page.click('#login-submit');
  await page.waitForSelector('#q');
  check((await page.textContent('#who')).includes('rex'), 'logged in as rex');
  const cookies = await context.cookies();
  const sessionCookie = cookies.find((c) => c.name === 'tagsmith_session');
  check(sessionCookie && sessionCookie.httpOnly && sessionCookie.sameSite === 'Strict', 'session cookie is HttpOnly, SameSite=Strict');
  await page.screenshot({ path: join(artifacts, '01-logged-in.png') });

  // 2. Search "white dress", then narrow with a facet.
  await page.fill('#q', 'white dress');
  await page.click('#search-go');
  await page.waitForFunction(() => document.querySelector('#search-status')?.dataset.total !== undefined);
  const status1 = await page.textContent('#search-status');
  const hits1 = await page.locator('#results .card').count();
  check(hits1 > 0, `"white dress" finds ${hits1} photos (${status1})`);
  check(/dress/i.test(status1) && /white/i.test(status1), 'the query was understood as colour and garment type');
  await page.screenshot({ path: join(artifacts, '02-search-white-dress.png') });
  // Shades of these uploads are suggestions only (calibrated colour), so narrow
  // by the colour family facet that the confirmed tags give.
  const facet = page.locator('#facets input[data-facet^="colour_family="]').first();
  const facetKey = await facet.getAttribute('data-facet');
  await facet.check();
  await page.waitForFunction((k) => decodeURIComponent(location.hash).includes(k), facetKey);
  await page.waitForFunction(() => document.querySelector('#search-status')?.dataset.total !== undefined);
  const hits2 = await page.locator('#results .card').count();
  check(hits2 > 0 && hits2 <= hits1, `facet ${facetKey} narrows to ${hits2} photos`);
  check(await page.locator(`#facets input[data-facet="${facetKey}"]`).isChecked(), 'the facet stays ticked');
  await page.screenshot({ path: join(artifacts, '03-search-facet.png') });

  // 3. Review three items by keyboard: Y confirm, N reject, C correct.
  await page.goto(`${base}/#/review`);
  await page.waitForSelector('#review-proposal');
  await page.screenshot({ path: join(artifacts, '04-review.png') });
  const progress = () => page.textContent('#review-progress');
  const first = await page.getAttribute('#review-item', 'data-node');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  check((await page.getAttribute('#review-item', 'data-node')) === first, 'J/K move next and back');
  const reviewed = [];
  const current = async () => ({ asset: await page.getAttribute('#review-item', 'data-asset'),
                                 attribute: await page.getAttribute('#review-item', 'data-attribute'),
                                 node: await page.getAttribute('#review-item', 'data-node') });
  reviewed.push({ ...(await current()), action: 'confirmed' });
  await page.keyboard.press('y');
  await page.waitForFunction(() => /^1 decided/.test(document.querySelector('#review-progress').textContent));
  reviewed.push({ ...(await current()), action: 'rejected' });
  await page.keyboard.press('n');
  await page.waitForFunction(() => /^2 decided/.test(document.querySelector('#review-progress').textContent));
  const third = await current();
  reviewed.push({ ...third, action: 'corrected' });
  await page.keyboard.press('c');
  await page.waitForSelector('#correct-input');
  const options = await page.$$eval('#correct-options option', (os) => os.map((o) => o.value));
  const target = options.find((v) => v !== third.node);
  await page.keyboard.type(target);
  await page.screenshot({ path: join(artifacts, '05-review-correct.png') });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /^3 decided/.test(document.querySelector('#review-progress').textContent));
  check(/items\/minute/.test(await progress()), `progress shows throughput: ${await progress()}`);
  await page.screenshot({ path: join(artifacts, '06-review-done.png') });
  const events = await apiCall(base, token, 'GET', '/api/v1/audit/events?limit=50');
  for (const r of reviewed) {
    const e = events.events.find((x) => String(x.asset) === r.asset && x.actor === 'user:rex' && x.action === r.action);
    check(e, `audit trail records ${r.action} of ${r.attribute} on asset ${r.asset}`);
  }

  // 4. The asset page shows every tag and the full history.
  await page.goto(`${base}/#/asset/${third.asset}`);
  await page.waitForSelector('#asset-history tbody tr');
  const tagRows = await page.locator('#asset-tags tbody tr').count();
  const historyText = await page.textContent('#asset-history');
  check(tagRows > 0, `asset ${third.asset} shows ${tagRows} tags`);
  check(historyText.includes('user:rex') && historyText.includes('corrected'), 'its history shows the correction by rex');
  await page.screenshot({ path: join(artifacts, '07-asset-history.png'), fullPage: true });

  // 5. The dashboard and taxonomy pages render.
  await page.goto(`${base}/#/dashboard`);
  await page.waitForSelector('#tier-shares .bar');
  await page.screenshot({ path: join(artifacts, '08-dashboard.png') });
  await page.goto(`${base}/#/taxonomy`);
  await page.waitForSelector('#taxonomy-tree details');
  await page.screenshot({ path: join(artifacts, '09-taxonomy.png') });

  await checkCatalogueScale(page, base, token);
  await checkAssetBrowsing(page);
  await checkSimilarNoCloseMatch(page);
  await checkExportLink(page);
  await checkLanguageSwitch(page);
  await checkTabToFirstResult(page);
  await checkUploadAndHealth(page);
  for (const vp of viewports) {
    await page.setViewportSize({ width: vp.width, height: vp.height });
    await checkPage(page, base, vp, 'search', '#/search?q=white%20dress', '#results .card');
    await checkPage(page, base, vp, 'asset', `#/asset/${third.asset}`, '#asset-history tbody tr');
    await checkPage(page, base, vp, 'taxonomy', '#/taxonomy', '#taxonomy-tree details');
    await checkPage(page, base, vp, 'dashboard', '#/dashboard', '#tier-shares .bar');
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await checkTaxonomyImport(page, base);

  check(problems.length === 0, `no page errors or CSP violations${problems.length ? ': ' + problems.join(' | ') : ''}`);

  // 6. Review for a team: two reviewers at once, on a desktop and on a phone.
  await reviewForATeam(base, token);
}

// --- review for a team ------------------------------------------------------------
// Two browser contexts (two reviewers, their own sessions) review at once:
// they are handed disjoint items, never decide the same tag, a decision on a
// tag someone else took is refused with a message naming them, undo restores
// the tag and writes an audit event, and grid selection decides several at
// once. At 1440x900 and at 390x844 (touch), with no horizontal scroll.
async function reviewForATeam(base, token) {
  tagsmith(['users', 'add', 'rae', '--role', 'reviewer', '--password-stdin'], 'reviewer password 2\n');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const viewport of [{ width: 1440, height: 900 }, { width: 390, height: 844 }]) {
      await reviewTwoAtOnce(browser, base, token, viewport);
    }
  } finally {
    await browser.close().catch(() => {});
  }
}

async function reviewerPage(browser, base, viewport, name, password, problems) {
  const phone = viewport.width < 600;
  const ctx = await browser.newContext({ viewport, hasTouch: phone, isMobile: phone });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('console', (m) => {
    // 401: the session probe before login; 409: the refusal this test provokes.
    if (m.type() === 'error' && !/status of (401|404|409)/.test(m.text())) problems.push(`${name}: console: ${m.text()}`);
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('#login-name');
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#q');
  await page.goto(`${base}/#/review`);
  await page.waitForSelector('#review-proposal');
  // Low-value suggestions too, so that a small test library gives both enough.
  await Promise.all([page.waitForResponse((r) => r.url().includes('/api/v1/review/next')),
                     page.check('#review-low-value')]);
  await page.waitForSelector('#review-proposal');
  return { ctx, page, phone };
}

const tileKeys = (page) => page.$$eval('#review-grid .review-tile',
  (ts) => ts.map((t) => `${t.dataset.asset}/${t.dataset.attribute}/${t.dataset.node}`));
const cardKey = async (page) => {
  const d = await page.$eval('#review-item', (e) => ({ ...e.dataset }));
  return { ...d, key: `${d.asset}/${d.attribute}/${d.node}` };
};
const noSideScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

async function reviewTwoAtOnce(browser, base, token, viewport) {
  const size = `${viewport.width}x${viewport.height}`;
  const problems = [];
  const a = await reviewerPage(browser, base, viewport, 'rex', 'reviewer password 1', problems);
  const b = await reviewerPage(browser, base, viewport, 'rae', 'reviewer password 2', problems);
  try {
    // Each holds its own items: the grids share no tag.
    await a.page.keyboard.press('g');
    await b.page.keyboard.press('g');
    await a.page.waitForSelector('#review-grid .review-tile');
    await b.page.waitForSelector('#review-grid .review-tile');
    const mine = await tileKeys(a.page);
    const theirs = await tileKeys(b.page);
    check(mine.length >= 4 && theirs.length >= 4, `${size}: both reviewers have work (${mine.length} and ${theirs.length} items)`);
    check(!mine.some((k) => theirs.includes(k)), `${size}: two reviewers are handed disjoint items`);
    check(await noSideScroll(a.page), `${size}: review grid has no horizontal scroll`);
    await a.page.screenshot({ path: join(artifacts, `10-review-team-grid-${size}.png`) });

    // Bulk: rex selects two tiles and confirms them in one go.
    const tiles = a.page.locator('#review-grid .review-tile input[type=checkbox]');
    await tiles.nth(0).check();
    await tiles.nth(1).check();
    check((await a.page.textContent('#review-selected')).startsWith('2'), `${size}: two items selected in the grid`);
    const bulkKeys = mine.slice(0, 2);
    if (a.phone) await a.page.tap('#review-bulk-confirm'); else await a.page.click('#review-bulk-confirm');
    await a.page.waitForFunction((n) => document.querySelectorAll('#review-grid .review-tile').length === n, mine.length - 2);
    await a.page.keyboard.press('g');
    await b.page.keyboard.press('g');
    await a.page.waitForSelector('#review-proposal');
    await b.page.waitForSelector('#review-proposal');

    // Both decide at once, several times; nobody decides a tag twice.
    for (let round = 0; round < 2; round++) {
      await Promise.all([a.page.keyboard.press('y'), b.page.keyboard.press('n')]);
      await Promise.all([
        a.page.waitForFunction((r) => new RegExp(`^${r} decided`).test(document.querySelector('#review-progress').textContent), round + 3),
        b.page.waitForFunction((r) => new RegExp(`^${r} decided`).test(document.querySelector('#review-progress').textContent), round + 1),
      ]);
    }
    check(await noSideScroll(a.page) && await noSideScroll(b.page), `${size}: review card has no horizontal scroll`);
    const confirmBox = await a.page.locator('#review-confirm').boundingBox();
    check(confirmBox && confirmBox.x >= 0 && confirmBox.x + confirmBox.width <= viewport.width,
      `${size}: the confirm button is on screen (x ${confirmBox && Math.round(confirmBox.x)})`);
    const alts = await a.page.$$eval('#review-alternatives li .alt-label', (ls) => ls.map((l) => l.textContent));
    check(alts.every((l) => l.length > 0), `${size}: alternatives show labels (${alts.slice(0, 3).join(', ')})`);
    await a.page.screenshot({ path: join(artifacts, `11-review-team-card-${size}.png`) });

    // A tag rex has open, taken by someone else meanwhile: his decision is
    // refused with a message that names who took it.
    const taken = await cardKey(a.page);
    await a.page.evaluate(async (t) => {
      const { api } = await import('/lib.js');
      await api('POST', '/api/v1/review/release', { items: [{ asset: Number(t.asset), attribute: t.attribute, node: t.node }] });
    }, taken);
    await apiCall(base, token, 'POST', '/api/v1/review/reject', { asset: Number(taken.asset), attribute: taken.attribute, node: taken.node });
    if (a.phone) await a.page.tap('#review-confirm'); else await a.page.keyboard.press('y');
    await a.page.waitForSelector('#review-notice.conflict:not([hidden])');
    const notice = await a.page.textContent('#review-notice');
    check(/ada/.test(notice) && /rejected/.test(notice), `${size}: a decision on a tag someone else took is refused: "${notice.slice(0, 120)}"`);
    await a.page.screenshot({ path: join(artifacts, `12-review-team-conflict-${size}.png`) });

    // Undo: rex decides one more, then undoes it; the tag is as it was and
    // the audit trail has the undo.
    const target = await cardKey(a.page);
    const before = (await apiCall(base, token, 'GET', `/api/v1/assets/${target.asset}/tags`)).tags
      .find((t) => t.attribute === target.attribute && t.node === target.node);
    const decidedBefore = await a.page.textContent('#review-progress');
    if (a.phone) await a.page.tap('#review-reject'); else await a.page.keyboard.press('n');
    await a.page.waitForFunction((p) => document.querySelector('#review-progress').textContent !== p, decidedBefore);
    if (a.phone) await a.page.tap('#review-undo'); else await a.page.keyboard.press('u');
    await a.page.waitForSelector('#review-notice.info:not([hidden])');
    check(/Undone/.test(await a.page.textContent('#review-notice')), `${size}: undo says what it undid`);
    const after = (await apiCall(base, token, 'GET', `/api/v1/assets/${target.asset}/tags`)).tags
      .find((t) => t.attribute === target.attribute && t.node === target.node);
    check(after && before && after.state === before.state && after.confidence === before.confidence,
      `${size}: undo restores ${target.attribute}=${target.node} to ${before && before.state}`);
    check((await cardKey(a.page)).key === target.key, `${size}: the undone item is back on the card`);
    const events = (await apiCall(base, token, 'GET', '/api/v1/audit/events?limit=200')).events;
    check(events.some((e) => String(e.asset) === target.asset && e.action === 'undone' && e.actor === 'user:rex'),
      `${size}: the undo is in the audit trail`);

    // Nobody decided a tag twice: per tag, the reviewers' decisions (undo
    // aside) come from one person.
    const deciders = new Map();
    for (const e of events) {
      if (!['confirmed', 'rejected', 'corrected'].includes(e.action)) continue;
      if (!['user:rex', 'user:rae'].includes(e.actor)) continue;
      const k = `${e.asset}/${e.attribute}/${e.node}`;
      if (!deciders.has(k)) deciders.set(k, new Set());
      deciders.get(k).add(e.actor);
    }
    check([...deciders.values()].every((s) => s.size === 1), `${size}: no tag was decided by both reviewers (${deciders.size} tags decided)`);
    for (const k of bulkKeys) check(deciders.has(k), `${size}: bulk confirm decided ${k}`);
    check(problems.length === 0, `${size}: no page errors${problems.length ? ': ' + problems.join(' | ') : ''}`);
  } finally {
    await a.ctx.close().catch(() => {});
    await b.ctx.close().catch(() => {});
  }
}

// ---- layout, keyboard, tap and accessibility -------------------------------

// One page at one viewport: no horizontal overflow; every visible control is
// reached by Tab and, at its centre, by a tap (nothing covers it, at least
// 24x24 px); axe-core finds no serious or critical violation.
async function checkPage(page, base, vp, name, hash, ready) {
  await page.goto(`${base}/${hash}`);
  await page.waitForSelector(ready);
  await page.waitForLoadState('networkidle');
  const where = `${name} at ${vp.width}x${vp.height}`;
  const overflow = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
  check(overflow.sw <= overflow.iw, `${where}: no horizontal overflow (${overflow.sw} <= ${overflow.iw})`);
  await page.screenshot({ path: join(artifacts, `${name}-${vp.name}.png`), fullPage: true });

  // Every visible control, marked so Tab order can be compared with it.
  const controls = await page.evaluate(() => {
    const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
    const out = [];
    document.querySelectorAll(sel).forEach((el, i) => {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (!r.width || !r.height || style.visibility === 'hidden' || el.closest('[hidden]') || el.disabled) return;
      if (el.tabIndex < 0) return;  // deliberately out of the Tab order (a hidden file input behind a button)
      el.dataset.e2eControl = String(i);
      out.push({ id: String(i), what: `${el.tagName.toLowerCase()}#${el.id || ''}.${el.className || ''} "${(el.textContent || el.value || '').trim().slice(0, 30)}"` });
    });
    return out;
  });
  // Tab from the top of the page until focus comes back round.
  await focusTop(page);
  const reached = new Set();
  for (let i = 0; i < controls.length + 40; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.dataset?.e2eControl || null);
    if (id) reached.add(id);
    if (reached.size === controls.length) break;
  }
  const unreached = controls.filter((c) => !reached.has(c.id));
  check(unreached.length === 0, `${where}: all ${controls.length} controls reachable by Tab${unreached.length ? ' — missing: ' + unreached.slice(0, 5).map((c) => c.what).join(', ') : ''}`);
  const untappable = await page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('[data-e2e-control]')) {
      if (el.classList.contains('skip')) continue;  // for keyboards: shown when focused
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const label = el.closest('label');
      const ok = hit && (el === hit || el.contains(hit) || (label && label.contains(hit)));
      // Inline links in text are exempt from the size rule (WCAG 2.5.8).
      const small = (r.width < 24 || r.height < 24) && !(el.tagName === 'INPUT' && label && label.getBoundingClientRect().height >= 24);
      if (!ok || small || r.right > window.innerWidth + 1 || r.left < -1) {
        bad.push(`${el.tagName.toLowerCase()}#${el.id} "${(el.textContent || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}${ok ? '' : ' covered'}`);
      }
    }
    window.scrollTo(0, 0);
    return bad;
  });
  check(untappable.length === 0, `${where}: every control can be tapped${untappable.length ? ' — not: ' + untappable.slice(0, 5).join(', ') : ''}`);

  if (axeSource) {
    // page.evaluate is not subject to the page's CSP (no inline script tag).
    await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
    check(violations.length === 0, `${where}: axe-core finds no serious or critical violation${violations.length ? ' — ' + violations.join(' | ') : ''}`);
  } else {
    console.log('# axe-core is not installed (npm ci in tests/web): accessibility not checked');
  }
}

// Moves focus (and the sequential focus starting point) to the page's top.
async function focusTop(page) {
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    document.body.setAttribute('tabindex', '-1');
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
}

// From the top of the search page, the first result is a few Tab presses
// away: the skip link, then the result.
async function checkTabToFirstResult(page) {
  await page.goto(`${page.url().split('#')[0]}#/search`);
  await page.waitForSelector('#results .card');
  await focusTop(page);
  let presses = 0;
  for (; presses < 40; presses++) {
    if (await page.evaluate(() => document.activeElement === document.querySelector('#results .card'))) break;
    await page.keyboard.press('Tab');
  }
  check(presses <= 15, `the first result is ${presses} Tab presses from the top of the search page`);
  await focusTop(page);
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.id === 'skip'), 'the first Tab reaches the skip link');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement === document.querySelector('#results .card')),
    'skip link, then Tab: the first result has focus');
}

// Upload with progress from the search page; the dashboard's library health.
async function checkUploadAndHealth(page) {
  const base = page.url().split('#')[0];
  await page.goto(`${base}#/search`);
  await page.waitForSelector('#upload-files');
  await page.setInputFiles('#upload-files', [
    { name: 'upload-a.bmp', mimeType: 'image/bmp', buffer: whiteProductBmp(41) },
    { name: 'upload-b.bmp', mimeType: 'image/bmp', buffer: whiteProductBmp(42) }]);
  await page.click('#upload-go');
  await page.waitForFunction(() => /files ingested/.test(document.querySelector('#upload-result')?.textContent || ''));
  check(/^2 of 2 files ingested/.test(await page.textContent('#upload-result')) &&
    Number(await page.getAttribute('#upload-progress', 'value')) === 1, `an upload shows progress, then: ${await page.textContent('#upload-result')}`);
  await page.goto(`${base}#/dashboard`);
  await page.waitForSelector('#work-progress progress');
  check(await page.locator('#duplicate-groups .dup-group').count() > 0, 'the dashboard shows near-duplicate groups (the library\'s copies)');
  check(await page.locator('#tiers-over-time svg').count() === 1 && await page.locator('#review-throughput svg').count() === 1,
    'the dashboard draws tags per tier over time and review throughput');
}

// ---- browse at catalogue scale ---------------------------------------------

// Grows the library to `target` assets cheaply: copies of the ingested ones
// (rows only, sharing their thumbnails, colours and tags -- whose evidence
// stays on the originals' events -- without audit events of their own; in
// folders photos/batch-NN/, links back to photos/), written with
// Debian's sqlite3 before the server starts.
// Ingesting 5,000 real files would take minutes on a busy machine.
function growLibrary(target) {
  const sql = `
    CREATE TEMP TABLE n(k INTEGER);
    WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < 1000) INSERT INTO n SELECT k FROM c;
    CREATE TEMP TABLE m AS
      SELECT (SELECT max(id) FROM assets) + row_number() OVER (ORDER BY n.k, a.id) AS new, a.id AS old, n.k AS k
      FROM n CROSS JOIN assets a ORDER BY n.k, a.id
      LIMIT max(0, ${target} - (SELECT count(*) FROM assets));
    BEGIN;
    INSERT INTO assets(id, sha256, source_path, file_size, width, height, format, phash, ingested_at, product_fraction, background_removed, colour_mask)
      SELECT m.new, printf('%064x', m.new), replace(a.source_path, '/photos/', printf('/photos/batch-%02d/', m.k)),
             a.file_size, a.width, a.height, a.format, a.phash, a.ingested_at, a.product_fraction, a.background_removed, a.colour_mask
      FROM m JOIN assets a ON a.id = m.old;
    INSERT INTO asset_paths SELECT replace(p.path, '/photos/', printf('/photos/batch-%02d/', m.k)), m.new, p.file_size, p.mtime_ns, p.is_alias
      FROM m JOIN asset_paths p ON p.asset_id = m.old;
    INSERT INTO thumbnails SELECT m.new, t.sha256, t.width, t.height FROM m JOIN thumbnails t ON t.asset_id = m.old;
    INSERT INTO asset_colours SELECT m.new, rank, lab_l, lab_a, lab_b, rgb_hex, share, family, shade, delta_e, alt_family, alt_delta_e
      FROM m JOIN asset_colours c ON c.asset_id = m.old;
    INSERT INTO tags SELECT m.new, attribute, node, state, confidence, actor, model_version, taxonomy_version, updated_at, evidence_json, evidence_event
      FROM m JOIN tags t ON t.asset_id = m.old;
    COMMIT;
    SELECT count(*) FROM assets;
    SELECT max(k) FROM m;`;
  const r = spawnSync('sqlite3', [join(lib, 'library.db')], { input: sql, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 could not grow the library: ${r.stderr || r.error}`);
  const [count, batches] = r.stdout.trim().split('\n').map(Number);
  // photos/batch-NN is photos itself, so the copies' originals open.
  for (let k = 1; k <= batches; k++) symlinkSync('.', join(work, 'photos', `batch-${String(k).padStart(2, '0')}`));
  check(count >= target, `the library grew to ${count} assets`);
}

async function checkCatalogueScale(page, base, token) {
  const all = await apiCall(base, token, 'GET', '/api/v1/search?flagged=1&limit=1');
  check(all.total >= kScaleCount, `the library holds ${all.total} photos`);
  const last = await apiCall(base, token, 'GET', `/api/v1/search?flagged=1&limit=1&offset=${all.total - 1}`);
  await page.goto(`${base}/#/search`);
  await page.waitForSelector('#results .card');
  const shown = Number(await page.getAttribute('#search-status', 'data-total'));
  const status = await page.textContent('#search-status');
  check(shown === all.total, `the page's count equals the search's (${status})`);
  check(/^Showing 1–96 of /.test(status), 'the first page says "Showing 1–96 of …"');
  // Keyboard: focus "Last" and press Enter.
  await page.focus('#page-last');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Showing [\d,]+–[\d,]+ of/.test(document.querySelector('#search-status')?.textContent || '') &&
    !document.querySelector('#page-last.button[href]'));
  const pages = Math.ceil(all.total / 96);
  const cards = await page.locator('#results .card').count();
  check(cards === all.total - (pages - 1) * 96, `the last page (${pages}) shows the remaining ${cards} photos`);
  const lastShown = await page.locator('#results .card').last().getAttribute('data-asset');
  check(Number(lastShown) === last.hits[0].id, `the last photo shown is the search's last (#${lastShown})`);
  const endStatus = await page.textContent('#search-status');
  check(endStatus.includes(`${all.total.toLocaleString('en-US')} of ${all.total.toLocaleString('en-US')}`), `the last page says "${endStatus.split(' · ')[0]}"`);
  await page.screenshot({ path: join(artifacts, '10-last-page.png') });
  // Sort by name: the page's first photo is the API's first by name.
  const byName = await apiCall(base, token, 'GET', '/api/v1/search?flagged=1&limit=1&sort=name');
  await page.selectOption('#sort', 'name');
  await page.waitForFunction(() => location.hash.includes('sort=name'));
  await page.waitForFunction((id) => document.querySelector('#results .card')?.dataset.asset === String(id), byName.hits[0].id);
  check(true, `sorting by name puts ${byName.hits[0].name} first`);
}

// Chips, the preview's next/previous and the way back to the results.
async function checkAssetBrowsing(page) {
  const base = page.url().split('#')[0];
  await page.goto(`${base}#/search?facet=colour_family%3Dwhite&sort=newest`);
  await page.waitForSelector('#chips .chip[data-facet]');
  check(await page.locator('#clear-all').count() === 1, 'a filter shows as a removable chip, with "clear all"');
  const first = await page.locator('#results .card').nth(0).getAttribute('data-asset');
  const second = await page.locator('#results .card').nth(1).getAttribute('data-asset');
  await page.locator('#results .card').nth(0).click();
  await page.waitForSelector('#asset-next[href]');
  check((await page.textContent('#asset-title')).length > 0 && !(await page.textContent('#asset-title')).startsWith('/'),
    `the asset title is not a server path (${await page.textContent('#asset-title')})`);
  await page.click('#asset-next');
  await page.waitForFunction((id) => location.hash.startsWith(`#/asset/${id}?`), second);
  check(true, `next goes from #${first} to #${second}`);
  await page.click('#asset-prev');
  await page.waitForFunction((id) => location.hash.startsWith(`#/asset/${id}?`), first);
  await page.screenshot({ path: join(artifacts, '11-asset-preview.png') });
  await page.click('#asset-back');
  await page.waitForSelector('#chips .chip[data-facet]');
  check(decodeURIComponent(page.url()).includes('colour_family=white'), 'back to results keeps the search');
  await page.click('#chips .chip[data-facet]');
  await page.waitForFunction(() => !location.hash.includes('facet='));
  check(true, 'removing the chip removes the filter');
}

// A photo like nothing in the library: "no close match", not 24 unrelated ones.
async function checkSimilarNoCloseMatch(page) {
  const base = page.url().split('#')[0];
  await page.goto(`${base}#/search`);
  await page.waitForSelector('#similar-file', { state: 'attached' });
  const w = 200, hgt = 200, row = w * 3;
  const b = Buffer.alloc(54 + row * hgt);
  b.write('BM', 0); b.writeUInt32LE(b.length, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(hgt, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28);
  for (let y = 0; y < hgt; y++) for (let x = 0; x < w; x++) {
    const o = 54 + y * row + x * 3;
    const v = ((x >> 3) ^ (y >> 3)) & 1 ? 255 : 0;  // a checkerboard: no product photo looks like it
    b[o] = v; b[o + 1] = 255 - v; b[o + 2] = v;
  }
  await page.setInputFiles('#similar-file', { name: 'checkerboard.bmp', mimeType: 'image/bmp', buffer: b });
  await page.waitForFunction(() => /No close match/.test(document.querySelector('#search-status')?.textContent || ''));
  check(await page.locator('#results .card').count() === 0, 'similar-by-upload of an unrelated image says "no close match" and lists nothing');
}

// "Export CSV" downloads the selection the page counts: one row per asset
// with its tags, the server's count header equal to the total shown.
async function checkExportLink(page) {
  const base = page.url().split('#')[0];
  await page.goto(`${base}#/search?facet=colour_family%3Dwhite`);
  await page.waitForSelector('#export-csv');
  const href = await page.getAttribute('#export-csv', 'href');
  const res = await page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, type: r.headers.get('content-type') || '', count: r.headers.get('x-tagsmith-export-assets'), body: await r.text() };
  }, href);
  const total = await page.evaluate(async () => {
    const r = await fetch('/api/v1/search?facet=colour_family%3Dwhite&flagged=1&limit=1', { credentials: 'same-origin' });
    return (await r.json()).total;
  });
  check(res.status === 200 && /csv/.test(res.type), `Export CSV answers a CSV download (${res.status} ${res.type})`);
  check(Number(res.count) === total && total > 0, `the export holds the search's ${total} assets (header says ${res.count})`);
}

// English / 中文 for the whole interface, kept across reloads.
async function checkLanguageSwitch(page) {
  const base = page.url().split('#')[0];
  await page.goto(`${base}#/search`);
  await page.waitForSelector('#facets legend');
  await page.selectOption('#lang', 'zh');
  await page.waitForFunction(() => document.querySelector('nav#nav a[data-view=search]').textContent === '搜索');
  await page.waitForSelector('#facets legend');
  const legends = await page.$$eval('#facets legend', (ls) => ls.map((l) => l.textContent));
  check(legends.some((l) => /颜色|色/.test(l)) && !legends.some((l) => /^[a-z_]+$/.test(l)),
    `facet headings are labels in Chinese (${legends.slice(0, 4).join(', ')})`);
  check(/显示第/.test(await page.textContent('#search-status')), 'the count is in Chinese');
  await page.screenshot({ path: join(artifacts, '12-search-zh.png') });
  await page.reload();
  await page.waitForSelector('#facets legend');
  check(await page.textContent('nav#nav a[data-view=search]') === '搜索', 'the language is kept after a reload');
  await page.goto(`${base}#/dashboard`);
  await page.waitForSelector('#tier-shares .bar');
  const text = await page.textContent('main');
  check(!/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(text), 'no ISO timestamps on the page');
  await page.selectOption('#lang', 'en');
  await page.waitForFunction(() => document.querySelector('nav#nav a[data-view=search]').textContent === 'Search');
}

// As an admin: an invalid import lists errors whose line numbers select that
// line; a valid one shows the new version at once.
async function checkTaxonomyImport(page, base) {
  await page.click('#logout');
  await page.waitForSelector('#login-name');
  await page.fill('#login-name', 'ada');
  await page.fill('#login-password', 'admin password 1');
  await page.click('#login-submit');
  await page.waitForSelector('#q');
  await page.goto(`${base}/#/taxonomy`);
  await page.waitForSelector('#taxonomy-title');
  const before = Number(await page.getAttribute('#taxonomy-title', 'data-version'));
  const yaml = readFileSync(join(here, '..', '..', 'data', 'taxonomy.yaml'), 'utf8');
  const broken = yaml.split('\n');
  const at = broken.findIndex((l) => /^\s+- id: /.test(l));
  broken.splice(at + 1, 0, '    multi: maybe');
  await page.fill('#taxonomy-yaml', broken.join('\n'));
  await page.click('#taxonomy-submit');
  await page.waitForSelector('#taxonomy-errors button');
  const line = Number(await page.getAttribute('#taxonomy-errors button', 'data-line'));
  await page.click('#taxonomy-errors button');
  const selected = await page.evaluate(() => {
    const ta = document.querySelector('#taxonomy-yaml');
    return { line: ta.value.slice(0, ta.selectionStart).split('\n').length, focused: document.activeElement === ta };
  });
  check(selected.focused && selected.line === line, `clicking error line ${line} selects that line in the text`);
  await page.screenshot({ path: join(artifacts, '13-taxonomy-errors.png') });
  await page.fill('#taxonomy-yaml', yaml.replace(/\n/, '\n# edited in the e2e test\n').replace(/labels: \{en: Category, zh: 类别\}/, 'labels: {en: Product category, zh: 类别}'));
  await page.click('#taxonomy-submit');
  await page.waitForSelector('#taxonomy-stored');
  await page.waitForFunction((v) => Number(document.querySelector('#taxonomy-title').dataset.version) > v, before);
  check(true, `after storing, the page shows v${await page.getAttribute('#taxonomy-title', 'data-version')} without a reload`);
  await page.screenshot({ path: join(artifacts, '14-taxonomy-stored.png') });
}

let failed = false;
try {
  await main();
  console.log(`PASS (screenshots in ${artifacts})`);
} catch (e) {
  failed = true;
  console.error(`FAIL: ${e.stack || e}`);
  try {
    const page = context && context.pages()[0];
    if (page) await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true });
  } catch { /* best effort */ }
} finally {
  if (context) await context.close().catch(() => {});
  if (server) {
    server.removeAllListeners('exit');
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
