// Search and review reads spread over several `tagsmith serve` processes on
// one library (bench/scale-out.sh starts them): N concurrent clients, each
// request to the next server in turn. Prints requests/s and latency
// percentiles overall and per server; exits 1 when a request failed.
//
//   node bench/two-servers.mjs --token T [--clients 16] [--seconds 15] URL1 URL2 …
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const token = arg('token');
const clients = Number(arg('clients', 16));
const seconds = Number(arg('seconds', 15));
const bases = process.argv.slice(2).filter((a) => a.startsWith('http'));
if (!token || bases.length === 0) {
  console.error('usage: node bench/two-servers.mjs --token T [--clients N] [--seconds S] URL…');
  process.exit(2);
}
const headers = { Authorization: `Bearer ${token}` };
const queries = ['white dress', 'red', 'navy', '白色连衣裙', 'blue shirt', 'black', 'coat', ''];
const facets = ['', '&facet=format%3Djpeg', '&facet=colour_family%3Dwhite', '&flagged=1'];
const latencies = bases.map(() => []);
let errors = 0;
const firstErrors = [];
const deadline = Date.now() + seconds * 1000;

async function client(n) {
  let i = n;
  while (Date.now() < deadline) {
    i += 1;
    const s = i % bases.length;
    const path = (i * 7919) % 100 < 85
      ? `/api/v1/search?q=${encodeURIComponent(queries[i % queries.length])}${facets[i % facets.length]}&limit=48`
      : `/api/v1/review/next?limit=20&offset=${i % 10}`;
    const t0 = performance.now();
    try {
      const res = await fetch(bases[s] + path, { headers });
      await res.arrayBuffer();
      if (!res.ok) {
        errors += 1;
        if (firstErrors.length < 5) firstErrors.push(`${path}: ${res.status}`);
      }
    } catch (e) {
      errors += 1;
      if (firstErrors.length < 5) firstErrors.push(`${path}: ${e.message}`);
    }
    latencies[s].push(performance.now() - t0);
  }
}

const t0 = Date.now();
await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
const elapsed = (Date.now() - t0) / 1000;
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(1);
const all = latencies.flat().sort((a, b) => a - b);
console.log(`${bases.length} servers, ${clients} clients, ${elapsed.toFixed(1)} s: ${all.length} requests ` +
            `(${(all.length / elapsed).toFixed(0)}/s), errors ${errors}`);
console.log(`latency ms: p50 ${pct(all, 0.5)}  p95 ${pct(all, 0.95)}  p99 ${pct(all, 0.99)}  max ${all[all.length - 1].toFixed(1)}`);
latencies.forEach((xs, s) => {
  xs.sort((a, b) => a - b);
  console.log(`  server ${s + 1}: ${xs.length} requests, p50 ${pct(xs, 0.5)} ms, p99 ${pct(xs, 0.99)} ms`);
});
for (const e of firstErrors) console.log(`  error: ${e}`);
process.exitCode = errors ? 1 : 0;
