/* snapshot.h - the manifest of a directory tree: walk, select, hash (through the hash
 * cache, in parallel), and build the model (spec §1.4, §2.2, §7.1, §7.6). */
#ifndef JA_SNAPSHOT_H
#define JA_SNAPSHOT_H

#include "glob.h"
#include "hashcache.h"
#include "manifest.h"
#include "progress.h"
#include "walk.h"

struct snap_opts {
	enum mver ver;
	enum walk_links links;
	const struct globset *globs;
	int skip_unreadable;
	int jobs;		   /* hashing threads */
	struct hashcache *cache;   /* NULL: no cache */
	int rehash;		   /* ignore cached hashes (still store the new ones) */
	struct progress *progress; /* NULL: none */
	/* Fast diff: a file whose size equals and whose mtime is within 1 us of this
	 * manifest's entry takes that entry's hash without being read. */
	const struct manifest *reuse;
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
};

/* Build the manifest of root into out (initialised here; caller releases).
 * -1 with err: unreadable tree or file (unless skip_unreadable), a file that keeps
 * changing while hashed. */
int snapshot_tree(const char *root, const struct snap_opts *o, struct manifest *out,
		  struct ja_err *err);

#endif
