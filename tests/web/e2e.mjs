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
// Exit 0 pass, 1 fail, 77 skipped (no chromium or playwright-core).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
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
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
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
  await page.waitForFunction(() => /result/.test(document.querySelector('#search-status')?.textContent || ''));
  const status1 = await page.textContent('#search-status');
  const hits1 = await page.locator('#results .card').count();
  check(hits1 > 0, `"white dress" finds ${hits1} photos (${status1})`);
  check(/garment_type=dress/.test(status1) && /colour_family=white/.test(status1), 'the query was understood as colour and garment type');
  await page.screenshot({ path: join(artifacts, '02-search-white-dress.png') });
  // Shades of these uploads are suggestions only (calibrated colour), so narrow
  // by the colour family facet that the confirmed tags give.
  const facet = page.locator('#facets input[data-facet^="colour_family="]').first();
  const facetKey = await facet.getAttribute('data-facet');
  await facet.check();
  await page.waitForFunction((k) => decodeURIComponent(location.hash).includes(k), facetKey);
  await page.waitForFunction(() => /result/.test(document.querySelector('#search-status')?.textContent || ''));
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
