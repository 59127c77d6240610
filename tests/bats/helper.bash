# helper.bash - loaded by every .bats file: `load helper`.
# The binary under test is the ./ja of the checkout (built by make); the applet links
# ja-* sit beside it, so PATH gets the repo root first.
JA_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
VEC="$JA_ROOT/tests/vectors"
export PATH="$JA_ROOT:$PATH"
export LC_ALL=C.UTF-8
unset JA_PROGRESS JA_STORE

setup() {
	T="$BATS_TEST_TMPDIR"
	export XDG_CACHE_HOME="$T/cache" XDG_DATA_HOME="$T/data"
	if declare -F local_setup >/dev/null; then local_setup; fi
}

# Build the fixture tree once per .bats file into $FIX (and its outside dir).
build_fixture() {
	FIX="$BATS_FILE_TMPDIR/fixture-src"
	if [ ! -d "$FIX" ]; then
		bash "$VEC/fixture/make-fixture.sh" "$FIX" >/dev/null
	fi
}

# assert_eq ACTUAL EXPECTED [what]
assert_eq() {
	if [ "$1" != "$2" ]; then
		printf 'expected: %q\nactual:   %q\n' "$2" "$1" >&2
		[ -n "${3:-}" ] && echo "($3)" >&2
		return 1
	fi
}

# assert_files_equal A B: byte-identical files
assert_files_equal() {
	if ! cmp -s "$1" "$2"; then
		echo "files differ: $1 $2" >&2
		cmp "$1" "$2" >&2 || true
		return 1
	fi
}

# run_split CMD...: like bats `run` but keeps stdout and stderr apart:
# $status, $output (stdout), $stderr
run_split() {
	local errf="$BATS_TEST_TMPDIR/.stderr.$$"
	status=0
	output="$("$@" 2>"$errf")" || status=$?
	stderr="$(cat "$errf")"
	rm -f "$errf"
}

# assert_one_line_error STATUS PATTERN: exit status and a single stderr line matching PATTERN
assert_error() {
	[ "$status" -eq "$1" ] || { echo "status $status, expected $1; stderr: $stderr" >&2; return 1; }
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ] || { echo "not one line: $stderr" >&2; return 1; }
	printf '%s\n' "$stderr" | grep -qE -- "$2" || { echo "stderr '$stderr' !~ '$2'" >&2; return 1; }
}
