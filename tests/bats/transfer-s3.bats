#!/usr/bin/env bats
# ja-put and ja-get against S3 (s3rver on loopback), through the fault proxy, and
# killed in the middle: the store and the tree always end complete and correct.
load helper
load s3-helper

setup_file() {
	s3_start
	proxy_start
	export JA_RETRY_BASE_MS=50 JA_STALL_TIMEOUT_MS=3000
	build_fixture
	export FIX
	# a small tree: 300 files of 1-3 KB in 10 directories and two of 2 MB
	python3 - "$BATS_FILE_TMPDIR/bench" <<-'EOF'
	import os, sys
	d = sys.argv[1]
	for i in range(300):
	    os.makedirs(f"{d}/d{i % 10}", exist_ok=True)
	    open(f"{d}/d{i % 10}/f{i}", "wb").write(os.urandom(1000 + i * 7))
	for i in range(2):
	    open(f"{d}/large{i}", "wb").write(os.urandom(2 << 20))
	EOF
}

teardown_file() { s3_stop; }

local_setup() {
	proxy_fault ''
	export XDG_CACHE_HOME="$T/cache"
}

store() { echo "s3://$S3_BUCKET/$1"; }

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# roundtrip TREE PREFIX [ENDPOINT]: snapshot, put, get, compare manifests
roundtrip() {
	local tree=$1 prefix=$2 ep=${3:-$S3_ENDPOINT}
	ja-snapshot "$tree" >"$T/m"
	run_split ja-put --endpoint-url "$ep" --store "$(store "$prefix")" -C "$tree" "$T/m"
	[ "$status" -eq 0 ] || { echo "put: $stderr" >&2; return 1; }
	echo "$output" >"$T/put.json"
	rm -rf "$T/copy"
	run_split ja-get --endpoint-url "$ep" --store "$(store "$prefix")" -C "$T/copy" "$T/m"
	[ "$status" -eq 0 ] || { echo "get: $stderr" >&2; return 1; }
	ja-snapshot "$T/copy" >"$T/m2"
	assert_files_equal "$T/m2" "$T/m"
}

@test "S3 round trip of the fixture tree, and the AWS CLI sees the same objects" {
	roundtrip "$FIX" rt
	key=$(json "$T/put.json" 'd["manifestKey"]')
	awscli s3api get-object --bucket "$S3_BUCKET" --key "rt/$key" "$T/mfromaws" >/dev/null
	assert_files_equal "$T/mfromaws" "$T/m"
	h=$(json "$T/m" 'd["paths"][0]["hash"]')
	p=$(json "$T/m" 'd["paths"][0]["path"]')
	awscli s3 cp "s3://$S3_BUCKET/rt/Data/$h.xxh128" "$T/obj" >/dev/null
	assert_files_equal "$T/obj" "$FIX/$p"
}

@test "S3 round trip of a larger tree (300+ files)" {
	roundtrip "$BATS_FILE_TMPDIR/bench" big
}

@test "output manifests carry asset-root metadata the AWS CLI shows" {
	mkdir "$T/src"
	echo out >"$T/src/o"
	ja-snapshot "$T/src" >"$T/m"
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store meta)" -C "$T/src" \
		--farm farm-1 --queue queue-1 --job job-1 --step step-1 --task task-1 \
		--session-action sessionaction-1 --asset-root /mnt/projects/shot \
		--file-system-location Share "$T/m" >"$T/r.json"
	key=$(json "$T/r.json" 'd["manifestKey"]')
	awscli s3api head-object --bucket "$S3_BUCKET" --key "meta/$key" >"$T/head.json"
	assert_eq "$(json "$T/head.json" 'd["Metadata"]["asset-root"]')" /mnt/projects/shot
	assert_eq "$(json "$T/head.json" 'd["Metadata"]["file-system-location-name"]')" Share
}

@test "the check cache skips HEADs; --no-check-cache finds an object deleted behind its back" {
	mkdir "$T/src"
	echo cached >"$T/src/c"
	ja-snapshot "$T/src" >"$T/m"
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store cc)" -C "$T/src" "$T/m" >/dev/null
	h=$(json "$T/m" 'd["paths"][0]["hash"]')
	awscli s3 rm "s3://$S3_BUCKET/cc/Data/$h.xxh128" >/dev/null
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store cc)" -C "$T/src" "$T/m" >"$T/r1.json"
	assert_eq "$(json "$T/r1.json" 'd["uploaded"]')" 0 # trusted the cache
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store cc)" -C "$T/src" --no-check-cache \
		"$T/m" >"$T/r2.json"
	assert_eq "$(json "$T/r2.json" 'd["uploaded"]')" 1
	awscli s3api head-object --bucket "$S3_BUCKET" --key "cc/Data/$h.xxh128" >/dev/null
}

