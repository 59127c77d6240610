/* hashcache.h - the local hash cache (spec §6, decision f): SQLite in
 * $XDG_CACHE_HOME/ja/hashcache.db keyed by (absolute path, size, mtime in ns), and
 * also the inode change time, so that content rewritten with its old size and mtime
 * put back (touch -d, cp -p, tar x) is not taken for unchanged.
 *
 * Lookups are served from memory: hashcache_load() reads every row under one root
 * with one query, so a warm snapshot costs one SELECT and no per-file SQL.  New
 * results are queued (thread-safe) and written by hashcache_close() in one
 * transaction.  WAL mode and a busy timeout let several processes share the file.
 * Nothing here fails a snapshot: a corrupt or unwritable cache is reported through
 * the warn callback and the run goes on (rebuilding or without a cache).
 */
#ifndef JA_HASHCACHE_H
#define JA_HASHCACHE_H

#include <stdint.h>
#include "util.h"

struct hashcache;

/* dir NULL = $XDG_CACHE_HOME/ja (or ~/.cache/ja).  Returns NULL (after a warning)
 * when no cache can be used. */
struct hashcache *hashcache_open(const char *dir, void (*warn)(void *, const char *), void *ctx);
/* Read the rows of every path under root (absolute) into memory. */
void hashcache_load(struct hashcache *hc, const char *root);
/* Cached hash for (abspath, size, mtime_ns) and chunk size; hex receives the hash, or
 * the chunk hashes joined by ',' for a chunked file.  1 hit, 0 miss.  Thread-safe
 * after hashcache_load. */
int hashcache_get(struct hashcache *hc, const char *abspath, int64_t size, int64_t mtime_ns,
		  int64_t ctime_ns, int chunked, const char **value);
/* Queue a result. Thread-safe. */
void hashcache_put(struct hashcache *hc, const char *abspath, int64_t size, int64_t mtime_ns,
		   int64_t ctime_ns, int chunked, const char *value);
/* Write queued results (one transaction), prune old entries, close, free. */
void hashcache_close(struct hashcache *hc);

#endif
