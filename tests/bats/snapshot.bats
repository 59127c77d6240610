#!/usr/bin/env bats
# ja-snapshot: the fixture vector, symlink modes, pathlib-compatible selection, v2025
# extras (empty dirs, runnable, chunks), hostile trees, the hash cache and progress
# (CLI.md "ja-snapshot", FORMATS §1.4, §2.2, §6, §7.1, §7.6, §10).
load helper
load tree-helper

EMPTY25='{"dirs":[],"files":[],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}'
NOCAPS='cap_dac_override,cap_dac_read_search'

# small TREE: a few files in $T/small (a.txt, sub/b.txt, sub/deep/c.bin)
small() {
	mkdir -p "$T/small/sub/deep"
	printf 'a\n' >"$T/small/a.txt"
	printf 'bb\n' >"$T/small/sub/b.txt"
	printf 'ccc\n' >"$T/small/sub/deep/c.bin"
}

# ---- the fixture vector --------------------------------------------------------------

@test "fixture: output is byte-identical to deadline-cloud's manifest (cold and warm cache)" {
	build_fixture
	run_split ja-snapshot "$FIX"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	ja-snapshot "$FIX" >"$T/cold"
	assert_files_equal "$T/cold" "$VEC/fixture/expected-v2023.manifest"
	[ "$(xxh "$T/cold")" = e2fe09f7ae969946a3770f2ee87ae6f0 ]
	[ -s "$XDG_CACHE_HOME/ja/hashcache.db" ]
	ja snapshot "$FIX" >"$T/warm"
	assert_files_equal "$T/warm" "$VEC/fixture/expected-v2023.manifest"
	ja-snapshot --no-cache -j 1 "$FIX" >"$T/serial"
	assert_files_equal "$T/serial" "$VEC/fixture/expected-v2023.manifest"
}

@test "fixture: the root may be spelled relative, with a trailing slash, '.' or '..'" {
	build_fixture
	cd "$(dirname "$FIX")"
	for root in fixture-src fixture-src/ ./fixture-src/. "fixture-src/../fixture-src" "$FIX//"; do
		ja-snapshot "$root" >"$T/m"
		assert_files_equal "$T/m" "$VEC/fixture/expected-v2023.manifest"
	done
	cd "$FIX/nested"
	ja-snapshot .. >"$T/m"
	assert_files_equal "$T/m" "$VEC/fixture/expected-v2023.manifest"
}

@test "-o FILE writes the manifest (no trailing newline) and nothing to stdout; -o - is stdout" {
	build_fixture
	run_split ja-snapshot -o "$T/out.manifest" "$FIX"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	assert_files_equal "$T/out.manifest" "$VEC/fixture/expected-v2023.manifest"
	ja-snapshot --output - "$FIX" >"$T/dash"
	assert_files_equal "$T/dash" "$VEC/fixture/expected-v2023.manifest"
	[ -z "$(ls "$T" | grep '\.tmp\.')" ] # no temporary file left behind
}

@test "v2023 symlinks: file links followed with the target's content, size and mtime; dir and dangling links skipped silently" {
	build_fixture
	ja-snapshot "$FIX" >"$T/m"
	[ "$(mq "$T/m" 'F["links/outside-file-link.txt"]["mtime"]')" = 1600000000500000 ]
	[ "$(mq "$T/m" 'F["links/outside-file-link.txt"]["hash"]')" = "$(xxh "$FIX/../fixture-outside/outside.txt")" ]
	[ "$(mq "$T/m" 'F["links/inside-file-link.txt"] == dict(F["hello.txt"], path="links/inside-file-link.txt")')" = true ]
	[ "$(mq "$T/m" '[p for p in P if p.startswith("links/")]')" = '["links/inside-file-link.txt", "links/outside-file-link.txt"]' ]
	ja-snapshot --symlinks follow "$FIX" >"$T/follow"
	assert_files_equal "$T/follow" "$T/m"
}

@test "--symlinks skip leaves every link out; preserve needs v2025; unknown modes are usage errors" {
	build_fixture
	run_split ja-snapshot --symlinks skip "$FIX"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'len(P)')" = 36 ]
	[ "$(mq "$T/m" '[p for p in P if p.startswith("links/")]')" = '[]' ]
	run_split ja-snapshot --symlinks preserve "$FIX"
	assert_error 2 'preserve.*v2025'
	[ -z "$output" ]
	run_split ja-snapshot --symlinks copy "$FIX"
	assert_error 2 "symlinks.*copy"
}

@test "v2025 default: links inside the tree are kept (target relative to the root), escaping ones reported" {
	build_fixture
	run_split ja-snapshot --format v2025 -o "$T/m" "$FIX"
	[ "$status" -eq 0 ]
	[ "$(mq "$T/m" 'F["links/inside-file-link.txt"]')" = '{"name": "links/inside-file-link.txt", "symlink": "hello.txt"}' ]
	[ "$(mq "$T/m" 'F["links/inside-dir-link"]["symlink"]')" = nested ]
	[ "$(mq "$T/m" 'F["links/dangling-link"]["symlink"]')" = links/does-not-exist ]
	# the escaping file link becomes a copy of its target, the escaping dir link is left out
	[ "$(mq "$T/m" 'F["links/outside-file-link.txt"]["hash"]')" = "$(xxh "$FIX/../fixture-outside/outside.txt")" ]
	[ "$(mq "$T/m" '"links/outside-dir-link" in F')" = false ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 2 ]
	printf '%s\n' "$stderr" | grep -q '^ja-snapshot: links/outside-file-link.txt: symlink leaves the tree'
	printf '%s\n' "$stderr" | grep -q '^ja-snapshot: links/outside-dir-link: symlink leaves the tree'
	# symlinks carry no size; totalSize counts the regular files
	[ "$(mq "$T/m" 'M["totalSize"] == sum(f.get("size", 0) for f in F.values())')" = true ]
	run_split ja-snapshot --format v2025 --symlinks preserve "$FIX"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$T/m")" ]
}

