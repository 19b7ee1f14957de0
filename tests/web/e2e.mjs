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
  const queue = await apiCall(base, token, 'GET', '/api/v1/review/next?limit=10');
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
