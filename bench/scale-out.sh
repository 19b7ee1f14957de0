#!/usr/bin/env bash
# Scale-out benchmark (issue 16): one PostgreSQL library, shared by
#   * 1, 2 and 4 `tagsmith worker` processes ingesting (and tagging) the same
#     photos from the job queue: images/s for each, and per core;
#   * 2 `tagsmith serve` processes answering searches and review reads from
#     concurrent clients spread over both: requests/s and latency p50/p99.
#
#   bench/scale-out.sh [--photos DIR] [--count N] [--model] [--clients 16] [--seconds 15]
#
# Photos: DIR, else ../shared/datasets/clothing-small, else `tagsmith
# sample-photos`; the first N (default 600) image files are used. Without
# --model the workers run without a vision model (decode, hashes, colours,
# thumbnails, colour tags); with it, MobileNetV2 embeds and tags as well.
# The PostgreSQL cluster is a throw-away one (scripts/postgres-test-cluster)
# on this machine: the database competes with the workers for the cores,
# which is the honest setting for one machine. Needs build/tagsmith and node.
set -euo pipefail
cd "$(dirname "$0")/.."
photos="" count=600 model="--no-model --no-person-model" clients=16 seconds=15
while [ $# -gt 0 ]; do
  case "$1" in
    --photos) photos=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --model) model="--no-person-model"; shift ;;
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=$(realpath build/tagsmith)
work=$(mktemp -d /tmp/tagsmith-scale-XXXXXX)
cluster="$work/pg"
servers=()
cleanup() {
  for p in "${servers[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  scripts/postgres-test-cluster stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
base=$(scripts/postgres-test-cluster start "$cluster")
sock=${base#*host=}

if [ -z "$photos" ]; then
  if [ -d ../shared/datasets/clothing-small ]; then photos=../shared/datasets/clothing-small
  else "$bin" sample-photos "$work/sample" --count "$count" --library "$work/unused" --quiet >/dev/null; photos="$work/sample"; fi
fi
mkdir -p "$work/photos"
# Copies, not links: ingest does not follow links out of the folder it walks.
{ find "$photos" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) || true; } |
  sort | head -n "$count" >"$work/list" || true
i=0
while read -r f; do i=$((i + 1)); cp "$f" "$work/photos/$i.${f##*.}"; done <"$work/list"
n=$(ls "$work/photos" | wc -l)
echo "photos: $n from $photos; model: ${model:-MobileNetV2 (if present)}; cores: $(nproc)"

last_url=""
for workers in 1 2 4; do
  db="bench_w$workers"
  psql -q "$base" -c "CREATE DATABASE $db" >/dev/null
  url="postgresql://tagsmith@/$db?host=$sock"
  files="$work/files-$workers"
  "$bin" ingest --enqueue --library "$url" --files "$files" --quiet "$work/photos" >/dev/null
  start=$(date +%s.%N)
  pids=()
  for i in $(seq "$workers"); do
    "$bin" worker --library "$url" --until-idle --threads 1 --quiet $model >"$work/worker-$workers-$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  awk -v n="$n" -v w="$workers" -v s="$start" -v e="$end" -v cores="$(nproc)" 'BEGIN {
    t = e - s; used = (w < cores ? w : cores);
    printf "workers %d: %d photos ingested and tagged in %.1f s = %.1f images/s (%.1f per busy core)\n", w, n, t, n / t, n / t / used }'
  last_url=$url
done

# Two servers on the last library; clients alternate between them.
"$bin" users add bench --role reviewer --library "$last_url" --quiet >/dev/null
token=$("$bin" users token bench --library "$last_url" --quiet)
ports=()
for i in 1 2; do
  "$bin" serve --library "$last_url" --listen 127.0.0.1:0 --workers 16 >"$work/serve-$i.log" 2>&1 &
  servers+=($!)
done
for i in 1 2; do
  for _ in $(seq 200); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/serve-$i.log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/serve-$i.log"; exit 1; }
  ports+=("$port")
done
node bench/two-servers.mjs --token "$token" --clients "$clients" --seconds "$seconds" \
  "http://127.0.0.1:${ports[0]}" "http://127.0.0.1:${ports[1]}"
