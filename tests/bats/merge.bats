#!/usr/bin/env bats
# ja-merge: the canonical formatter, the golden vectors, decode validation, v2025
# generations, merge/compose and --format (CLI.md "ja-merge", FORMATS §1, §2, §7.4, §7.5).
load helper

V25="$VEC/v2025"
GOLDEN=(
	"$VEC/python-tests/manifest_v2023_03_03.json"
	"$VEC/golden/v2023-golden.manifest"
	"$VEC/fixture/expected-v2023.manifest"
	"$VEC/v2025/snapshot.manifest"
	"$VEC/v2025/diff.manifest"
	"$VEC/v2025/expected-composed.manifest"
	"$VEC/v2025/absolute-snapshot.manifest"
	"$VEC/v2025/sort-and-escape.manifest"
)

# v23 ENTRIES: a v2023 document (totalSize 1) with the given paths entries ('' = ")
v23() {
	printf '{"hashAlg":"xxh128","manifestVersion":"2023-03-03","paths":[%s],"totalSize":1}' \
		"${1//\'/\"}"
}
# v25 snapshot|diff DIRS FILES: a relative G2 document
v25() {
	local parent=
	[ "$1" = diff ] && parent='"parentManifestHash":"p0",'
	printf '{"dirs":[%s],"files":[%s],"hashAlg":"xxh128",%s"specificationVersion":"relative-manifest-%s-beta-2025-12","totalSize":0}' \
		"${2//\'/\"}" "${3//\'/\"}" "$parent" "$1"
}
# q TEXT: TEXT with ' turned into "
q() { printf '%s' "${1//\'/\"}"; }

# shuffle IN OUT [ascii]: re-serialise IN with its paths/files in random order, indented,
# keys unsorted; non-ASCII characters raw unless "ascii" is given
shuffle() {
	python3 - "$1" "$2" "${3:-raw}" <<'EOF'
import json, random, sys
src, dst, mode = sys.argv[1:4]
doc = json.load(open(src, encoding="utf-8"))
key = "paths" if "paths" in doc else "files"
random.seed(len(doc[key]))
for _ in range(3):
    prev = list(doc[key])
    random.shuffle(doc[key])
    if doc[key] != prev or len(prev) < 2:
        break
items = list(doc.items())
random.shuffle(items)
with open(dst, "w", encoding="utf-8") as f:
    f.write(json.dumps(dict(items), indent=2, ensure_ascii=(mode == "ascii")) + "\n")
EOF
}

# ---- golden vectors ------------------------------------------------------------------

@test "every golden vector is reproduced byte for byte (no trailing newline)" {
	for f in "${GOLDEN[@]}"; do
		run_split ja-merge "$f"
		[ "$status" -eq 0 ] || { echo "$f: $stderr" >&2; return 1; }
		[ -z "$stderr" ]
		ja-merge "$f" > "$T/out"
		assert_files_equal "$T/out" "$f"
		[ "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" = "}" ]
	done
}

@test "ja merge and ja-merge are the same; stdin via '-' and via no operand" {
	f="$VEC/golden/v2023-golden.manifest"
	ja merge "$f" > "$T/a"
	ja-merge - < "$f" > "$T/b"
	ja-merge < "$f" > "$T/c"
	cat "$f" | ja-merge > "$T/d"
	for x in a b c d; do assert_files_equal "$T/$x" "$f"; done
}

@test "golden vectors after shuffling paths/files, re-indenting and reordering keys" {
	for f in "${GOLDEN[@]}"; do
		for mode in raw ascii; do
			shuffle "$f" "$T/shuffled.json" "$mode"
			if cmp -s "$T/shuffled.json" "$f"; then echo "not shuffled: $f" >&2; return 1; fi
			ja-merge "$T/shuffled.json" > "$T/out"
			assert_files_equal "$T/out" "$f"
		done
	done
}

@test "the xxh128 of every output equals the checksum files" {
	for sums in "$VEC/python-tests/checksums.xxh128" "$VEC/golden/v2023-golden.xxh128" \
		"$VEC/fixture/expected.xxh128" "$V25/checksums.xxh128"; do
		dir=$(dirname "$sums")
		n=0
		while read -r hash name; do
			[ "$name" = manifest_bados.json ] && continue
			ja-merge "$dir/$name" > "$T/$name"
			got=$(xxhsum -H2 "$T/$name" | cut -d' ' -f1)
			assert_eq "$got" "$hash" "$name"
			n=$((n + 1))
		done < "$sums"
		[ "$n" -ge 1 ]
	done
	# and the checksum files themselves verify against the outputs
	(cd "$T" && grep -v manifest_bados "$V25/checksums.xxh128" | xxhsum -c - >/dev/null)
}

