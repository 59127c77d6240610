#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages ja needs to build and test
# (as root; does nothing when everything is already there), then the S3 test
# server's npm packages from tests/s3server/package-lock.json.
set -euo pipefail
PKGS=(
	build-essential pkg-config git ca-certificates
	libxxhash-dev xxhash libcjson-dev libcurl4-openssl-dev libssl-dev
	libsqlite3-dev libexpat1-dev libfuse3-dev fuse3 libarchive-dev
	bats mandoc bash-completion zsh bsdextrautils python3 openssl
	clang clang-format libclang-rt-14-dev
	awscli wrk apache2-utils curl
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: ${missing[*]} (run as root: $0)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq -o DPkg::Lock::Timeout=120 "${missing[@]}" >/dev/null
fi

# The S3 test server (tests/s3server): Node.js >= 20 comes with the machine image,
# not from Debian (whose nodejs is 18). npm ci reinstalls from the committed lock
# when node_modules is missing or older than the lock.
srv="$(cd "$(dirname "$0")/../tests/s3server" && pwd)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "deps: node and npm (Node.js >= 20) are needed for the S3 test server; not found on PATH" >&2
	exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
	echo "deps: the S3 test server needs Node.js >= 20; $(command -v node) is $(node --version)" >&2
	exit 1
fi
if [ ! -d "$srv/node_modules" ] || [ "$srv/package-lock.json" -nt "$srv/node_modules" ]; then
	echo "deps: npm ci in $srv" >&2
	(cd "$srv" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	touch "$srv/node_modules"
fi
