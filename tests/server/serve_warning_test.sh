#!/usr/bin/env bash
# `serve --listen 0.0.0.0:PORT` without TLS warns that traffic is unencrypted;
# on loopback it does not.   tests/server/serve_warning_test.sh path/to/tagsmith
set -euo pipefail
bin=$(realpath "$1")
t=$(mktemp -d /tmp/tagsmith-warn.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
mkdir -p "$t/empty"
"$bin" ingest "$t/empty" --library "$t/lib" --quiet >/dev/null 2>&1 || true
check() {  # listen address, expect warning (yes/no)
  : >"$t/err"
  "$bin" serve --listen "$1" --library "$t/lib" >"$t/out" 2>"$t/err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$t/out" && break; sleep 0.1; done
  grep -q "listening on" "$t/out" || { cat "$t/err"; echo "FAIL: serve did not start on $1"; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  if [ "$2" = yes ]; then
    grep -q "without TLS" "$t/err" || { cat "$t/err"; echo "FAIL: no TLS warning on $1"; exit 1; }
    grep -q "deploy.md" "$t/err" || { echo "FAIL: the warning does not point to the proxy setup"; exit 1; }
  else
    ! grep -q "without TLS" "$t/err" || { echo "FAIL: TLS warning on loopback $1"; exit 1; }
  fi
}
check 0.0.0.0:0 yes
check 127.0.0.1:0 no
echo "serve_warning_test: ok"
