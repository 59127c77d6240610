#!/usr/bin/env python3
"""gen-manifest.py N OUT [--overlay K] [--v2025]: write a canonical-looking manifest of N
entries (deterministic), for the scale benchmark.  With --overlay K, write K entries that
share paths with every 10th entry of the N-entry manifest (newer mtimes, other hashes)."""
import json, random, sys

def main():
    args = sys.argv[1:]
    n, out = int(args[0]), args[1]
    overlay = int(args[args.index("--overlay") + 1]) if "--overlay" in args else 0
    v2025 = "--v2025" in args
    rng = random.Random(20261122)
    names = ["scene", "shot", "tex", "cache", "r\u00e9f", "\u65e5\u672c", "plate"]
    entries = []
    count = overlay if overlay else n
    for i in range(count):
        j = i * 10 if overlay else i
        path = "d%03d/%s%02d/%s_%07d.%s" % (j % 997, names[j % 7], j % 13, names[(j // 7) % 7], j,
                                           ["exr", "ma", "png", "abc"][j % 4])
        h = "%032x" % rng.getrandbits(128)
        e = {"hash": h, "mtime": 1700000000000000 + j * 1000 + (7 if overlay else 0),
             "size": 1024 + (j * 7919) % 100000}
        if v2025:
            e["name"] = path
        else:
            e["path"] = path
        entries.append(e)
    key = "path"
    entries.sort(key=lambda e: e.get("path", e.get("name")).encode("utf-16-be"))
    total = sum(e["size"] for e in entries)
    if v2025:
        doc = {"dirs": [], "files": entries, "hashAlg": "xxh128",
               "specificationVersion": "relative-manifest-snapshot-beta-2025-12", "totalSize": total}
        # not compressed: ja reads plain names without "/"? no: G2 requires $N/, so write
        # the Rust (G3) form, which allows full paths
        for e in entries:
            e["path"] = e.pop("name")
    else:
        doc = {"hashAlg": "xxh128", "manifestVersion": "2023-03-03", "paths": entries,
               "totalSize": total}
    with open(out, "w") as f:
        json.dump(doc, f, separators=(",", ":"), sort_keys=True)  # ASCII-only, like Python

main()
