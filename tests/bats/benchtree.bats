#!/usr/bin/env bats
# The round trip on the bench tree (bench/make-bench-tree.sh: 20,020 files, 511 MB):
# snapshot -> put -> get into a new directory -> the copy's snapshot equals the
# original manifest, with the file:// store and with S3 (the test server).
load helper
load s3-helper

setup_file() {
	TREE="$BATS_FILE_TMPDIR/tree"
	bash "$JA_ROOT/bench/make-bench-tree.sh" "$TREE" >/dev/null
	PATH="$JA_ROOT:$PATH" XDG_CACHE_HOME="$BATS_FILE_TMPDIR/hc" ja-snapshot "$TREE" >"$BATS_FILE_TMPDIR/m"
	export TREE
	s3_start
}

teardown_file() { s3_stop; }

@test "bench tree through the file:// store: the copy's manifest is the original's" {
	ja-put --store "$T/store" -C "$TREE" "$BATS_FILE_TMPDIR/m" >/dev/null
	ja-get --store "$T/store" -C "$T/copy" "$BATS_FILE_TMPDIR/m"
	ja-snapshot "$T/copy" | cmp - "$BATS_FILE_TMPDIR/m"
}

@test "bench tree through S3: the copy's manifest is the original's" {
	s="s3://$S3_BUCKET/bench"
	run_split ja-put --endpoint-url "$S3_ENDPOINT" --store "$s" -C "$TREE" "$BATS_FILE_TMPDIR/m"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -q '"uploaded":20020,' <<<"$output"
	run_split ja-get --endpoint-url "$S3_ENDPOINT" --store "$s" -C "$T/copy" "$BATS_FILE_TMPDIR/m"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	ja-snapshot "$T/copy" | cmp - "$BATS_FILE_TMPDIR/m"
}
