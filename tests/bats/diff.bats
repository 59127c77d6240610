#!/usr/bin/env bats
# ja-diff: the fixture diff vectors, NEW as a manifest, stdin or a tree, fast and --hash
# modes, v2023 and v2025 (DIFF) output, --status, --exit-code, and the round trips
# ja-merge BASE DIFF == a fresh snapshot (CLI.md "ja-diff", FORMATS §2.5, §7.2-§7.4).
load helper
load tree-helper

FAST_STATUS='{"new":["added.txt"],"modified":["empty.txt","with space.txt"],"deleted":["one-byte.bin"]}'
HASH_STATUS='{"new":["added.txt"],"modified":["empty.txt","hello.txt","links/inside-file-link.txt"],"deleted":["one-byte.bin"]}'

# mod_fixture: the fixture diff scenario in $MOD (a copy of $FIX)
mod_fixture() {
	build_fixture
	MOD="$T/mod"
	cp -a "$FIX" "$MOD"
	bash "$VEC/fixture/diff/modify-fixture.sh" "$MOD"
	BASE="$VEC/fixture/expected-v2023.manifest"
}

# tree25 DIR: a small tree with what v2025 records (empty dir, link, runnable, odd names)
tree25() {
	mkdir -p "$1/a/b" "$1/e" "$1/x" "$1/keep" "$1/.hid" "$1/uni"
	printf 'f\n' >"$1/a/b/f"
	printf 'g\n' >"$1/g"
	chmod 755 "$1/g"
	printf 'y\n' >"$1/x/y"
	printf 'filething\n' >"$1/filething"
	printf 'k\n' >"$1/keep/k"
	printf 'h\n' >"$1/.hid/h"
	printf 'nl\n' >"$1/uni/new"$'\n'"line"
	printf 'cafe\n' >"$1/uni/caf"$'\xc3\xa9'
	ln -s g "$1/lnk"
	ln -s ../x "$1/a/xlink"
}

# roundtrip FORMAT HASHOPT SCRIPT: base snapshot of a fresh tree, SCRIPT run inside a copy,
# ja-diff BASE COPY, then ja-merge BASE DIFF must equal ja-snapshot of the copy.
roundtrip() {
	local fmt=$1 opt=$2 script=$3
	rm -rf "$T/rt"
	mkdir -p "$T/rt"
	tree25 "$T/rt/a"
	ja-snapshot --format "$fmt" "$T/rt/a" >"$T/rt/base"
	cp -a "$T/rt/a" "$T/rt/b"
	(cd "$T/rt/b" && eval "$script")
	ja-diff $opt "$T/rt/base" "$T/rt/b" >"$T/rt/diff" || { echo "ja-diff failed: $script" >&2; return 1; }
	ja-merge "$T/rt/base" "$T/rt/diff" >"$T/rt/merged"
	ja-snapshot --format "$fmt" "$T/rt/b" >"$T/rt/fresh"
	if ! cmp -s "$T/rt/merged" "$T/rt/fresh"; then
		{
			echo "round trip ($fmt $opt) failed after: $script"
			echo "diff:   $(cat "$T/rt/diff")"
			echo "merged: $(cat "$T/rt/merged")"
			echo "fresh:  $(cat "$T/rt/fresh")"
		} >&2
		return 1
	fi
}

# ---- the fixture vectors ---------------------------------------------------------------

@test "fixture, fast: the manifest of new and modified files is deadline-cloud's 'snapshot --diff'" {
	mod_fixture
	run_split ja-diff "$BASE" "$MOD"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	ja-diff "$BASE" "$MOD" >"$T/d"
	assert_files_equal "$T/d" "$VEC/fixture/diff/expected-snapshot-diff.manifest"
	[ "$(xxh "$T/d")" = 0983b6c38086fbd5d5cf12eb777c95e4 ]
	ja diff -o "$T/d2" "$BASE" "$MOD"
	assert_files_equal "$T/d2" "$VEC/fixture/diff/expected-snapshot-diff.manifest"
}