@test "manifest_bados.json is rejected: exit 2, one line" {
	cd "$VEC/python-tests"
	run_split ja-merge manifest_bados.json
	assert_error 2 '^ja-merge: manifest_bados\.json: not a manifest: missing the required "manifestVersion" field$'
	[ -z "$output" ]
}

@test "COMPOSE(snapshot, diff) equals expected-composed.manifest" {
	ja-merge "$V25/snapshot.manifest" "$V25/diff.manifest" > "$T/out"
	assert_files_equal "$T/out" "$V25/expected-composed.manifest"
	assert_eq "$(xxhsum -H2 "$T/out" | cut -d' ' -f1)" 967ea217d74ab4cbd7deec30906e10c1
}

@test "diff.manifest's parentManifestHash is the xxh128 of snapshot.manifest" {
	parent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parentManifestHash"])' \
		"$V25/diff.manifest")
	assert_eq "$parent" "$(xxhsum -H2 "$V25/snapshot.manifest" | cut -d' ' -f1)"
	assert_eq "$parent" 2dac7f43682216ec776be21e99776cd2
}

# ---- decode validation (FORMATS §1.3 recommendation) ----------------------------------

@test "errors name the entry: paths[3].size: not an integer" {
	cd "$T"
	v23 "{'hash':'a','mtime':1,'path':'a','size':1},{'hash':'a','mtime':1,'path':'b','size':1},{'hash':'a','mtime':1,'path':'c','size':1},{'hash':'a','mtime':1,'path':'d','size':'1'}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[3\]\.size: not an integer$'
	[ -z "$output" ]
}

@test "integers: fractions, exponents, booleans, null, negative sizes, out of range" {
	cd "$T"
	for v in 1.0 1e3 1.5 true false null '"1"' '[1]'; do
		v23 "{'hash':'a','mtime':1,'path':'x','size':$v}" > m.json
		run_split ja-merge m.json
		assert_error 2 '^ja-merge: m\.json: paths\[0\]\.size: not an integer$'
	done
	v23 "{'hash':'a','mtime':true,'path':'x','size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]\.mtime: not an integer$'
	v23 "{'hash':'a','mtime':1,'path':'x','size':-1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]\.size: negative size$'
	v23 "{'hash':'a','mtime':1,'path':'x','size':9223372036854775808}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]\.size: integer out of range$'
	q "{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'a','mtime':1,'path':'x','size':1}],'totalSize':1.0}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: totalSize: not an integer$'
	# int64 bounds and -0 are fine (-0 is written 0)
	v23 "{'hash':'a','mtime':-9223372036854775808,'path':'x','size':9223372036854775807}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"mtime":-9223372036854775808,"path":"x","size":9223372036854775807}'* ]]
	v23 "{'hash':'a','mtime':-0,'path':'x','size':0}" > m.json
	run ja-merge m.json
	[[ "$output" == *'"mtime":0,'* ]]
}

@test "missing fields, empty paths, wrong types" {
	cd "$T"
	v23 "{'hash':'a','mtime':1,'size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]: missing "path"$'
	v23 "{'path':'x','mtime':1,'size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]: missing "hash"$'
	v23 "{'hash':'a','mtime':1,'path':'x'}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]: missing "size"$'
	v23 "{'hash':'a','path':'x','size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]: missing "mtime"$'
	v23 "" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths: empty \(a v2023 manifest lists at least one file\)$'
	v23 "{'hash':'a','mtime':1,'path':'','size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]\.path: empty$'
	q "{'hashAlg':'xxh128','manifestVersion':'2023-03-03','totalSize':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: missing the required "paths" field$'
	q "{'manifestVersion':'2023-03-03','paths':[{'hash':'a','mtime':1,'path':'x','size':1}],'totalSize':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: missing the required "hashAlg" field$'
	q "{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'a','mtime':1,'path':'x','size':1}]}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: missing the required "totalSize" field$'
	v23 "{'hash':5,'mtime':1,'path':'x','size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]\.hash: not a string \(found a number\)$'
	q '[]' > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: not a manifest \(found an array, expected an object\)$'
}

@test "hashes: alphanumeric only; uppercase and non-hex accepted" {
	cd "$T"
	for h in a-b '' 'a b' 'x\u00e9' 'a/b'; do
		v23 "{'hash':'$h','mtime':1,'path':'x','size':1}" > m.json
		run_split ja-merge m.json
		assert_error 2 '^ja-merge: m\.json: paths\[0\]\.hash: not an alphanumeric hash$'
	done
	v23 "{'hash':'ABCdef0Z','mtime':1,'path':'x','size':1}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"hash":"ABCdef0Z"'* ]]
}

