/* cachedb.h - what ja's SQLite caches (hashcache, checkcache) share.
 *
 * One file per cache under $XDG_CACHE_HOME/ja (~/.cache/ja), in WAL mode with a
 * busy timeout so that several ja processes read and write it at once.  Setting
 * up a fresh file is retried while another process holds the lock (SQLite answers
 * BUSY there without waiting).  A damaged file is moved aside as NAME.corrupt and
 * replaced by an empty one: a cache is only worth the work it saves, so nothing
 * here is ever a reason to fail a run.  Messages start with the cache's name
 * ("hash cache /home/u/.cache/ja/hashcache.db: ...").
 */
#ifndef JA_CACHEDB_H
#define JA_CACHEDB_H

#include <sqlite3.h>
#include "util.h"

struct cachedb {
	sqlite3 *db;	    /* NULL when closed or unusable */
	char *file;	    /* the database path, owned */
	const char *what;   /* "hash cache": starts every message; borrowed */
	const char *schema; /* CREATE ... IF NOT EXISTS statements run at every open; borrowed */
};

/* Set c->what and c->schema first.  dir NULL = $XDG_CACHE_HOME/ja, or ~/.cache/ja
 * (created, mode 0700); name = the file name in it.  0: open.  1: open, but the file
 * was damaged and has been replaced (err holds that notice, for a warning).  -1: no
 * cache can be used (c->db NULL), err says why; cachedb_close is still needed. */
int cachedb_open(struct cachedb *c, const char *dir, const char *name, struct ja_err *err);
/* sqlite3_exec, retried for up to 30 s while another process holds the lock.
 * 0, or -1 with err (sqlite3_errcode(c->db) tells cachedb_damaged). */
int cachedb_exec(struct cachedb *c, const char *sql, struct ja_err *err);
/* Does an SQLite result code say the file is not a usable database? */
int cachedb_damaged(int rc);
/* After cachedb_damaged: close the connection (the caller has finalized its
 * statements), move the file aside and open an empty one.  Returns as
 * cachedb_open. */
int cachedb_rebuild(struct cachedb *c, struct ja_err *err);
/* Close (statements finalized first) and free the path; c can be opened again. */
void cachedb_close(struct cachedb *c);

#endif
