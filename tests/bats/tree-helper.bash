# tree-helper.bash - helpers for the tree-reading applets (snapshot.bats, diff.bats):
# `load helper` first, then `load tree-helper`.

# nocap CMD...: run CMD as root but without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so
# file modes apply to it and EACCES really happens (the tests run as root).
nocap() {
	capsh --drop=cap_dac_override,cap_dac_read_search -- -c 'exec "$@"' nocap "$@"
}

# need_eacces PATH: fail unless reading PATH without the capabilities really fails, so a
# permission test cannot pass without exercising the error.
need_eacces() {
	local probe=cat
	[ -d "$1" ] && probe=ls
	if nocap "$probe" "$1" >/dev/null 2>&1; then
		echo "need_eacces: $1 is still readable without CAP_DAC_*; test would not exercise EACCES" >&2
		return 1
	fi
}

# mq MANIFEST EXPR: evaluate a Python expression over a decoded manifest (v2023 or v2025)
# and print the result (a str as it is, anything else as JSON).  Names in EXPR:
#   M  the JSON document      F  path -> file entry ($N/ names and symlink targets expanded)
#   D  path -> dir entry      P  sorted file paths
mq() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
M = json.load(open(sys.argv[1], encoding="utf-8"))
F, D = {}, {}
if "paths" in M:
    for e in M["paths"]:
        F[e["path"]] = e
else:
    idx = []
    def exp(n):
        if n.startswith("$") and "/" in n:
            i, rest = n[1:].split("/", 1)
            return idx[int(i)] + "/" + rest
        return n
    for d in M["dirs"]:
        p = exp(d["name"])
        idx.append(p)
        D[p] = d
    for f in M["files"]:
        e = dict(f)
        e["name"] = exp(f["name"])
        if "symlink" in e:
            e["symlink"] = exp(e["symlink"]["name"])
        F[e["name"]] = e
P = sorted(F)
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False))
EOF
}

# xxh FILE: the xxh128 hex of FILE's content
xxh() {
	ja-hash "$1" | cut -d' ' -f1
}

# tree_sig DIR: a listing of DIR (type, size, mode, mtime ns, name) to check a test left
# a tree as it found it.
tree_sig() {
	(cd "$1" && find . -printf '%y %s %m %T@ %p\n' | LC_ALL=C sort)
}