@test "v2025 --symlinks follow selects what v2023 does; skip drops every link" {
	build_fixture
	ja-snapshot "$FIX" >"$T/v23"
	ja-snapshot --format v2025 --symlinks follow "$FIX" >"$T/follow"
	[ "$(mq "$T/follow" 'P')" = "$(mq "$T/v23" 'P')" ]
	[ "$(mq "$T/follow" '[p for p in P if "symlink" in F[p]]')" = '[]' ]
	[ "$(mq "$T/follow" '{p: [F[p]["hash"], F[p]["mtime"], F[p]["size"]] for p in P}')" = "$(mq "$T/v23" '{p: [F[p]["hash"], F[p]["mtime"], F[p]["size"]] for p in P}')" ]
	ja-snapshot --format v2025 --symlinks skip "$FIX" >"$T/skip"
	[ "$(mq "$T/skip" '[p for p in P if p.startswith("links/")]')" = '[]' ]
}

@test "v2025: a link whose target passes through a directory link that leaves the tree escapes too" {
	mkdir -p "$T/out/d" "$T/root/sub"
	printf 'secret\n' >"$T/out/d/s.txt"
	printf 'in\n' >"$T/root/sub/in.txt"
	ln -s "$T/out/d" "$T/root/sub/door"         # escaping directory link
	ln -s door/s.txt "$T/root/sub/through"       # lexically inside, really outside
	ln -s ../sub/./in.txt "$T/root/sub/fine"     # inside, spelled oddly
	run_split ja-snapshot --format v2025 -o "$T/m" "$T/root"
	[ "$status" -eq 0 ]
	[ "$(mq "$T/m" 'F["sub/fine"]["symlink"]')" = sub/in.txt ]
	[ "$(mq "$T/m" '"symlink" in F.get("sub/through", {})')" = false ]
	printf '%s\n' "$stderr" | grep -q 'sub/through: symlink leaves the tree'
}

# ---- selection -------------------------------------------------------------------------

@test "hidden files and directories are part of the snapshot" {
	mkdir -p "$T/h/.dir/.deeper"
	printf 1 >"$T/h/.hidden"
	printf 2 >"$T/h/.dir/x"
	printf 3 >"$T/h/.dir/.deeper/.y"
	printf 4 >"$T/h/visible"
	ja-snapshot "$T/h" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '[".dir/.deeper/.y", ".dir/x", ".hidden", "visible"]' ]
}

@test "include/exclude: '*' stays in one directory, '**' spans them, excludes win, case matters" {
	small
	printf 'A\n' >"$T/small/A.TXT"
	ja-snapshot -i '*.txt' "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt"]' ]
	ja-snapshot -i '**/*.txt' "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt"]' ]
	ja-snapshot --include '**/*.txt' -i '**/*.bin' -e 'sub/*' "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/deep/c.bin"]' ]
	ja-snapshot --exclude '**/deep/*' "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["A.TXT", "a.txt", "sub/b.txt"]' ]
	ja-snapshot -i '*.TXT' "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["A.TXT"]' ]
	# a selection does not change the recorded entries
	ja-snapshot "$T/small" >"$T/all"
	[ "$(mq "$T/m" 'F["A.TXT"]')" = "$(mq "$T/all" 'F["A.TXT"]')" ]
}

@test "include table of deadline-cloud's test_snapshot: test_file and **/nested_file" {
	mkdir -p "$T/g/nested"
	for f in test_file other_file nested/nested_file nested/test_file; do printf x >"$T/g/$f"; done
	ja-snapshot -i test_file -i '**/nested_file' "$T/g" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["nested/nested_file", "test_file"]' ]
}

