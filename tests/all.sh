#!/usr/bin/env bash
# tests/all.sh - the whole test suite, as CI runs it:
#   dependencies, build, unit + bats + man lint, the same again under ASan/UBSan,
#   every fuzz target for FUZZ_SECONDS (default 60), and the style check.
# Ends with one line "N passed, N failed" for the whole run; exit 1 on any failure.
set -u
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=$(nproc 2>/dev/null || echo 2)
pass=0 fail=0 skip=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

step() { # step NAME CMD... : a build/check step counted as one test
	local name=$1
	shift
	if "$@" >"$out" 2>&1; then
		echo "ok - $name"
		pass=$((pass + 1))
	else
		tail -40 "$out" | sed 's/^/# /'
		echo "not ok - $name"
		fail=$((fail + 1))
	fi
}

suite() { # suite NAME CMD... : a test run ending in "N passed, N failed[, N skipped]"
	local name=$1 last p f s
	shift
	echo "# === $name"
	"$@" 2>&1 | tee "$out" | grep -E '^(not ok|#)' | head -200
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
	if [ -z "$last" ]; then
		echo "not ok - $name: no result line"
		fail=$((fail + 1))
		return
	fi
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$last")
	f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$last")
	s=$(sed -nE 's/.*, ([0-9]+) skipped.*/\1/p' <<<"$last")
	echo "# $name: $last"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + ${s:-0}))
}

step "dependencies installed" scripts/deps.sh
step "build (-Wall -Wextra -Werror)" make -j"$JOBS"
suite "tests" make -s check
step "build with ASan+UBSan" make -j"$JOBS" SANITIZE=1
suite "tests under ASan+UBSan" env ASAN_OPTIONS=detect_leaks=1 make -s SANITIZE=1 check
step "restore the normal build" make -j"$JOBS"
for f in tests/fuzz/*_fuzz.c; do
	[ -e "$f" ] || continue
	t=$(basename "$f" .c)
	step "fuzz $t for ${FUZZ_SECONDS}s" make -s fuzz FUZZ_TARGETS="$t" FUZZ_SECONDS="$FUZZ_SECONDS"
done
step "clang-format clean" make -s check-style

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
