#!/usr/bin/env bash
# bench/s3.sh - the S3 client against the test server (s3rver on loopback), side by side
# in one run:
#   * small objects (N x 4 KiB): PUT, HEAD and GET requests per second
#       - ja-s3 at concurrency 1, 32 and 64, its default (cp -r up, stat of every key, cp
#         of every key)
#       - the server's ceiling: wrk (GET and PUT on distinct keys, like the clients) and
#         ab -i (HEAD), unsigned requests, 1, 32 and 64 connections
#       - aws s3 cp --recursive (up, down) and rclone copy (up, down), their defaults
#         raised to 32 transfers where they have the knob
#   * one 1 GiB object up and down (MB/s): ja-s3 cp, aws s3 cp, rclone copyto
# Prints a markdown section.   bench/s3.sh [WORKDIR]   (N=2000 BIG_MIB=1024 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=${1:-${TMPDIR:-/tmp}/ja-bench-s3}
N=${N:-2000}
BIG_MIB=${BIG_MIB:-1024}
mkdir -p "$W"
W=$(cd "$W" && pwd)
make -s ja links >/dev/null
export PATH="$ROOT:$PATH"
for t in wrk ab rclone /usr/bin/aws node; do
	command -v "$t" >/dev/null || { echo "bench/s3.sh: $t is missing (scripts/deps.sh)" >&2; exit 1; }
done
# shellcheck source=../tests/bats/s3-helper.bash
. tests/bats/s3-helper.bash
s3_start
trap 's3_stop' EXIT
export AWS_ENDPOINT_URL_S3=$S3_ENDPOINT
BUCKET=$S3_BUCKET

if [ ! -f "$W/small.complete" ]; then
	rm -rf "$W/small"
	mkdir -p "$W/small"
	python3 - "$W/small" "$N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(d, "o%05d" % i), "wb") as f:
        f.write(os.urandom(4096))
PY
	touch "$W/small.complete"
fi
if [ ! -f "$W/big.complete" ]; then
	head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$W/big"
	touch "$W/big.complete"
fi