@test "put and get complete with identical results under every fault" {
	# dense enough to hit both transfers many times, sparse enough for the retry budget
	for fault in '500,every=7,n=40' '503,every=7,n=40' 'reset,every=9,n=20,method=GET' \
		'truncate,every=9,n=20,method=GET' 'stall:6,n=2' 'trickle:400000,n=3,method=GET' \
		'reset-upload,every=9,n=20,method=PUT'; do
		proxy_fault "$fault"
		roundtrip "$BATS_FILE_TMPDIR/bench" "fault-$(echo "$fault" | tr -c 'a-z0-9' _)" \
			"$PROXY_ENDPOINT" || { echo "under fault $fault" >&2; return 1; }
		[ "$(proxy_stat injected)" -ge 1 ] || { echo "no fault injected: $fault" >&2; return 1; }
		proxy_reset_stats
	done
}

@test "kill -9 in the middle of a put, then a rerun: complete, and the cache claims nothing missing" {
	proxy_fault 'stall:30,every=3,method=PUT'
	ja-snapshot "$BATS_FILE_TMPDIR/bench" >"$T/m"
	ja-put --endpoint-url "$PROXY_ENDPOINT" --store "$(store k9put)" -C "$BATS_FILE_TMPDIR/bench" \
		"$T/m" >/dev/null 2>&1 &
	pid=$!
	sleep 2
	kill -9 "$pid"
	wait "$pid" || true
	proxy_fault ''
	# every object the check cache knows is really in the store
	python3 - "$XDG_CACHE_HOME/ja/s3checkcache.db" <<-'EOF' >"$T/cached" || true
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	for (key,) in db.execute("SELECT key FROM s3check_v1"):
	    print(key)
	EOF
	while read -r k; do
		[ -z "$k" ] && continue
		awscli s3api head-object --bucket "$S3_BUCKET" --key "${k#"$S3_BUCKET"/}" >/dev/null ||
			{ echo "cache claims $k" >&2; false; }
	done <"$T/cached"
	run_split ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store k9put)" -C "$BATS_FILE_TMPDIR/bench" "$T/m"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	rm -rf "$T/copy"
	ja-get --endpoint-url "$S3_ENDPOINT" --store "$(store k9put)" -C "$T/copy" "$T/m"
	ja-snapshot "$T/copy" >"$T/m2"
	assert_files_equal "$T/m2" "$T/m"
}

@test "kill -9 in the middle of a get, then a rerun: complete, no partial file at a final name" {
	ja-snapshot "$BATS_FILE_TMPDIR/bench" >"$T/m"
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store k9get)" -C "$BATS_FILE_TMPDIR/bench" "$T/m" >/dev/null
	proxy_fault 'trickle:100000,n=inf,method=GET'
	ja-get --endpoint-url "$PROXY_ENDPOINT" --store "$(store k9get)" -C "$T/copy" "$T/m" >/dev/null 2>&1 &
	pid=$!
	sleep 2
	kill -9 "$pid"
	wait "$pid" || true
	proxy_fault ''
	sleep 1.2 # the killed run's temporaries are unlocked; a rerun sweeps them after 1 s
	# whatever is at a final name is complete
	python3 - "$T/m" "$T/copy" <<-'EOF'
	import json, os, sys
	m, d = json.load(open(sys.argv[1])), sys.argv[2]
	for e in m["paths"]:
	    p = os.path.join(d, e["path"])
	    if os.path.exists(p):
	        assert os.path.getsize(p) == e["size"], p
	EOF
	run_split ja-get --endpoint-url "$S3_ENDPOINT" --store "$(store k9get)" -C "$T/copy" "$T/m"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$(find "$T/copy" -name '.ja-tmp*')" ]
	[ -z "$(find "$T/copy" -name '* (1)*')" ] # resumed, not copied
	ja-snapshot "$T/copy" >"$T/m2"
	assert_files_equal "$T/m2" "$T/m"
}

@test "output discovery: the latest session action of each task, merged oldest to newest" {
	s=$(store disc)
	put_out() { # put_out TASK SACTION START-TIME-ISO CONTENT
		rm -rf "$T/o"
		mkdir -p "$T/o/render"
		echo "$4" >"$T/o/render/$1.exr"
		echo "$4" >"$T/o/render/shared.txt"
		ja-snapshot "$T/o" >"$T/om"
		ja-put --endpoint-url "$S3_ENDPOINT" --store "$s" -C "$T/o" --farm farm-1 --queue queue-1 \
			--job job-1 --step step-1 --task "$1" --session-action "$2" "$T/om" >/dev/null
	}
	put_out task-1 sessionaction-1 t1 "task1 first"
	sleep 1.1
	put_out task-1 sessionaction-2 t2 "task1 second"
	sleep 1.1
	put_out task-2 sessionaction-3 t3 "task2 only"
	run_split ja-get --endpoint-url "$S3_ENDPOINT" --store "$s" -C "$T/dl" --farm farm-1 \
		--queue queue-1 --job job-1
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_eq "$(cat "$T/dl/render/task-1.exr")" "task1 second"
	assert_eq "$(cat "$T/dl/render/task-2.exr")" "task2 only"
	assert_eq "$(cat "$T/dl/render/shared.txt")" "task2 only"
}

