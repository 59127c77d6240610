/* put.h - upload the content objects a manifest names into a store.
 *
 * Each distinct hash is one object (Data/HASH.xxh128; every chunk of a v2025
 * chunked file is its own object); symlinks and deletions have none.  Objects
 * the store already has are skipped: known from the check cache, else asked
 * for with HEAD.  The rest are read from the files under the root and uploaded
 * while being hashed: bytes that no longer hash to their key (the file changed
 * since the snapshot) are never stored under it.
 */
#ifndef JA_PUT_H
#define JA_PUT_H

#include <stdint.h>
#include "checkcache.h"
#include "manifest.h"
#include "progress.h"
#include "store.h"
#include "util.h"

struct put_opts {
	struct store *store;
	const char *root;      /* the tree the manifest's relative paths are under */
	struct checkcache *cc; /* NULL: no check cache */
	struct progress *prog; /* NULL: no progress */
	/* Called on the calling thread for each object that failed (the run goes on). */
	void (*report)(void *ctx, const struct ja_err *e);
	void *report_ctx;
};

struct put_stats {
	uint64_t files;	  /* manifest entries with content */
	uint64_t objects; /* distinct objects */
	uint64_t uploaded, skipped, failed;
	uint64_t bytes_uploaded, bytes_skipped;
};

/* Upload what is missing.  Returns 0 when every object is in the store, -1 when
 * some failed (each reported, stats->failed) or with err for what stops the run
 * (an unreadable root, an interrupt: code 130). */
int put_objects(const struct manifest *m, const struct put_opts *o, struct put_stats *stats,
		struct ja_err *err);

/* The store key of a content object: "Data/" HASH ".xxh128" (out: 45 bytes). */
void put_data_key(const char *hash, char out[48]);

#endif
