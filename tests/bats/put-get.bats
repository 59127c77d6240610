#!/usr/bin/env bats
# ja-put and ja-get on the embedded file:// store: round trips, dedup, skipping,
# integrity, manifest keys and metadata, hostile manifests, conflicts, resumption.
load helper
load tree-helper

local_setup() {
	export JA_STORE="$T/store"
	unset DEADLINE_FARM_ID DEADLINE_QUEUE_ID DEADLINE_JOB_ID DEADLINE_STEP_ID \
		DEADLINE_TASK_ID DEADLINE_SESSIONACTION_ID
}

json() { # json FILE EXPR: a field of a JSON document
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# v2023 manifest of a tree made by hand: hash, size, mtime from the files
mkmanifest() { ja-snapshot "$1" >"$2"; }

ndata() { find "$JA_STORE/Data" -type f -name '*.xxh128' | wc -l; }

@test "round trip of the fixture tree: snapshot, put, get, snapshot again: the same manifest" {
	build_fixture
	ja-snapshot "$FIX" >"$T/m"
	run_split ja-put -C "$FIX" "$T/m"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	echo "$output" >"$T/r.json"
	n=$(python3 -c 'import json,sys; print(len({e["hash"] for e in json.load(open(sys.argv[1]))["paths"]}))' "$T/m")
	assert_eq "$(ndata)" "$n"
	assert_eq "$(json "$T/r.json" 'd["uploaded"]')" "$n"
	key=$(json "$T/r.json" 'd["manifestKey"]')
	# the manifest is stored by content when no key option is given
	assert_eq "$key" "Manifests/$(json "$T/r.json" 'd["manifestHash"]')"
	assert_files_equal "$JA_STORE/$key" "$T/m"
	run_split ja-get -C "$T/copy" "$T/m"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	ja-snapshot "$T/copy" >"$T/m2"
	assert_files_equal "$T/m2" "$T/m"
}

@test "get by manifest key from the store" {
	mkdir -p "$T/src/a"
	echo one >"$T/src/a/1"
	echo two >"$T/src/2"
	ja-snapshot "$T/src" | ja-put -C "$T/src" >"$T/r.json"
	key=$(json "$T/r.json" 'd["manifestKey"]')
	ja-get -C "$T/copy" "$key"
	diff -r "$T/src" "$T/copy"
	ja-get -C "$T/copy2" --manifest-only "$key" >"$T/m"
	assert_files_equal "$T/m" "$JA_STORE/$key"
	[ ! -e "$T/copy2/a" ]
}

@test "each distinct object is uploaded once; a second put skips everything" {
	mkdir "$T/src"
	for i in 1 2 3 4 5; do echo same >"$T/src/s$i"; done
	echo other >"$T/src/o"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >"$T/r1.json"
	assert_eq "$(json "$T/r1.json" 'd["files"]')" 6
	assert_eq "$(json "$T/r1.json" 'd["uploaded"]')" 2
	assert_eq "$(ndata)" 2
	ja-put -C "$T/src" "$T/m" >"$T/r2.json"
	assert_eq "$(json "$T/r2.json" 'd["uploaded"]')" 0
	assert_eq "$(json "$T/r2.json" 'd["skipped"]')" 2
	assert_eq "$(json "$T/r2.json" 'd["bytesSkipped"]')" 11
}

@test "an empty manifest on stdin (nothing changed) uploads nothing and succeeds" {
	mkdir "$T/src"
	echo x >"$T/src/x"
	ja-snapshot "$T/src" >"$T/base"
	run_split bash -c "ja-snapshot '$T/src' | ja-diff '$T/base' | ja-put -C '$T/src'"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -q "nothing to upload" <<<"$stderr"
	[ "$(echo "$output" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uploaded"])')" = 0 ]
	[ ! -d "$JA_STORE/Data" ] || [ "$(ndata)" -eq 0 ]
}

