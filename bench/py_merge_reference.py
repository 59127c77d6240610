#!/usr/bin/env python3
"""The Python tool's manifest work, reduced to its standard-library core, as a reference
for bench/manifest.sh: json.loads each input, merge by path with later manifests winning
(deadline-cloud download.py::merge_asset_manifests), then encode canonically (sort by
UTF-16-BE, sort_keys, no whitespace, ASCII escaping; v2023_03_03/asset_manifest.py::encode).
It skips the JSON-schema validation the real decoder runs, so it is a lower bound."""
import json, sys

def main():
    merged = {}
    for name in sys.argv[1:]:
        with open(name, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
        for e in doc["paths"]:
            merged[e["path"]] = e
    paths = sorted(merged.values(), key=lambda e: e["path"].encode("utf-16_be"))
    out = {"hashAlg": "xxh128", "manifestVersion": "2023-03-03", "paths": paths,
           "totalSize": sum(e["size"] for e in paths)}
    sys.stdout.write(json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=True))

main()
