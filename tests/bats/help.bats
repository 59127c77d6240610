#!/usr/bin/env bats
# Help text and man pages cannot drift: the usage line of every applet equals the
# SYNOPSIS of its man page, and every applet option is documented there.
load helper

synopsis() { # render a man page's SYNOPSIS as one whitespace-normalised line
	mandoc -Tascii -Owidth=400 "$1" | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' '  ' |
		sed 's/^ *//; s/ *$//'
}

@test "every applet has a man page whose SYNOPSIS equals its usage line" {
	for a in $(ja --list); do
		[ -f "$JA_ROOT/man/ja-$a.1" ] || { echo "no man/ja-$a.1" >&2; return 1; }
		usage=$(ja-"$a" --help | head -1 | sed 's/^usage: //')
		syn=$(synopsis "$JA_ROOT/man/ja-$a.1")
		assert_eq "$syn" "$usage" "ja-$a"
	done
}

@test "every long option of every applet appears in its man page" {
	for a in $(ja --list); do
		page=$(mandoc -Tascii "$JA_ROOT/man/ja-$a.1" | col -b)
		for o in $(ja-"$a" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
			case "$o" in --help | --version | --quiet | --verbose) continue ;; esac
			grep -qF -- "$o" <<<"$page" || { echo "ja-$a: $o not in man page" >&2; return 1; }
		done
	done
}

@test "man pages are mandoc -Tlint clean" {
	run mandoc -Tlint -Wwarning "$JA_ROOT"/man/*.1 "$JA_ROOT"/man/*.5
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "ja(1) and ja-manifest(5) exist and list every applet" {
	[ -f "$JA_ROOT/man/ja.1" ]
	[ -f "$JA_ROOT/man/ja-manifest.5" ]
	page=$(mandoc -Tascii "$JA_ROOT/man/ja.1" | col -b)
	for a in $(ja --list); do
		grep -q "ja-$a" <<<"$page" || { echo "ja.1 misses ja-$a" >&2; return 1; }
	done
}

@test "help lists the common options and the applet's own" {
	run ja-merge --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"-o, --output FILE"* ]]
	[[ "$output" == *"--format FMT"* ]]
	[[ "$output" == *"-h, --help"* ]]
	[[ "$output" == *"-q, --quiet"* ]]
	[[ "$output" == *"-v, --verbose"* ]]
}