@test "OpenJD progress lines while downloading" {
	ja-snapshot "$BATS_FILE_TMPDIR/bench" >"$T/m"
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store pj)" -C "$BATS_FILE_TMPDIR/bench" "$T/m" >/dev/null
	run_split env JA_PROGRESS=openjd ja-get --endpoint-url "$S3_ENDPOINT" --store "$(store pj)" \
		-C "$T/copy" "$T/m"
	[ "$status" -eq 0 ]
	grep -qE '^openjd_progress: 100(\.0)?$' <<<"$output"
	grep -qE '^openjd_status: Downloaded [0-9.]+ [KMG]?B / [0-9.]+ [KMG]?B of [0-9]+ files \(Transfer rate: [0-9.]+ [KMG]?B/s\)$' <<<"$output"
}

@test "--min-rate aborts a download that stays too slow, with openjd_fail" {
	ja-snapshot "$BATS_FILE_TMPDIR/bench" >"$T/m"
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store mr)" -C "$BATS_FILE_TMPDIR/bench" "$T/m" >/dev/null
	proxy_fault 'trickle:2000,n=inf,method=GET'
	start=$SECONDS
	run_split env JA_PROGRESS=openjd ja-get --endpoint-url "$PROXY_ENDPOINT" --store "$(store mr)" \
		-C "$T/copy" --min-rate 100000 --min-rate-window 2 "$T/m"
	[ "$status" -eq 1 ]
	grep -q '^openjd_fail: ' <<<"$output"
	[ $((SECONDS - start)) -lt 20 ]
}

@test "with the check cache warm, a repeated put sends no request per object" {
	ja-snapshot "$BATS_FILE_TMPDIR/bench" >"$T/m"
	ja-put --endpoint-url "$PROXY_ENDPOINT" --store "$(store warm)" -C "$BATS_FILE_TMPDIR/bench" "$T/m" >"$T/r1.json"
	n=$(json "$T/r1.json" 'd["uploaded"]')
	[ "$n" -gt 300 ]
	proxy_reset_stats
	ja-put --endpoint-url "$PROXY_ENDPOINT" --store "$(store warm)" -C "$BATS_FILE_TMPDIR/bench" "$T/m" >"$T/r2.json"
	assert_eq "$(json "$T/r2.json" 'd["skipped"]')" "$n"
	assert_eq "$(json "$T/r2.json" 'd["uploaded"]')" 0
	assert_eq "$(proxy_stat forwarded)" 1 # the manifest itself
	# without the cache: one HEAD per object, still nothing uploaded
	proxy_reset_stats
	ja-put --endpoint-url "$PROXY_ENDPOINT" --store "$(store warm)" --no-check-cache \
		-C "$BATS_FILE_TMPDIR/bench" "$T/m" >"$T/r3.json"
	assert_eq "$(json "$T/r3.json" 'd["skipped"]')" "$n"
	assert_eq "$(proxy_stat forwarded)" $((n + 1))
}

@test "many objects: one listing of Data/ replaces a HEAD per object" {
	mkdir -p "$T/many"
	for i in $(seq 1 600); do echo "object $i" >"$T/many/f$i"; done
	ja-snapshot "$T/many" >"$T/m"
	proxy_reset_stats
	ja-put --endpoint-url "$PROXY_ENDPOINT" --store "$(store list)" -C "$T/many" "$T/m" >"$T/r1.json"
	assert_eq "$(json "$T/r1.json" 'd["uploaded"]')" 600
	assert_eq "$(proxy_stat forwarded)" 602 # a LIST, 600 PUTs, the manifest
	proxy_reset_stats
	ja-put --endpoint-url "$PROXY_ENDPOINT" --store "$(store list)" --no-check-cache -C "$T/many" \
		"$T/m" >"$T/r2.json"
	assert_eq "$(json "$T/r2.json" 'd["skipped"]')" 600
	assert_eq "$(proxy_stat forwarded)" 2 # the listing, the manifest
	# an object deleted behind the cache's back is found by the listing and sent again
	h=$(json "$T/m" 'd["paths"][0]["hash"]')
	awscli s3 rm "s3://$S3_BUCKET/list/Data/$h.xxh128" >/dev/null
	ja-put --endpoint-url "$S3_ENDPOINT" --store "$(store list)" --no-check-cache -C "$T/many" \
		"$T/m" >"$T/r3.json"
	assert_eq "$(json "$T/r3.json" 'd["uploaded"]')" 1
}