@test "unknown keys are ignored and dropped on re-encode" {
	cd "$T"
	q "{'x-extra':{'a':[1,2,{'b':null}]},'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'a','mtime':1,'path':'x','size':1,'color':'red','runnable':true}],'totalSize':1,'zz':1.5e10}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(v23 "{'hash':'a','mtime':1,'path':'x','size':1}")"
}

@test "duplicate paths, unknown manifestVersion, other hashAlg" {
	cd "$T"
	v23 "{'hash':'a','mtime':1,'path':'x','size':1},{'hash':'b','mtime':2,'path':'y','size':1},{'hash':'c','mtime':3,'path':'x','size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[2\]: duplicate path "x"$'
	q "{'hashAlg':'xxh128','manifestVersion':'2024-01-01','paths':[{'hash':'a','mtime':1,'path':'x','size':1}],'totalSize':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: manifestVersion: unknown manifest version "2024-01-01" \(ja reads 2023-03-03, 2025-12-04-beta and the 2025-12 specificationVersion forms\)$'
	q "{'hashAlg':'sha256','manifestVersion':'2023-03-03','paths':[{'hash':'a','mtime':1,'path':'x','size':1}],'totalSize':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: hashAlg: unsupported "sha256" \(only xxh128\)$'
}

@test "user text in errors is escaped: one line, no control characters" {
	cd "$T"
	q "{'hashAlg':'xxh128','manifestVersion':'x\\ny\\u001b[31m','paths':[{'hash':'a','mtime':1,'path':'x','size':1}],'totalSize':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: manifestVersion: unknown manifest version "x\\ny\\x1b\[31m"'
	v23 "{'hash':'a','mtime':1,'path':'x','size':1,'k\\nx':1,'k\\nx':2}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]: line 1, column [0-9]+: duplicate key "k\\nx"$'
	v23 "{'hash':'a','mtime':1,'path':'a\\nb','size':1},{'hash':'a','mtime':1,'path':'a\\nb','size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[1\]: duplicate path "a\\nb"$'
	# a file name with a newline is an error name, escaped too
	printf '{' > "$T/bad
name.json"
	run_split ja-merge "$T/bad
name.json"
	assert_error 2 'bad\\nname\.json: line 1'
}

@test "syntax errors carry line and column" {
	cd "$T"
	printf '{\n  "hashAlg": "xxh128",\n  "paths": [\n    {"hash": "a"},\n  ]\n}' > m.json
	run_split ja-merge m.json
	assert_error 2 "^ja-merge: m\\.json: line 5, column 3: expected a value, found '\\]'\$"
	printf '{"a":1} {}' > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: line 1, column 9: unexpected data after the JSON value$'
	v23 "7" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: paths\[0\]: not an object \(found a number\)$'
}

@test "trailing whitespace is accepted, a BOM and trailing garbage are not" {
	f="$VEC/golden/v2023-golden.manifest"
	{ cat "$f"; printf ' \n\t\r\n'; } > "$T/ws.json"
	ja-merge "$T/ws.json" > "$T/out"
	assert_files_equal "$T/out" "$f"
	{ printf '\xef\xbb\xbf'; cat "$f"; } > "$T/bom.json"
	run_split ja-merge "$T/bom.json"
	assert_error 2 'bom\.json: starts with a UTF-8 byte-order mark$'
	{ cat "$f"; printf '\n}'; } > "$T/garbage.json"
	run_split ja-merge "$T/garbage.json"
	assert_error 2 'garbage\.json: line 2, column 1: unexpected data after the JSON value$'
}

# ---- v2025: G1, G3 -> G2; validation (§2.4) ------------------------------------------

@test "G1 (manifestVersion 2025-12-04-beta) is written in the G2 form" {
	cd "$T"
	q "{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128','dirs':[{'name':'d'},{'name':'\$0/e'}],'files':[{'name':'\$1/f','hash':'aa','size':2,'mtime':3},{'name':'top','hash':'bb','size':1,'mtime':4,'runnable':true},{'name':'ln','symlink_target':'\$1/f'}],'totalSize':3}" > g1.json
	run ja-merge g1.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'dirs':[{'name':'d'},{'name':'\$0/e'}],'files':[{'hash':'aa','mtime':3,'name':'\$1/f','size':2},{'name':'ln','symlink':{'name':'\$1/f'}},{'hash':'bb','mtime':4,'name':'top','runnable':true,'size':1}],'hashAlg':'xxh128','specificationVersion':'relative-manifest-snapshot-beta-2025-12','totalSize':3}")"
	# diff iff parentManifestHash
	q "{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128','parentManifestHash':'ff00','dirs':[{'name':'old','delete':true}],'files':[{'name':'gone','delete':true},{'name':'new','hash':'cc','size':5,'mtime':6}],'totalSize':5}" > g1d.json
	run ja-merge g1d.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'dirs':[{'delete':true,'name':'old'}],'files':[{'delete':true,'name':'gone'},{'hash':'cc','mtime':6,'name':'new','size':5}],'hashAlg':'xxh128','parentManifestHash':'ff00','specificationVersion':'relative-manifest-diff-beta-2025-12','totalSize':5}")"
	q "{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128','files':[{'name':'gone','delete':true}],'totalSize':0}" > g1s.json
	run_split ja-merge g1s.json
	assert_error 2 '^ja-merge: g1s\.json: files\[0\]: delete marker in a snapshot manifest$'
}

