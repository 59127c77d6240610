/* applets.h - the applet table, one row per applet, alphabetical.
 * APPLET(name, synopsis, summary, operand-completion) ; each applet file defines
 * int applet_NAME_main(int, char **) and const struct opt applet_NAME_opts[]. */
APPLET(diff, "[OPTIONS] BASE [NEW]",
       "Show what changed between a manifest and a manifest or a tree.", "file")
APPLET(get, "[OPTIONS] [MANIFEST|KEY ...]",
       "Download the files of manifests from a store into a directory.", "file")
APPLET(hash, "[-c] [--chunks] [-j N] [FILE ...]",
       "Print or check XXH3-128 hashes (xxhsum -H2 compatible).", "file")
APPLET(merge, "[--by-mtime] [--format FMT] [-o FILE] [MANIFEST ...]",
       "Merge manifests (later wins; v2025 snapshots compose with diffs).", "file")
APPLET(put, "[OPTIONS] [MANIFEST]", "Upload a manifest's files, then the manifest, to a store.",
       "file")
APPLET(s3, "[OPTIONS] COMMAND [ARG ...]", "Inspect and repair an S3 store: ls, stat, cat, cp, rm.",
       "ls stat cat cp rm")
APPLET(snapshot, "[OPTIONS] DIR", "Write the manifest of a directory tree.", "dir")