@test "a file changed since the snapshot is not stored under its old hash" {
	mkdir "$T/src"
	echo original >"$T/src/a"
	echo stable >"$T/src/b"
	ja-snapshot "$T/src" >"$T/m"
	old=$(json "$T/m" '[e["hash"] for e in d["paths"] if e["path"]=="a"][0]')
	echo "changed!" >"$T/src/a" # same size, other bytes
	touch -d @1 "$T/src/a"
	run_split ja-put -C "$T/src" "$T/m"
	[ "$status" -eq 1 ]
	grep -q "file changed since snapshot: a" <<<"$stderr"
	[ ! -e "$JA_STORE/Data/$old.xxh128" ]
	[ -z "$(find "$JA_STORE" -name '.ja-tmp*')" ]
	# the manifest is not stored when content is missing
	[ ! -d "$JA_STORE/Manifests" ] || [ -z "$(ls -A "$JA_STORE/Manifests")" ]
}

@test "input and output manifest keys, metadata, and the CreateJob attachments" {
	mkdir "$T/src"
	echo x >"$T/src/x"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" --farm farm-1 --queue queue-2 "$T/m" >"$T/in.json"
	key=$(json "$T/in.json" 'd["manifestKey"]')
	[[ "$key" =~ ^Manifests/farm-1/queue-2/Inputs/[0-9a-f]{32}/[0-9a-f]{32}_input$ ]]
	assert_files_equal "$JA_STORE/$key" "$T/m"
	DEADLINE_FARM_ID=farm-1 DEADLINE_QUEUE_ID=queue-2 DEADLINE_JOB_ID=job-3 \
		DEADLINE_STEP_ID=step-4 DEADLINE_TASK_ID=task-5 DEADLINE_SESSIONACTION_ID=sessionaction-6 \
		ja-put -C "$T/src" --asset-root /mnt/scène "$T/m" >"$T/out.json"
	key=$(json "$T/out.json" 'd["manifestKey"]')
	[[ "$key" =~ ^Manifests/farm-1/queue-2/job-3/step-4/task-5/[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z_sessionaction-6/[0-9a-f]{32}_output$ ]]
	ja-put -C "$T/src" --farm farm-1 --queue queue-2 --attachments "$T/m" >"$T/att.json"
	assert_eq "$(json "$T/att.json" 'd["manifests"][0]["rootPath"]')" "$(cd "$T/src" && pwd)"
	assert_eq "$(json "$T/att.json" 'd["manifests"][0]["rootPathFormat"]')" posix
	[[ "$(json "$T/att.json" 'd["manifests"][0]["inputManifestPath"]')" =~ ^farm-1/queue-2/Inputs/ ]]
	assert_eq "$(json "$T/att.json" 'd["fileSystem"]')" COPIED
	run_split ja-put -C "$T/src" --farm 'farm/../x' --queue q "$T/m"
	[ "$status" -eq 2 ]
}

@test "ja-get refuses hostile paths and writes nothing outside DEST" {
	mkdir -p "$T/src" "$T/outside"
	echo payload >"$T/src/f"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	h=$(json "$T/m" 'd["paths"][0]["hash"]')
	for p in '../escape' '/etc/ja-escape' 'a/../../escape' 'a/./b' 'a//b'; do
		python3 - "$T/bad" "$p" "$h" <<-'EOF'
		import json, sys
		out, p, h = sys.argv[1:]
		m = {"hashAlg": "xxh128", "manifestVersion": "2023-03-03",
		     "paths": [{"hash": h, "mtime": 1, "path": p, "size": 8}], "totalSize": 8}
		open(out, "w").write(json.dumps(m))
		EOF
		mkdir -p "$T/dest"
		run_split ja-get -C "$T/dest" "$T/bad"
		[ "$status" -ne 0 ] || { echo "accepted $p" >&2; false; }
		[ ! -e "$T/escape" ] && [ ! -e /etc/ja-escape ]
	done
	# a symlinked directory already in DEST is not followed
	mkdir -p "$T/dest2"
	ln -s "$T/outside" "$T/dest2/link"
	python3 - "$T/bad" "$h" <<-'EOF'
	import json, sys
	out, h = sys.argv[1:]
	m = {"hashAlg": "xxh128", "manifestVersion": "2023-03-03",
	     "paths": [{"hash": h, "mtime": 1, "path": "link/f", "size": 8}], "totalSize": 8}
	open(out, "w").write(json.dumps(m))
	EOF
	run_split ja-get -C "$T/dest2" "$T/bad"
	[ "$status" -eq 1 ]
	[ -z "$(ls -A "$T/outside")" ]
}

@test "v2025: a symlink entry pointing outside, then a file through it: refused" {
	mkdir -p "$T/src/d" "$T/outside"
	echo payload >"$T/src/d/f"
	ja-snapshot --format v2025 "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	h=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print([f for f in m["files"] if "hash" in f][0]["hash"])' "$T/m")
	python3 - "$T/bad" "$h" "$T/outside" <<-'EOF'
	import json, sys
	out, h, outside = sys.argv[1:]
	m = {"specificationVersion": "2025-12-04-beta", "dirs": [],
	     "files": [{"name": "esc", "symlinkTarget": outside},
	               {"name": "esc/f", "hash": h, "size": 8, "mtime": 1}],
	     "totalSize": 8}
	open(out, "w").write(json.dumps(m))
	EOF
	run_split ja-get -C "$T/dest" "$T/bad"
	[ "$status" -ne 0 ]
	[ -z "$(ls -A "$T/outside")" ]
}

@test "a rerun leaves matching files alone; a different file becomes 'name (1).ext' by default" {
	mkdir "$T/src"
	echo new >"$T/src/a.txt"
	echo keep >"$T/src/b.txt"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	ja-get -C "$T/dest" "$T/m"
	ino=$(stat -c %i "$T/dest/b.txt")
	echo local-edit >"$T/dest/a.txt"
	ja-get -C "$T/dest" "$T/m"
	assert_eq "$(stat -c %i "$T/dest/b.txt")" "$ino" # matching: not rewritten
	assert_eq "$(cat "$T/dest/a.txt")" local-edit
	assert_eq "$(cat "$T/dest/a (1).txt")" new
	ja-get -C "$T/dest" --conflict skip "$T/m"
	[ ! -e "$T/dest/a (2).txt" ]
	ja-get -C "$T/dest" --conflict overwrite "$T/m"
	assert_eq "$(cat "$T/dest/a.txt")" new
}

@test "mtimes are exact; v2025 runnable files get x bits" {
	mkdir "$T/src"
	echo run >"$T/src/tool"
	chmod 755 "$T/src/tool"
	echo data >"$T/src/data"
	touch -d '@1700000000.123456789' "$T/src/data"
	ja-snapshot --format v2025 "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	ja-get -C "$T/dest" "$T/m"
	assert_eq "$(stat -c %y "$T/dest/data" | sed -E 's/.*\.([0-9]{9}) .*/\1/')" 123456000
	assert_eq "$(stat -c %Y "$T/dest/data")" 1700000000
	[ -x "$T/dest/tool" ]
	[ ! -x "$T/dest/data" ]
}

@test "a corrupted object is an error naming file and key; other files complete; no partial file" {
	mkdir "$T/src"
	echo good-one >"$T/src/good"
	echo bad-one >"$T/src/bad"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	h=$(json "$T/m" '[e["hash"] for e in d["paths"] if e["path"]=="bad"][0]')
	echo tampered >"$JA_STORE/Data/$h.xxh128"
	run_split ja-get -C "$T/dest" "$T/m"
	[ "$status" -eq 1 ]
	grep -q "bad" <<<"$stderr"
	grep -q "$h" <<<"$stderr"
	assert_eq "$(cat "$T/dest/good")" good-one
	[ ! -e "$T/dest/bad" ]
	[ -z "$(find "$T/dest" -name '.ja-tmp*')" ]
}

@test "a missing object is an error naming file and key" {
	mkdir "$T/src"
	echo gone >"$T/src/gone"
	echo here >"$T/src/here"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	h=$(json "$T/m" '[e["hash"] for e in d["paths"] if e["path"]=="gone"][0]')
	rm "$JA_STORE/Data/$h.xxh128"
	run_split ja-get -C "$T/dest" "$T/m"
	[ "$status" -eq 1 ]
	grep -q "gone.*$h\|$h.*gone" <<<"$stderr"
	[ -f "$T/dest/here" ]
	[ ! -e "$T/dest/gone" ]
}

@test "a full disk is a clear error, and nothing half-written stays at a final name" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a tmpfs"
	mkdir -p "$T/src" "$T/small"
	head -c 3000000 /dev/urandom >"$T/src/big"
	echo tiny >"$T/src/tiny"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	mount -t tmpfs -o size=1m tmpfs "$T/small"
	run_split ja-get -C "$T/small" --no-space-check "$T/m"
	st=$status
	ls -la "$T/small" >&2
	left=$(find "$T/small" -name '.ja-tmp*' | wc -l)
	bigthere=0
	[ -e "$T/small/big" ] && bigthere=1
	run_split2=$(ja-get -C "$T/small" "$T/m" 2>&1) || true
	umount "$T/small"
	[ "$st" -eq 1 ]
	grep -qi "no space" <<<"$stderr"
	[ "$left" -eq 0 ]
	[ "$bigthere" -eq 0 ]
	grep -qi "space" <<<"$run_split2"
}

