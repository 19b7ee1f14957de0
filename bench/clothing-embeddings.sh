#!/usr/bin/env bash
# Writes the MobileNetV2 embeddings of every clothing-small photo, one line of
# numbers each, for bench_vector_index's harder distribution:
#
#   bench/clothing-embeddings.sh /tmp/clothing-embeddings.txt
#   TAGSMITH_BENCH_DATA=/tmp/clothing-embeddings.txt TAGSMITH_BENCH_N=1000000 build/bench_vector_index
#
# Needs ../shared (models and dataset) and a built build/tagsmith.
set -euo pipefail
out=${1:?usage: bench/clothing-embeddings.sh OUT}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${TAGSMITH_SHARED:-$root/../shared}
args=()
while IFS= read -r f; do args+=(--image "$f"); done < <(find "$shared/datasets/clothing-small/images" -type f | sort)
"$root/build/tagsmith" embed --models "$shared/models" --model mobilenet-v2-1.0-224-quant "${args[@]}" >"$out"
echo "$(wc -l <"$out") embeddings in $out" >&2