@test "fixture, --status: the Python tool's fast and --force-rehash lists" {
	mod_fixture
	ja-diff --status "$BASE" "$MOD" >"$T/s"
	[ "$(cat "$T/s")" = "$FAST_STATUS" ]
	[ "$(tail -c 1 "$T/s" | od -An -c | tr -d ' ')" = '\n' ]
	python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' \
		"$T/s" "$VEC/fixture/diff/expected-diff-fast.json"
	ja-diff --hash --status "$BASE" "$MOD" >"$T/h"
	[ "$(cat "$T/h")" = "$HASH_STATUS" ]
	python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' \
		"$T/h" "$VEC/fixture/diff/expected-diff-rehash.json"
}

@test "fixture, --hash: the manifest lists what changed in content, with fresh entries" {
	mod_fixture
	ja-diff --hash "$BASE" "$MOD" >"$T/d"
	ja-snapshot "$MOD" >"$T/fresh"
	[ "$(mq "$T/d" 'P')" = '["added.txt", "empty.txt", "hello.txt", "links/inside-file-link.txt"]' ]
	[ "$(mq "$T/d" '[F[p] for p in P]')" = "$(mq "$T/fresh" '[F[p] for p in ["added.txt", "empty.txt", "hello.txt", "links/inside-file-link.txt"]]')" ]
	[ "$(mq "$T/d" 'M["totalSize"]')" = "$(mq "$T/d" 'sum(F[p]["size"] for p in P)')" ]
}

@test "v2023 deletions are reported on stderr only with -v" {
	mod_fixture
	run_split ja-diff -v "$BASE" "$MOD"
	[ "$status" -eq 0 ]
	[ "$stderr" = 'ja-diff: deleted (not expressible in v2023): one-byte.bin' ]
	run_split ja-diff "$BASE" "$MOD"
	[ -z "$stderr" ]
}

@test "NEW as a manifest file, '-', stdin or a tree: two manifests compare every field" {
	mod_fixture
	ja-snapshot "$MOD" >"$T/new.m"
	want='{"new":["added.txt"],"modified":["empty.txt","hello.txt","links/inside-file-link.txt","with space.txt"],"deleted":["one-byte.bin"]}'
	[ "$(ja-diff --status "$BASE" "$T/new.m")" = "$want" ]
	[ "$(ja-diff --status "$BASE" - <"$T/new.m")" = "$want" ]
	[ "$(ja-diff --status "$BASE" <"$T/new.m")" = "$want" ]
	[ "$(ja-snapshot "$MOD" | ja-diff --status "$BASE")" = "$want" ]
	[ "$(ja-diff --status - "$T/new.m" <"$BASE")" = "$want" ]
	# a symlink to the tree is the tree
	ln -s "$MOD" "$T/modlink"
	[ "$(ja-diff --status "$BASE" "$T/modlink")" = "$FAST_STATUS" ]
	# manifest vs manifest output is a v2023 manifest of those entries
	ja-diff "$BASE" "$T/new.m" >"$T/d"
	[ "$(mq "$T/d" 'P')" = '["added.txt", "empty.txt", "hello.txt", "links/inside-file-link.txt", "with space.txt"]' ]
}

# ---- v2023 round trips, no-change, exit codes --------------------------------------------

@test "v2023 round trip: ja-merge BASE DIFF equals the fresh snapshot when nothing was deleted" {
	roundtrip v2023 '' 'printf new >added; printf G >g; printf longer >x/y; touch -d @1600000000 keep/k; mkdir -p n/m && printf z >n/m/z'
	roundtrip v2023 --hash 'printf new >added; printf longer >x/y; mkdir -p n/m && printf z >n/m/z'
	# same size, same mtime: only --hash sees it
	roundtrip v2023 --hash 'mt=$(stat -c %y g); printf G >g; touch -d "$mt" g'
	# with a deletion v2023 cannot say it: the merge keeps the deleted file
	! roundtrip v2023 '' 'rm keep/k' 2>/dev/null
}