@test "G3 (path/deleted/symlink.target keys) is written in the G2 form; only a leading \$N/ expands" {
	cd "$T"
	q "{'dirs':[{'path':'a'},{'path':'\$0/b/c'},{'path':'gone','deleted':true}],'files':[{'path':'\$1/f.txt','hash':'11','size':3,'mtime':5},{'path':'x/y/z.txt','hash':'22','size':4,'mtime':6,'runnable':true},{'path':'l','symlink':{'target':'\$0/b/c/f.txt'}},{'path':'old.txt','deleted':true},{'path':'a/\$0/q','hash':'33','size':1,'mtime':7}],'hashAlg':'xxh128','parentManifestHash':'abc','specificationVersion':'relative-manifest-diff-beta-2025-12','totalSize':8}" > g3.json
	run ja-merge g3.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'dirs':[{'name':'a'},{'name':'\$0/\$0'},{'name':'\$0/b'},{'name':'\$2/c'},{'delete':true,'name':'gone'},{'name':'x'},{'name':'\$5/y'}],'files':[{'hash':'33','mtime':7,'name':'\$1/q','size':1},{'hash':'11','mtime':5,'name':'\$3/f.txt','size':3},{'name':'l','symlink':{'name':'\$3/f.txt'}},{'delete':true,'name':'old.txt'},{'hash':'22','mtime':6,'name':'\$6/z.txt','runnable':true,'size':4}],'hashAlg':'xxh128','parentManifestHash':'abc','specificationVersion':'relative-manifest-diff-beta-2025-12','totalSize':8}")"
	# and the G2 output reads back to the same bytes
	ja-merge g3.json > g2.json
	ja-merge g2.json > g2b.json
	assert_files_equal g2.json g2b.json
}

