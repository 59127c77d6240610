#!/usr/bin/env bats
# Hostile manifests (DESIGN.md "Every input is hostile"): each is refused quickly with one
# clear line on stderr and exit 2 - no crash, no hang, no huge allocation.
load helper

# run_h CMD...: run_split under a 20 s timeout (status 124 = too slow)
run_h() { run_split timeout 20 "$@"; }

# no_output: nothing on stdout
no_output() { [ -z "$output" ] || { echo "unexpected stdout: ${output:0:200}" >&2; return 1; }; }

# short_error: the error line is short enough to read
short_error() { [ "${#stderr}" -lt 600 ] || { echo "stderr is ${#stderr} bytes" >&2; return 1; }; }

HEAD='{"hashAlg":"xxh128","manifestVersion":"2023-03-03","paths":['
TAIL='],"totalSize":1}'

@test "64 MiB of '[' (file and stdin)" {
	head -c 67108864 /dev/zero | tr '\0' '[' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: not a manifest \(found an array, expected an object\)$'
	no_output
	run_h sh -c 'cat "$1" | ja-merge' sh "$T/m.json"
	assert_error 2 '^ja-merge: stdin: not a manifest \(found an array, expected an object\)$'
	{ printf '{"x":'; cat "$T/m.json"; } > "$T/n.json"
	run_h ja-merge "$T/n.json"
	assert_error 2 'n\.json: line 1, column 69: nesting deeper than 64 levels$'
}

@test "deep nesting of objects and arrays in an unknown key and in an entry" {
	python3 -c 'import sys; sys.stdout.write("{\"x\":" + "{\"a\":" * 100000 + "1" + "}" * 100001)' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: line 1, column 321: nesting deeper than 64 levels$'
	python3 -c 'import sys; sys.stdout.write(sys.argv[1] + "{\"hash\":\"a\",\"mtime\":1,\"path\":\"x\",\"size\":1,\"q\":" + "[" * 5000 + "]" * 5000 + "}" + sys.argv[2])' "$HEAD" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: paths\[0\]: line 1, column [0-9]+: nesting deeper than 64 levels$'
	# 64 levels are fine
	python3 -c 'import sys; sys.stdout.write(sys.argv[1] + "{\"hash\":\"a\",\"mtime\":1,\"path\":\"x\",\"size\":1,\"q\":" + "[" * 61 + "]" * 61 + "}" + sys.argv[2])' "$HEAD" "$TAIL" > "$T/ok.json"
	run_h ja-merge "$T/ok.json"
	[ "$status" -eq 0 ]
}