@test "v2023, nothing new or modified: no output, exit 0, -v says so, -o FILE left alone" {
	mod_fixture
	ja-snapshot "$MOD" >"$T/same.m"
	run_split ja-diff "$T/same.m" "$MOD"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	run_split ja-diff -v "$T/same.m" "$MOD"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"no new or modified files"* ]]
	printf 'previous' >"$T/out.m"
	ja-diff -o "$T/out.m" "$T/same.m" "$MOD"
	[ "$(cat "$T/out.m")" = previous ]
	ja-diff -o "$T/none.m" "$T/same.m" "$MOD"
	[ ! -e "$T/none.m" ]
	run_split ja-diff --exit-code "$T/same.m" "$MOD"
	[ "$status" -eq 0 ]
	[ "$(ja-diff --status "$T/same.m" "$MOD")" = '{"new":[],"modified":[],"deleted":[]}' ]
}

@test "--exit-code: 1 with differences (deletions too), 0 without, 2 for trouble" {
	mod_fixture
	run_split ja-diff --exit-code "$BASE" "$MOD"
	[ "$status" -eq 1 ]
	assert_files_equal <(printf '%s' "$output") "$VEC/fixture/diff/expected-snapshot-diff.manifest"
	run_split ja-diff --exit-code --status "$BASE" "$MOD"
	[ "$status" -eq 1 ]
	[ "$output" = "$FAST_STATUS" ]
	run_split ja-diff "$BASE" "$MOD"
	[ "$status" -eq 0 ]
	# only a deletion: nothing to write in v2023, still a difference
	cp -a "$FIX" "$T/del"
	rm "$T/del/hello.txt"
	run_split ja-diff --exit-code "$BASE" "$T/del"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	run_split ja-diff --exit-code "$BASE" "$FIX"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run_split ja-diff --exit-code "$T/missing.m" "$FIX"
	assert_error 2 'missing.m'
	printf '{"bad":1}' >"$T/bad.m"
	run_split ja-diff --exit-code "$T/bad.m" "$FIX"
	[ "$status" -eq 2 ]
}

# ---- fast mode -------------------------------------------------------------------------

@test "fast mode: mtime within 1 us is unchanged, 2 us is modified; unchanged files are not read" {
	mkdir -p "$T/t"
	printf 'content\n' >"$T/t/f"
	touch -d @1700000000.000005 "$T/t/f"
	ja-snapshot "$T/t" >"$T/base"
	[ "$(mq "$T/base" 'F["f"]["mtime"]')" = 1700000000000005 ]
	for d in -1 1; do
		sed "s/1700000000000005/$((1700000000000005 + d))/" "$T/base" >"$T/b$d"
		[ "$(ja-diff --status "$T/b$d" "$T/t")" = '{"new":[],"modified":[],"deleted":[]}' ]
	done
	for d in -2 2; do
		sed "s/1700000000000005/$((1700000000000005 + d))/" "$T/base" >"$T/b$d"
		[ "$(ja-diff --status "$T/b$d" "$T/t")" = '{"new":[],"modified":["f"],"deleted":[]}' ]
	done
	# an unchanged file is trusted, not read: even an unreadable one
	chmod 000 "$T/t/f"
	need_eacces "$T/t/f"
	run_split nocap ja-diff --no-cache --status "$T/base" "$T/t"
	[ "$status" -eq 0 ]
	[ "$output" = '{"new":[],"modified":[],"deleted":[]}' ]
	run_split nocap ja-diff --no-cache --hash --status "$T/base" "$T/t"
	assert_error 1 '^ja-diff: f: Permission denied$'
	run_split nocap ja-diff --no-cache --hash --skip-unreadable --status "$T/base" "$T/t"
	[ "$status" -eq 0 ]
	[ "$output" = '{"new":[],"modified":[],"deleted":["f"]}' ]
	chmod 644 "$T/t/f"
}

