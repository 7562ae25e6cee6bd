#!/usr/bin/env bash
# Measures icrec export against the same icrec server at concurrency 1, 4
# and 16, in one run on one machine: N small recordings (recordings/s) and
# a few large ones (MB/s), over HTTP on loopback. Each round runs the three
# concurrencies in a rotated order; prints medians, and each one's ratio to
# concurrency 1.
# Usage: bench/export-concurrency.sh [SMALL_COUNT] [SMALL_KB] [LARGE_COUNT] [LARGE_MB] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000} kb=${2:-50} ln=${3:-4} mb=${4:-256} rounds=${5:-3}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/icrec-bench.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/icrec" ./cmd/icrec

make_set() { # dir count sizeKB idprefix
  mkdir -p "$1/m"
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import json, os, sys
d, n, kb, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
hdr = b"RIFF\x24\x00\x00\x00WAVEfmt "
with open(os.path.join(d, "manifest.jsonl"), "w") as m, open(os.path.join(d, "ids"), "w") as ids:
    for i in range(n):
        name = f"m/{i:06d}.wav"
        with open(os.path.join(d, name), "wb") as f:
            f.write(hdr + os.urandom(kb * 1024 - len(hdr)))
        rid = f"{p}000000-0000-0000-0000-{i:012d}"
        m.write(json.dumps({"recordingId": rid, "interactionId": str(i),
                            "mediaType": "Call", "recordingDate": "20240101T000000Z", "file": name}) + "\n")
        ids.write(rid + "\n")
PY
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "generating $n x ${kb} KB and $ln x ${mb} MB in $work"
make_set "$work/small" "$n" "$kb" A1
make_set "$work/large" "$ln" $((mb * 1024)) B2
"$work/icrec" user add bench --role admin --data "$work/data" <<<"bench-password-1" >/dev/null
"$work/icrec" import --data "$work/data" "$work/small/manifest.jsonl" >/dev/null
"$work/icrec" import --data "$work/data" "$work/large/manifest.jsonl" >/dev/null
echo "bench-password-1" >"$work/pw"
"$work/icrec" serve --data "$work/data" --http 127.0.0.1:18018 --https "" --metrics "" \
  --recorder-https=false --log-format json --drain-delay 0s 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 100); do grep -q '"icrec is ready"' "$work/serve.log" && break; sleep 0.1; done

time_export() { # set concurrency -> seconds
  local s e
  rm -rf "$work/out"; sync
  s=$(now)
  "$work/icrec" export --server http://127.0.0.1:18018 --user bench --password-file "$work/pw" \
    --ids "$1/ids" --out "$work/out" --concurrency "$2" >/dev/null 2>"$work/export.err" || { cat "$work/export.err" >&2; exit 1; }
  e=$(now)
  echo "$e - $s" | bc
}
small_bytes=$(du -sb "$work/small/m" | cut -f1)
large_bytes=$(du -sb "$work/large/m" | cut -f1)
declare -A ts tl
orders=("1 4 16" "4 16 1" "16 1 4")
for r in $(seq 1 "$rounds"); do
  for c in ${orders[$(((r - 1) % 3))]}; do
    ts[$c]+="$(time_export "$work/small" "$c") "
    tl[$c]+="$(time_export "$work/large" "$c") "
  done
done
base_s=$(tr ' ' '\n' <<<"${ts[1]}" | grep . | median)
base_l=$(tr ' ' '\n' <<<"${tl[1]}" | grep . | median)
for c in 1 4 16; do
  s=$(tr ' ' '\n' <<<"${ts[$c]}" | grep . | median)
  l=$(tr ' ' '\n' <<<"${tl[$c]}" | grep . | median)
  printf 'concurrency %2d  small: %7.2fs = %7.0f recordings/s %6.1f MB/s (x%.2f)   large: %6.2fs = %7.1f MB/s %5.2f recordings/s (x%.2f)\n' \
    "$c" "$s" "$(echo "$n / $s" | bc -l)" "$(echo "$small_bytes / $s / 1000000" | bc -l)" "$(echo "$base_s / $s" | bc -l)" \
    "$l" "$(echo "$large_bytes / $l / 1000000" | bc -l)" "$(echo "$ln / $l" | bc -l)" "$(echo "$base_l / $l" | bc -l)"
done