@test "selection equals Python pathlib's Path.glob(...) + is_file() for many patterns" {
	R="$T/gt"
	mkdir -p "$R/sub/deep/er" "$R/.hid" "$R/other/sub" "$R/links" "$R/[x]"
	for f in a.txt b.txt A.TXT Ab.txt 1.txt ab.md .h.txt .hidden c a.txt.bak 'sp ace.txt' \
		$'caf\xc3\xa9.txt' 'x]y' '[x]/in.txt' sub/c.txt sub/C.txt sub/nested_file sub/deep/d.txt \
		sub/deep/er/e.txt sub/deep/.f.txt .hid/g.txt .hid/.h other/nested_file \
		other/sub/c.txt nested_file; do
		printf '%s\n' "$f" >"$R/$f"
	done
	ln -s a.txt "$R/links/file-link.txt"  # file link: pathlib returns it
	ln -s ../sub "$R/links/dir-link"      # dir link: '**' does not descend it
	ln -s nowhere "$R/links/dangling.txt"
	patterns=('*' '*.txt' '**/*.txt' '**' 'sub/**' 'sub/*' 'sub/*/*' '[ab]*' '[!ab]*' '?.txt' '??.txt'
		'**/nested_file' '.*' '**/.*' '*.TXT' '**/*.TXT' '**/[cC].txt' 'sub/**/*' '**/deep/*'
		'**/deep/**/*.txt' '**/sub/*' '*/' 'sub/' '**/' './*.txt' 'sub//*.txt' '**/**/*.txt'
		'[[]x]/*' 'x]y' '*]*' 'caf?.txt' 'sp ace.txt' '*.md' 'nested_file' '**/*' '*/*.txt'
		'links/*' '**/links/*' '**/*link*' 'a.txt*' '.hid/*' '*/.h')
	mkdir "$T/runs"
	for n in "${!patterns[@]}"; do
		for op in i e; do
			ja-snapshot --no-cache "-$op" "${patterns[$n]}" -o "$T/runs/$op$n.m" "$R" \
				2>"$T/runs/$op$n.err" && rc=0 || rc=$?
			echo "$rc" >"$T/runs/$op$n.rc"
		done
	done
	printf '%s\0' "${patterns[@]}" >"$T/patterns"
	python3 - "$R" "$T/patterns" "$T/runs" <<'EOF'
import json, os, pathlib, sys
root, runs = pathlib.Path(sys.argv[1]), sys.argv[3]
pats = open(sys.argv[2], encoding="utf-8").read().split("\0")[:-1]
def py(pat):
    return {p.relative_to(root).as_posix() for p in root.glob(pat) if p.is_file()}
def ja(name):
    rc = int(open(os.path.join(runs, name + ".rc")).read())
    err = open(os.path.join(runs, name + ".err"), encoding="utf-8").read()
    if rc == 1 and "no files selected" in err:
        return set()
    assert rc == 0, (name, rc, err)
    return {e["path"] for e in json.load(open(os.path.join(runs, name + ".m")))["paths"]}
every, bad = py("**/*"), 0
for n, pat in enumerate(pats):
    for op, want in (("i", py(pat)), ("e", every - py(pat))):
        got = ja(op + str(n))
        if got != want:
            bad += 1
            print(f"-{op} {pat!r}: only ja {sorted(got - want)}, only pathlib {sorted(want - got)}")
sys.exit(1 if bad else 0)
EOF
}

@test "--include-exclude-config: JSON text or a file, combined with -i/-e; bad configs are usage errors" {
	small
	ja-snapshot --include-exclude-config '{"include":["**/*.txt"],"exclude":["sub/*"]}' "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt"]' ]
	printf '{"include": ["**/*.bin"], "other": 1}\n' >"$T/cfg.json"
	ja-snapshot --include-exclude-config "$T/cfg.json" -i a.txt "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/deep/c.bin"]' ]
	ja-snapshot --include-exclude-config '{"exclude":["**/*.bin"]}' -e a.txt "$T/small" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["sub/b.txt"]' ]
	run_split ja-snapshot --include-exclude-config '{"include":"*.txt"}' "$T/small"
	assert_error 2 'include-exclude-config'
	run_split ja-snapshot --include-exclude-config '{"include":[' "$T/small"
	assert_error 2 'include-exclude-config'
	run_split ja-snapshot --include-exclude-config "$T/missing.json" "$T/small"
	assert_error 2 'missing.json'
	[ -z "$output" ]
}

@test "bad glob patterns are usage errors" {
	small
	for pat in '' /abs/path 'a**' '**b/c' .; do
		run_split ja-snapshot -i "$pat" "$T/small"
		assert_error 2 '.' || { echo "pattern '$pat'" >&2; return 1; }
		[ -z "$output" ]
	done
	run_split ja-snapshot -e 'x/***' "$T/small"
	assert_error 2 'whole path component'
}

@test "empty selection: an error for v2023, a valid empty manifest for v2025" {
	mkdir -p "$T/empty"
	run_split ja-snapshot "$T/empty"
	assert_error 1 'no files selected'
	[ -z "$output" ]
	run_split ja-snapshot --format v2025 "$T/empty"
	[ "$status" -eq 0 ]
	[ "$output" = "$EMPTY25" ]
	[ -z "$stderr" ]
	small
	run_split ja-snapshot -i '*.nothing' "$T/small"
	assert_error 1 'no files selected'
	run_split ja-snapshot --format v2025 -i '*.nothing' "$T/small"
	[ "$status" -eq 0 ]
	[ "$output" = "$EMPTY25" ]
	ja-merge - <<<"$output" >"$T/re" # ja's own reader accepts it
	[ "$(cat "$T/re")" = "$EMPTY25" ]
}

# ---- v2025 extras ----------------------------------------------------------------------

@test "v2025: empty directories and the runnable bit are recorded" {
	mkdir -p "$T/r/empty" "$T/r/a/b/c" "$T/r/full"
	printf 'x\n' >"$T/r/full/f"
	for m in 755 700 744 610 601 644; do printf '%s\n' "$m" >"$T/r/m$m"; chmod "$m" "$T/r/m$m"; done
	ja-snapshot --format v2025 "$T/r" >"$T/m"
	[ "$(mq "$T/m" 'sorted(D)')" = '["a", "a/b", "a/b/c", "empty", "full"]' ]
	[ "$(mq "$T/m" '[p for p in P if F[p].get("runnable")]')" = '["m601", "m610", "m700", "m744", "m755"]' ]
	[ "$(mq "$T/m" 'F["m644"]')" = "{\"hash\": \"$(xxh "$T/r/m644")\", \"mtime\": $(stat -c %.6Y "$T/r/m644" | tr -d .), \"name\": \"m644\", \"size\": 4}" ]
	grep -q '"runnable":true' "$T/m"
	# v2023 has neither
	ja-snapshot "$T/r" >"$T/v23"
	! grep -q runnable "$T/v23"
	[ "$(mq "$T/v23" 'P')" = '["full/f", "m601", "m610", "m644", "m700", "m744", "m755"]' ]
	# with include patterns only files are selected: no empty directories
	ja-snapshot --format v2025 -i '**/*' "$T/r" >"$T/inc"
	[ "$(mq "$T/inc" '[d for d in D if d not in ("full",)]')" = '[]' ]
}