@test "--hash goes through the hash cache; --rehash reads every file again" {
	mkdir -p "$T/t"
	printf 'one\n' >"$T/t/one"
	printf 'two\n' >"$T/t/two"
	ja-snapshot "$T/t" >"$T/base"
	sqlite3 "$XDG_CACHE_HOME/ja/hashcache.db" \
		"update hashes_v2 set value='0123456789abcdef0123456789abcdef' where cast(path as text) = '$T/t/one'"
	[ "$(ja-diff --hash --status "$T/base" "$T/t")" = '{"new":[],"modified":["one"],"deleted":[]}' ]
	[ "$(ja-diff --hash --rehash --status "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":[]}' ]
	[ "$(ja-diff --hash --status "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":[]}' ]
	[ "$(ja-diff --hash --no-cache --status "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":[]}' ]
}

# ---- v2025 -----------------------------------------------------------------------------

@test "v2025 DIFF: delete markers for files and directories, new dirs, parentManifestHash, totalSize" {
	tree25 "$T/a"
	ja-snapshot --format v2025 "$T/a" >"$T/base"
	cp -a "$T/a" "$T/b"
	rm -r "$T/b/a" "$T/b/e"
	rm "$T/b/g"
	printf 'new file\n' >"$T/b/keep/n"
	mkdir -p "$T/b/fresh/empty"
	ja-diff "$T/base" "$T/b" >"$T/d"
	grep -q '"specificationVersion":"relative-manifest-diff-beta-2025-12"' "$T/d"
	[ "$(mq "$T/d" 'M["parentManifestHash"]')" = "$(xxh "$T/base")" ]
	[ "$(mq "$T/d" '{p: F[p].get("delete", False) for p in P}')" = '{"a/b/f": true, "a/xlink": true, "g": true, "keep/n": false}' ]
	[ "$(mq "$T/d" 'F["a/b/f"]')" = '{"delete": true, "name": "a/b/f"}' ]
	[ "$(mq "$T/d" '{d: D[d].get("delete", False) for d in sorted(D)}')" = '{"a": true, "a/b": true, "e": true, "fresh": false, "fresh/empty": false, "keep": false}' ]
	[ "$(mq "$T/d" 'M["totalSize"]')" = 9 ]
	# the link to the deleted g is still there (dangling) and unchanged
	[ "$(mq "$T/d" '"lnk" in F')" = false ]
	ja-merge "$T/base" "$T/d" >"$T/merged"
	ja-snapshot --format v2025 "$T/b" >"$T/fresh"
	assert_files_equal "$T/merged" "$T/fresh"
	# --status lists directories with a trailing /, each list sorted as manifests sort paths
	[ "$(ja-diff --status "$T/base" "$T/b")" = '{"new":["fresh/","fresh/empty/","keep/n"],"modified":[],"deleted":["a/","a/b/","a/b/f","a/xlink","e/","g"]}' ]
}

@test "v2025: parentManifestHash is the hash of BASE's canonical bytes, even when BASE is not canonical" {
	tree25 "$T/a"
	ja-snapshot --format v2025 "$T/a" >"$T/base"
	python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), indent=3))' "$T/base" >"$T/pretty"
	! cmp -s "$T/pretty" "$T/base"
	printf 'x\n' >"$T/a/new"
	ja-diff "$T/pretty" "$T/a" >"$T/d"
	[ "$(mq "$T/d" 'M["parentManifestHash"]')" = "$(xxh "$T/base")" ]
	[ "$(mq "$T/d" 'M["parentManifestHash"]')" = "$(ja-merge "$T/pretty" | ja-hash | cut -d' ' -f1)" ]
}

