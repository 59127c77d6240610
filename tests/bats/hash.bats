#!/usr/bin/env bats
# ja-hash: xxhsum -H2 compatible output and checking, chunks, errors.
load helper

# The fixture's regular files, NUL-separated, sorted, as ./relative names
# (call build_fixture first: it sets $FIX).
fixture_files() {
	(cd "$FIX" && find . -type f -print0 | LC_ALL=C sort -z)
}

# The escaped form GNU coreutils 9 uses for a name with '\', LF or CR.
escape_name() {
	local s=${1//\\/\\\\}
	s=${s//$'\n'/\\n}
	printf '%s' "${s//$'\r'/\\r}"
}

# flip_hash FILE STRING: change the first hash digit on the lines that contain STRING
flip_hash() {
	STR="$2" awk 'index($0, ENVIRON["STR"]) {
		i = substr($0, 1, 1) == "\\" ? 2 : 1
		c = substr($0, i, 1) == "0" ? "1" : "0"
		$0 = substr($0, 1, i - 1) c substr($0, i + 1)
	} { print }' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

@test "same bytes as xxhsum -H2 over the fixture tree, ordinary names" {
	build_fixture
	fixture_files | grep -zvP '[\\\n\r]' >"$T/plain0"
	[ "$(tr -cd '\0' <"$T/plain0" | wc -c)" -ge 30 ]
	cd "$FIX"
	xargs -0 xxhsum -H2 <"$T/plain0" >"$T/xxh"
	xargs -0 ja-hash <"$T/plain0" >"$T/ja"
	assert_files_equal "$T/ja" "$T/xxh"
}

@test "names with a backslash, LF or CR take the escaped form, hash as xxhsum" {
	build_fixture
	fixture_files | grep -zP '[\\\n\r]' >"$T/odd0"
	n=0
	cd "$FIX"
	while IFS= read -r -d '' f; do
		h=$(xxhsum -H2 "$f" | head -c 32)
		run_split ja-hash "$f"
		[ "$status" -eq 0 ]
		assert_eq "$output" "\\$h  $(escape_name "$f")" "$f"
		n=$((n + 1))
	done <"$T/odd0"
	[ "$n" -ge 3 ] # the fixture has a backslash, a LF and a CR name
}

@test "ja hash equals ja-hash; -j 1 equals -j 4; order is argument order" {
	build_fixture
	fixture_files >"$T/all0"
	cd "$FIX"
	xargs -0 ja-hash -j 4 <"$T/all0" >"$T/j4"
	xargs -0 ja-hash -j 1 <"$T/all0" >"$T/j1"
	xargs -0 ja hash <"$T/all0" >"$T/sub"
	assert_files_equal "$T/j1" "$T/j4"
	assert_files_equal "$T/sub" "$T/j4"
	# reversed arguments give reversed lines
	ja-hash -j 4 hello.txt empty.txt one-byte.bin >"$T/fwd"
	ja-hash -j 4 one-byte.bin empty.txt hello.txt >"$T/rev"
	assert_eq "$(tac "$T/fwd")" "$(cat "$T/rev")"
	[ "$(wc -l <"$T/fwd")" -eq 3 ]
}

@test "stdin is hashed when no FILE or FILE is -, named stdin like xxhsum" {
	run_split bash -c "printf 'hello world' | ja-hash"
	assert_eq "$output" "df8d09e93f874900a99b8775cc15b6c7  stdin"
	assert_eq "$output" "$(printf 'hello world' | xxhsum -H2)"
	printf 'abc' >"$T/abc"
	run_split bash -c "ja-hash - <'$T/abc'"
	assert_eq "$output" "06b05ab6733a618578af5f94892f3950  stdin"
	run_split bash -c ": | ja-hash"
	assert_eq "$output" "99aa06d3014798d86001c324468d497f  stdin"
}

@test "golden vector lists verify with -c from their folders" {
	for l in golden/v2023-golden.xxh128 python-tests/checksums.xxh128 fixture/expected.xxh128 \
		v2025/checksums.xxh128; do
		cd "$VEC/$(dirname "$l")"
		run_split ja-hash -c "$(basename "$l")"
		[ "$status" -eq 0 ] || { echo "$l: $stderr" >&2; return 1; }
		[ -z "$stderr" ]
		assert_eq "$(grep -c ': OK$' <<<"$output")" "$(wc -l <"$(basename "$l")")" "$l"
	done
}

@test "-c verifies a list written by xxhsum, and reports a tampered line" {
	build_fixture
	fixture_files | grep -zvP '\n' >"$T/nolf0" # xxhsum cannot write LF names parseably
	cd "$FIX"
	xargs -0 xxhsum -H2 <"$T/nolf0" >"$T/list"
	n=$(wc -l <"$T/list")
	run_split ja-hash -c "$T/list"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(grep -c ': OK$' <<<"$output")" -eq "$n" ]
	grep -q '^\\\./back\\\\slash\.txt: OK$' <<<"$output" # shown escaped
	cp "$T/list" "$T/bad"
	flip_hash "$T/bad" "  ./hello.txt"
	[ "$(diff "$T/list" "$T/bad" | grep -c '^[<>]')" -eq 2 ]
	run_split ja-hash -c "$T/bad"
	[ "$status" -eq 1 ]
	grep -qx './hello.txt: FAILED' <<<"$output"
	[ "$(grep -c ': OK$' <<<"$output")" -eq $((n - 1)) ]
	assert_eq "$stderr" "ja-hash: warning: 1 computed checksum did not match"
}

@test "-c verifies ja-hash's own list with escaped names; -q prints only failures" {
	build_fixture
	fixture_files >"$T/all0"
	cd "$FIX"
	xargs -0 ja-hash <"$T/all0" >"$T/list"
	n=$(tr -cd '\0' <"$T/all0" | wc -c)
	[ "$(wc -l <"$T/list")" -eq "$n" ] # one line per file, LF names included
	run_split ja-hash -c "$T/list"
	[ "$status" -eq 0 ]
	[ "$(grep -c ': OK$' <<<"$output")" -eq "$n" ]
	grep -qx '\\\./new\\nline\.txt: OK' <<<"$output"
	run_split ja-hash -q -c "$T/list"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# tamper with the escaped LF-name line
	cp "$T/list" "$T/good"
	flip_hash "$T/list" './new\nline.txt'
	[ "$(diff "$T/good" "$T/list" | grep -c '^[<>] \\')" -eq 2 ]
	run_split ja-hash -q -c "$T/list"
	[ "$status" -eq 1 ]
	assert_eq "$output" '\./new\nline.txt: FAILED'
}

@test "-c accepts the BSD form of xxhsum --tag, good and tampered" {
	printf 'hello world' >"$T/a.txt"
	printf 'x' >"$T/b\\c"
	cd "$T"
	xxhsum --tag -H2 a.txt >list
	printf '\\XXH128 (b\\\\c) = %s\n' "$(xxhsum -H2 'b\c' | head -c 32)" >>list
	run_split ja-hash -c list
	[ "$status" -eq 0 ]
	assert_eq "$output" $'a.txt: OK\n\\b\\\\c: OK'
	# hello world = df8d09e9...: make it 0f8d09e9...
	sed -i '1s/= df8d/= 0f8d/' list
	grep -q '^XXH128 (a.txt) = 0f8d' list
	run_split ja-hash -c list
	[ "$status" -eq 1 ]
	assert_eq "$output" $'a.txt: FAILED\n\\b\\\\c: OK'
}

@test "-c: unreadable listed file, improper lines, a list with none" {
	printf 'a' >"$T/a"
	cd "$T"
	{
		ja-hash a
		printf 'not a checksum line\n'
		printf '%s  gone\n' "$(ja-hash a | head -c 32)"
	} >list
	run_split ja-hash -c list
	[ "$status" -eq 1 ]
	assert_eq "$output" $'a: OK\ngone: FAILED open or read'
	assert_eq "$stderr" "ja-hash: gone: No such file or directory
ja-hash: warning: 1 line is improperly formatted
ja-hash: warning: 1 listed file could not be read"
	printf 'nothing here\n' >junk
	run_split ja-hash -c junk
	assert_error 2 '^ja-hash: junk: no properly formatted checksum lines found$'
	run_split ja-hash -c missing.list
	assert_error 1 '^ja-hash: missing\.list: No such file or directory$'
}

@test "missing file: one error line, the others still hashed, exit 1" {
	printf 'a' >"$T/a"
	cd "$T"
	run_split ja-hash nope a
	assert_error 1 '^ja-hash: nope: No such file or directory$'
	assert_eq "$output" "a96faf705af16834e6c632b61e964e1f  a"
}

@test "directory operand is an error like xxhsum's" {
	run_split ja-hash "$T"
	assert_error 1 ": Is a directory$"
	[ -z "$output" ]
}

@test "control characters in error messages are escaped" {
	run_split ja-hash "$T/x"$'\n'"y"$'\033'
	assert_error 1 'x\\ny\\x1b: No such file or directory$'
}

@test "usage errors exit 2" {
	run_split ja-hash -x
	assert_error 2 "unknown option '-x'"
	run_split ja-hash -j 0 /dev/null
	assert_error 2 '-j'
	run_split ja-hash -j abc /dev/null
	assert_error 2 '-j'
	run_split ja-hash --jobs
	assert_error 2 'needs an argument'
}

@test "--chunks: the two v2025 chunk hashes of 300 MiB of zeros" {
	truncate -s 314572800 "$T/big.bin"
	cd "$T"
	run_split ja-hash --chunks big.bin
	[ "$status" -eq 0 ]
	assert_eq "$output" "e7e6e2cfd0fb193c998e510addb2da2d  0/2  big.bin
9872ce5eb2ae11905d6348f8e683f04b  1/2  big.bin"
	run_split ja-hash --chunks -j 1 big.bin
	assert_eq "$output" "e7e6e2cfd0fb193c998e510addb2da2d  0/2  big.bin
9872ce5eb2ae11905d6348f8e683f04b  1/2  big.bin"
}

@test "--chunks: exactly 2^28 bytes is one whole-file hash; small files 0/1" {
	truncate -s 268435456 "$T/c.bin"
	printf 'hello world' >"$T/s.txt"
	cd "$T"
	run_split ja-hash --chunks c.bin s.txt
	[ "$status" -eq 0 ]
	assert_eq "$output" "e7e6e2cfd0fb193c998e510addb2da2d  0/1  c.bin
df8d09e93f874900a99b8775cc15b6c7  0/1  s.txt"
	# the 0/1 hash is the whole-file hash
	assert_eq "$(ja-hash c.bin)" "e7e6e2cfd0fb193c998e510addb2da2d  c.bin"
}

@test "-c --chunks verifies chunk lists, good and tampered" {
	truncate -s 314572800 "$T/big.bin"
	printf 'hello world' >"$T/s.txt"
	cd "$T"
	ja-hash --chunks big.bin s.txt >list
	run_split ja-hash -c --chunks list
	[ "$status" -eq 0 ]
	assert_eq "$output" "big.bin [0/2]: OK
big.bin [1/2]: OK
s.txt [0/1]: OK"
	sed -i '2s/^9872/0000/' list
	run_split ja-hash -c --chunks list
	[ "$status" -eq 1 ]
	assert_eq "$output" "big.bin [0/2]: OK
big.bin [1/2]: FAILED
s.txt [0/1]: OK"
	# a chunk count that does not match the file fails too
	printf 'e7e6e2cfd0fb193c998e510addb2da2d  0/3  big.bin\n' >list3
	run_split ja-hash -c --chunks list3
	[ "$status" -eq 1 ]
	assert_eq "$output" "big.bin [0/3]: FAILED"
}

@test "a write error on stdout is an error" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf 'a' >"$T/a"
	run_split bash -c "ja-hash '$T/a' >/dev/full"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"ja-hash: write error"* ]]
}

@test "usage line equals the man page SYNOPSIS" {
	syn=$(mandoc -Tascii -Owidth=400 "$JA_ROOT/man/ja-hash.1" | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' '  ' |
		sed 's/^ *//; s/ *$//')
	assert_eq "$syn" "$(ja-hash --help | head -1 | sed 's/^usage: //')"
	assert_eq "$syn" "ja-hash [-c] [--chunks] [-j N] [FILE ...]"
}
