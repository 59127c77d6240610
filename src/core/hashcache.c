/* hashcache.c - SQLite hash cache shared by every ja process of a user. */
#include "hashcache.h"
#include "arena.h"
#include "buf.h"
#include "cachedb.h"
#include "strmap.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRUNE_DAYS 30

struct hrow {
	const char *path, *value;
	int64_t size, mtime_ns, ctime_ns, seen;
	int chunked;
};

struct hashcache {
	struct cachedb c;
	void (*warn)(void *, const char *);
	void *ctx;
	struct arena arena;
	struct hrow *rows; /* loaded, then indexed by map */
	size_t nrows, caprows;
	struct strmap map;
	struct hrow *q; /* queued writes */
	size_t nq, capq;
	struct arena qarena;
	pthread_mutex_t lock;
};

static void hc_warn(struct hashcache *hc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (hc->warn)
		hc->warn(hc->ctx, msg);
}

/* Report a failed statement; -1. */
static int exec(struct hashcache *hc, const char *sql)
{
	struct ja_err e;
	if (cachedb_exec(&hc->c, sql, &e) == 0)
		return 0;
	hc_warn(hc, "%s", e.msg);
	return -1;
}

/* A damaged file: moved aside, an empty cache in its place. */
static int rebuild(struct hashcache *hc)
{
	struct ja_err e;
	int rc = cachedb_rebuild(&hc->c, &e);
	if (rc < 0) {
		hc_warn(hc, "%s (going on without it)", e.msg);
		return -1;
	}
	if (rc > 0)
		hc_warn(hc, "%s", e.msg);
	return 0;
}

struct hashcache *hashcache_open(const char *dir, void (*warn)(void *, const char *), void *ctx)
{
	struct hashcache *hc = xcalloc(1, sizeof(*hc));
	struct ja_err e;
	int rc;
	hc->warn = warn;
	hc->ctx = ctx;
	arena_init(&hc->arena);
	arena_init(&hc->qarena);
	strmap_init(&hc->map, 16);
	pthread_mutex_init(&hc->lock, NULL);
	hc->c.what = "hash cache";
	hc->c.schema =
	    "CREATE TABLE IF NOT EXISTS hashes_v2 (path BLOB PRIMARY KEY, "
	    "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT "
	    "NULL, chunked INTEGER NOT NULL, value TEXT NOT NULL, seen INTEGER NOT NULL);"
	    "CREATE INDEX IF NOT EXISTS hashes_v2_seen ON hashes_v2(seen)";
	rc = cachedb_open(&hc->c, dir, "hashcache.db", &e);
	if (rc < 0) {
		hc_warn(hc, "%s (going on without it)", e.msg);
		hashcache_close(hc);
		return NULL;
	}
	if (rc > 0)
		hc_warn(hc, "%s", e.msg);
	return hc;
}

void hashcache_load(struct hashcache *hc, const char *root)
{
	sqlite3_stmt *st = NULL;
	struct buf lo = BUF_INIT, hi = BUF_INIT;
	int rc = SQLITE_OK;
	if (!hc || !hc->c.db)
		return;
	buf_adds(&lo, root);
	if (lo.len && lo.p[lo.len - 1] != '/')
		buf_addc(&lo, '/');
	buf_add(&hi, lo.p, lo.len - 1);
	buf_addc(&hi, '/' + 1); /* every path with the prefix sorts before this */
	if (sqlite3_prepare_v2(
		hc->c.db,
		"SELECT path, size, mtime_ns, chunked, value, ctime_ns, seen FROM hashes_v2 "
		"WHERE path >= ?1 AND path < ?2",
		-1, &st, NULL) != SQLITE_OK) {
		rc = sqlite3_errcode(hc->c.db);
		hc_warn(hc, "hash cache %s: %s", esc_name(hc->c.file), sqlite3_errmsg(hc->c.db));
		goto out;
	}
	sqlite3_bind_blob(st, 1, lo.p, (int)lo.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hi.p, (int)hi.len, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hrow *r;
		int found, n = sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		const unsigned char *v = sqlite3_column_text(st, 4);
		size_t *slot;
		if (!p || !v)
			continue;
		xgrow((void **)&hc->rows, &hc->caprows, hc->nrows + 1, sizeof(*r));
		r = &hc->rows[hc->nrows];
		r->path = arena_strndup(&hc->arena, p, (size_t)n);
		r->size = sqlite3_column_int64(st, 1);
		r->mtime_ns = sqlite3_column_int64(st, 2);
		r->chunked = sqlite3_column_int(st, 3);
		r->ctime_ns = sqlite3_column_int64(st, 5);
		r->seen = sqlite3_column_int64(st, 6);
		r->value = arena_strndup(&hc->arena, (const char *)v, strlen((const char *)v));
		slot = strmap_put(&hc->map, r->path, (size_t)n, &found);
		*slot = hc->nrows++;
	}
	if (rc != SQLITE_DONE)
		hc_warn(hc, "hash cache %s: %s (some entries not used)", esc_name(hc->c.file),
			sqlite3_errmsg(hc->c.db));
out:
	sqlite3_finalize(st);
	buf_release(&lo);
	buf_release(&hi);
	if (cachedb_damaged(rc)) {
		/* nothing read from a damaged file is trusted */
		hc->nrows = 0;
		strmap_release(&hc->map);
		strmap_init(&hc->map, 16);
		rebuild(hc);
	}
}