@test "v2025, no change: an empty DIFF that merges back to BASE" {
	tree25 "$T/a"
	mkdir -p "$T/a/p/q/r" # directories holding only an empty directory
	ja-snapshot --format v2025 "$T/a" >"$T/base"
	run_split ja-diff --exit-code "$T/base" "$T/a"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "{\"dirs\":[],\"files\":[],\"hashAlg\":\"xxh128\",\"parentManifestHash\":\"$(xxh "$T/base")\",\"specificationVersion\":\"relative-manifest-diff-beta-2025-12\",\"totalSize\":0}" ]
	printf '%s' "$output" >"$T/d"
	ja-merge "$T/base" "$T/d" >"$T/merged"
	assert_files_equal "$T/merged" "$T/base"
	[ "$(ja-diff --status "$T/base" "$T/a")" = '{"new":[],"modified":[],"deleted":[]}' ]
	run_split ja-diff --hash --exit-code "$T/base" "$T/a"
	[ "$status" -eq 0 ]
}

@test "v2025 round trips (fast): ja-merge BASE DIFF equals a fresh snapshot of the changed tree" {
	roundtrip v2025 '' ':'
	roundtrip v2025 '' 'printf new >g2; rm -r a; mkdir -p n/m; printf z >n/m/z; rmdir e'
	roundtrip v2025 '' 'rm -r x; printf file >x'
	roundtrip v2025 '' 'rm filething; mkdir filething; printf in >filething/in'
	roundtrip v2025 '' 'chmod -x g'
	roundtrip v2025 '' 'chmod +x x/y'
	roundtrip v2025 '' 'touch -d @1000 g'
	roundtrip v2025 '' 'ln -sfn x/y lnk'
	roundtrip v2025 '' 'rm lnk; printf notalink >lnk'
	roundtrip v2025 '' 'rm filething; ln -s keep/k filething'
	roundtrip v2025 '' 'rm keep/k'
	roundtrip v2025 '' 'mkdir -p deep/er/est'
	roundtrip v2025 '' 'mkdir -p deep/er/est; rmdir e; mkdir -p e/f/g'
	roundtrip v2025 '' 'mkdir -p a/b/c/d'
	roundtrip v2025 '' 'rm -r uni .hid; printf q >.newhidden'
	roundtrip v2025 '' 'printf more >>"uni/new"$'"'"'\n'"'"'"line"; mv "uni/caf"$'"'"'\xc3\xa9'"'"' uni/cafe'
	roundtrip v2025 '' 'rm -r a/b; printf b >a/b'
}

@test "v2025 round trips (--hash): metadata-only changes are part of the DIFF too" {
	roundtrip v2025 --hash ':'
	roundtrip v2025 --hash 'printf new >g2; rm -r a; mkdir -p n/m; printf z >n/m/z; rmdir e'
	roundtrip v2025 --hash 'mt=$(stat -c %y g); printf G >g; touch -d "$mt" g'
	roundtrip v2025 --hash 'chmod -x g'
	roundtrip v2025 --hash 'touch -d @1000 g'
	roundtrip v2025 --hash 'ln -sfn x/y lnk'
	roundtrip v2025 --hash 'rm -r x; printf file >x'
}

@test "v2025: a changed chunked file lists all its chunk hashes (the unchanged first one too)" {
	mkdir -p "$T/c"
	truncate -s 314572800 "$T/c/big.bin"
	printf 'small\n' >"$T/c/small"
	ja-snapshot --format v2025 "$T/c" >"$T/base"
	printf '\001' | dd of="$T/c/big.bin" bs=1 seek=314572799 conv=notrunc status=none
	ja-diff "$T/base" "$T/c" >"$T/d"
	[ "$(mq "$T/d" 'P')" = '["big.bin"]' ]
	[ "$(mq "$T/d" 'F["big.bin"]["chunkhashes"]')" = '["e7e6e2cfd0fb193c998e510addb2da2d", "8e6a60955e31c793160685559e911dc8"]' ]
	ja-merge "$T/base" "$T/d" >"$T/merged"
	ja-snapshot --format v2025 "$T/c" >"$T/fresh"
	assert_files_equal "$T/merged" "$T/fresh"
}

