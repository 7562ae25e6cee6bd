#!/usr/bin/env bash
# Measures icrec import against its baseline, cp of the same files followed
# by sync, in one run on one machine: N small recordings, then one large
# one, each round alternating which goes first; prints the medians as
# recordings/s and MB/s, and the ratio icrec/cp (1.0: as fast as cp+sync).
# Usage: bench/import-vs-cp.sh [SMALL_COUNT] [SMALL_KB] [LARGE_MB] [ROUNDS]
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
time_import() { # set -> seconds
  local s e
  rm -rf "$work/data"; sync
  s=$(now)
  "$work/icrec" import --data "$work/data" "$1/manifest.jsonl" >/dev/null 2>"$work/import.err" || { cat "$work/import.err" >&2; exit 1; }
  e=$(now)
  echo "$e - $s" | bc
}
time_cp() { # set -> seconds
  local s e
  rm -rf "$work/copy"; sync
  s=$(now); cp -r "$1/m" "$work/copy"; sync; e=$(now)
  echo "$e - $s" | bc
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
report() { # label files bytes import_times cp_times
  local it ct
  it=$(tr ' ' '\n' <<<"$4" | grep . | median)
  ct=$(tr ' ' '\n' <<<"$5" | grep . | median)
  printf '%-6s median import %7.2fs = %8.0f recordings/s %7.1f MB/s   cp+sync %7.2fs = %8.0f files/s %7.1f MB/s   ratio icrec/cp %.2f\n' \
    "$1" "$it" "$(echo "$2 / $it" | bc -l)" "$(echo "$3 / $it / 1000000" | bc -l)" \
    "$ct" "$(echo "$2 / $ct" | bc -l)" "$(echo "$3 / $ct / 1000000" | bc -l)" "$(echo "$ct / $it" | bc -l)"
}
echo "generating $n x ${kb} KB and 1 x ${mb} MB in $work"
make_set "$work/small" "$n" "$kb"
make_set "$work/large" 1 $((mb * 1024))
small_bytes=$(du -sb "$work/small/m" | cut -f1)
large_bytes=$(du -sb "$work/large/m" | cut -f1)
si="" sc="" li="" lc=""
for r in $(seq 1 "$rounds"); do
  # Alternate which goes first, so that neither always meets a cold cache.
  if [ $((r % 2)) = 1 ]; then
    si+=" $(time_import "$work/small")"; sc+=" $(time_cp "$work/small")"
    li+=" $(time_import "$work/large")"; lc+=" $(time_cp "$work/large")"
  else
    sc+=" $(time_cp "$work/small")"; si+=" $(time_import "$work/small")"
    lc+=" $(time_cp "$work/large")"; li+=" $(time_import "$work/large")"
  fi
  echo "round $r: small import/cp ${si##* }s/${sc##* }s, large import/cp ${li##* }s/${lc##* }s"
done
report small "$n" "$small_bytes" "$si" "$sc"
report large 1 "$large_bytes" "$li" "$lc"