@test "v2025: files over 256 MiB get chunk hashes (spec vectors), exactly 256 MiB does not" {
	mkdir -p "$T/big"
	truncate -s 314572800 "$T/big/big.bin"
	truncate -s 268435456 "$T/big/exact.bin"
	ja-snapshot --format v2025 "$T/big" >"$T/m"
	[ "$(mq "$T/m" 'F["big.bin"]["chunkhashes"]')" = '["e7e6e2cfd0fb193c998e510addb2da2d", "9872ce5eb2ae11905d6348f8e683f04b"]' ]
	[ "$(mq "$T/m" '"hash" in F["big.bin"]')" = false ]
	[ "$(mq "$T/m" 'F["big.bin"]["size"]')" = 314572800 ]
	[ "$(mq "$T/m" 'F["exact.bin"]["hash"]')" = "$(xxh "$T/big/exact.bin")" ]
	[ "$(mq "$T/m" '"chunkhashes" in F["exact.bin"]')" = false ]
	[ "$(mq "$T/m" 'M["totalSize"]')" = $((314572800 + 268435456)) ]
	# the cached chunk list comes back the same
	ja-snapshot --format v2025 "$T/big" >"$T/again"
	assert_files_equal "$T/again" "$T/m"
	# last byte 0x01: only the second chunk changes (vectors' diff.manifest)
	printf '\001' | dd of="$T/big/big.bin" bs=1 seek=314572799 conv=notrunc status=none
	ja-snapshot --format v2025 "$T/big" >"$T/m2"
	[ "$(mq "$T/m2" 'F["big.bin"]["chunkhashes"]')" = '["e7e6e2cfd0fb193c998e510addb2da2d", "8e6a60955e31c793160685559e911dc8"]' ]
	# v2023 never chunks
	ja-snapshot "$T/big" >"$T/v23"
	[ "$(mq "$T/v23" 'F["big.bin"]["hash"]')" = "$(xxh "$T/big/big.bin")" ]
}

# ---- hostile trees ---------------------------------------------------------------------

@test "fifos, sockets and devices are skipped with a warning (and never opened)" {
	small
	mkfifo "$T/small/fifo"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/small/sub/sock"
	mknod "$T/small/null" c 1 3
	ln -s fifo "$T/small/fifo-link"
	run_split timeout 20 ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 3 ]
	for n in fifo sub/sock null; do
		printf '%s\n' "$stderr" | grep -qx "ja-snapshot: $n: not a regular file (fifo, socket or device): skipped"
	done
	# an excluded special file is not mentioned
	run_split timeout 20 ja-snapshot -e fifo -e null -e 'sub/*' "$T/small"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a name that is not valid UTF-8 is an error naming the file, escaped; --skip-unreadable warns" {
	small
	printf 'x' >"$T/small/bad"$'\xff'".txt"
	run_split ja-snapshot "$T/small"
	assert_error 1 '^ja-snapshot: bad\\xff\.txt: .*not valid UTF-8'
	[ -z "$output" ]
	printf '%s' "$stderr" | iconv -f UTF-8 -t UTF-8 >/dev/null # the message itself is valid text
	run_split ja-snapshot --format v2025 "$T/small"
	assert_error 1 'bad\\xff\.txt'
	run_split ja-snapshot --skip-unreadable "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
	[[ "$stderr" == 'ja-snapshot: bad\xff.txt: '*skipped ]]
}

@test "a directory whose name is not UTF-8 is an error naming the path inside it" {
	small
	mkdir "$T/small/d"$'\xc3'
	printf 'x' >"$T/small/d"$'\xc3'"/f.txt"
	run_split ja-snapshot "$T/small"
	assert_error 1 'd\\xc3'
	run_split ja-snapshot --skip-unreadable "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
	# an empty directory is an entry in v2025 only
	rm -r "$T/small/d"$'\xc3'
	mkdir "$T/small/e"$'\xff'
	run_split ja-snapshot --format v2025 "$T/small"
	assert_error 1 '^ja-snapshot: e\\xff: .*UTF-8'
	run_split ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a file with a bad name that the selection leaves out is not an error" {
	small
	printf 'x' >"$T/small/bad"$'\xff'".bin"
	mkdir "$T/small/skip"$'\xfe'
	printf 'y' >"$T/small/skip"$'\xfe'"/in.bin"
	run_split ja-snapshot -i '**/*.txt' "$T/small"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run_split ja-snapshot -e '**/*.bin' "$T/small"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt"]' ]
}