# ---- selection, symlinks, progress, hostile trees ------------------------------------------

@test "selection applies to both inputs: excluded files are neither new nor deleted" {
	mkdir -p "$T/t/logs"
	printf a >"$T/t/a.txt"
	printf l >"$T/t/logs/x.log"
	ja-snapshot "$T/t" >"$T/base"
	rm "$T/t/logs/x.log"
	printf l2 >"$T/t/logs/y.log"
	[ "$(ja-diff --status -e '**/*.log' "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":[]}' ]
	[ "$(ja-diff --status "$T/base" "$T/t")" = '{"new":["logs/y.log"],"modified":[],"deleted":["logs/x.log"]}' ]
	ja-snapshot "$T/t" >"$T/new.m"
	[ "$(ja-diff --status -i '*.txt' "$T/base" "$T/new.m")" = '{"new":[],"modified":[],"deleted":[]}' ]
}

@test "v2025 selection: directories holding only left-out files are not deleted, empty ones follow the walk's rule" {
	mkdir -p "$T/t/e" "$T/t/s"
	printf a >"$T/t/a.txt"
	printf b >"$T/t/s/b.log"
	ja-snapshot --format v2025 "$T/t" >"$T/base"
	for sel in "-e **/*.log" "-i **/*.txt" "-e e"; do
		[ "$(ja-diff --status $sel "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":[]}' ]
		ja-diff $sel "$T/base" "$T/t" >"$T/d"
		[ "$(mq "$T/d" '[len(M["files"]), len(M["dirs"])]')" = '[0, 0]' ]
		ja-merge "$T/base" "$T/d" >"$T/merged" # the left-out s/b.log survives
		assert_files_equal "$T/merged" "$T/base"
	done
	rm -r "$T/t/e" "$T/t/s"
	[ "$(ja-diff --status "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":["e/","s/","s/b.log"]}' ]
	[ "$(ja-diff --status -e '**/*.log' "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":["e/"]}' ]
	[ "$(ja-diff --status -i '**/*.txt' "$T/base" "$T/t")" = '{"new":[],"modified":[],"deleted":[]}' ]
}

@test "v2023 tree side follows file links like the snapshot; --symlinks preserve is refused" {
	mod_fixture
	run_split ja-diff --symlinks preserve "$BASE" "$MOD"
	assert_error 2 'preserve'
	[ "$(ja-diff --symlinks skip --status "$BASE" "$MOD")" = '{"new":["added.txt"],"modified":["empty.txt","with space.txt"],"deleted":["links/inside-file-link.txt","links/outside-file-link.txt","one-byte.bin"]}' ]
}

@test "OpenJD progress: stderr while the DIFF owns stdout, stdout with -o" {
	mod_fixture
	JA_PROGRESS=openjd ja-diff "$BASE" "$MOD" >"$T/d" 2>"$T/err"
	assert_files_equal "$T/d" "$VEC/fixture/diff/expected-snapshot-diff.manifest"
	[ "$(tail -2 "$T/err" | head -1)" = 'openjd_progress: 100.0' ]
	grep -Eq '^openjd_status: Hashed .* of 38 files \(Hashing speed: .*/s\)$' "$T/err"
	JA_PROGRESS=openjd ja-diff -o "$T/d2" "$BASE" "$MOD" >"$T/out" 2>"$T/err2"
	assert_files_equal "$T/d2" "$VEC/fixture/diff/expected-snapshot-diff.manifest"
	[ ! -s "$T/err2" ]
	grep -q '^openjd_progress: 100.0$' "$T/out"
}

@test "a 200-level-deep tree and a path over 4,096 bytes diff like any other" {
	p="$T/deep"
	for i in $(seq 200); do p="$p/d"; done
	mkdir -p "$p"
	printf 'bottom\n' >"$p/f"
	python3 - "$T/deep" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(18):
    n = "%02d" % i + "L" * 248
    os.mkdir(n, dir_fd=fd)
    fd2 = os.open(n, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = fd2
with open(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
    f.write("leaf\n")
EOF
	ja-snapshot --format v2025 "$T/deep" >"$T/base"
	[ "$(ja-diff --status "$T/base" "$T/deep")" = '{"new":[],"modified":[],"deleted":[]}' ]
	printf 'changed bottom\n' >"$p/f"
	rm -r "$T/deep/00"*
	run_split ja-diff --status "$T/base" "$T/deep"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/s"
	python3 - "$T/s" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["new"] == [], d["new"]
assert [x.count("/") for x in d["modified"]] == [200], d["modified"]
files = [x for x in d["deleted"] if not x.endswith("/")]
dirs = [x for x in d["deleted"] if x.endswith("/")]
assert len(files) == 1 and len(files[0]) > 4096 and files[0].endswith("/leaf"), files
assert len(dirs) == 18, dirs
EOF
	ja-diff "$T/base" "$T/deep" >"$T/d"
	ja-merge "$T/base" "$T/d" >"$T/merged"
	ja-snapshot --format v2025 "$T/deep" >"$T/fresh"
	assert_files_equal "$T/merged" "$T/fresh"
}

@test "hostile NEW trees: a bad name is an error naming it, an unreadable new file too" {
	mkdir -p "$T/t"
	printf a >"$T/t/a"
	ja-snapshot "$T/t" >"$T/base"
	printf b >"$T/t/b"$'\xff'
	run_split ja-diff "$T/base" "$T/t"
	assert_error 1 '^ja-diff: b\\xff: .*UTF-8'
	run_split ja-diff --skip-unreadable --status "$T/base" "$T/t"
	[ "$status" -eq 0 ]
	[ "$output" = '{"new":[],"modified":[],"deleted":[]}' ]
	rm "$T/t/b"$'\xff'
	printf 's' >"$T/t/secret"
	chmod 000 "$T/t/secret"
	need_eacces "$T/t/secret"
	run_split nocap ja-diff "$T/base" "$T/t"
	assert_error 1 '^ja-diff: secret: Permission denied$'
	chmod 644 "$T/t/secret"
}

# ---- usage -----------------------------------------------------------------------------

@test "usage errors exit 2: operands, --hash without a tree, both stdin, mixed versions, a DIFF as BASE" {
	mod_fixture
	run_split ja-diff
	assert_error 2 'missing BASE'
	run_split ja-diff a b c
	assert_error 2 'too many'
	run_split ja-diff --hash "$BASE" "$BASE"
	assert_error 2 'hash'
	run_split ja-diff - - <"$BASE"
	assert_error 2 'stdin'
	ja-snapshot --format v2025 "$FIX" >"$T/v25" 2>/dev/null
	run_split ja-diff "$BASE" "$T/v25"
	assert_error 2 'v2023.*v2025'
	tree25 "$T/a"
	ja-snapshot --format v2025 "$T/a" >"$T/b25"
	printf 'x' >"$T/a/n"
	ja-diff "$T/b25" "$T/a" >"$T/diff25"
	run_split ja-diff "$T/diff25" "$T/a"
	assert_error 2 'DIFF|diff'
	run_split ja-diff "$VEC/python-tests/manifest_bados.json" "$MOD"
	[ "$status" -eq 2 ]
	run_split ja-diff "$VEC/v2025/absolute-snapshot.manifest" "$T/a"
	assert_error 2 'absolute'
	run_split ja-diff "$T/missing" "$MOD"
	assert_error 1 'missing'
}