@test "§2.4: delete only in diffs, runnable true, hash xor chunkhashes, chunk count" {
	cd "$T"
	v25 snapshot "" "{'name':'f','delete':true}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]: delete marker in a snapshot manifest$'
	v25 snapshot "{'name':'d','delete':true}" "" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: dirs\[0\]: delete marker in a snapshot manifest$'
	v25 snapshot "" "{'name':'f','hash':'a','size':1,'mtime':1,'runnable':false}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]\.runnable: must be true when present$'
	v25 snapshot "" "{'name':'f','hash':'a','chunkhashes':['a','b'],'size':314572800,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]: more than one of hash, chunkhashes, symlink$'
	v25 snapshot "" "{'name':'f','size':1,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]: missing "hash", "chunkhashes" or "symlink"$'
	v25 snapshot "" "{'name':'f','chunkhashes':['a'],'size':314572800,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]: 1 chunk hashes for 314572800 bytes \(expected 2\)$'
	v25 snapshot "" "{'name':'f','chunkhashes':['a','b','c'],'size':536870913,'mtime':1}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	v25 snapshot "" "{'name':'f','chunkhashes':['a'],'size':268435456,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 'files\[0\]: chunkhashes on a file of 268435456 bytes \(only files over 268435456 bytes are chunked\)$'
	v25 snapshot "" "{'name':'f','hash':'a','size':268435457,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 'files\[0\]: a file of 268435457 bytes needs chunkhashes, not hash$'
	v25 snapshot "" "{'name':'f','hash':'a','size':268435456,'mtime':1}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	v25 snapshot "" "{'name':'l','symlink':{'name':'t'},'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 'files\[0\]: a symlink carries no size, mtime or runnable$'
	v25 diff "" "{'name':'f','delete':true,'size':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 'files\[0\]: a deleted entry carries only its name$'
}

@test "§2.4 names: \$N/ must refer to an earlier dir; a/b literal rejected in G2, /x accepted" {
	cd "$T"
	v25 snapshot "{'name':'\$1/x'},{'name':'y'}" "" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: dirs\[0\]\.name: "\$1/x" refers to directory 1, which is not listed before it$'
	v25 snapshot "{'name':'d'}" "{'name':'\$7/f','hash':'a','size':1,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]\.name: "\$7/f" refers to directory 7, which is not listed before it$'
	v25 snapshot "" "{'name':'a/b','hash':'a','size':1,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]\.name: cannot expand name "a/b" \(expected NAME, /NAME or \$N/NAME\)$'
	v25 snapshot "" "{'name':'a//b','hash':'a','size':1,'mtime':1}" > m.json
	run_split ja-merge m.json
	assert_error 2 'files\[0\]\.name: cannot expand name "a//b"'
	q "{'dirs':[],'files':[{'path':'a//b','hash':'a','size':1,'mtime':1}],'hashAlg':'xxh128','specificationVersion':'relative-manifest-snapshot-beta-2025-12','totalSize':0}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]\.name: "a//b": empty path component$'
	q "{'dirs':[{'name':'/mnt'}],'files':[{'name':'/x','hash':'a','size':1,'mtime':1},{'name':'\$0/y','hash':'b','size':2,'mtime':2}],'hashAlg':'xxh128','specificationVersion':'absolute-manifest-snapshot-beta-2025-12','totalSize':3}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'dirs':[{'name':'/mnt'}],'files':[{'hash':'b','mtime':2,'name':'\$0/y','size':2},{'hash':'a','mtime':1,'name':'/x','size':1}],'hashAlg':'xxh128','specificationVersion':'absolute-manifest-snapshot-beta-2025-12','totalSize':3}")"
}

@test "a path cannot be both a file and a directory (unless one is deleted in a diff)" {
	cd "$T"
	q "{'dirs':[],'files':[{'path':'a','hash':'h','size':1,'mtime':1},{'path':'a/b','hash':'h','size':1,'mtime':1}],'hashAlg':'xxh128','specificationVersion':'relative-manifest-snapshot-beta-2025-12','totalSize':0}" > m.json
	run_split ja-merge m.json
	assert_error 2 '^ja-merge: m\.json: files\[0\]: "a" is both a file and a directory$'
	v25 diff "{'name':'a'}" "{'name':'a','delete':true},{'name':'\$0/x','hash':'h','size':1,'mtime':1}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	# and v2023 (files only) allows it, but cannot convert it
	v23 "{'hash':'a','mtime':1,'path':'a','size':1},{'hash':'a','mtime':1,'path':'a/b','size':1}" > m.json
	run ja-merge m.json
	[ "$status" -eq 0 ]
	run_split ja-merge --format v2025 m.json
	assert_error 2 '^ja-merge: "a" is both a file and a directory$'
}

# ---- merge and compose (§7.4, §7.5) -------------------------------------------------

@test "v2023: later wins per path, totalSize recomputed, sorted output" {
	cd "$T"
	v23 "{'hash':'b1','mtime':1,'path':'b','size':10},{'hash':'a1','mtime':1,'path':'a','size':1}" > 1.json
	v23 "{'hash':'c2','mtime':2,'path':'c','size':100},{'hash':'b2','mtime':2,'path':'b','size':20}" > 2.json
	v23 "{'hash':'a3','mtime':3,'path':'a','size':3}" > 3.json
	run ja-merge 1.json 2.json 3.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'a3','mtime':3,'path':'a','size':3},{'hash':'b2','mtime':2,'path':'b','size':20},{'hash':'c2','mtime':2,'path':'c','size':100}],'totalSize':123}")"
	run ja-merge 3.json 2.json 1.json
	[[ "$output" == *'"hash":"a1"'*'"hash":"b1"'*'"hash":"c2"'*'"totalSize":111}' ]]
	# one input: the formatter, totalSize recomputed
	run ja-merge 1.json
	[[ "$output" == *'"totalSize":11}' ]]
}

