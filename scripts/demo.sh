#!/usr/bin/env bash
# scripts/demo.sh - build ja and run its main job end to end on this machine.
# Installs missing Debian packages first (as root).  The main job: snapshot a scene
# tree byte-identically to the Python tool, upload it to the embedded default store
# (file://, a private one under a temporary XDG_DATA_HOME here), download it into a
# fresh directory and verify the copy, then change the scene and move only the
# change; plus hashing and manifest merging/composition.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make -s -j"$(nproc)"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export PATH="$PWD:$PATH"

echo "== a scene tree with awkward names (tests/vectors/fixture)"
bash tests/vectors/fixture/make-fixture.sh "$W/scene" >/dev/null
(cd "$W/scene" && find . -type f -print0 | sort -z | xargs -0 ja-hash) > "$W/scene.xxh128"
echo "hashed $(wc -l < "$W/scene.xxh128") files; verifying with ja-hash -c:"
(cd "$W/scene" && ja-hash -c "$W/scene.xxh128" | tail -3)

echo "== snapshot and diff"
ja-snapshot "$W/scene" > "$W/base.manifest"
cmp "$W/base.manifest" tests/vectors/fixture/expected-v2023.manifest
echo "ja-snapshot of the tree: identical to the manifest deadline-cloud writes ($(wc -c < "$W/base.manifest") bytes)"
cp -a "$W/scene" "$W/changed"
bash tests/vectors/fixture/diff/modify-fixture.sh "$W/changed" >/dev/null
echo "after a change: $(ja-diff --status "$W/base.manifest" "$W/changed")"
ja-diff "$W/base.manifest" "$W/changed" | cmp - tests/vectors/fixture/diff/expected-snapshot-diff.manifest
echo "ja-diff manifest of new and modified files: identical to the Python tool's snapshot --diff"

echo "== the main job: put the scene into the embedded store, get it back elsewhere"
export XDG_DATA_HOME="$W/data" XDG_CACHE_HOME="$W/cache"
unset JA_STORE
ja-put -C "$W/scene" "$W/base.manifest" > "$W/put.json"
echo "ja-put: $(cat "$W/put.json")"
key=$(sed -E 's/.*"manifestKey":"([^"]*)".*/\1/' "$W/put.json")
ja-get -C "$W/copy" "$key"
ja-snapshot "$W/copy" | cmp - "$W/base.manifest"
echo "ja-get of $key into a fresh directory: its snapshot equals the original manifest"
ja-snapshot "$W/changed" | ja-diff "$W/base.manifest" | ja-put -C "$W/changed" > "$W/put2.json"
echo "only the change goes up the second time: $(cat "$W/put2.json")"
ja-put -C "$W/scene" "$W/base.manifest" | grep -q '"uploaded":0,' && echo "a repeated put uploads nothing"

echo "== manifests: format, merge, compose (byte-identical to deadline-cloud)"
V=tests/vectors
ja-merge "$V/fixture/expected-v2023.manifest" | cmp - "$V/fixture/expected-v2023.manifest"
echo "re-encoded the Python tool's manifest of that tree: identical bytes, hash $(ja-merge "$V/fixture/expected-v2023.manifest" | ja-hash | cut -c1-32)"
ja-merge "$V/v2025/snapshot.manifest" "$V/v2025/diff.manifest" | cmp - "$V/v2025/expected-composed.manifest"
echo "composed a v2025 snapshot with its diff: identical to the expected snapshot"
ja-merge --format v2025 "$V/golden/v2023-golden.manifest" > "$W/g25"
ja-merge --format v2023 "$W/g25" | cmp - "$V/golden/v2023-golden.manifest"
echo "converted v2023 -> v2025 -> v2023 without loss"
echo "ok: ja works here ($(ja --version))"
