#!/usr/bin/env bash
# tests/run.sh UNIT_BIN... - run C unit tests, bats files and the man-page lint; print a
# TAP stream, then "N passed, N failed" (exit 1 on any failure).  Skipped tests are
# reported as skipped and counted in neither.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # read TAP on stdin, echo it, tally
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"ok "*"# skip"* | "ok "*"# SKIP"*) skip=$((skip + 1)) ;;
		"ok "*) pass=$((pass + 1)) ;;
		"not ok "*) fail=$((fail + 1)) ;;
		esac
	done
}

for t in "$@"; do
	echo "# unit: $t"
	"$t" >"$log" 2>&1
	rc=$?
	count <"$log"
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
		echo "not ok - $t exited $rc"
		fail=$((fail + 1))
	fi
done

echo "# man-page lint"
if out=$(mandoc -Tlint -Wwarning man/*.1 man/*.5 2>&1) && [ -z "$out" ]; then
	echo "ok - mandoc -Tlint man/*"; pass=$((pass + 1))
else
	printf '%s\n' "$out" | sed 's/^/# /'; echo "not ok - mandoc -Tlint man/*"; fail=$((fail + 1))
fi

files=${BATS_FILES:-$(ls tests/bats/*.bats)}
echo "# bats: $files"
bats --tap $files >"$log" 2>&1
rc=$?
count <"$log"
if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
	echo "not ok - bats exited $rc"
	fail=$((fail + 1))
fi

echo "$pass passed, $fail failed${skip:+, $skip skipped}"
[ "$fail" -eq 0 ]
