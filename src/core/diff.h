/* diff.h - what changed between a base manifest and a current one (spec §7.2-§7.4). */
#ifndef JA_DIFF_H
#define JA_DIFF_H

#include "manifest.h"

struct diff_lists {
	const struct mfile **added, **modified; /* entries of cur */
	const struct mfile **deleted;		/* entries of base */
	size_t nadded, nmodified, ndeleted;
	/* v2025: directories present (listed, or with anything below them) only in cur /
	 * only in base; owned by the lists, paths borrowed from cur / base */
	const struct mdir **dirs_added, **dirs_deleted;
	size_t ndirs_added, ndirs_deleted;
};

/* Compare base and cur (same version).  Size, mtime (+-1 us), content, symlink target
 * and runnable bit all count; by_hash with v2023: only the content (the Python tool's
 * --force-rehash).  A v2025 DIFF must compose back into cur, so there by_hash only says
 * how cur was read.  Lists point into base and cur, sorted by path (UTF-16 order);
 * release with diff_release. */
int diff_manifests(struct manifest *base, struct manifest *cur, int by_hash, struct diff_lists *d,
		   struct ja_err *err);
void diff_release(struct diff_lists *d);
static inline size_t diff_count(const struct diff_lists *d)
{
	return d->nadded + d->nmodified + d->ndeleted + d->ndirs_added + d->ndirs_deleted;
}

/* The change as a manifest (out initialised here; strings borrowed from base and cur):
 * v2023 = the added and modified files; v2025 = a DIFF with delete markers and
 * parentManifestHash = xxh128 of base's canonical bytes (parent_hex). */
int diff_to_manifest(const struct manifest *base, const struct manifest *cur,
		     const struct diff_lists *d, const char *parent_hex, struct manifest *out,
		     struct ja_err *err);

#endif
