#!/usr/bin/env bash
# scripts/demo.sh - build ja and run its main job end to end on this machine.
# Installs missing Debian packages first (as root).  Today's main job is the local
# manifest work: hash a scene tree (compatible with xxhsum -H2), check it, and
# format/merge/compose manifests byte-identically to the Python tool.  Transfers to
# the embedded file:// store join this script as ja-snapshot/ja-put/ja-get land.
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