@test "merge output is canonical regardless of input order" {
	f="$VEC/fixture/expected-v2023.manifest"
	shuffle "$f" "$T/s1.json"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["paths"].reverse(); json.dump(d, open(sys.argv[2],"w"))' "$f" "$T/s2.json"
	ja-merge "$T/s1.json" "$T/s2.json" > "$T/a"
	ja-merge "$T/s2.json" "$T/s1.json" > "$T/b"
	assert_files_equal "$T/a" "$f"
	assert_files_equal "$T/b" "$f"
	# the two halves of the fixture merge back to the whole
	python3 -c '
import json,sys
d=json.load(open(sys.argv[1])); p=d["paths"]
for i,part in enumerate((p[1::2], p[0::2])):
    json.dump(dict(d, paths=part, totalSize=0), open(sys.argv[2+i],"w"))' "$f" "$T/h1.json" "$T/h2.json"
	ja-merge "$T/h1.json" "$T/h2.json" > "$T/c"
	assert_files_equal "$T/c" "$f"
}

@test "mixing v2023 and v2025 inputs is a clear error, exit 2" {
	run_split ja-merge "$VEC/golden/v2023-golden.manifest" "$V25/snapshot.manifest"
	assert_error 2 '^ja-merge: cannot merge v2023 and v2025 manifests \(input 2 is v2025, input 1 is v2023; convert with --format\)$'
	[ -z "$output" ]
	run_split ja-merge "$V25/diff.manifest" "$VEC/golden/v2023-golden.manifest"
	assert_error 2 'cannot merge v2023 and v2025 manifests \(input 2 is v2023, input 1 is v2025'
}

@test "a snapshot after the first input is an error; relative and absolute do not mix" {
	run_split ja-merge "$V25/snapshot.manifest" "$V25/diff.manifest" "$V25/snapshot.manifest"
	assert_error 2 '^ja-merge: input 3 is a snapshot: only the first input may be a snapshot; the rest must be diffs$'
	run_split ja-merge "$V25/diff.manifest" "$V25/snapshot.manifest"
	assert_error 2 '^ja-merge: input 2 is a snapshot'
	run_split ja-merge "$V25/snapshot.manifest" "$V25/absolute-snapshot.manifest"
	assert_error 2 '^ja-merge: cannot compose relative and absolute manifests \(input 2\)$'
}

@test "snapshot + diffs: a deleted directory removes its subtree; files re-added after deletion" {
	cd "$T"
	v25 snapshot "{'name':'a'},{'name':'\$0/b'},{'name':'\$1/empty'},{'name':'ab'}" \
		"{'name':'\$0/f','hash':'h1','size':1,'mtime':1},{'name':'\$1/g','hash':'h2','size':2,'mtime':1},{'name':'\$3/k','hash':'h3','size':4,'mtime':1},{'name':'top','hash':'h4','size':8,'mtime':1}" > snap.json
	v25 diff "{'name':'a','delete':true}" "{'name':'top','delete':true}" > d1.json
	v25 diff "{'name':'a'}" "{'name':'\$0/new','hash':'h5','size':16,'mtime':2},{'name':'top','hash':'h6','size':32,'mtime':3}" > d2.json
	run ja-merge snap.json d1.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'dirs':[{'name':'ab'}],'files':[{'hash':'h3','mtime':1,'name':'\$0/k','size':4}],'hashAlg':'xxh128','specificationVersion':'relative-manifest-snapshot-beta-2025-12','totalSize':4}")"
	run ja-merge snap.json d1.json d2.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'dirs':[{'name':'a'},{'name':'ab'}],'files':[{'hash':'h5','mtime':2,'name':'\$0/new','size':16},{'hash':'h3','mtime':1,'name':'\$1/k','size':4},{'hash':'h6','mtime':3,'name':'top','size':32}],'hashAlg':'xxh128','specificationVersion':'relative-manifest-snapshot-beta-2025-12','totalSize':52}")"
}

@test "diffs alone compose to a diff: markers kept, parentManifestHash of the first" {
	cd "$T"
	q "{'dirs':[{'name':'a','delete':true},{'name':'k'}],'files':[{'name':'x','delete':true},{'name':'y','hash':'h1','size':1,'mtime':1}],'hashAlg':'xxh128','parentManifestHash':'first','specificationVersion':'relative-manifest-diff-beta-2025-12','totalSize':1}" > d1.json
	q "{'dirs':[],'files':[{'name':'x','hash':'h2','size':2,'mtime':2},{'name':'y','delete':true},{'name':'z','hash':'h3','size':4,'mtime':3}],'hashAlg':'xxh128','parentManifestHash':'second','specificationVersion':'relative-manifest-diff-beta-2025-12','totalSize':6}" > d2.json
	run ja-merge d1.json d2.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'dirs':[{'delete':true,'name':'a'},{'name':'k'}],'files':[{'hash':'h2','mtime':2,'name':'x','size':2},{'delete':true,'name':'y'},{'hash':'h3','mtime':3,'name':'z','size':4}],'hashAlg':'xxh128','parentManifestHash':'first','specificationVersion':'relative-manifest-diff-beta-2025-12','totalSize':6}")"
	# the vectors: snapshot + (diff composed with nothing) = expected
	ja-merge "$V25/diff.manifest" > one.json
	ja-merge "$V25/snapshot.manifest" one.json > out
	assert_files_equal out "$V25/expected-composed.manifest"
}