@test "unreadable file: an error naming it (escaped); --skip-unreadable warns and goes on" {
	small
	printf 'secret\n' >"$T/small/sub/new"$'\n'"line.txt"
	chmod 000 "$T/small/sub/new"$'\n'"line.txt"
	need_eacces "$T/small/sub/new"$'\n'"line.txt"
	run_split nocap ja-snapshot --no-cache "$T/small"
	assert_error 1 '^ja-snapshot: sub/new\\nline\.txt: Permission denied$'
	[ -z "$output" ]
	run_split nocap ja-snapshot --no-cache --skip-unreadable "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
	[[ "$stderr" == 'ja-snapshot: sub/new\nline.txt: Permission denied: skipped' ]]
	chmod 644 "$T/small/sub/new"$'\n'"line.txt"
}

@test "unreadable directory: an error naming it; --skip-unreadable warns and goes on" {
	small
	mkdir -p "$T/small/locked/inner"
	printf 'x\n' >"$T/small/locked/inner/f"
	chmod 000 "$T/small/locked"
	need_eacces "$T/small/locked"
	run_split nocap ja-snapshot "$T/small"
	assert_error 1 '^ja-snapshot: locked: Permission denied$'
	[ -z "$output" ]
	run_split nocap ja-snapshot --format v2025 --skip-unreadable "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
	[ "$(mq "$T/m" '"locked" in D')" = false ] # not taken for an empty directory
	[[ "$stderr" == 'ja-snapshot: locked: Permission denied: skipped' ]]
	chmod 755 "$T/small/locked"
}

