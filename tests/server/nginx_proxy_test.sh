#!/usr/bin/env bash
# tagsmith serve behind Debian's nginx (docs/deploy.md): TLS terminated by
# nginx with a throwaway self-signed certificate, X-Forwarded-For believed
# via --trusted-proxy, Secure cookies. Logs in and searches through https.
# Runs unprivileged-style: every nginx path (pid, logs, temp) is in a temp
# dir and the port is a free high one. Exit 77 (skipped) without nginx/openssl/curl.
#   tests/server/nginx_proxy_test.sh path/to/tagsmith
set -euo pipefail
bin=$(realpath "$1")
for tool in nginx openssl curl; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "nginx_proxy_test: skipped: $tool is not installed (scripts/setup installs it)"
    exit 77
  fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

t=$(mktemp -d /tmp/tagsmith-nginx.XXXXXX)
server_pid="" nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$t"
}
trap cleanup EXIT
fail() { echo "nginx_proxy_test: FAIL: $*"; for f in "$t"/error.log "$t"/serve.log; do [ -f "$f" ] && tail -20 "$f"; done; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A small library with one admin.
lib="$t/lib"
"$bin" sample-photos "$t/photos" --library "$lib" --quiet >/dev/null
"$bin" ingest "$t/photos" --no-person-model --library "$lib" --quiet >/dev/null 2>&1 || [ $? -eq 3 ]
"$bin" tag --all --library "$lib" --quiet >/dev/null
printf 'a long test password\n' | "$bin" users add ada --role admin --password-stdin --library "$lib" --quiet >/dev/null

# tagsmith on loopback, trusting only the proxy's address.
backend_port=$(free_port)
"$bin" serve --listen "127.0.0.1:$backend_port" --trusted-proxy 127.0.0.1 --secure-cookies \
  --library "$lib" >"$t/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do grep -q "listening on" "$t/serve.log" && break; sleep 0.1; done
grep -q "listening on" "$t/serve.log" || fail "tagsmith serve did not start"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$t/key.pem" -out "$t/cert.pem" 2>/dev/null
proxy_port=$(free_port)
mkdir -p "$t/temp"
user_line=""
if [ "$(id -u)" -eq 0 ]; then
  # Started as root (CI containers): workers still drop to nobody.
  user_line="user nobody nogroup;"
  chmod 755 "$t"
  chmod 777 "$t/temp"
fi
cat >"$t/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $t/nginx.pid;
error_log $t/error.log warn;
daemon off;
events { worker_connections 256; }
http {
  access_log $t/access.log;
  client_body_temp_path $t/temp/body;
  proxy_temp_path $t/temp/proxy;
  fastcgi_temp_path $t/temp/fastcgi;
  uwsgi_temp_path $t/temp/uwsgi;
  scgi_temp_path $t/temp/scgi;
  limit_conn_zone \$binary_remote_addr zone=per_client:10m;
  upstream tagsmith { server 127.0.0.1:$backend_port; keepalive 16; }
  server {
    listen 127.0.0.1:$proxy_port ssl;
    server_name localhost;
    ssl_certificate $t/cert.pem;
    ssl_certificate_key $t/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    client_header_timeout 10s;
    client_body_timeout 60s;
    send_timeout 30s;
    keepalive_timeout 15s;
    client_max_body_size 64m;
    limit_conn per_client 64;
    location / {
      proxy_pass http://tagsmith;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_connect_timeout 5s;
      proxy_send_timeout 60s;
      proxy_read_timeout 120s;
      proxy_request_buffering on;
    }
  }
}
CONF
"$nginx_bin" -t -c "$t/nginx.conf" -p "$t" >"$t/nginx-t.log" 2>&1 || { cat "$t/nginx-t.log"; fail "nginx -t rejected the config"; }
"$nginx_bin" -c "$t/nginx.conf" -p "$t" 2>>"$t/error.log" &
nginx_pid=$!

base="https://127.0.0.1:$proxy_port"
ready=""
for _ in $(seq 1 100); do
  if curl -skf --max-time 2 "$base/api/v1/openapi.json" -o /dev/null 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || fail "no answer through nginx"

# Log in through the proxy: the cookie must be Secure.
headers=$(curl -sk --max-time 20 -D - -o "$t/login.json" -c "$t/cookies" \
  -H 'Content-Type: application/json' -d '{"name":"ada","password":"a long test password"}' \
  "$base/api/v1/session")
echo "$headers" | grep -q '^HTTP/[0-9.]* 200' || fail "login: $headers $(cat "$t/login.json")"
echo "$headers" | grep -i '^set-cookie:' | grep -q 'Secure' || fail "session cookie is not Secure"
# Search with the session cookie.
status=$(curl -sk --max-time 20 -b "$t/cookies" -o "$t/search.json" -w '%{http_code}' "$base/api/v1/search?q=red")
[ "$status" = 200 ] || fail "search: $status $(cat "$t/search.json")"
grep -q '"hits"' "$t/search.json" || fail "search answer has no hits field"
# A wrong password is audited under the address nginx forwarded (the client's).
curl -sk --max-time 20 -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"ada","password":"wrong"}' "$base/api/v1/session"
client=$(sqlite3 "$lib/library.db" "select client from login_failures order by id desc limit 1" 2>/dev/null || echo "?")
[ "$client" = 127.0.0.1 ] || fail "audited client address '$client'"
echo "nginx_proxy_test: ok (login and search through nginx TLS on port $proxy_port)"
