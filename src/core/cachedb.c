/* cachedb.c - opening, retrying and repairing ja's SQLite cache files. */
#include "cachedb.h"
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_SECONDS 30 /* as long as the busy timeout */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where waiting could deadlock (switching a new file to WAL, creating a table)
 * SQLite answers BUSY at once instead of calling the busy handler, and several ja
 * processes starting on a fresh cache meet exactly there: hence the loop. */
int cachedb_exec(struct cachedb *c, const char *sql, struct ja_err *err)
{
	char *msg = NULL;
	double until = mono() + BUSY_SECONDS;
	int rc;
	if (!c->db)
		return err_set(err, EXIT_FAIL, "%s: not open", c->what);
	while ((rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg)) == SQLITE_BUSY && mono() < until) {
		sqlite3_free(msg);
		msg = NULL;
		usleep(5000);
	}
	if (rc != SQLITE_OK) {
		err_set(err, EXIT_FAIL, "%s %s: %s", c->what, esc_name(c->file),
			msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int cachedb_damaged(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

static int mkdirs(const char *dir)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		mkdir(p, 0700);
		*s = '/';
	}
	int r = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return r;
}

static void default_dir(struct buf *b)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	/* the XDG spec says to ignore a relative XDG_CACHE_HOME */
	if (x && *x == '/')
		buf_addf(b, "%s/ja", x);
	else
		buf_addf(b, "%s/.cache/ja", home && *home ? home : "/tmp");
}

/* 0, -1 unusable, -2 damaged (not a database, or its schema unreadable); err set
 * for both failures.  Damage past the schema shows later, when a statement reads it. */
static int db_connect(struct cachedb *c, struct ja_err *err)
{
	int rc;
	if (sqlite3_open_v2(c->file, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		err_set(err, EXIT_FAIL, "%s %s: %s", c->what, esc_name(c->file),
			c->db ? sqlite3_errmsg(c->db) : "cannot open");
		sqlite3_close(c->db);
		c->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(c->db, BUSY_SECONDS * 1000);
	if (cachedb_exec(c, "PRAGMA journal_mode=WAL", err) < 0 ||
	    cachedb_exec(c, "PRAGMA synchronous=NORMAL", err) < 0 ||
	    cachedb_exec(c, c->schema, err) < 0) {
		rc = sqlite3_errcode(c->db);
		sqlite3_close(c->db);
		c->db = NULL;
		return cachedb_damaged(rc) ? -2 : -1;
	}
	return 0;
}

int cachedb_rebuild(struct cachedb *c, struct ja_err *err)
{
	size_t n = strlen(c->file) + 16;
	char *aside = xmalloc(n);
	int moved;
	if (c->db) {
		sqlite3_close(c->db);
		c->db = NULL;
	}
	snprintf(aside, n, "%s.corrupt", c->file);
	/* another process may have moved it already: then just open the new file */
	moved = rename(c->file, aside) == 0;
	if (moved) {
		err_set(err, EXIT_FAIL, "%s rebuilt (the damaged file is %s)", c->what,
			esc_name(aside));
		snprintf(aside, n, "%s-wal", c->file);
		unlink(aside);
		snprintf(aside, n, "%s-shm", c->file);
		unlink(aside);
	}
	free(aside);
	if (db_connect(c, err) < 0)
		return -1;
	return moved;
}

int cachedb_open(struct cachedb *c, const char *dir, const char *name, struct ja_err *err)
{
	struct buf b = BUF_INIT;
	int rc;
	c->db = NULL;
	if (dir)
		buf_adds(&b, dir);
	else
		default_dir(&b);
	if (mkdirs(b.p) < 0) {
		err_set(err, EXIT_FAIL, "%s: cannot create %s: %s", c->what, esc_name(b.p),
			strerror(errno));
		c->file = buf_detach(&b, NULL);
		return -1;
	}
	buf_addf(&b, "/%s", name);
	c->file = buf_detach(&b, NULL);
	rc = db_connect(c, err);
	if (rc == -2)
		return cachedb_rebuild(c, err);
	return rc;
}

void cachedb_close(struct cachedb *c)
{
	if (c->db)
		sqlite3_close(c->db);
	c->db = NULL;
	free(c->file);
	c->file = NULL;
}