@test "permission denied: an unreadable source file, an unwritable destination" {
	mkdir -p "$T/src/sub"
	echo secret >"$T/src/sub/locked"
	echo open >"$T/src/open"
	ja-snapshot "$T/src" >"$T/m"
	chmod 000 "$T/src/sub/locked"
	need_eacces "$T/src/sub/locked"
	run_split nocap ja-put -C "$T/src" "$T/m"
	[ "$status" -eq 1 ]
	grep -q "sub/locked" <<<"$stderr"
	grep -qi "permission denied" <<<"$stderr"
	chmod 644 "$T/src/sub/locked"
	ja-put -C "$T/src" "$T/m" >/dev/null
	mkdir "$T/ro"
	chmod 555 "$T/ro"
	run_split nocap ja-get -C "$T/ro" "$T/m"
	[ "$status" -eq 1 ]
	grep -qi "permission denied" <<<"$stderr"
	[ -z "$(ls -A "$T/ro")" ]
}

@test "worker options: --group, --file-mode and --dir-mode" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to give files another group"
	mkdir -p "$T/src/d"
	echo x >"$T/src/d/f"
	ja-snapshot "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >/dev/null
	ja-get -C "$T/dest" --group daemon --file-mode 020 --dir-mode 020 "$T/m"
	assert_eq "$(stat -c %G "$T/dest/d/f")" daemon
	assert_eq "$(stat -c %G "$T/dest/d")" daemon
	[ $(($(stat -c %#a "$T/dest/d/f") & 020)) -ne 0 ]
	[ $(($(stat -c %#a "$T/dest/d") & 020)) -ne 0 ]
}

@test "v2025: a file over 256 MiB goes as chunk objects and comes back whole" {
	mkdir "$T/src"
	# sparse: cheap to make and to hash, but every byte still travels
	truncate -s $((300 * 1024 * 1024)) "$T/src/huge"
	printf 'tail' >>"$T/src/huge"
	ja-snapshot --format v2025 "$T/src" >"$T/m"
	ja-put -C "$T/src" "$T/m" >"$T/r.json"
	assert_eq "$(json "$T/r.json" 'd["uploaded"]')" 2
	assert_eq "$(ndata)" 2
	ja-get -C "$T/dest" "$T/m"
	cmp "$T/src/huge" "$T/dest/huge"
	ja-snapshot --format v2025 "$T/dest" | cmp - "$T/m"
}
