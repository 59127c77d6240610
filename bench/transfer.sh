#!/usr/bin/env bash
# bench/transfer.sh - ja-put and ja-get on the bench tree (bench/make-bench-tree.sh: 20,020
# files, 511 MB) against the S3 test server (s3rver on loopback), side by side in one run:
#   * ja-put into an empty prefix (empty check cache: HEAD + PUT per object)
#   * ja-put again, check cache warm (no request per object)
#   * ja-put again with --no-check-cache (the store is asked: for many objects one listing
#     of Data/, for a few a HEAD each)
#   * ja-get into an empty directory
#   * aws s3 cp --recursive up and down, aws s3 sync of the unchanged tree
#     (max_concurrent_requests 32)
#   * rclone copy up, again (unchanged tree) and down (--transfers 32 --checkers 32)
#   * the file:// store: ja-put into an empty store and ja-get out of it, against cp -a
# Every ja run gets a fresh XDG_CACHE_HOME, so which cache it sees is controlled: empty,
# or a copy of the one the first upload left.  Wall seconds and peak RSS come from
# /usr/bin/time -f "%e %M"; one run of each, page cache warm.  Prints a markdown section
# with the Python tool's figures (bench/README.md of the spec) and ja's speed-up over each.
#   bench/transfer.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ME=bench/transfer.sh
W=${1:-${TMPDIR:-/tmp}/ja-bench-transfer}

die() {
	echo "$ME: $*" >&2
	exit 1
}
trap 'echo "$ME: line $LINENO: failed: $BASH_COMMAND" >&2' ERR

mkdir -p "$W" || die "cannot create $W"
W=$(cd "$W" && pwd)
make -s ja links >/dev/null || die "make failed"
export PATH="$ROOT:$PATH"
for t in ja-put ja-get ja-snapshot ja-diff rclone /usr/bin/aws /usr/bin/time node python3; do
	command -v "$t" >/dev/null || die "$t is missing (make; scripts/deps.sh)"
done
# the tree, the copies of it made below and the server's objects: about 5 GB
avail=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge 6000000 ] || die "less than 6 GB free in $W"

if [ ! -f "$W/tree.complete" ]; then
	bash bench/make-bench-tree.sh "$W/tree" >&2 || die "make-bench-tree.sh failed"
	touch "$W/tree.complete"