# secs CMD...: wall seconds of one run
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>"$W/err" || { echo "bench/s3.sh: failed: $*" >&2; cat "$W/err" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
mbps() { awk -v m="$BIG_MIB" -v s="$1" 'BEGIN { printf "%.0f", m * 1.048576 / s }'; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 |"); }

# ---- the server's ceiling (no signing) ----
# distinct keys, as the clients below use: new keys for PUT, the uploaded objects for GET
cat >"$W/rot.lua" <<'LUA'
local n, threads = 0, 0
local body = string.rep("x", 4096)
setup = function(thread)
	thread:set("tid", threads)
	threads = threads + 1
end
request = function()
	n = n + 1
	if METHOD == "PUT" then
		return wrk.format("PUT", string.format("%s/%d-%d", wrk.path, tid, n), nil, body)
	end
	return wrk.format("GET", string.format("%s/o%05d", wrk.path, (n * 2 + tid) % N))
end
LUA
sed -i "s/% N))/% $N))/" "$W/rot.lua"
ja-s3 cp "$W/small/o00000" "s3://$BUCKET/wrk/obj" >/dev/null
ja-s3 -j 32 cp -r "$W/small" "s3://$BUCKET/ceiling" >/dev/null
wrk_rate() { # wrk_rate CONNS METHOD PATH
	local c=$1 t=1
	[ "$c" -gt 1 ] && t=2
	sed "s/METHOD ==/\"$2\" ==/" "$W/rot.lua" >"$W/rot-$2.lua"
	wrk -t"$t" -c"$c" -d"${WRK_SECONDS:-5}"s -s "$W/rot-$2.lua" "$S3_ENDPOINT/$BUCKET/$3" 2>/dev/null | awk '/^Requests\/sec/ { printf "%.0f", $2 }'
}
# wrk cannot read HEAD replies (it waits for the body Content-Length announces): ab -i
ab_head() {
	ab -q -k -i -c "$1" -t "${WRK_SECONDS:-5}" -n 1000000 "$S3_ENDPOINT/$BUCKET/wrk/obj" |
		awk '/^Requests per second/ { printf "%.0f", $4 }'
}
for c in 1 32 64; do
	row "server ceiling (wrk/ab, unsigned), $c conn." "$(wrk_rate $c PUT wrkput$c)" \
		"$(ab_head $c)" "$(wrk_rate $c GET ceiling)"
done

# ---- ja-s3 ----
keys() { for f in "$W/small"/*; do echo "s3://$BUCKET/$1/${f##*/}"; done; }
for j in 1 32 64; do
	p=ja$j
	tp=$(secs ja-s3 -j $j cp -r "$W/small" "s3://$BUCKET/$p")
	keys $p >"$W/keys"
	th=$(secs xargs -a "$W/keys" -n 100000 ja-s3 -j $j stat)
	rm -rf "$W/down"
	mkdir "$W/down"
	mapfile -t urls <"$W/keys"
	tg=$(secs ja-s3 -j $j cp "${urls[@]}" "$W/down")
	diff -rq "$W/small" "$W/down" >/dev/null
	row "ja-s3 -j $j" "$(rate "$N" "$tp")" "$(rate "$N" "$th")" "$(rate "$N" "$tg")"
done

# ---- GET like for like: the ceiling and ja on the same objects, alternating ----
# s3rver's speed drifts between runs (fresh keys, caches, JIT), so a ceiling measured
# once beside a ja run measured once can differ by a third; alternate and take medians.
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
like=()
mapfile -t urls <"$W/keys" # the objects ja-s3 -j 64 uploaded above
for c in 32 64; do
	cs=() js=()
	for rep in 1 2 3; do
		cs+=("$(wrk_rate $c GET ja64)")
		rm -rf "$W/down"
		mkdir "$W/down"
		js+=("$(rate "$N" "$(secs ja-s3 -j $c cp "${urls[@]}" "$W/down")")")
	done
	mc=$(med "${cs[@]}") mj=$(med "${js[@]}")
	like+=("| $c | $mc (${cs[*]}) | $mj (${js[*]}) | $(awk -v a="$mj" -v b="$mc" 'BEGIN { printf "%.0f%%", 100 * a / b }') |")
done

# ---- aws ----
awsc() { AWS_PAGER="" AWS_REQUEST_CHECKSUM_CALCULATION=when_required /usr/bin/aws \
	--endpoint-url "$S3_ENDPOINT" "$@"; }
/usr/bin/aws configure set default.s3.max_concurrent_requests 32 >/dev/null
tp=$(secs awsc s3 cp --recursive --quiet "$W/small" "s3://$BUCKET/aws")
rm -rf "$W/down"
tg=$(secs awsc s3 cp --recursive --quiet "s3://$BUCKET/aws" "$W/down")
diff -rq "$W/small" "$W/down" >/dev/null
row "aws s3 cp --recursive (32 requests)" "$(rate "$N" "$tp")" "–" "$(rate "$N" "$tg")"

# ---- rclone ----
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
	RCLONE_CONFIG_BENCH_ENDPOINT=$S3_ENDPOINT RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3RVER \
	RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true \
	RCLONE_CONFIG_BENCH_REGION=us-east-1
rc() { rclone --config /dev/null --transfers 32 --checkers 32 "$@"; }
tp=$(secs rc copy "$W/small" "bench:$BUCKET/rclone")
rm -rf "$W/down"
tg=$(secs rc copy "bench:$BUCKET/rclone" "$W/down")
diff -rq "$W/small" "$W/down" >/dev/null
row "rclone copy (32 transfers)" "$(rate "$N" "$tp")" "–" "$(rate "$N" "$tg")"

# ---- one big object ----
big=()
brow() { big+=("| $1 | $(mbps "$2") | $(mbps "$3") |"); }
rm -f "$W/big.down"
u=$(secs ja-s3 cp "$W/big" "s3://$BUCKET/big/ja")
d=$(secs ja-s3 cp "s3://$BUCKET/big/ja" "$W/big.down")
cmp -s "$W/big" "$W/big.down"
brow "ja-s3 cp" "$u" "$d"
rm -f "$W/big.down"
u=$(secs awsc s3 cp --quiet "$W/big" "s3://$BUCKET/big/aws")
d=$(secs awsc s3 cp --quiet "s3://$BUCKET/big/aws" "$W/big.down")
cmp -s "$W/big" "$W/big.down"
brow "aws s3 cp" "$u" "$d"
rm -f "$W/big.down"
u=$(secs rc copyto "$W/big" "bench:$BUCKET/big/rclone")
d=$(secs rc copyto "bench:$BUCKET/big/rclone" "$W/big.down")
cmp -s "$W/big" "$W/big.down"
brow "rclone copyto" "$u" "$d"
rm -f "$W/big.down"

echo "## S3 client (ja-s3) against the test server"
echo
echo "\`bench/s3.sh\` on $(nproc) cores, $(date -u +%Y-%m-%d); s3rver $(node -p 'require("./tests/s3server/node_modules/@20minutes/s3rver/package.json").version') on"
echo "loopback shares the CPUs with the client. $N objects of 4 KiB; requests per second."
echo "The server checks every SigV4 signature (ja's, aws's, rclone's) but not wrk's unsigned"
echo "requests. aws and rclone list the prefix before downloading; ja-s3 is given the keys."
echo
echo "| client | PUT/s | HEAD/s | GET/s |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "GET like for like: the same $N objects, wrk (unsigned, rotating over them) and ja-s3 cp of"
echo "them into a directory, alternating, 3 runs each; median (runs) of requests per second:"
echo
echo "| connections | ceiling (wrk) | ja-s3 | ja / ceiling |"
echo "|---:|---:|---:|---:|"
printf '%s\n' "${like[@]}"
echo
echo "One ${BIG_MIB} MiB object, MB/s:"
echo
echo "| client | up | down |"
echo "|---|---:|---:|"
printf '%s\n' "${big[@]}"
