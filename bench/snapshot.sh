#!/usr/bin/env bash
# bench/snapshot.sh - ja-snapshot on the bench tree (bench/make-bench-tree.sh: 20,020 files,
# 511 MB) against the xxhsum pipeline `find DIR -type f -print0 | xargs -0 -P2 xxhsum -H2`,
# in the same run:
#   cold  = page cache dropped (needs root: echo 3 > /proc/sys/vm/drop_caches), no hash cache
#   warm  = page cache warm, no hash cache
#   cache = page cache warm, hash cache warm (nothing changed)
# and peak RSS of a snapshot of a 200,000-file tree.  Prints a markdown section; medians
# of RUNS runs (default 5) of wall time, with max RSS from /usr/bin/time.
#   bench/snapshot.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=${1:-${TMPDIR:-/tmp}/ja-bench-snapshot}
RUNS=${RUNS:-5}
mkdir -p "$W"
W=$(cd "$W" && pwd)
make -s ja links >/dev/null
export PATH="$ROOT:$PATH"
if [ ! -f "$W/tree.complete" ]; then
	bash bench/make-bench-tree.sh "$W/tree" >&2
	touch "$W/tree.complete"
fi
if [ ! -f "$W/wide.complete" ]; then
	python3 - "$W/wide" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(2000):
    p = os.path.join(root, "d%04d" % d)
    os.makedirs(p, exist_ok=True)
    for i in range(100):
        with open(os.path.join(p, "f%03d" % i), "wb") as f:
            f.write(b"%d" % (d * 100 + i))
PY
	touch "$W/wide.complete"
fi
CACHE=$W/cache
can_drop=0
if [ -w /proc/sys/vm/drop_caches ]; then can_drop=1; fi
drop() { if [ $can_drop = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }

# run_med PREP CMD... -> "median_wall max_rss_MiB"
run_med() {
	local prep=$1 i walls=() rss=0 w r
	shift
	for ((i = 0; i < RUNS; i++)); do
		eval "$prep"
		/usr/bin/time -f "%e %M" -o "$W/t" "$@" > /dev/null 2>&1
		read -r w r < "$W/t"
		walls+=("$w")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")" \
		"$(awk -v r="$rss" 'BEGIN {printf "%.0f", r / 1024}')"
}

xx() { find "$W/tree" -type f -print0 | xargs -0 -P2 -n 500 xxhsum -H2 2>/dev/null; }
export -f xx
export W

# correctness first: ja's hashes equal xxhsum's
ja-snapshot --no-cache "$W/tree" > "$W/m.json"
python3 - "$W/m.json" "$W/tree" <<'PY' > "$W/ja.sums"
import json, sys
m = json.load(open(sys.argv[1]))
for e in m["paths"]:
    print("%s  %s/%s" % (e["hash"], sys.argv[2], e["path"]))
PY
find "$W/tree" -type f -print0 | xargs -0 xxhsum -H2 2>/dev/null | sort -k2 > "$W/xx.sums"
sort -k2 "$W/ja.sums" | cmp -s - "$W/xx.sums" || { echo "snapshot hashes differ from xxhsum" >&2; exit 1; }

echo "## ja-snapshot"
echo
echo "Bench tree: 20,020 files, 511,213,682 bytes. $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d). Medians of $RUNS runs, \`bench/snapshot.sh\`."
[ $can_drop = 1 ] || echo "(page cache could not be dropped: cold rows are warm)"
echo
echo "| run | ja-snapshot | xxhsum pipeline (-P2) | Python tool (bench/README.md) |"
echo "| --- | --- | --- | --- |"
c1=$(run_med drop ja-snapshot --no-cache "$W/tree")
c2=$(run_med drop bash -c xx)
echo "| cold, no hash cache | ${c1% *} s (${c1#* } MiB) | ${c2% *} s | 31.8-35.1 s |"
cat "$W/tree"/*/* > /dev/null
w1=$(run_med : ja-snapshot --no-cache "$W/tree")
w2=$(run_med : bash -c xx)
echo "| warm page cache, no hash cache | ${w1% *} s (${w1#* } MiB) | ${w2% *} s | 27.7-29.3 s |"
rm -rf "$CACHE"
ja-snapshot --cache-dir "$CACHE" "$W/tree" > /dev/null
h1=$(run_med : ja-snapshot --cache-dir "$CACHE" "$W/tree")
echo "| hash cache warm, nothing changed | ${h1% *} s (${h1#* } MiB) | - | 5.4-7.4 s |"
r1=$(run_med : ja-snapshot --no-cache "$W/wide")
echo
echo "200,000-file tree (2,000 dirs x 100 tiny files), no hash cache: ${r1% *} s, peak RSS ${r1#* } MiB."
