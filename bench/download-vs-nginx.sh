#!/usr/bin/env bash
# Measures an icrec export download against its baseline, nginx serving the
# same bytes with sendfile, in one run on one machine, over loopback: a
# WAV-headed file of random data is imported into a fresh data directory,
# icrec serve (plain HTTP, --recorder-https=false) hands out an export link,
# and curl downloads it and the original file from nginx alternately, each
# round starting with the other server. Both files are read once beforehand
# so both come from the page cache. Installs nginx with apt if it is missing.
# Needs root (apt, nginx), curl, python3 and Go.
# Usage: bench/download-vs-nginx.sh [ROUNDS] [SIZE_MB]   (defaults: 5 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5} mb=${2:-1024}

if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ]; then
  # Debian 12's nginx-light is a transitional package for nginx.
  pkg=nginx
  apt-cache show nginx >/dev/null 2>&1 || pkg=nginx-light
  # Keep the package's own service (port 80 on every address) from starting.
  added_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && added_policy=1
  fi
  echo "installing $pkg"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >/dev/null; }
  [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d "${TMPDIR:-/var/tmp}/icrec-dl-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # what url-or-logfile pid
  for _ in $(seq 1 300); do
    kill -0 "$3" 2>/dev/null || { echo "$1 exited" >&2; return 1; }
    if [ "$1" = icrec ]; then grep -q '"icrec is ready"' "$2" && return 0
    else curl -s -o /dev/null "$2" && return 0; fi
    sleep 0.1
  done
  echo "$1 did not start" >&2; return 1
}

go build -o "$work/icrec" ./cmd/icrec

echo "generating a ${mb} MiB WAV-headed file of random data in $work (not timed)"
mkdir -p "$work/src/m"
{ printf 'RIFF\x24\x00\x00\x00WAVEfmt '; head -c $((mb * 1024 * 1024 - 16)) /dev/urandom; } >"$work/src/m/big.wav"
size=$(stat -c %s "$work/src/m/big.wav")
echo '{"recordingId":"BE000000-0000-0000-0000-000000000001","interactionId":"1","mediaType":"Call","recordingDate":"20240101T000000Z","file":"m/big.wav","contentType":"audio/wav"}' >"$work/src/manifest.jsonl"
"$work/icrec" import --data "$work/data" "$work/src/manifest.jsonl" >/dev/null 2>&1
password="bench-password-$RANDOM$RANDOM"
echo "$password" | "$work/icrec" user add admin --role admin --data "$work/data" >/dev/null

iport=$(free_port)
"$work/icrec" serve --data "$work/data" --http "127.0.0.1:$iport" --https "" --metrics "" \
  --recorder-https=false --log-format json 2>"$work/icrec.log" &
pids+=($!)
wait_for icrec "$work/icrec.log" "$!"

nport=$(free_port)
# nginx's workers run as nobody: let them reach the original file.
chmod 755 "$work" "$work/src" "$work/src/m"
chmod 644 "$work/src/m/big.wav"
mkdir -p "$work/nginx/tmp" "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 64; }
http {
  sendfile on;
  tcp_nopush on;
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $work/src/m;
  }
}
EOF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/logs/stderr.log" &
pids+=($!)
wait_for nginx "http://127.0.0.1:$nport/" "$!"
nginx_url="http://127.0.0.1:$nport/big.wav"

# Log in and ask for an export link.
base="http://127.0.0.1:$iport"
login=$(curl -sf -c "$work/cookies" -H 'Content-Type: application/json' \
  -d "{\"__type\":\"urn:inin.com:connection:icAuthConnectionRequestSettings\",\"applicationName\":\"bench\",\"userID\":\"admin\",\"password\":\"$password\"}" \
  "$base/icws/connection")
read -r sid csrf < <(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sessionId"], d["csrfToken"])' <<<"$login")
icrec_url=$(curl -sf -b "$work/cookies" -H "ININ-ICWS-CSRF-Token: $csrf" \
  "$base/icws/$sid/recordings/BE000000-0000-0000-0000-000000000001/export-uri" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])')
case $icrec_url in "$base"/export/*) ;; *) echo "unexpected export URI $icrec_url" >&2; exit 1 ;; esac

fetch() { # url -> "bytes_per_second size"
  curl -s -o /dev/null -w '%{http_code} %{speed_download} %{size_download}\n' "$1"
}
measure() { # label url
  local code speed got
  read -r code speed got < <(fetch "$2")
  if [ "$code" != 200 ] || [ "$got" != "$size" ]; then
    echo "$1: HTTP $code, $got bytes, want 200 and $size" >&2; exit 1
  fi
  echo "$speed"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mbs() { awk -v b="$1" 'BEGIN {printf "%.0f", b/1e6}'; }

echo "warming the page cache (unmeasured): one download from each"
measure icrec "$icrec_url" >/dev/null
measure nginx "$nginx_url" >/dev/null
echo "$rounds rounds of a $size-byte download over loopback, MB/s = 10^6 bytes/s as curl reports it"
icrec_speeds=() nginx_speeds=()
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then
    i=$(measure icrec "$icrec_url"); n=$(measure nginx "$nginx_url")
  else
    n=$(measure nginx "$nginx_url"); i=$(measure icrec "$icrec_url")
  fi
  icrec_speeds+=("$i") nginx_speeds+=("$n")
  printf 'round %d   icrec %6s MB/s   nginx %6s MB/s\n' "$r" "$(mbs "$i")" "$(mbs "$n")"
done
im=$(printf '%s\n' "${icrec_speeds[@]}" | median)
nm=$(printf '%s\n' "${nginx_speeds[@]}" | median)
printf 'median    icrec %6s MB/s   nginx %6s MB/s   ratio icrec/nginx %.3f\n' "$(mbs "$im")" "$(mbs "$nm")" "$(echo "$im / $nm" | bc -l)"
if grep -q '"level":"ERROR"' "$work/icrec.log"; then
  echo "icrec logged errors:"; grep '"level":"ERROR"' "$work/icrec.log" | head -5
fi
