#!/usr/bin/env bash
# bench/run-all.sh - every benchmark, in one run on this machine (make bench).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/hash.sh -w
bench/manifest.sh
bench/snapshot.sh
bench/s3.sh
bench/transfer.sh