@test "a directory that can be listed but not searched (r--): error, or warnings with --skip-unreadable" {
	small
	mkdir -p "$T/small/noexec/d"
	printf 'x\n' >"$T/small/noexec/f"
	ln -s f "$T/small/noexec/l"
	chmod 644 "$T/small/noexec"
	need_eacces "$T/small/noexec/f"
	run_split nocap ja-snapshot "$T/small"
	assert_error 1 '^ja-snapshot: noexec/[dfl]: Permission denied$'
	for fmt in v2023 v2025; do
		run_split nocap ja-snapshot --format "$fmt" --skip-unreadable "$T/small"
		[ "$status" -eq 0 ]
		printf '%s' "$output" >"$T/m"
		[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
		[ "$(printf '%s\n' "$stderr" | grep -c '^ja-snapshot: noexec/[dfl]: Permission denied: skipped$')" -eq 3 ]
	done
	chmod 755 "$T/small/noexec"
}

@test "a followed link whose target cannot be reached is an error, not a silent skip" {
	small
	mkdir -p "$T/out/locked"
	printf 'x\n' >"$T/out/locked/f"
	chmod 000 "$T/out/locked"
	need_eacces "$T/out/locked"
	ln -s ../out/locked/f "$T/small/l"
	ln -s ../out/nowhere "$T/small/dangling"
	run_split nocap ja-snapshot "$T/small"
	assert_error 1 '^ja-snapshot: l: Permission denied$'
	run_split nocap ja-snapshot --skip-unreadable "$T/small"
	[ "$status" -eq 0 ]
	[ "$stderr" = 'ja-snapshot: l: Permission denied: skipped' ]
	chmod 755 "$T/out/locked"
}

@test "an unreadable or missing root is an error; a file as DIR is a usage error" {
	small
	chmod 000 "$T/small"
	need_eacces "$T/small"
	run_split nocap ja-snapshot "$T/small"
	assert_error 1 'small: Permission denied'
	chmod 755 "$T/small"
	run_split ja-snapshot "$T/nope"
	assert_error 1 'nope: No such file or directory'
	run_split ja-snapshot "$T/small/a.txt"
	assert_error 2 'a.txt: [Nn]ot a directory'
}

@test "a 200-level-deep tree" {
	mkdir -p "$T/deep"
	p="$T/deep"
	rel=
	for i in $(seq 200); do p="$p/d$i"; rel="${rel}d$i/"; done
	mkdir -p "$p"
	printf 'bottom\n' >"$p/f.txt"
	ja-snapshot "$T/deep" >"$T/m"
	[ "$(mq "$T/m" 'P')" = "[\"${rel}f.txt\"]" ]
	[ "$(mq "$T/m" 'F[P[0]]["hash"]')" = "$(xxh "$p/f.txt")" ]
	ja-snapshot "$T/deep" >"$T/m2" # from the cache
	assert_files_equal "$T/m2" "$T/m"
	mkdir "$p/empty"
	ja-snapshot --format v2025 "$T/deep" >"$T/v25"
	[ "$(mq "$T/v25" 'len(D)')" = 201 ]
	[ "$(mq "$T/v25" '"'"${rel}empty"'" in D')" = true ]
}

@test "paths longer than PATH_MAX (4,096 bytes) are walked, hashed and cached" {
	python3 - "$T/long" <<'EOF'
import os, sys
os.makedirs(sys.argv[1])
fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(20):               # 20 x 251 bytes: a path of 5,028 bytes
    n = "%02d" % i + "n" * 248
    os.mkdir(n, dir_fd=fd)
    fd2 = os.open(n, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = fd2
with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
    f.write("leaf\n")
EOF
	run_split ja-snapshot "$T/long"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'len(P[0])')" -gt 4096 ]
	[ "$(mq "$T/m" 'P[0].endswith("/leaf.txt") and P[0].count("/") == 20')" = true ]
	[ "$(mq "$T/m" 'F[P[0]]["hash"]')" = "$(printf 'leaf\n' | ja-hash | cut -d' ' -f1)" ]
	[ "$(sqlite3 "$XDG_CACHE_HOME/ja/hashcache.db" 'select max(length(path)) from hashes_v2')" -gt 4096 ]
	ja-snapshot "$T/long" >"$T/m2"
	assert_files_equal "$T/m2" "$T/m"
	ja-snapshot --format v2025 --no-cache "$T/long" >"$T/v25"
	[ "$(mq "$T/v25" 'P')" = "$(mq "$T/m" 'P')" ]
}

@test "symlink loops end: v2023 skips them silently, v2025 keeps them as links" {
	small
	ln -s self "$T/small/self"
	ln -s l2 "$T/small/l1"
	ln -s l1 "$T/small/l2"
	ln -s .. "$T/small/sub/up"
	ln -s . "$T/small/sub/here"
	ln -s ../../sub "$T/small/sub/deep/back"
	run_split timeout 20 ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
	run_split timeout 20 ja-snapshot --format v2025 "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/v25"
	[ "$(mq "$T/v25" '{p: F[p]["symlink"] for p in P if "symlink" in F[p]}')" = '{"l1": "l2", "l2": "l1", "self": "self", "sub/deep/back": "sub", "sub/here": "sub"}' ]
}

@test "a file that keeps changing while it is hashed is an error naming it" {
	mkdir -p "$T/grow"
	truncate -s 128M "$T/grow/busy.bin"
	(while :; do printf x >>"$T/grow/busy.bin"; done) &
	writer=$!
	sleep 0.1
	run_split ja-snapshot --no-cache -j 1 "$T/grow"
	kill "$writer"
	wait "$writer" 2>/dev/null || true
	assert_error 1 '^ja-snapshot: busy\.bin: .*kept changing'
	[ -z "$output" ]
}

@test "a file that changes once while it is hashed is hashed again: the manifest matches the final file" {
	mkdir -p "$T/grow"
	truncate -s 64M "$T/grow/once.bin"
	# strace holds the first read of the file for 1 s; the file grows meanwhile: the
	# writer waits until ja has the file open (so after the walk's stat), then appends
	(
		for _ in $(seq 500); do
			ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q "$T/grow/once.bin" && break
			sleep 0.01
		done
		printf 'tail' >>"$T/grow/once.bin"
	) &
	writer=$!
	# (LeakSanitizer cannot run under ptrace: leaks are checked by every other test)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -o "$T/trace" -P "$T/grow/once.bin" -e trace=read,pread64 \
		-e inject=read,pread64:delay_enter=1000000:when=1 \
		"$JA_ROOT/ja-snapshot" --no-cache -j 1 "$T/grow" >"$T/m"
	wait "$writer"
	grep -q 'DELAYED' "$T/trace"
	[ "$(grep -c ', 0) = ' "$T/trace")" -eq 2 ] # read from the start twice: hashed again
	[ "$(mq "$T/m" 'F["once.bin"]["size"]')" = $((64 * 1048576 + 4)) ]
	[ "$(mq "$T/m" 'F["once.bin"]["hash"]')" = "$(xxh "$T/grow/once.bin")" ]
	[ "$(mq "$T/m" 'F["once.bin"]["mtime"]')" = "$(stat -c %.6Y "$T/grow/once.bin" | tr -d .)" ]
}

# ---- the hash cache --------------------------------------------------------------------

DB() { sqlite3 "$XDG_CACHE_HOME/ja/hashcache.db" "$@"; }

@test "hash cache: WAL file under \$XDG_CACHE_HOME/ja, consulted on the next run, --rehash refreshes, --no-cache bypasses" {
	small
	ja-snapshot "$T/small" >"$T/m1"
	[ "$(DB 'pragma journal_mode')" = wal ]
	[ "$(DB 'select count(*) from hashes_v2')" = 3 ]
	[ "$(DB "select count(*) from hashes_v2 where cast(path as text) = '$T/small/sub/b.txt'")" = 1 ]
	fake=0123456789abcdef0123456789abcdef
	DB "update hashes_v2 set value='$fake' where cast(path as text) = '$T/small/a.txt'"
	ja-snapshot "$T/small" >"$T/m2"
	[ "$(mq "$T/m2" 'F["a.txt"]["hash"]')" = "$fake" ] # served from the cache
	ja-snapshot --no-cache "$T/small" >"$T/m3"
	assert_files_equal "$T/m3" "$T/m1"
	[ "$(DB "select value from hashes_v2 where cast(path as text) = '$T/small/a.txt'")" = "$fake" ]
	ja-snapshot --rehash "$T/small" >"$T/m4"
	assert_files_equal "$T/m4" "$T/m1"
	[ "$(DB "select value from hashes_v2 where cast(path as text) = '$T/small/a.txt'")" = "$(xxh "$T/small/a.txt")" ]
}

@test "hash cache key: same size and mtime put back after a rewrite is still a miss (ctime)" {
	small
	ja-snapshot "$T/small" >"$T/m1"
	mt=$(stat -c %y "$T/small/a.txt")
	printf 'Z\n' >"$T/small/a.txt"
	touch -d "$mt" "$T/small/a.txt"
	ja-snapshot "$T/small" >"$T/m2"
	[ "$(mq "$T/m2" 'F["a.txt"]["mtime"]')" = "$(mq "$T/m1" 'F["a.txt"]["mtime"]')" ]
	[ "$(mq "$T/m2" 'F["a.txt"]["hash"]')" = "$(xxh "$T/small/a.txt")" ]
	[ "$(mq "$T/m2" 'F["a.txt"]["hash"]')" != "$(mq "$T/m1" 'F["a.txt"]["hash"]')" ]
	# a grown file is a miss too
	printf 'more\n' >>"$T/small/sub/b.txt"
	ja-snapshot "$T/small" >"$T/m3"
	[ "$(mq "$T/m3" 'F["sub/b.txt"]["hash"]')" = "$(xxh "$T/small/sub/b.txt")" ]
}

@test "--cache-dir DIR holds the cache instead; --no-cache writes none" {
	small
	ja-snapshot --no-cache "$T/small" >/dev/null
	[ ! -e "$XDG_CACHE_HOME/ja" ]
	ja-snapshot --cache-dir "$T/mycache/x" "$T/small" >/dev/null
	[ -s "$T/mycache/x/hashcache.db" ]
	[ ! -e "$XDG_CACHE_HOME/ja" ]
	[ "$(sqlite3 "$T/mycache/x/hashcache.db" 'select count(*) from hashes_v2')" = 3 ]
	ja-snapshot "$T/small" >/dev/null
	[ -s "$XDG_CACHE_HOME/ja/hashcache.db" ]
	XDG_CACHE_HOME= HOME="$T/home" ja-snapshot "$T/small" >/dev/null
	[ -s "$T/home/.cache/ja/hashcache.db" ]
}

@test "four snapshots at once share one cache: never 'database is locked', every result stored" {
	for d in a b c d; do
		mkdir -p "$T/par/$d"
		for i in $(seq 40); do printf '%s%s\n' "$d" "$i" >"$T/par/$d/f$i"; done
	done
	for round in $(seq 25); do
		rm -rf "$T/pc"
		for d in a b c d; do
			XDG_CACHE_HOME="$T/pc" ja-snapshot -j 1 -o "$T/par/$d.m" "$T/par/$d" 2>"$T/par/$d.err" &
		done
		for d in a b c d; do wait -n || { echo "a snapshot failed in round $round" >&2; return 1; }; done
		if cat "$T"/par/*.err | grep .; then
			echo "round $round: warnings above" >&2
			return 1
		fi
		[ "$(sqlite3 "$T/pc/ja/hashcache.db" 'select count(*) from hashes_v2')" = 160 ]
	done
	for d in a b c d; do [ "$(mq "$T/par/$d.m" 'len(P)')" = 40 ]; done
}

@test "a cache file that is not a database is moved aside with a warning and rebuilt" {
	small
	mkdir -p "$XDG_CACHE_HOME/ja"
	head -c 5000 /dev/urandom >"$XDG_CACHE_HOME/ja/hashcache.db"
	run_split ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/m"
	ja-snapshot --no-cache "$T/small" >"$T/ref"
	assert_files_equal "$T/m" "$T/ref"
	[[ "$stderr" == *"hash cache rebuilt"* ]]
	[ -e "$XDG_CACHE_HOME/ja/hashcache.db.corrupt" ]
	[ "$(DB 'select count(*) from hashes_v2')" = 3 ]
	run_split ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a cache database with damaged pages is rebuilt, not warned about forever" {
	mkdir -p "$T/many"
	for i in $(seq 400); do printf '%s\n' "$i" >"$T/many/file-with-a-longish-name-$i"; done
	ja-snapshot "$T/many" >"$T/ref"
	DB 'pragma wal_checkpoint(truncate)' >/dev/null
	size=$(stat -c %s "$XDG_CACHE_HOME/ja/hashcache.db")
	[ "$size" -gt 16384 ]
	# keep page 1 (header and schema), overwrite the rest
	python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(4096); f.write(b"\xa5"*(int(sys.argv[2])-4096))' \
		"$XDG_CACHE_HOME/ja/hashcache.db" "$size"
	run_split ja-snapshot "$T/many"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$T/ref")" ]
	[[ "$stderr" == *"rebuilt"* ]]
	run_split ja-snapshot "$T/many"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$T/ref")" ]
	[ "$(DB 'select count(*) from hashes_v2')" = 400 ]
}

@test "an unwritable cache (directory or file) is a warning, never a failed snapshot" {
	small
	ja-snapshot --no-cache "$T/small" >"$T/ref"
	# a read-only cache directory with no database yet
	mkdir -p "$T/rocache/ja"
	chmod 555 "$T/rocache/ja"
	! nocap touch "$T/rocache/ja/probe" 2>/dev/null # really unwritable
	run_split nocap env XDG_CACHE_HOME="$T/rocache" ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$T/ref")" ]
	[[ "$stderr" == *"hash cache"* ]]
	[ ! -e "$T/rocache/ja/hashcache.db" ]
	# a read-only database file
	ja-snapshot "$T/small" >/dev/null
	chmod 444 "$XDG_CACHE_HOME/ja/hashcache.db"
	rm -f "$XDG_CACHE_HOME/ja/hashcache.db-wal" "$XDG_CACHE_HOME/ja/hashcache.db-shm"
	printf 'new\n' >"$T/small/new.txt"
	run_split nocap ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$T/m"
	[ "$(mq "$T/m" 'P')" = '["a.txt", "new.txt", "sub/b.txt", "sub/deep/c.bin"]' ]
	# a cache "directory" that is a file
	printf x >"$T/notadir"
	run_split env XDG_CACHE_HOME="$T/notadir" ja-snapshot "$T/small"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$T/m")" ]
	[[ "$stderr" == *"hash cache"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	chmod 755 "$T/rocache/ja"
}

@test "old cache entries are pruned; entries still in use are kept" {
	small
	ja-snapshot "$T/small" >/dev/null
	old=$(($(date +%s) - 40 * 86400))
	DB "insert into hashes_v2 (path, size, mtime_ns, ctime_ns, chunked, value, seen) values (cast('$T/gone/x' as blob), 1, 1, 1, 0, 'aa', $old)"
	DB "update hashes_v2 set seen = $old"
	printf 'new\n' >"$T/small/new.txt" # something to write
	ja-snapshot "$T/small" >/dev/null
	[ "$(DB "select count(*) from hashes_v2 where cast(path as text) = '$T/gone/x'")" = 0 ]
	[ "$(DB 'select count(*) from hashes_v2')" = 4 ]
	[ "$(DB "select count(*) from hashes_v2 where seen = $old")" = 0 ]
}

# ---- progress --------------------------------------------------------------------------

@test "OpenJD progress: lines on stderr while the manifest owns stdout, on stdout with -o" {
	build_fixture
	status_re='^openjd_status: Hashed [0-9.]+ [KMGTP]?B / 3\.15 MB of 38 files \(Hashing speed: [0-9.]+ [KMGTP]?B/s\)$'
	JA_PROGRESS=openjd ja-snapshot "$FIX" >"$T/m" 2>"$T/err"
	assert_files_equal "$T/m" "$VEC/fixture/expected-v2023.manifest"
	[ "$(grep -c '^openjd_progress: ' "$T/err")" -eq 1 ] # a quick run: one line, at 100
	[ "$(sed -n 1p "$T/err")" = 'openjd_progress: 100.0' ]
	sed -n 2p "$T/err" | grep -Eq "$status_re"
	[ "$(wc -l <"$T/err")" -eq 2 ]
	ja-snapshot --progress=openjd -o "$T/m2" "$FIX" >"$T/out" 2>"$T/err2"
	assert_files_equal "$T/m2" "$VEC/fixture/expected-v2023.manifest"
	[ ! -s "$T/err2" ]
	[ "$(sed -n 1p "$T/out")" = 'openjd_progress: 100.0' ]
	sed -n 2p "$T/out" | grep -Eq "$status_re"
	# every line follows the OpenJD grammar
	! grep -Ev '^openjd_(progress|status): .+$' "$T/out"
}

@test "OpenJD progress: at most about one line a second (not one per file or per 50 files)" {
	mkdir -p "$T/many"
	for i in $(seq 300); do printf '%s\n' "$i" >"$T/many/f$i"; done
	start=$(date +%s.%N)
	JA_PROGRESS=openjd ja-snapshot -j 1 "$T/many" >"$T/m" 2>"$T/err"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	n=$(grep -c '^openjd_progress: ' "$T/err")
	[ "$n" -le "$(echo "$secs / 1 + 1" | bc)" ]
	[ "$(grep '^openjd_progress: ' "$T/err" | tail -1)" = 'openjd_progress: 100.0' ]
	grep -q '^openjd_status: Hashed .* of 300 files ' "$T/err"
	[ "$(mq "$T/m" 'len(P)')" = 300 ]
}

@test "--progress=json: one JSON object a line on stderr, the last one 'done'" {
	build_fixture
	ja-snapshot --progress=json "$FIX" >"$T/m" 2>"$T/err"
	assert_files_equal "$T/m" "$VEC/fixture/expected-v2023.manifest"
	python3 - "$T/err" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no events"
ev = [json.loads(l) for l in lines]
last = ev[-1]
assert last["event"] == "done", last
assert last["files"] == last["totalFiles"] == 38, last
assert last["bytes"] == last["totalBytes"] == 3154115, last
assert all(e["bytes"] <= e["totalBytes"] for e in ev)
EOF
}

@test "progress bar: on stderr with --progress=bar or on a terminal; never on stdout; -q silences it" {
	build_fixture
	ja-snapshot --progress=bar "$FIX" >"$T/m" 2>"$T/err"
	assert_files_equal "$T/m" "$VEC/fixture/expected-v2023.manifest"
	grep -q $'\r\\[' "$T/err"
	ja-snapshot "$FIX" >"$T/m" 2>"$T/err" # not a terminal: silent
	[ ! -s "$T/err" ]
	script -qec "ja-snapshot '$FIX' > '$T/tty.m'" /dev/null >"$T/tty.out"
	assert_files_equal "$T/tty.m" "$VEC/fixture/expected-v2023.manifest"
	grep -q 'Hashed' "$T/tty.out"
	script -qec "ja-snapshot -q '$FIX' > '$T/tty.m'" /dev/null >"$T/tty.q"
	! grep -q 'Hashed' "$T/tty.q"
}

# ---- usage -----------------------------------------------------------------------------

@test "usage errors exit 2: no DIR, two DIRs, bad --format, bad -j" {
	small
	run_split ja-snapshot
	assert_error 2 'missing DIR'
	run_split ja-snapshot "$T/small" "$T/small"
	assert_error 2 'one DIR'
	run_split ja-snapshot --format v2024 "$T/small"
	assert_error 2 'format'
	run_split ja-snapshot -j 0 "$T/small"
	assert_error 2 '.'
	run_split ja-snapshot --bogus "$T/small"
	[ "$status" -eq 2 ]
}