@test "a 10 MB string: fine as a path, refused with a short message elsewhere" {
	python3 -c 'import sys; sys.stdout.write(sys.argv[1] + "{\"hash\":\"a\",\"mtime\":1,\"path\":\"" + "x" * 10000000 + "\",\"size\":1}" + sys.argv[2])' "$HEAD" "$TAIL" > "$T/path.json"
	timeout 20 ja-merge "$T/path.json" > "$T/out"
	assert_files_equal "$T/out" "$T/path.json" # it was canonical already
	python3 -c 'import sys; sys.stdout.write(sys.argv[1] + "{\"hash\":\"" + "a" * 10000000 + "-\",\"mtime\":1,\"path\":\"x\",\"size\":1}" + sys.argv[2])' "$HEAD" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: paths\[0\]\.hash: not an alphanumeric hash$'
	python3 -c 'import sys; sys.stdout.write("{\"hashAlg\":\"xxh128\",\"manifestVersion\":\"" + "\\n" * 5000000 + "\",\"paths\":[],\"totalSize\":1}")' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: manifestVersion: unknown manifest version "(\\n)+\.\.\." \(ja reads'
	short_error
	python3 -c 'import sys; sys.stdout.write("{\"" + "k" * 10000000)' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: line 1, column 10000003: unterminated string$'
	python3 -c 'import sys; k = "k" * 10000000; sys.stdout.write("{\"%s\":1,\"%s\":2}" % (k, k))' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: line 1, column [0-9]+: duplicate key "k+(\.\.\.)?"$'
	short_error
}

@test "200,000 duplicate keys in one object, and 200,000 distinct ones" {
	python3 -c 'import sys; sys.stdout.write("{" + ",".join(["\"a\":1"] * 200000) + "}")' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: line 1, column 11: duplicate key "a"$'
	python3 -c 'import sys; sys.stdout.write(sys.argv[1] + "{\"hash\":\"a\",\"mtime\":1,\"path\":\"x\",\"size\":1," + ",".join("\"k%d\":%d" % (i, i) for i in range(200000)) + "}" + sys.argv[2])' "$HEAD" "$TAIL" > "$T/ok.json"
	run_h ja-merge "$T/ok.json"
	[ "$status" -eq 0 ]
	assert_eq "$output" "$HEAD"'{"hash":"a","mtime":1,"path":"x","size":1}'"$TAIL"
	python3 -c 'import sys; sys.stdout.write(sys.argv[1] + "{\"hash\":\"a\",\"mtime\":1,\"path\":\"x\",\"size\":1," + ",".join("\"k%d\":%d" % (i, i) for i in range(200000)) + ",\"k7\":0}" + sys.argv[2])' "$HEAD" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: paths\[0\]: line 1, column [0-9]+: duplicate key "k7"$'
}

@test "NaN, Infinity and other non-JSON numbers" {
	for v in NaN Infinity -Infinity +1 .5 0x10 1. 01 -; do
		printf '%s{"hash":"a","mtime":1,"path":"x","size":%s}%s' "$HEAD" "$v" "$TAIL" > "$T/m.json"
		run_h ja-merge "$T/m.json"
		assert_error 2 'm\.json: paths\[0\](\.size)?: line 1, column [0-9]+: '
	done
	printf '%s{"hash":"a","mtime":1,"path":"x","size":1}],"totalSize":NaN}' "$HEAD" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 "m\\.json: totalSize: line 1, column [0-9]+: expected an integer, found 'N'$"
}

@test "numbers with 400 digits" {
	big=$(printf '9%.0s' $(seq 400))
	printf '%s{"hash":"a","mtime":1,"path":"x","size":%s}%s' "$HEAD" "$big" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: paths\[0\]\.size: integer out of range$'
	printf '%s{"hash":"a","mtime":-%s,"path":"x","size":1}%s' "$HEAD" "$big" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: paths\[0\]\.mtime: integer out of range$'
	printf '%s{"hash":"a","mtime":1,"path":"x","size":1}],"totalSize":%s.%se-%s}' "$HEAD" "$big" "$big" "$big" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: totalSize: not an integer$'
	# in an unknown key a long number is just skipped
	printf '%s{"hash":"a","mtime":1,"path":"x","size":1,"q":%s.%se+%s}%s' "$HEAD" "$big" "$big" "$big" "$TAIL" > "$T/ok.json"
	run_h ja-merge "$T/ok.json"
	[ "$status" -eq 0 ]
}

@test "invalid UTF-8 in paths" {
	for bytes in '\xff' '\xc0\x80' '\xe0\x80\xaf' '\xed\xa0\x80' '\xed\xbf\xbf' '\xf4\x90\x80\x80' '\xf8\x88\x80\x80\x80' '\xc3' '\xe2\x82' 'a\x80b'; do
		printf "%s{\"hash\":\"a\",\"mtime\":1,\"path\":\"x$bytes\",\"size\":1}%s" "$HEAD" "$TAIL" > "$T/m.json"
		run_h ja-merge "$T/m.json"
		assert_error 2 'm\.json: paths\[0\]\.path: line 1, column 9[0-9]: invalid UTF-8 in string$'
	done
	# also in a key and in v2025 names
	printf '{"\xff":1}' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: line 1, column 3: invalid UTF-8 in string$'
	printf '{"dirs":[{"name":"d\xed\xa0\x80"}],"files":[],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: dirs\[0\]\.name: line 1, column [0-9]+: invalid UTF-8 in string$'
}

@test "lone surrogates, NUL and raw control characters in strings" {
	for s in '\\ud83d' '\\ude0a' 'a\\ud83dz' '\\ude00\\ud83d' '\\ud83d\\u0041' '\\ud83d\\ud83d'; do
		printf "%s{\"hash\":\"a\",\"mtime\":1,\"path\":\"$s\",\"size\":1}%s" "$HEAD" "$TAIL" > "$T/m.json"
		run_h ja-merge "$T/m.json"
		assert_error 2 'm\.json: paths\[0\]\.path: line 1, column [0-9]+: lone surrogate \\ud[89a-f][0-9a-f]{2} in string$'
	done
	printf '%s{"hash":"a","mtime":1,"path":"a\\u0000b","size":1}%s' "$HEAD" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: paths\[0\]\.path: line 1, column [0-9]+: NUL character \(\\u0000\) in string$'
	printf '%s{"hash":"a","mtime":1,"path":"a\tb","size":1}%s' "$HEAD" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: paths\[0\]\.path: line 1, column [0-9]+: control character 0x09 in string \(must be escaped\)$'
	printf '%s{"hash":"a","mtime":1,"path":"x","size":1}%s\0' "$HEAD" "$TAIL" > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: line 1, column [0-9]+: unexpected data after the JSON value$'
	printf '\0' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 "m\\.json: line 1, column 1: expected an object, found byte 0x00$"
}

@test "JA_MAX_MANIFEST_BYTES caps the input (file and stdin)" {
	f="$VEC/fixture/expected-v2023.manifest"
	JA_MAX_MANIFEST_BYTES=1000 run_h ja-merge "$f"
	assert_error 2 'expected-v2023\.manifest: too large \(4043 bytes, limit 1000\)$'
	no_output
	run_h sh -c 'cat "$1" | JA_MAX_MANIFEST_BYTES=1000 ja-merge' sh "$f"
	assert_error 2 '^ja-merge: stdin: too large \(limit 1000 bytes\)$'
	run_h sh -c 'cat "$1" | JA_MAX_MANIFEST_BYTES=1000 ja-merge - "$1"' sh "$f"
	assert_error 2 'too large'
	# exactly at the limit is fine
	JA_MAX_MANIFEST_BYTES=4043 run_h ja-merge "$f"
	[ "$status" -eq 0 ]
	run_h sh -c 'cat "$1" | JA_MAX_MANIFEST_BYTES=4043 ja-merge' sh "$f"
	[ "$status" -eq 0 ]
}

@test "JA_MAX_MANIFEST_BYTES caps a large piped input too" {
	# 64 MiB of whitespace through a pipe, over a 1 MiB limit (reads must stop at the cap)
	run_h sh -c 'head -c 67108864 /dev/zero | tr "\0" " " | JA_MAX_MANIFEST_BYTES=1048576 ja-merge'
	assert_error 2 '^ja-merge: stdin: too large \(limit 1048576 bytes\)$'
	run_h sh -c 'head -c 1048577 /dev/zero | tr "\0" " " | JA_MAX_MANIFEST_BYTES=1048576 ja-merge'
	assert_error 2 '^ja-merge: stdin: too large \(limit 1048576 bytes\)$'
	run_h sh -c 'head -c 1048576 /dev/zero | tr "\0" " " | JA_MAX_MANIFEST_BYTES=1048576 ja-merge'
	assert_error 2 '^ja-merge: stdin: line 1, column 1048577: unexpected end of input'
}

@test "64 MiB of whitespace, and 1 GiB limit respected by the default" {
	head -c 67108864 /dev/zero | tr '\0' ' ' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: line 1, column 67108865: unexpected end of input \(expected an object\)$'
}

@test "\$N/ chains cannot expand quadratically; names have at most 4096 levels" {
	# 20000 nested dirs d/d/d/...: 390 KB that would expand to 400 MB of names
	python3 -c '
import sys
n = 20000
d = ["{\"name\":\"d\"}"] + ["{\"name\":\"$%d/d\"}" % i for i in range(n - 1)]
sys.stdout.write("{\"dirs\":[%s],\"files\":[],\"hashAlg\":\"xxh128\",\"specificationVersion\":\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}" % ",".join(d))' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: dirs\[4097\]\.name: "d/d/d/d.*\.\.\.": more than 4096 directory levels$'
	short_error
	# long names in a chain: the expansion budget runs out first
	python3 -c '
import sys
n, w = 3000, "y" * 1000
d = ["{\"name\":\"%s\"}" % w] + ["{\"name\":\"$%d/%s\"}" % (i, w) for i in range(n - 1)]
sys.stdout.write("{\"dirs\":[%s],\"files\":[],\"hashAlg\":\"xxh128\",\"specificationVersion\":\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}" % ",".join(d))' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: dirs\[[0-9]+\]\.name: \$N/ names expand to more than [0-9]+ bytes$'
	# many files under one long directory name
	python3 -c '
import sys
f = ["{\"name\":\"$0/%d\",\"hash\":\"a\",\"size\":1,\"mtime\":1}" % i for i in range(100000)]
sys.stdout.write("{\"dirs\":[{\"name\":\"%s\"}],\"files\":[%s],\"hashAlg\":\"xxh128\",\"specificationVersion\":\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}" % ("z" * 100000, ",".join(f)))' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: files\[[0-9]+\]\.name: \$N/ names expand to more than [0-9]+ bytes$'
	# a G3 literal path with 100000 levels
	python3 -c 'import sys; sys.stdout.write("{\"dirs\":[],\"files\":[{\"path\":\"" + "a/" * 100000 + "f\",\"hash\":\"a\",\"size\":1,\"mtime\":1}],\"hashAlg\":\"xxh128\",\"specificationVersion\":\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}")' > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: files\[0\]\.name: "a/a/a.*\.\.\.": more than 4096 directory levels$'
	short_error
	# and a v2023 path like that cannot become v2025
	python3 -c 'import sys; sys.stdout.write(sys.argv[1] + "{\"hash\":\"a\",\"mtime\":1,\"path\":\"" + "a/" * 100000 + "f\",\"size\":1}" + sys.argv[2])' "$HEAD" "$TAIL" > "$T/m.json"
	run_h ja-merge --format v2025 "$T/m.json"
	assert_error 2 '^ja-merge: "a/a/a.*\.\.\.": more than 4096 directory levels$'
}

@test "a large valid manifest (200,000 entries) is fast, and so is a deep valid tree" {
	python3 -c '
import sys
e = ",".join("{\"hash\":\"%032x\",\"mtime\":%d,\"path\":\"d%d/sub%d/f%d.bin\",\"size\":%d}" % (i * 7919, 1700000000000000 + i, i % 100, i % 37, i, i) for i in range(200000))
sys.stdout.write(sys.argv[1] + e + sys.argv[2])' "$HEAD" "$TAIL" > "$T/big.json"
	run timeout 20 sh -c 'ja-merge --format v2025 "$1" | ja-merge --format v2023 | xxhsum -H2' sh "$T/big.json"
	[ "$status" -eq 0 ]
	canon=$(timeout 20 ja-merge "$T/big.json" | xxhsum -H2)
	assert_eq "${output%% *}" "${canon%% *}"
	# 4096 levels of dirs, then files at the bottom
	python3 -c '
import sys
d = ["{\"name\":\"d\"}"] + ["{\"name\":\"$%d/d\"}" % i for i in range(4095)]
f = ["{\"name\":\"$4095/f%d\",\"hash\":\"a\",\"size\":1,\"mtime\":1}" % i for i in range(1000)]
sys.stdout.write("{\"dirs\":[%s],\"files\":[%s],\"hashAlg\":\"xxh128\",\"specificationVersion\":\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}" % (",".join(d), ",".join(f)))' > "$T/deep.json"
	run_h ja-merge "$T/deep.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"totalSize":1000}' ]]
}

@test "garbage, truncation and wrong shapes never crash" {
	f="$VEC/v2025/diff.manifest"
	size=$(wc -c < "$f")
	for n in 0 1 2 10 100 500 $((size - 2)) $((size - 1)); do
		head -c "$n" "$f" > "$T/m.json"
		run_h ja-merge "$T/m.json"
		[ "$status" -eq 2 ] || { echo "prefix $n: status $status $stderr" >&2; return 1; }
		[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
	done
	head -c 100000 /dev/urandom > "$T/m.json"
	run_h ja-merge "$T/m.json"
	assert_error 2 'm\.json: '
	for doc in '{"hashAlg":"xxh128","manifestVersion":"2023-03-03","paths":{"a":1},"totalSize":1}' \
		'{"hashAlg":["xxh128"],"manifestVersion":"2023-03-03","paths":[],"totalSize":1}' \
		'{"dirs":"x","files":[],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}' \
		'{"dirs":[[]],"files":[],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}' \
		'{"dirs":[],"files":[{"name":"f","chunkhashes":[1],"size":300000000,"mtime":1}],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}' \
		'{"dirs":[],"files":[{"name":"f","chunkhashes":"ab","size":300000000,"mtime":1}],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}' \
		'{"dirs":[],"files":[{"name":"l","symlink":{"name":{"x":1}}}],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}' \
		'{"dirs":[],"files":[],"paths":[],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0}' \
		'{"dirs":[],"files":[],"hashAlg":"xxh128","specificationVersion":"relative-manifest-snapshot-beta-2025-12","totalSize":0,"parentManifestHash":7}' \
		'{"dirs":[],"files":[{"name":"f","hash":"a","size":1,"mtime":1,"delete":"yes"}],"hashAlg":"xxh128","specificationVersion":"relative-manifest-diff-beta-2025-12","totalSize":0}' \
		'{"dirs":[],"files":[],"hashAlg":"xxh128","specificationVersion":"relative-manifest-diff-beta-2025-12","totalSize":0,"fileChunkSizeBytes":1}' \
		'{"dirs":[],"files":[],"hashAlg":"xxh128","specificationVersion":"","totalSize":0}' \
		'{"manifestVersion":null,"hashAlg":"xxh128","paths":[],"totalSize":0}' \
		'"manifestVersion"' 'null' '1' '[' '{' '{"' '{"a"' '{"a":' '{"a":1' '{"a":1,' '{"a":tru}' '{"a":nul}' '{"a":"\u12"}'; do
		printf '%s' "$doc" > "$T/m.json"
		run_h ja-merge "$T/m.json"
		[ "$status" -eq 2 ] || { echo "$doc: status $status $stderr" >&2; return 1; }
		[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ] || { echo "$doc: $stderr" >&2; return 1; }
		[[ "$stderr" == "ja-merge: "*"m.json: "* ]]
		no_output
	done
}