int hashcache_get(struct hashcache *hc, const char *abspath, int64_t size, int64_t mtime_ns,
		  int64_t ctime_ns, int chunked, const char **value)
{
	size_t *slot;
	const struct hrow *r;
	if (!hc)
		return 0;
	slot = strmap_get(&hc->map, abspath, strlen(abspath));
	if (!slot)
		return 0;
	r = &hc->rows[*slot];
	if (r->size != size || r->mtime_ns != mtime_ns || r->ctime_ns != ctime_ns ||
	    r->chunked != !!chunked)
		return 0;
	*value = r->value;
	/* a hit keeps its entry alive: refresh "seen" once a day at most */
	if (r->seen < (int64_t)time(NULL) - 86400)
		hashcache_put(hc, abspath, size, mtime_ns, ctime_ns, chunked, r->value);
	return 1;
}

void hashcache_put(struct hashcache *hc, const char *abspath, int64_t size, int64_t mtime_ns,
		   int64_t ctime_ns, int chunked, const char *value)
{
	struct hrow *r;
	if (!hc || !hc->c.db)
		return;
	pthread_mutex_lock(&hc->lock);
	xgrow((void **)&hc->q, &hc->capq, hc->nq + 1, sizeof(*r));
	r = &hc->q[hc->nq++];
	r->path = arena_strndup(&hc->qarena, abspath, strlen(abspath));
	r->value = arena_strndup(&hc->qarena, value, strlen(value));
	r->size = size;
	r->mtime_ns = mtime_ns;
	r->ctime_ns = ctime_ns;
	r->chunked = !!chunked;
	pthread_mutex_unlock(&hc->lock);
}

/* Write the queue in one transaction; the SQLite code of a failure, else SQLITE_OK. */
static int write_queue(struct hashcache *hc)
{
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc;
	if (exec(hc, "BEGIN IMMEDIATE") < 0)
		return sqlite3_errcode(hc->c.db);
	if (sqlite3_prepare_v2(hc->c.db,
			       "INSERT OR REPLACE INTO hashes_v2 (path, size, mtime_ns, chunked, "
			       "value, seen, ctime_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = sqlite3_errcode(hc->c.db);
		hc_warn(hc, "hash cache %s: %s", esc_name(hc->c.file), sqlite3_errmsg(hc->c.db));
		exec(hc, "ROLLBACK");
		return rc;
	}
	for (size_t i = 0; i < hc->nq; i++) {
		const struct hrow *r = &hc->q[i];
		sqlite3_bind_blob(st, 1, r->path, (int)strlen(r->path), SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r->size);
		sqlite3_bind_int64(st, 3, r->mtime_ns);
		sqlite3_bind_int(st, 4, r->chunked);
		sqlite3_bind_text(st, 5, r->value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now);
		sqlite3_bind_int64(st, 7, r->ctime_ns);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = sqlite3_errcode(hc->c.db);
			hc_warn(hc, "hash cache %s: %s", esc_name(hc->c.file),
				sqlite3_errmsg(hc->c.db));
			sqlite3_finalize(st);
			exec(hc, "ROLLBACK");
			return rc;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	/* entries not rewritten for PRUNE_DAYS are dropped */
	{
		char sql[128];
		snprintf(sql, sizeof(sql), "DELETE FROM hashes_v2 WHERE seen < %lld",
			 (long long)(now - PRUNE_DAYS * 86400LL));
		if (exec(hc, sql) < 0) {
			rc = sqlite3_errcode(hc->c.db);
			exec(hc, "ROLLBACK");
			return rc;
		}
	}
	return exec(hc, "COMMIT") < 0 ? sqlite3_errcode(hc->c.db) : SQLITE_OK;
}

static void flush(struct hashcache *hc)
{
	if (hc->nq && cachedb_damaged(write_queue(hc)) && rebuild(hc) == 0)
		write_queue(hc);
}

void hashcache_close(struct hashcache *hc)
{
	if (!hc)
		return;
	if (hc->c.db)
		flush(hc);
	cachedb_close(&hc->c);
	free(hc->rows);
	free(hc->q);
	strmap_release(&hc->map);
	arena_release(&hc->arena);
	arena_release(&hc->qarena);
	pthread_mutex_destroy(&hc->lock);
	free(hc);
}
