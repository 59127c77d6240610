/* get.h - download the files a manifest describes from a store into a directory.
 *
 * Every file is written to a temporary in its directory, hashed as it arrives
 * (each v2025 chunk on its own, chunks fetched in parallel and written at their
 * offsets), and renamed into place only when every byte matches: a wrong or
 * missing object leaves nothing at the final name.  A file already there with
 * the entry's size and mtime is left alone, so a rerun after an interruption
 * resumes.  Paths come from dest.c, which never writes outside the destination.
 */
#ifndef JA_GET_H
#define JA_GET_H

#include <stdint.h>
#include "checkcache.h"
#include "dest.h"
#include "manifest.h"
#include "progress.h"
#include "store.h"
#include "util.h"

struct get_opts {
	struct store *store;
	struct dest *dest;
	int verify_existing;	/* a matching file must also hash right to be kept */
	int no_space_check;	/* skip the free-space check */
	struct checkcache *cc;	/* objects found missing are forgotten there; may be NULL */
	struct progress *prog;	/* NULL: none */
	uint64_t min_rate;	/* bytes/s; 0: no floor */
	double min_rate_window; /* seconds the rate may stay under the floor */
	/* Called on the calling thread for each file that failed (the run goes on). */
	void (*report)(void *ctx, const struct ja_err *e);
	void *report_ctx;
};

struct get_stats {
	uint64_t files, downloaded, skipped, copied, failed, links, deleted;
	uint64_t bytes_downloaded, bytes_skipped;
	int too_slow; /* stopped by --min-rate */
};

/* 0 when every entry is in place; -1 when some failed (each reported) or with err
 * for what stops the run (no space, an interrupt: code 130, too slow). */
int get_files(const struct manifest *m, const struct get_opts *o, struct get_stats *stats,
	      struct ja_err *err);

#endif