@test "totalSize that overflows int64 is an error, not a wrap" {
	cd "$T"
	v23 "{'hash':'a','mtime':1,'path':'a','size':9223372036854775807}" > 1.json
	v23 "{'hash':'b','mtime':1,'path':'b','size':1}" > 2.json
	run_split ja-merge 1.json 2.json
	assert_error 2 '^ja-merge: total size overflows$'
	[ -z "$output" ]
}

# ---- --format ----------------------------------------------------------------------

@test "--format v2025 of a v2023 manifest, and back with --format v2023" {
	f="$VEC/golden/v2023-golden.manifest"
	ja-merge --format v2025 "$f" > "$T/g2.json"
	assert_eq "$(cat "$T/g2.json")" "$(q "{'dirs':[{'name':'sub'}],'files':[{'hash':'a96faf705af16834e6c632b61e964e1f','mtime':1,'name':'Z\\u007f\\\"q\\\\.txt','size':1},{'hash':'df8d09e93f874900a99b8775cc15b6c7','mtime':1700000000123456,'name':'a.txt','size':11},{'hash':'99aa06d3014798d86001c324468d497f','mtime':1700000000000000,'name':'\$0/\\u00e9.txt','size':0}],'hashAlg':'xxh128','specificationVersion':'relative-manifest-snapshot-beta-2025-12','totalSize':12}")"
	ja-merge --format v2023 "$T/g2.json" > "$T/back"
	assert_files_equal "$T/back" "$f"
	# the fixture round-trips too
	ja-merge --format v2025 "$VEC/fixture/expected-v2023.manifest" | ja-merge --format v2023 > "$T/fx"
	assert_files_equal "$T/fx" "$VEC/fixture/expected-v2023.manifest"
	# same version: a no-op; 2023-03-03 is an alias
	ja-merge --format 2023-03-03 "$f" > "$T/same"
	assert_files_equal "$T/same" "$f"
	ja-merge --format v2025 "$V25/snapshot.manifest" > "$T/same25"
	assert_files_equal "$T/same25" "$V25/snapshot.manifest"
}

@test "--format v2023 of a plain v2025 snapshot works and round-trips" {
	cd "$T"
	v25 snapshot "{'name':'d'},{'name':'\$0/e'}" "{'name':'\$1/f','hash':'aa','size':2,'mtime':3},{'name':'top','hash':'bb','size':1,'mtime':4}" > s.json
	run ja-merge --format v2023 s.json
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(q "{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'aa','mtime':3,'path':'d/e/f','size':2},{'hash':'bb','mtime':4,'path':'top','size':1}],'totalSize':3}")"
	ja-merge --format v2023 s.json | ja-merge --format v2025 > back.json
	ja-merge s.json > canon.json
	assert_files_equal back.json canon.json
}

@test "--format v2023 refuses what v2023 cannot express, exit 2" {
	cd "$T"
	v25 snapshot "" "{'name':'l','symlink':{'name':'t'}},{'name':'t','hash':'a','size':1,'mtime':1}" > m.json
	run_split ja-merge --format v2023 m.json
	assert_error 2 '^ja-merge: l is a symlink: v2023 cannot express that$'
	v25 snapshot "" "{'name':'r','hash':'a','size':1,'mtime':1,'runnable':true}" > m.json
	run_split ja-merge --format v2023 m.json
	assert_error 2 '^ja-merge: r is runnable \(v2023 has no mode bits\): v2023 cannot express that$'
	v25 snapshot "" "{'name':'big','chunkhashes':['a','b'],'size':314572800,'mtime':1}" > m.json
	run_split ja-merge --format v2023 m.json
	assert_error 2 '^ja-merge: big is chunked \(over 256 MiB\): v2023 cannot express that$'
	v25 snapshot "{'name':'e'}" "{'name':'f','hash':'a','size':1,'mtime':1}" > m.json
	run_split ja-merge --format v2023 m.json
	assert_error 2 '^ja-merge: empty directory e: v2023 cannot express that$'
	for d in "$V25/diff.manifest" "$(v25 diff '' "{'name':'x','delete':true}" > m.json; echo m.json)"; do
		run_split ja-merge --format v2023 "$d"
		assert_error 2 '^ja-merge: a v2025 diff cannot be expressed in v2023 \(merge it onto its snapshot first\)$'
	done
	run_split ja-merge --format v2023 "$V25/absolute-snapshot.manifest"
	assert_error 2 '^ja-merge: absolute-path manifests cannot be expressed in v2023$'
	run_split ja-merge --format v2023 "$V25/snapshot.manifest"
	assert_error 2 'v2023 cannot express that$'
	# composed onto its snapshot the diff is a snapshot, but still has what v2023 lacks
	run_split ja-merge --format v2023 "$V25/snapshot.manifest" "$V25/diff.manifest"
	assert_error 2 '^ja-merge: assets/big\.bin is chunked \(over 256 MiB\): v2023 cannot express that$'
	[ -z "$output" ]
}

