#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages ja needs to build and test
# (as root; does nothing when everything is already there).
set -euo pipefail
PKGS=(
	build-essential pkg-config git ca-certificates
	libxxhash-dev xxhash libcjson-dev libcurl4-openssl-dev libssl-dev
	libsqlite3-dev libexpat1-dev libfuse3-dev fuse3 libarchive-dev
	bats mandoc bash-completion zsh bsdextrautils python3 openssl
	clang clang-format libclang-rt-14-dev
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root: $0)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -o DPkg::Lock::Timeout=120 "${missing[@]}" >/dev/null