fi
NFILES=$(find "$W/tree" -type f | wc -l)
NBYTES=$(find "$W/tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

# the manifest every ja run uploads from (its hash cache apart from everything else)
rm -rf "$W/hcache"
ja-snapshot --cache-dir "$W/hcache" -o "$W/tree.manifest" "$W/tree" ||
	die "ja-snapshot of the tree failed"
NOBJ=$(python3 -c 'import json,sys; print(len({e["hash"] for e in json.load(open(sys.argv[1]))["paths"]}))' \
	"$W/tree.manifest") || die "cannot read $W/tree.manifest"

# shellcheck source=../tests/bats/s3-helper.bash
. tests/bats/s3-helper.bash
on_exit() {
	local rc=$?
	s3_stop
	[ "$rc" -eq 0 ] || echo "$ME: stopped (status $rc)" >&2
}
trap on_exit EXIT
s3_start || die "the S3 test server did not start"
BUCKET=$S3_BUCKET
EP=$S3_ENDPOINT

# fresh NAME: an empty directory $W/NAME
fresh() {
	{ rm -rf "${W:?}/$1" && mkdir -p "$W/$1"; } || die "cannot make $W/$1 empty"
}

# run NAME CMD...: run the command CMD (not a shell function) under /usr/bin/time; stdout to $W/NAME.out; sets SECS and
# RSS (MiB).  A failure stops the script with the command's stderr.
SECS=0
RSS=0
run() {
	local name=$1
	shift
	if ! /usr/bin/time -f "%e %M" -o "$W/$name.time" "$@" >"$W/$name.out" 2>"$W/$name.err"; then
		echo "$ME: $name failed: $*" >&2
		tail -n 20 "$W/$name.err" >&2
		exit 1
	fi
	read -r SECS RSS <"$W/$name.time" || die "$name: no timing in $W/$name.time"
	RSS=$(awk -v k="$RSS" 'BEGIN { printf "%.0f", k / 1024 }')
}

# field NAME KEY: a field of the JSON result ja-put wrote in $W/NAME.out
field() {
	python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' \
		"$W/$1.out" "$2" || die "$1: no JSON result with $2 in $W/$1.out"
}

# same DIR: DIR holds exactly the tree
same() {
	diff -rq "$W/tree" "$1" >/dev/null || die "$1 differs from the tree"
}

# x A B: how many times faster A seconds is than B seconds ("3.1x")
x() { awk -v a="$1" -v b="$2" 'BEGIN { if (a <= 0) a = 0.01; printf "%.1fx", b / a }'; }

# cell NAME: "S s, M MiB" of a run recorded with rec
declare -A S M
rec() { S[$1]=$SECS M[$1]=$RSS; }
cell() { printf '%s s, %s MiB' "${S[$1]}" "${M[$1]}"; }

jaS3=(--endpoint-url "$EP" --store "s3://$BUCKET/ja")

# ---- ja, S3 ----
fresh cache-put1
XDG_CACHE_HOME=$W/cache-put1 run put1 ja-put "${jaS3[@]}" -C "$W/tree" "$W/tree.manifest"
rec put1
[ "$(field put1 uploaded)" -eq "$NOBJ" ] || die "put1: uploaded $(field put1 uploaded) of $NOBJ objects"
KEY=$(field put1 manifestKey)

# the cache the first upload filled, copied so that this run has a directory of its own
fresh cache-put2
cp -a "$W/cache-put1/." "$W/cache-put2/" || die "cannot copy the check cache"
XDG_CACHE_HOME=$W/cache-put2 run put2 ja-put "${jaS3[@]}" -C "$W/tree" "$W/tree.manifest"
rec put2
[ "$(field put2 uploaded)" -eq 0 ] || die "put2 (cache warm) uploaded $(field put2 uploaded) objects"
[ "$(field put2 skipped)" -eq "$NOBJ" ] || die "put2 skipped $(field put2 skipped) of $NOBJ"

fresh cache-put3
XDG_CACHE_HOME=$W/cache-put3 run put3 ja-put "${jaS3[@]}" --no-check-cache -C "$W/tree" \
	"$W/tree.manifest"
rec put3
[ "$(field put3 uploaded)" -eq 0 ] || die "put3 (--no-check-cache) uploaded $(field put3 uploaded) objects"

fresh cache-get
rm -rf "$W/down-ja"
XDG_CACHE_HOME=$W/cache-get run get ja-get "${jaS3[@]}" -C "$W/down-ja" "$KEY"
rec get
same "$W/down-ja"
ja-diff --no-cache --exit-code "$W/tree.manifest" "$W/down-ja" >/dev/null ||
	die "ja-get: sizes or mtimes of $W/down-ja differ from the manifest"
rm -rf "$W/down-ja"

# ---- aws ----
# commands, not functions: /usr/bin/time runs them
awsc=(env AWS_PAGER= AWS_REQUEST_CHECKSUM_CALCULATION=when_required
	AWS_RESPONSE_CHECKSUM_VALIDATION=when_required /usr/bin/aws --endpoint-url "$EP")
/usr/bin/aws configure set default.s3.max_concurrent_requests 32 >/dev/null ||
	die "aws configure failed"
run aws-up "${awsc[@]}" s3 cp --recursive --quiet "$W/tree" "s3://$BUCKET/aws"
rec aws-up
run aws-sync "${awsc[@]}" s3 sync --quiet "$W/tree" "s3://$BUCKET/aws"
rec aws-sync
rm -rf "$W/down-aws"
run aws-down "${awsc[@]}" s3 cp --recursive --quiet "s3://$BUCKET/aws" "$W/down-aws"
rec aws-down
same "$W/down-aws"
rm -rf "$W/down-aws"

# ---- rclone ----
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
	RCLONE_CONFIG_BENCH_ENDPOINT=$EP RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3RVER \
	RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true \
	RCLONE_CONFIG_BENCH_REGION=us-east-1
rc=(rclone --config /dev/null --transfers 32 --checkers 32)
run rclone-up "${rc[@]}" copy "$W/tree" "bench:$BUCKET/rclone"
rec rclone-up
run rclone-again "${rc[@]}" copy "$W/tree" "bench:$BUCKET/rclone"
rec rclone-again
rm -rf "$W/down-rclone"
run rclone-down "${rc[@]}" copy "bench:$BUCKET/rclone" "$W/down-rclone"
rec rclone-down
same "$W/down-rclone"
rm -rf "$W/down-rclone"

# ---- the file:// store against cp -a ----
fresh fstore
fresh cache-fput
XDG_CACHE_HOME=$W/cache-fput run fput ja-put --store "file://$W/fstore" -C "$W/tree" "$W/tree.manifest"
rec fput
[ "$(field fput uploaded)" -eq "$NOBJ" ] || die "fput: uploaded $(field fput uploaded) of $NOBJ objects"
FKEY=$(field fput manifestKey)
fresh cache-fget
rm -rf "$W/down-file"
XDG_CACHE_HOME=$W/cache-fget run fget ja-get --store "file://$W/fstore" -C "$W/down-file" "$FKEY"
rec fget
same "$W/down-file"
rm -rf "$W/down-file" "$W/fstore"
rm -rf "$W/cp"
run cp cp -a "$W/tree" "$W/cp"
rec cp
same "$W/cp"
rm -rf "$W/cp"

# ---- report ----
# The Python tool (deadline-cloud 0.48.9) on the same tree, machine size and server:
PY_UP=115 PY_CACHED=4.2 PY_HEAD=62.6 PY_DOWN=101
server=$(node -p 'require("./tests/s3server/node_modules/@20minutes/s3rver/package.json").version' 2>/dev/null || echo '?')
echo "## ja-put and ja-get (S3 test server)"
echo
echo "\`bench/transfer.sh\` on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d);"
echo "ja $(git rev-parse --short HEAD 2>/dev/null || echo '?'); s3rver $server on loopback shares the CPUs with the client."
echo "Bench tree: $NFILES files, $NBYTES bytes, $NOBJ distinct objects; page cache warm; one run each;"
echo "wall seconds and peak RSS from \`/usr/bin/time\`. Each ja run has a fresh \`XDG_CACHE_HOME\`"
echo "(the cache-warm run a copy of the check cache the first upload left). \"Nx\" = how many"
echo "times faster ja is. Python tool: bench/README.md of the spec (deadline-cloud 0.48.9, same"
echo "tree and machine size). aws s3 and rclone keep no local state, so their re-upload of the"
echo "unchanged tree is set beside ja's run that asks S3 about every object."
echo
echo "| run | ja | Python tool | aws s3 (32 requests) | rclone (32 transfers, 32 checkers) |"
echo "| --- | --- | --- | --- | --- |"
echo "| upload to an empty prefix | $(cell put1) | $PY_UP s ($(x "${S[put1]}" $PY_UP)) | cp --recursive: $(cell aws-up) ($(x "${S[put1]}" "${S[aws-up]}")) | copy: $(cell rclone-up) ($(x "${S[put1]}" "${S[rclone-up]}")) |"
echo "| re-upload, check cache warm | $(cell put2) | $PY_CACHED s ($(x "${S[put2]}" $PY_CACHED)) | – | – |"
echo "| re-upload, no cache (\`--no-check-cache\`: the store is asked: one listing of Data/ for this many objects, else a HEAD each) | $(cell put3) | $PY_HEAD s ($(x "${S[put3]}" $PY_HEAD)) | sync: $(cell aws-sync) ($(x "${S[put3]}" "${S[aws-sync]}")) | copy: $(cell rclone-again) ($(x "${S[put3]}" "${S[rclone-again]}")) |"
echo "| download to an empty directory | $(cell get) | $PY_DOWN s ($(x "${S[get]}" $PY_DOWN)) | cp --recursive: $(cell aws-down) ($(x "${S[get]}" "${S[aws-down]}")) | copy: $(cell rclone-down) ($(x "${S[get]}" "${S[rclone-down]}")) |"
echo
echo "The local \`file://\` store, against \`cp -a\` of the tree ($(cell cp)):"
echo
echo "| run | ja | cp -a time / ja time (below 1x: cp -a is faster) |"
echo "| --- | --- | --- |"
echo "| ja-put into an empty store | $(cell fput) | $(x "${S[fput]}" "${S[cp]}") |"
echo "| ja-get into an empty directory | $(cell fget) | $(x "${S[fget]}" "${S[cp]}") |"
