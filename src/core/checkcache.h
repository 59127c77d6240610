/* checkcache.h - the S3 check cache (spec §6.2, decision g): which objects a store
 * is known to hold, so that an upload can skip their HEAD requests.
 *
 * SQLite in $XDG_CACHE_HOME/ja/s3checkcache.db (see cachedb.h: WAL, busy timeout,
 * several processes at once, a damaged file moved aside and rebuilt).  One row per
 * object: the text key "CACHE_ID/KEY" (store_cache_id() "/" the store key, e.g.
 * "bucket/prefix/Data/<hash>.xxh128", like the Python tool's "bucket/full-key") and
 * the unix time it was last confirmed.  An entry counts for 30 days
 * (JA_CHECK_CACHE_DAYS=N overrides, 0 disables every hit); a hit does not extend it,
 * so every object is checked against the store again at least that often.
 *
 * The callers' rule: add a key ONLY after the store confirmed the object (a HEAD
 * that found it, or an upload that completed), never on a guess; and forget a key
 * whenever the object turns out to be missing (a 404 on GET or HEAD), so a stale
 * entry cannot hide a deleted object for long.
 *
 * A cache is never a reason to fail: open reports an unusable one (the caller warns
 * and goes on without it), later trouble goes to the warn callback, and every
 * function accepts cc == NULL as "no cache".  Thread-safe (one mutex).
 */
#ifndef JA_CHECKCACHE_H
#define JA_CHECKCACHE_H

#include <stdint.h>
#include "util.h"

#define CHECKCACHE_DAYS	   30
#define CHECKCACHE_KEY_MAX 4096 /* longer keys are never cached */

struct checkcache;

/* dir: the directory of the database (NULL = $XDG_CACHE_HOME/ja, or ~/.cache/ja;
 * --cache-dir).  warn (may be NULL) receives one-line notices: the file was damaged
 * and rebuilt, a write failed, JA_CHECK_CACHE_DAYS is not a number.  Entries expired
 * for every setting are pruned here, at most once a day.  0 with *cc set; -1 with
 * *cc NULL and err saying why the cache cannot be used. */
int checkcache_open(struct checkcache **cc, const char *dir,
		    void (*warn)(void *ctx, const char *msg), void *ctx, struct ja_err *err);
/* 1 when key (borrowed) was confirmed within the expiry period before now (unix
 * seconds), including adds not yet written; else 0 (also on any error). */
int checkcache_has(struct checkcache *cc, const char *key, int64_t now);
/* Record that the store confirmed key at now.  Queued in memory and written in one
 * transaction per few thousand adds (and by flush and close). */
void checkcache_add(struct checkcache *cc, const char *key, int64_t now);
/* Drop key at once (from the queue and the database): the object is missing.
 * 0, or -1 when the database could not be changed (also reported to warn). */
int checkcache_forget(struct checkcache *cc, const char *key);
/* Write the queued adds now.  0, or -1 (reported to warn; the adds are dropped). */
int checkcache_flush(struct checkcache *cc);
/* Flush, close and free. */
void checkcache_close(struct checkcache *cc);

#endif
