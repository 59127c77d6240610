#!/usr/bin/env bash
# bench/manifest.sh - scale benchmark of the manifest model: a 1,000,000-entry manifest
# decoded, merged and encoded by ja-merge, side by side with the Python tool's core
# (bench/py_merge_reference.py).  Prints a markdown table: wall seconds, CPU seconds
# (user + system, the signal to compare on a shared machine, where wall time also waits
# for other work) and max RSS are medians of RUNS runs (/usr/bin/time); the fastest CPU
# time is in parentheses.
#   bench/manifest.sh [N]        (N entries, default 1000000)
#   JA=/path/to/ja bench/manifest.sh   measures another build (e.g. an older commit's)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${RUNS:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
JA=${JA:-}
[ -n "$JA" ] || { make -s ja >/dev/null && JA=./ja; }
python3 bench/gen-manifest.py "$N" "$W/base.json"
python3 bench/gen-manifest.py "$N" "$W/overlay.json" --overlay $((N / 10))
"$JA" merge --format v2025 "$W/base.json" > "$W/base25.json"
# a v2025 diff that replaces every tenth file, and the snapshot it composes into
"$JA" merge --format v2025 "$W/base.json" "$W/overlay.json" > "$W/new25.json"
"$JA" diff "$W/base25.json" "$W/new25.json" > "$W/diff25.json"

median() { sort -n | sed -n "$(((RUNS + 1) / 2))p"; }

# measure CMD... -> "wall_median cpu_median cpu_min rss_median_MiB"
measure() {
	local i walls=() cpus=() rsss=()
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -f "%e %U %S %M" -o "$W/t" "$@" > "$W/out" 2>/dev/null
		read -r w u s r < "$W/t"
		walls+=("$w")
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
		rsss+=("$r")
	done
	printf '%s %s %s %s\n' \
		"$(printf '%s\n' "${walls[@]}" | median)" \
		"$(printf '%s\n' "${cpus[@]}" | median)" \
		"$(printf '%s\n' "${cpus[@]}" | sort -n | head -1)" \
		"$(printf '%s\n' "${rsss[@]}" | median | awk '{printf "%.0f", $1/1024}')"
}

row() { # row WHAT CMD...
	local what=$1 wall cpu cpumin rss
	shift
	read -r wall cpu cpumin rss <<< "$(measure "$@")"
	printf '| %s | %s s | %s s (%s) | %s MiB |\n' "$what" "$wall" "$cpu" "$cpumin" "$rss"
}

echo "Manifest scale benchmark: $N entries ($(stat -c %s "$W/base.json") bytes), overlay $((N / 10)) entries"
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)"
echo
echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | wall (median of $RUNS) | CPU user+sys (median, fastest) | max RSS |"
echo "| --- | --- | --- | --- |"
row "ja-merge base.json (decode + validate + encode, v2023)" "$JA" merge "$W/base.json"
cmp -s "$W/out" "$W/base.json" || { echo "ja-merge changed a canonical manifest" >&2; exit 1; }
row "ja-merge base.json overlay.json (v2023 merge)" "$JA" merge "$W/base.json" "$W/overlay.json"
cp "$W/out" "$W/ja-merged.json"
row "ja-merge base25.json (v2025 decode + encode)" "$JA" merge "$W/base25.json"
row "ja-merge --format v2023 base25.json (v2025 -> v2023)" "$JA" merge --format v2023 "$W/base25.json"
row "ja-merge base25.json diff25.json (v2025 snapshot + diff)" "$JA" merge "$W/base25.json" "$W/diff25.json"
cmp -s "$W/out" "$W/new25.json" || { echo "snapshot + diff did not compose into the new snapshot" >&2; exit 1; }
row "python3 reference: merge base.json" python3 bench/py_merge_reference.py "$W/base.json"
row "python3 reference: merge base.json overlay.json" python3 bench/py_merge_reference.py "$W/base.json" "$W/overlay.json"
cmp -s "$W/out" "$W/ja-merged.json" && echo && echo "ja and the Python reference produced identical merged bytes." ||
	{ echo "ja and the Python reference disagree" >&2; exit 1; }
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
