/* checkcache.c - the S3 check cache: rows (key, seen) in SQLite; adds are queued
 * in memory and written a few thousand per transaction. */
#include "checkcache.h"
#include "arena.h"
#include "cachedb.h"
#include "strmap.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH	  4096 /* queued adds written per transaction */
#define DAY	  86400LL
#define MAX_DAYS  36500
#define FORGOTTEN INT64_MIN /* a queued key dropped by checkcache_forget */
/* An entry dated later than this past "now" comes from a clock that was wrong
 * (or a hostile file): trusting it would keep it alive for years. */
#define FUTURE_SLACK DAY

struct qent {
	const char *key; /* in qarena */
	int64_t seen;
};

struct checkcache {
	struct cachedb c;
	void (*warn)(void *, const char *);
	void *ctx;
	int64_t ttl;	  /* seconds an entry counts */
	int read_warned;  /* a failed lookup was reported: don't repeat it per key */
	int write_failed; /* a failed write was reported: stop writing */
	sqlite3_stmt *sel;
	struct qent *q;
	size_t nq, capq;
	struct arena qarena;
	struct strmap qmap; /* key -> index in q */
	pthread_mutex_t lock;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS s3check_v1 (key TEXT PRIMARY KEY, seen INTEGER NOT NULL) "
    "WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS s3check_v1_seen ON s3check_v1(seen);"
    "CREATE TABLE IF NOT EXISTS s3check_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)";

static void cc_warn(struct checkcache *cc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cc_warn(struct checkcache *cc, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cc->warn)
		cc->warn(cc->ctx, msg);
}

/* Length of a key worth caching, or 0. */
static size_t key_len(const char *key)
{
	size_t n = key ? strnlen(key, CHECKCACHE_KEY_MAX + 1) : 0;
	return n <= CHECKCACHE_KEY_MAX ? n : 0;
}

static int64_t env_days(struct checkcache *cc)
{
	const char *s = getenv("JA_CHECK_CACHE_DAYS");
	size_t n = s ? strlen(s) : 0;
	if (!n)
		return CHECKCACHE_DAYS;
	if (n <= 5 && strspn(s, "0123456789") == n && atoi(s) <= MAX_DAYS)
		return atoi(s);
	cc_warn(cc, "JA_CHECK_CACHE_DAYS=%s is not a number of days (0 to %d): using %d",
		esc_name(s), MAX_DAYS, CHECKCACHE_DAYS);
	return CHECKCACHE_DAYS;
}

/* Was an entry seen at seen (possibly hostile) confirmed within ttl before now? */
static int fresh(int64_t seen, int64_t now, int64_t ttl)
{
	int64_t age;
	if (__builtin_sub_overflow(now, seen, &age))
		return 0;
	return age < ttl && age >= -FUTURE_SLACK;
}

static void drop_queue(struct checkcache *cc)
{
	cc->nq = 0;
	arena_release(&cc->qarena);
	arena_init(&cc->qarena);
	strmap_release(&cc->qmap);
	strmap_init(&cc->qmap, 64);
}

/* The file is damaged: start an empty one (queued adds survive in memory). */
static void repair(struct checkcache *cc)
{
	struct ja_err e;
	int rc;
	sqlite3_finalize(cc->sel);
	cc->sel = NULL;
	rc = cachedb_rebuild(&cc->c, &e);
	if (rc < 0)
		cc_warn(cc, "%s (going on without it)", e.msg);
	else if (rc > 0)
		cc_warn(cc, "%s", e.msg);
}

/* After a failed statement (already reset or finalized): repair a damaged file, else
 * report the first failure of a kind. */
static void sql_failed(struct checkcache *cc, int rc, int *warned)
{
	if (cachedb_damaged(rc)) {
		repair(cc);
		return;
	}
	if (!*warned && cc->c.db)
		cc_warn(cc, "check cache %s: %s", esc_name(cc->c.file), sqlite3_errmsg(cc->c.db));
	*warned = 1;
}

/* 1 with *seen when the database has key; 0 when not (or on error). */
static int db_seen(struct checkcache *cc, const char *key, size_t n, int64_t *seen)
{
	int rc, found = 0;
	if (!cc->c.db)
		return 0;
	if (!cc->sel &&
	    (rc = sqlite3_prepare_v2(cc->c.db, "SELECT seen FROM s3check_v1 WHERE key = ?1", -1,
				     &cc->sel, NULL)) != SQLITE_OK) {
		sql_failed(cc, rc, &cc->read_warned);
		return 0;
	}
	sqlite3_bind_text(cc->sel, 1, key, (int)n, SQLITE_STATIC);
	rc = sqlite3_step(cc->sel);
	if (rc == SQLITE_ROW && sqlite3_column_type(cc->sel, 0) == SQLITE_INTEGER) {
		*seen = sqlite3_column_int64(cc->sel, 0);
		found = 1;
	}
	/* resetting ends the read transaction, so other processes' commits show */
	sqlite3_reset(cc->sel);
	sqlite3_clear_bindings(cc->sel);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		sql_failed(cc, rc, &cc->read_warned);
	return found;
}

/* Drop entries that no setting counts any more, at most once a day: every open
 * would otherwise take the write lock. */
static void prune(struct checkcache *cc, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int64_t last = 0, since,
		keep = cc->ttl > CHECKCACHE_DAYS * DAY ? cc->ttl : CHECKCACHE_DAYS * DAY;
	char sql[256];
	struct ja_err e;
	int rc;
	if (!cc->c.db)
		return;
	rc = sqlite3_prepare_v2(cc->c.db, "SELECT value FROM s3check_meta WHERE name = 'pruned'",
				-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sql_failed(cc, rc, &cc->read_warned);
		return;
	}
	if (!__builtin_sub_overflow(now, last, &since) && since >= 0 && since < DAY)
		return;
	snprintf(sql, sizeof(sql),
		 "DELETE FROM s3check_v1 WHERE seen < %lld OR seen > %lld;"
		 "INSERT OR REPLACE INTO s3check_meta (name, value) VALUES ('pruned', %lld)",
		 (long long)(now - keep), (long long)(now + FUTURE_SLACK), (long long)now);
	if (cachedb_exec(&cc->c, "BEGIN IMMEDIATE", &e) < 0)
		goto fail;
	if (cachedb_exec(&cc->c, sql, &e) < 0 || cachedb_exec(&cc->c, "COMMIT", &e) < 0) {
		rc = sqlite3_errcode(cc->c.db);
		cachedb_exec(&cc->c, "ROLLBACK", NULL);
		if (cachedb_damaged(rc)) {
			repair(cc);
			return;
		}
		goto fail;
	}
	return;
fail:
	cc_warn(cc, "%s", e.msg);
}

int checkcache_open(struct checkcache **out, const char *dir,
		    void (*warn)(void *ctx, const char *msg), void *ctx, struct ja_err *err)
{
	struct checkcache *cc = xcalloc(1, sizeof(*cc));
	struct ja_err e;
	int rc;
	*out = NULL;
	cc->warn = warn;
	cc->ctx = ctx;
	arena_init(&cc->qarena);
	strmap_init(&cc->qmap, 64);
	pthread_mutex_init(&cc->lock, NULL);
	cc->c.what = "check cache";
	cc->c.schema = SCHEMA;
	cc->ttl = env_days(cc) * DAY;
	rc = cachedb_open(&cc->c, dir, "s3checkcache.db", &e);
	if (rc < 0) {
		if (err)
			*err = e;
		checkcache_close(cc);
		return -1;
	}
	if (rc > 0)
		cc_warn(cc, "%s", e.msg);
	prune(cc, (int64_t)time(NULL));
	*out = cc;
	return 0;
}

int checkcache_has(struct checkcache *cc, const char *key, int64_t now)
{
	size_t n = key_len(key), *slot;
	int64_t seen = 0;
	int found;
	if (!cc || !n)
		return 0;
	pthread_mutex_lock(&cc->lock);
	slot = strmap_get(&cc->qmap, key, n);
	if (slot) {
		seen = cc->q[*slot].seen;
		found = seen != FORGOTTEN;
	} else {
		found = db_seen(cc, key, n, &seen);
	}
	pthread_mutex_unlock(&cc->lock);
	return found && fresh(seen, now, cc->ttl);
}

/* Write the queue in one transaction: SQLITE_OK or the failing code, with e set. */
static int write_queue(struct checkcache *cc, struct ja_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_OK;
	if (cachedb_exec(&cc->c, "BEGIN IMMEDIATE", e) < 0)
		return sqlite3_errcode(cc->c.db);
	/* another process may have confirmed the key later than we did: keep the later time */
	if (sqlite3_prepare_v2(
		cc->c.db,
		"INSERT INTO s3check_v1 (key, seen) VALUES (?1, ?2) ON CONFLICT(key) "
		"DO UPDATE SET seen = max(seen, excluded.seen)",
		-1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < cc->nq; i++) {
		if (cc->q[i].seen == FORGOTTEN)
			continue;
		sqlite3_bind_text(st, 1, cc->q[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, cc->q[i].seen);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (cachedb_exec(&cc->c, "COMMIT", e) == 0)
		return SQLITE_OK;
	rc = sqlite3_errcode(cc->c.db);
	cachedb_exec(&cc->c, "ROLLBACK", NULL);
	return rc;
fail:
	rc = sqlite3_errcode(cc->c.db);
	err_set(e, EXIT_FAIL, "check cache %s: %s", esc_name(cc->c.file), sqlite3_errmsg(cc->c.db));
	sqlite3_finalize(st);
	cachedb_exec(&cc->c, "ROLLBACK", NULL);
	return rc;
}

static int flush_locked(struct checkcache *cc)
{
	struct ja_err e;
	int rc = SQLITE_OK;
	if (!cc->nq)
		return 0;
	if (!cc->c.db || cc->write_failed) {
		drop_queue(cc);
		return -1;
	}
	rc = write_queue(cc, &e);
	if (cachedb_damaged(rc)) {
		repair(cc);
		rc = cc->c.db ? write_queue(cc, &e) : SQLITE_CANTOPEN;
	}
	if (rc != SQLITE_OK && cc->c.db) {
		cc_warn(cc, "%s (the check cache is not updated)", e.msg);
		cc->write_failed = 1;
	}
	drop_queue(cc);
	return rc == SQLITE_OK ? 0 : -1;
}

void checkcache_add(struct checkcache *cc, const char *key, int64_t now)
{
	size_t n = key_len(key), *slot;
	int found;
	if (!cc || !n || now == FORGOTTEN)
		return;
	pthread_mutex_lock(&cc->lock);
	if (!cc->c.db || cc->write_failed)
		goto out;
	slot = strmap_get(&cc->qmap, key, n);
	if (slot) {
		struct qent *e = &cc->q[*slot];
		if (e->seen == FORGOTTEN || e->seen < now)
			e->seen = now;
		goto out;
	}
	xgrow((void **)&cc->q, &cc->capq, cc->nq + 1, sizeof(*cc->q));
	cc->q[cc->nq].key = arena_strndup(&cc->qarena, key, n);
	cc->q[cc->nq].seen = now;
	slot = strmap_put(&cc->qmap, cc->q[cc->nq].key, n, &found);
	*slot = cc->nq++;
	if (cc->nq >= BATCH)
		flush_locked(cc);
out:
	pthread_mutex_unlock(&cc->lock);
}

int checkcache_forget(struct checkcache *cc, const char *key)
{
	size_t n = key_len(key), *slot;
	sqlite3_stmt *st = NULL;
	int rc;
	if (!cc || !n)
		return 0;
	pthread_mutex_lock(&cc->lock);
	slot = strmap_get(&cc->qmap, key, n);
	if (slot)
		cc->q[*slot].seen = FORGOTTEN;
	rc = SQLITE_OK;
	if (cc->c.db) {
		rc = sqlite3_prepare_v2(cc->c.db, "DELETE FROM s3check_v1 WHERE key = ?1", -1, &st,
					NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, key, (int)n, SQLITE_STATIC);
			rc =
			    sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(cc->c.db);
		}
		if (rc != SQLITE_OK && !cachedb_damaged(rc))
			cc_warn(cc, "check cache %s: %s (an entry for a missing object stays)",
				esc_name(cc->c.file), sqlite3_errmsg(cc->c.db));
		sqlite3_finalize(st);
		/* a damaged file is replaced by an empty one: the entry is gone too */
		if (cachedb_damaged(rc)) {
			repair(cc);
			rc = SQLITE_OK;
		}
	}
	pthread_mutex_unlock(&cc->lock);
	return rc == SQLITE_OK ? 0 : -1;
}

int checkcache_flush(struct checkcache *cc)
{
	int rc;
	if (!cc)
		return 0;
	pthread_mutex_lock(&cc->lock);
	rc = flush_locked(cc);
	pthread_mutex_unlock(&cc->lock);
	return rc;
}

void checkcache_close(struct checkcache *cc)
{
	if (!cc)
		return;
	checkcache_flush(cc);
	sqlite3_finalize(cc->sel);
	cachedb_close(&cc->c);
	free(cc->q);
	arena_release(&cc->qarena);
	strmap_release(&cc->qmap);
	pthread_mutex_destroy(&cc->lock);
	free(cc);
}