@test "--format v2025 refuses files over 256 MiB (no chunk hashes in v2023)" {
	cd "$T"
	v23 "{'hash':'a','mtime':1,'path':'big','size':268435457}" > m.json
	run_split ja-merge --format v2025 m.json
	assert_error 2 '^ja-merge: big: over 256 MiB, so v2025 needs its chunk hashes, which a v2023 manifest lacks \(snapshot the tree with --format v2025\)$'
	run_split ja-merge --format v9 m.json
	assert_error 2 "^ja-merge: --format: unknown format 'v9'"
}

# ---- output ------------------------------------------------------------------------

@test "-o FILE writes the manifest atomically: no temporary file left" {
	mkdir "$T/out"
	ja-merge -o "$T/out/m.json" "$VEC/golden/v2023-golden.manifest"
	assert_files_equal "$T/out/m.json" "$VEC/golden/v2023-golden.manifest"
	assert_eq "$(ls -A "$T/out")" "m.json"
	# replacing an existing file
	ja-merge --output "$T/out/m.json" "$V25/snapshot.manifest"
	assert_files_equal "$T/out/m.json" "$V25/snapshot.manifest"
	assert_eq "$(ls -A "$T/out")" "m.json"
	# "-o -" is stdout
	run ja-merge -o - "$VEC/golden/v2023-golden.manifest"
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(cat "$VEC/golden/v2023-golden.manifest")"
}

@test "-o FILE: the original is untouched when anything fails" {
	mkdir "$T/out"
	printf 'original' > "$T/out/m.json"
	printf '{"broken":' > "$T/bad.json"
	run_split ja-merge -o "$T/out/m.json" "$T/bad.json"
	assert_error 2 'bad\.json: line 1, column 11: unexpected end of input'
	assert_eq "$(cat "$T/out/m.json")" original
	run_split ja-merge --format v2023 -o "$T/out/m.json" "$V25/diff.manifest"
	[ "$status" -eq 2 ]
	assert_eq "$(cat "$T/out/m.json")" original
	run_split ja-merge -o "$T/out/m.json" "$VEC/golden/v2023-golden.manifest" "$T/nonexistent.json"
	assert_error 1 'nonexistent\.json: No such file or directory$'
	assert_eq "$(cat "$T/out/m.json")" original
	assert_eq "$(ls -A "$T/out")" "m.json"
	# an unwritable destination: exit 1, one line
	run_split ja-merge -o "$T/no/such/dir/m.json" "$VEC/golden/v2023-golden.manifest"
	assert_error 1 'no/such/dir/m\.json: No such file or directory$'
}

@test "output to /dev/full fails with one error line" {
	[ -w /dev/full ] || skip "no /dev/full"
	run_split sh -c 'ja-merge "$1" > /dev/full' sh "$VEC/fixture/expected-v2023.manifest"
	assert_error 1 '^ja-merge: write error on stdout: No space left on device$'
}

@test "read errors: missing file, a directory, empty and blank input" {
	run_split ja-merge "$T/nope.json"
	assert_error 1 'nope\.json: No such file or directory$'
	run_split ja-merge "$T"
	assert_error 1 'read error: Is a directory$'
	run_split ja-merge < /dev/null
	assert_error 2 '^ja-merge: stdin: empty input \(not a manifest\)$'
	printf ' \n ' > "$T/blank.json"
	run_split ja-merge "$T/blank.json"
	assert_error 2 'blank\.json: line 2, column 2: unexpected end of input \(expected an object\)$'
	[ -z "$output" ]
}
