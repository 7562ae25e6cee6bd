#!/usr/bin/env bash
# Measures icrec import against its baseline, cp of the same files followed
# by sync, in one run on one machine: N small recordings, then one large
# one. Usage: bench/import-vs-cp.sh [SMALL_COUNT] [SMALL_KB] [LARGE_MB] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000} kb=${2:-50} mb=${3:-1024} rounds=${4:-2}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/icrec-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/icrec" ./cmd/icrec

make_set() { # dir count sizeKB
  mkdir -p "$1/m"
  python3 - "$1" "$2" "$3" <<'PY'
import json, os, sys
d, n, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hdr = b"RIFF\x24\x00\x00\x00WAVEfmt "
with open(os.path.join(d, "manifest.jsonl"), "w") as m:
    for i in range(n):
        name = f"m/{i:06d}.wav"
        with open(os.path.join(d, name), "wb") as f:
            f.write(hdr + os.urandom(kb * 1024 - len(hdr)))
        m.write(json.dumps({"recordingId": f"BE000000-0000-0000-0000-{i:012d}", "interactionId": str(i),
                            "mediaType": "Call", "recordingDate": "20240101T000000Z", "file": name}) + "\n")
PY
}
now() { date +%s.%N; }
run() { # label set
  local s e
  rm -rf "$work/data" "$work/copy"; sync
  s=$(now); "$work/icrec" import --data "$work/data" "$2/manifest.jsonl" >/dev/null; e=$(now)
  imp=$(echo "$e - $s" | bc)
  rm -rf "$work/data" "$work/copy"; sync
  s=$(now); cp -r "$2/m" "$work/copy"; sync; e=$(now)
  cpt=$(echo "$e - $s" | bc)
  printf '%-8s import %8.2fs   cp+sync %8.2fs   ratio (cp+sync time / import time) %.2f\n' "$1" "$imp" "$cpt" "$(echo "$cpt / $imp" | bc -l)"
}
echo "generating $n x ${kb} KB and 1 x ${mb} MB in $work"
make_set "$work/small" "$n" "$kb"
make_set "$work/large" 1 $((mb * 1024))
for r in $(seq 1 "$rounds"); do
  run "small#$r" "$work/small"
  run "large#$r" "$work/large"
done
