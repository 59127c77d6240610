#!/usr/bin/env bash
# bench/manifest.sh - scale benchmark of the manifest model: a 1,000,000-entry manifest
# decoded, merged and encoded by ja-merge, side by side with the Python tool's core
# (bench/py_merge_reference.py).  Prints a markdown table; wall seconds and max RSS are
# medians of RUNS runs (/usr/bin/time).
#   bench/manifest.sh [N]        (N entries, default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${RUNS:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
make -s ja >/dev/null
python3 bench/gen-manifest.py "$N" "$W/base.json"
python3 bench/gen-manifest.py "$N" "$W/overlay.json" --overlay $((N / 10))
./ja merge --format v2025 "$W/base.json" > "$W/base25.json"

# measure LABEL CMD... -> "wall_median rss_median_MiB"
measure() {
	local i walls=() rsss=()
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -f "%e %M" -o "$W/t" "$@" > "$W/out" 2>/dev/null
		read -r w r < "$W/t"
		walls+=("$w")
		rsss+=("$r")
	done
	printf '%s %s\n' \
		"$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")" \
		"$(printf '%s\n' "${rsss[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p" | awk '{printf "%.0f", $1/1024}')"
}

row() { # row WHAT CMD...
	local what=$1 m
	shift
	m=$(measure "$@")
	printf '| %s | %s s | %s MiB |\n' "$what" "${m% *}" "${m#* }"
}

echo "Manifest scale benchmark: $N entries ($(stat -c %s "$W/base.json") bytes), overlay $((N / 10)) entries"
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)"
echo
echo "| run | wall (median of $RUNS) | max RSS |"
echo "| --- | --- | --- |"
row "ja-merge base.json (decode + validate + encode, v2023)" ./ja merge "$W/base.json"
cmp -s "$W/out" "$W/base.json" || { echo "ja-merge changed a canonical manifest" >&2; exit 1; }
row "ja-merge base.json overlay.json (v2023 merge)" ./ja merge "$W/base.json" "$W/overlay.json"
cp "$W/out" "$W/ja-merged.json"
row "ja-merge base25.json (v2025 decode + encode)" ./ja merge "$W/base25.json"
row "ja-merge --format v2023 base25.json (v2025 -> v2023)" ./ja merge --format v2023 "$W/base25.json"
row "python3 reference: merge base.json" python3 bench/py_merge_reference.py "$W/base.json"
row "python3 reference: merge base.json overlay.json" python3 bench/py_merge_reference.py "$W/base.json" "$W/overlay.json"
cmp -s "$W/out" "$W/ja-merged.json" && echo && echo "ja and the Python reference produced identical merged bytes." ||
	{ echo "ja and the Python reference disagree" >&2; exit 1; }
