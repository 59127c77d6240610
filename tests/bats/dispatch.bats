#!/usr/bin/env bats
# The multicall dispatcher and the conventions every applet shares (CLI.md "Everywhere").
load helper

@test "ja --list prints one applet per line, and each has a ja-NAME link" {
	run ja --list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -ge 2 ]
	for a in "${lines[@]}"; do
		[[ "$a" =~ ^[a-z0-9]+$ ]]
		[ -L "$JA_ROOT/ja-$a" ]
	done
	printf '%s\n' "${lines[@]}" | grep -qx hash
	printf '%s\n' "${lines[@]}" | grep -qx merge
}

@test "ja alone prints usage with the applet list, exit 0" {
	run ja
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == usage:* ]]
	for a in $(ja --list); do
		[[ "$output" == *"  $a "* ]]
	done
}

@test "ja --version and ja-APPLET --version" {
	run ja --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ja\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run ja-merge --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ja-merge\ \(ja\)\ [0-9] ]]
}

@test "unknown applet: exit 127 and the contract's message" {
	run_split ja frob
	[ "$status" -eq 127 ]
	assert_eq "$stderr" "ja: 'frob' is not a ja applet"
	[ -z "$output" ]
	ln -s "$JA_ROOT/ja" "$T/ja-frob"
	run_split "$T/ja-frob" x
	[ "$status" -eq 127 ]
	assert_eq "$stderr" "ja: 'frob' is not a ja applet"
	run_split ja help frob
	[ "$status" -eq 127 ]
}

@test "ja APPLET and ja-APPLET are the same command" {
	printf 'hello world' > "$T/f"
	a=$(ja hash "$T/f")
	b=$(ja-hash "$T/f")
	assert_eq "$a" "$b"
	a=$(ja merge "$VEC/golden/v2023-golden.manifest" | xxhsum -H2 -)
	b=$(ja-merge "$VEC/golden/v2023-golden.manifest" | xxhsum -H2 -)
	assert_eq "$a" "$b"
	# called through a symlink in another directory, and through a hard link
	ln -s "$JA_ROOT/ja" "$T/ja-merge"
	c=$("$T/ja-merge" "$VEC/golden/v2023-golden.manifest" | xxhsum -H2 -)
	assert_eq "$c" "$a"
}

@test "ja help APPLET equals ja-APPLET --help" {
	for a in $(ja --list); do
		x=$(ja help "$a")
		y=$(ja-"$a" --help)
		assert_eq "$x" "$y" "$a"
		[[ "$x" == "usage: ja-$a "* ]]
	done
}

@test "every applet: -h and --help on stdout with exit 0" {
	for a in $(ja --list); do
		run_split ja-"$a" -h
		[ "$status" -eq 0 ]
		[[ "$output" == "usage: ja-$a"* ]]
		[ -z "$stderr" ]
	done
}

@test "bad option: one-line error naming the applet, exit 2" {
	for a in $(ja --list); do
		run_split ja-"$a" --no-such-option
		assert_error 2 "^ja-$a: unknown option '--no-such-option'"
		run_split ja-"$a" -Z
		assert_error 2 "^ja-$a: unknown option '-Z'"
	done
	run_split ja --bogus
	[ "$status" -eq 2 ]
}

@test "an option that needs an argument, without one: exit 2" {
	run_split ja-merge --format
	assert_error 2 "needs an argument"
	run_split ja-merge --format=v1999 "$VEC/golden/v2023-golden.manifest"
	assert_error 2 "unknown format"
	run_split ja-merge --help=x
	assert_error 2 "takes no argument"
}

@test "options and operands mix; -- ends options" {
	m="$VEC/golden/v2023-golden.manifest"
	a=$(ja-merge "$m" -o "$T/a" && cat "$T/a")
	b=$(ja-merge -o "$T/b" "$m" && cat "$T/b")
	assert_eq "$a" "$b"
	cp "$m" "$T/-m"
	(cd "$T" && ja-merge -- -m > out)
	assert_files_equal "$T/out" "$m"
}

@test "a full disk on stdout is an error; a closed pipe is silent" {
	run bash -c 'ja-merge "$1" > /dev/full' _ "$VEC/fixture/expected-v2023.manifest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ja-merge: write error"* ]]
	run bash -c 'ja-hash "$1" > /dev/full' _ "$VEC/fixture/expected-v2023.manifest"
	[ "$status" -ne 0 ]
	[[ "$output" == *"ja-hash:"* ]]
	# EPIPE: no message on stderr
	run bash -c 'ja --list 2>"$1" | head -c0; cat "$1"' _ "$T/err"
	[ -z "$output" ]
	run bash -c 'ja-merge "$1" 2>"$2" | head -c 1 >/dev/null; cat "$2"' _ "$VEC/fixture/expected-v2023.manifest" "$T/err"
	[ -z "$output" ]
}

@test "-q silences warnings but not errors; -v is accepted everywhere" {
	run_split ja-merge -q "$VEC/python-tests/manifest_bados.json"
	assert_error 2 "manifestVersion"
	for a in $(ja --list); do
		run_split ja-"$a" -v --help
		[ "$status" -eq 0 ]
	done
}
