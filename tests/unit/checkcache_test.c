/* checkcache_test.c - the S3 check cache (spec §6.2, decision g): expiry, persistence,
 * several handles and processes at once, damaged and unwritable files, speed. */
#include "core/checkcache.h"
#include "unit.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400LL
/* "well under a second" for 10,000 adds; ASan makes everything about 4x slower */
#ifdef __SANITIZE_ADDRESS__
#define SPEED_LIMIT 1.5
#else
#define SPEED_LIMIT 0.5
#endif
#define T0 1700000000LL

static char root[64];
static int ndir;

/* ---- helpers ------------------------------------------------------------------------ */

static struct {
	int n;
	char last[1300];
} warned;

static void on_warn(void *ctx, const char *msg)
{
	(void)ctx;
	warned.n++;
	snprintf(warned.last, sizeof(warned.last), "%s", msg);
}

/* A fresh directory for one test. */
static const char *newdir(void)
{
	static char d[128];
	snprintf(d, sizeof(d), "%s/c%d", root, ++ndir);
	return d;
}

static struct checkcache *open_ok(const char *dir)
{
	struct checkcache *cc = NULL;
	struct ja_err err = {0};
	if (checkcache_open(&cc, dir, on_warn, NULL, &err) < 0)
		printf("# open %s: %s\n", dir, err.msg);
	return cc;
}

static char *dbfile(const char *dir)
{
	static char f[400];
	snprintf(f, sizeof(f), "%s/s3checkcache.db", dir);
	return f;
}

/* First column of the first row of sql on the cache file, as an integer; -1 on error. */
static long long sql1(const char *dir, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_open(dbfile(dir), &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		else if (rc == SQLITE_DONE)
			v = 0;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A CAS-like key; kbuf (KEYSZ bytes) for callers on other threads. */
#define KEYSZ 128
static const char *keyb(char *kbuf, int i)
{
	snprintf(kbuf, KEYSZ, "bucket/DeadlineCloud/Data/%032x.xxh128", (unsigned)i * 2654435761u);
	return kbuf;
}

static const char *key(int i)
{
	static char k[KEYSZ];
	return keyb(k, i);
}

/* Turn CAP_DAC_OVERRIDE/READ_SEARCH on or off in the effective set, so that a test
 * running as root can meet a read-only directory.  0, or -1 when not possible. */
static int dac_caps(int on)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	unsigned bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	if (on)
		d[0].effective |= bits & d[0].permitted;
	else
		d[0].effective &= ~bits;
	return (int)syscall(SYS_capset, &h, d);
}

/* ---- tests -------------------------------------------------------------------------- */

TEST(has_add_expiry)
{
	struct checkcache *cc = open_ok(newdir());
	CHECK(cc);
	CHECK(!checkcache_has(cc, "b/Data/x.xxh128", T0));
	checkcache_add(cc, "b/Data/x.xxh128", T0);
	CHECK(checkcache_has(cc, "b/Data/x.xxh128", T0));
	CHECK(checkcache_has(cc, "b/Data/x.xxh128", T0 + 30 * DAY - 1));
	CHECK(!checkcache_has(cc, "b/Data/x.xxh128", T0 + 30 * DAY));
	CHECK(!checkcache_has(cc, "b/Data/x.xxh128", INT64_MAX));
	/* a clock a little behind is fine; an entry from far in the future is not trusted */
	CHECK(checkcache_has(cc, "b/Data/x.xxh128", T0 - 3600));
	CHECK(!checkcache_has(cc, "b/Data/x.xxh128", T0 - 2 * DAY));
	CHECK(!checkcache_has(cc, "b/Data/x.xxh128", INT64_MIN));
	/* keys are exact */
	CHECK(!checkcache_has(cc, "b/Data/x.xxh12", T0));
	CHECK(!checkcache_has(cc, "B/Data/x.xxh128", T0));
	CHECK(!checkcache_has(cc, "other/Data/x.xxh128", T0));
	/* the same after the write */
	CHECK(checkcache_flush(cc) == 0);
	CHECK(checkcache_has(cc, "b/Data/x.xxh128", T0 + 30 * DAY - 1));
	CHECK(!checkcache_has(cc, "b/Data/x.xxh128", T0 + 30 * DAY));
	CHECK(!checkcache_has(cc, "b/Data/x.xxh12", T0));
	/* a later confirmation extends it; an earlier one does not shorten it */
	checkcache_add(cc, "b/Data/x.xxh128", T0 + 10 * DAY);
	checkcache_add(cc, "b/Data/x.xxh128", T0 + 5 * DAY);
	CHECK(checkcache_has(cc, "b/Data/x.xxh128", T0 + 39 * DAY));
	CHECK(checkcache_flush(cc) == 0);
	CHECK(checkcache_has(cc, "b/Data/x.xxh128", T0 + 39 * DAY));
	CHECK(!checkcache_has(cc, "b/Data/x.xxh128", T0 + 40 * DAY));
	checkcache_close(cc);
	CHECK(warned.n == 0);
}

TEST(null_and_odd_keys)
{
	struct checkcache *cc = open_ok(newdir());
	char *big = malloc(CHECKCACHE_KEY_MAX + 2);
	memset(big, 'k', CHECKCACHE_KEY_MAX + 1);
	big[CHECKCACHE_KEY_MAX + 1] = 0;
	/* no cache at all */
	CHECK(!checkcache_has(NULL, "k", T0));
	checkcache_add(NULL, "k", T0);
	CHECK(checkcache_forget(NULL, "k") == 0);
	CHECK(checkcache_flush(NULL) == 0);
	checkcache_close(NULL);
	/* no key, empty key, too long a key: never cached */
	checkcache_add(cc, NULL, T0);
	checkcache_add(cc, "", T0);
	checkcache_add(cc, big, T0);
	CHECK(!checkcache_has(cc, NULL, T0));
	CHECK(!checkcache_has(cc, "", T0));
	CHECK(!checkcache_has(cc, big, T0));
	big[CHECKCACHE_KEY_MAX] = 0; /* the longest allowed */
	checkcache_add(cc, big, T0);
	CHECK(checkcache_has(cc, big, T0));
	/* bytes SQL or JSON would care about */
	checkcache_add(cc, "b/it's \"q\"; DROP TABLE s3check_v1;--/\xc3\xa9", T0);
	checkcache_add(cc, "b/%_*", T0);
	CHECK(checkcache_flush(cc) == 0);
	CHECK(checkcache_has(cc, "b/it's \"q\"; DROP TABLE s3check_v1;--/\xc3\xa9", T0));
	CHECK(checkcache_has(cc, "b/%_*", T0));
	CHECK(!checkcache_has(cc, "b/%", T0)); /* no LIKE matching */
	CHECK(!checkcache_has(cc, "b/a_*", T0));
	CHECK(checkcache_has(cc, big, T0));
	checkcache_close(cc);
	free(big);
	CHECK(warned.n == 0);
}

TEST(persists_across_open_close)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	checkcache_add(cc, "b/p/Data/1.xxh128", T0);
	checkcache_add(cc, "b/p/Data/2.xxh128", T0 + 1);
	checkcache_close(cc); /* writes the queue */
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 2);
	CHECK(sql1(d, "SELECT seen FROM s3check_v1 WHERE key = 'b/p/Data/2.xxh128'") == T0 + 1);
	CHECK(sql1(d, "PRAGMA journal_mode") != -1);
	cc = open_ok(d);
	CHECK(checkcache_has(cc, "b/p/Data/1.xxh128", T0 + DAY));
	CHECK(checkcache_has(cc, "b/p/Data/2.xxh128", T0 + DAY));
	CHECK(!checkcache_has(cc, "b/p/Data/3.xxh128", T0 + DAY));
	checkcache_close(cc);
	/* WAL mode, so readers and a writer in other processes do not block each other */
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		CHECK(sqlite3_open(dbfile(d), &db) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(st) == SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	CHECK(warned.n == 0);
}

TEST(forget)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	checkcache_add(cc, "b/stored", T0);
	CHECK(checkcache_flush(cc) == 0);
	checkcache_add(cc, "b/queued", T0);
	CHECK(checkcache_has(cc, "b/stored", T0) && checkcache_has(cc, "b/queued", T0));
	CHECK(checkcache_forget(cc, "b/stored") == 0);
	CHECK(checkcache_forget(cc, "b/queued") == 0);
	CHECK(checkcache_forget(cc, "b/never") == 0);
	CHECK(!checkcache_has(cc, "b/stored", T0));
	CHECK(!checkcache_has(cc, "b/queued", T0));
	checkcache_close(cc);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 0);
	/* confirmed again after being forgotten: cached again */
	cc = open_ok(d);
	checkcache_add(cc, "b/queued", T0);
	CHECK(checkcache_forget(cc, "b/queued") == 0);
	checkcache_add(cc, "b/queued", T0 + 5);
	CHECK(checkcache_has(cc, "b/queued", T0 + 5));
	checkcache_close(cc);
	CHECK(sql1(d, "SELECT seen FROM s3check_v1 WHERE key = 'b/queued'") == T0 + 5);
	CHECK(warned.n == 0);
}

TEST(env_days)
{
	const char *d = newdir();
	struct checkcache *cc;
	setenv("JA_CHECK_CACHE_DAYS", "1", 1);
	cc = open_ok(d);
	checkcache_add(cc, "b/k", T0);
	CHECK(checkcache_has(cc, "b/k", T0 + DAY - 1));
	CHECK(!checkcache_has(cc, "b/k", T0 + DAY));
	checkcache_close(cc);
	setenv("JA_CHECK_CACHE_DAYS", "0", 1);
	cc = open_ok(d);
	CHECK(!checkcache_has(cc, "b/k", T0));
	checkcache_close(cc);
	setenv("JA_CHECK_CACHE_DAYS", "365", 1);
	cc = open_ok(d);
	CHECK(checkcache_has(cc, "b/k", T0 + 364 * DAY));
	checkcache_close(cc);
	CHECK(warned.n == 0);
	/* not a number: a warning and the default */
	static const char *bad[] = {"-1", "3.5", "1e3", "999999", "36501", "x", " 7", "7 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		warned.n = 0;
		setenv("JA_CHECK_CACHE_DAYS", bad[i], 1);
		cc = open_ok(d);
		CHECK(warned.n == 1 && strstr(warned.last, "JA_CHECK_CACHE_DAYS"));
		CHECK(checkcache_has(cc, "b/k", T0 + 30 * DAY - 1));
		CHECK(!checkcache_has(cc, "b/k", T0 + 30 * DAY));
		checkcache_close(cc);
	}
	unsetenv("JA_CHECK_CACHE_DAYS");
	warned.n = 0;
}

TEST(two_handles)
{
	const char *d = newdir();
	struct checkcache *a = open_ok(d), *b = open_ok(d);
	CHECK(a && b);
	checkcache_add(a, "b/from-a", T0);
	CHECK(!checkcache_has(b, "b/from-a", T0)); /* queued in a only */
	CHECK(checkcache_flush(a) == 0);
	CHECK(checkcache_has(b, "b/from-a", T0)); /* b sees a's commit */
	checkcache_add(b, "b/from-b", T0);
	checkcache_add(a, "b/both", T0);
	checkcache_add(b, "b/both", T0 + 7);
	CHECK(checkcache_forget(b, "b/from-a") == 0);
	CHECK(!checkcache_has(a, "b/from-a", T0));
	checkcache_close(a);
	checkcache_close(b);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 2);
	CHECK(sql1(d, "SELECT seen FROM s3check_v1 WHERE key = 'b/both'") == T0 + 7);
	CHECK(warned.n == 0);
}

/* Several processes starting on a fresh file at once, each writing in many batches. */
TEST(processes)
{
	enum { NPROC = 4, PER = 5000 };
	const char *d = newdir();
	pid_t pids[NPROC];
	int ok = 1;
	for (int p = 0; p < NPROC; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			struct checkcache *cc = NULL;
			struct ja_err err;
			warned.n = 0;
			if (checkcache_open(&cc, d, on_warn, NULL, &err) < 0)
				_exit(2);
			for (int i = 0; i < PER; i++)
				checkcache_add(cc, key(p * PER + i), T0);
			for (int i = 0; i < PER; i += 97)
				if (!checkcache_has(cc, key(p * PER + i), T0))
					_exit(3);
			checkcache_close(cc);
			_exit(warned.n ? 4 : 0);
		}
	}
	for (int p = 0; p < NPROC; p++) {
		int st = 0;
		waitpid(pids[p], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("# process %d: status %d\n", p, st);
			ok = 0;
		}
	}
	CHECK(ok);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == NPROC * PER);
}

struct thr {
	struct checkcache *cc;
	int base, bad;
};

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	char k[KEYSZ];
	for (int i = 0; i < 3000; i++) {
		keyb(k, t->base + i);
		checkcache_add(t->cc, k, T0);
		if (!checkcache_has(t->cc, k, T0))
			t->bad++;
		if (i % 10 == 0 && checkcache_forget(t->cc, k) < 0)
			t->bad++;
		if (i % 10 == 0 && checkcache_has(t->cc, k, T0))
			t->bad++;
	}
	return NULL;
}

TEST(threads)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	pthread_t th[4];
	struct thr t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){cc, i * 100000, 0};
		pthread_create(&th[i], NULL, thread_main, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(t[i].bad == 0);
	}
	checkcache_close(cc);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 4 * 2700);
	CHECK(warned.n == 0);
}

TEST(speed_10000)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	double t = mono();
	int hits = 0;
	for (int i = 0; i < 10000; i++)
		checkcache_add(cc, key(i), T0);
	checkcache_close(cc);
	t = mono() - t;
	printf("# 10,000 adds and close: %.3f s\n", t);
	CHECK(t < SPEED_LIMIT);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 10000);
	cc = open_ok(d);
	t = mono();
	for (int i = 0; i < 10000; i++)
		hits += checkcache_has(cc, key(i), T0 + DAY);
	t = mono() - t;
	printf("# 10,000 lookups: %.3f s\n", t);
	CHECK(hits == 10000);
	CHECK(t < SPEED_LIMIT);
	checkcache_close(cc);
}

TEST(prune)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	int64_t now = (int64_t)time(NULL);
	checkcache_add(cc, "b/old", now - 31 * DAY);
	checkcache_add(cc, "b/recent", now - 29 * DAY);
	checkcache_add(cc, "b/future", now + 3 * DAY);
	checkcache_close(cc);
	/* pruned on the first open only: the next prune is due in a day */
	cc = open_ok(d);
	checkcache_close(cc);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 3);
	CHECK(sql1(d, "UPDATE s3check_meta SET value = 0") == 0);
	cc = open_ok(d);
	checkcache_close(cc);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 1);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1 WHERE key = 'b/recent'") == 1);
	/* a short JA_CHECK_CACHE_DAYS does not prune what the default still uses */
	setenv("JA_CHECK_CACHE_DAYS", "1", 1);
	CHECK(sql1(d, "UPDATE s3check_meta SET value = 0") == 0);
	cc = open_ok(d);
	CHECK(!checkcache_has(cc, "b/recent", now));
	checkcache_close(cc);
	unsetenv("JA_CHECK_CACHE_DAYS");
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 1);
	/* a hostile "last pruned" time is no reason to skip pruning */
	CHECK(sql1(d, "UPDATE s3check_meta SET value = 9223372036854775807") == 0);
	CHECK(sql1(d, "INSERT INTO s3check_v1 VALUES ('b/old2', 5)") == 0);
	cc = open_ok(d);
	checkcache_close(cc);
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 1);
	CHECK(warned.n == 0);
}

TEST(hostile_rows)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	checkcache_close(cc);
	CHECK(sql1(d, "INSERT INTO s3check_v1 VALUES ('b/text', 'yesterday')") == 0);
	CHECK(sql1(d, "INSERT INTO s3check_v1 VALUES ('b/real', 1700000000.5)") == 0);
	CHECK(sql1(d, "INSERT INTO s3check_v1 VALUES ('b/min', -9223372036854775808)") == 0);
	CHECK(sql1(d, "INSERT INTO s3check_v1 VALUES ('b/max', 9223372036854775807)") == 0);
	CHECK(sql1(d, "INSERT INTO s3check_v1 VALUES ('b/null', 0)") == 0);
	cc = open_ok(d);
	CHECK(!checkcache_has(cc, "b/text", T0));
	CHECK(!checkcache_has(cc, "b/real", T0));
	CHECK(!checkcache_has(cc, "b/min", T0));
	CHECK(!checkcache_has(cc, "b/max", T0));
	CHECK(!checkcache_has(cc, "b/null", T0));
	checkcache_close(cc);
}

TEST(not_a_database)
{
	const char *d = newdir();
	struct checkcache *cc;
	char aside[500];
	int fd;
	unsigned char junk[5000];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	mkdir(d, 0700);
	fd = open(dbfile(d), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
	warned.n = 0;
	cc = open_ok(d);
	CHECK(cc);
	CHECK(warned.n == 1 && strstr(warned.last, "check cache rebuilt"));
	snprintf(aside, sizeof(aside), "%s.corrupt", dbfile(d));
	CHECK(access(aside, F_OK) == 0);
	checkcache_add(cc, "b/k", T0);
	CHECK(checkcache_has(cc, "b/k", T0));
	checkcache_close(cc);
	warned.n = 0;
	cc = open_ok(d);
	CHECK(checkcache_has(cc, "b/k", T0));
	checkcache_close(cc);
	CHECK(warned.n == 0);
}

/* Page 1 (header and schema) intact, the rest overwritten: found by the first lookup. */
TEST(damaged_pages)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	struct stat st;
	int fd;
	int64_t now = (int64_t)time(NULL); /* T0 would be pruned by the open after the rebuild */
	for (int i = 0; i < 3000; i++)
		checkcache_add(cc, key(i), now);
	checkcache_close(cc); /* the last connection checkpoints the WAL into the file */
	CHECK(stat(dbfile(d), &st) == 0 && st.st_size > 16384);
	fd = open(dbfile(d), O_WRONLY);
	for (off_t off = 4096; off < st.st_size; off += 512) {
		static char junk[512];
		memset(junk, 0xa5, sizeof(junk));
		CHECK(pwrite(fd, junk, sizeof(junk), off) == (ssize_t)sizeof(junk));
	}
	close(fd);
	warned.n = 0;
	cc = open_ok(d);
	CHECK(cc);
	CHECK(!checkcache_has(cc, key(5), now));
	CHECK(warned.n == 1 && strstr(warned.last, "rebuilt"));
	checkcache_add(cc, key(5), now);
	checkcache_close(cc);
	CHECK(warned.n == 1);
	warned.n = 0;
	cc = open_ok(d);
	CHECK(checkcache_has(cc, key(5), now));
	CHECK(!checkcache_has(cc, key(6), now));
	checkcache_close(cc);
	CHECK(warned.n == 0);
}

TEST(unwritable)
{
	char d[300], f[200];
	struct checkcache *cc = (struct checkcache *)&cc; /* must come back NULL */
	struct ja_err err = {0};
	int fd;
	/* a "directory" below a regular file: fails for root too */
	snprintf(f, sizeof(f), "%s/plainfile", root);
	fd = open(f, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(d, sizeof(d), "%s/sub", f);
	CHECK(checkcache_open(&cc, d, on_warn, NULL, &err) == -1);
	CHECK(cc == NULL);
	CHECK(strstr(err.msg, "check cache") && strstr(err.msg, "cannot create"));
	CHECK(!checkcache_has(cc, "b/k", T0));
	checkcache_add(cc, "b/k", T0);
	checkcache_close(cc);
	/* a cache directory that is a file */
	CHECK(checkcache_open(&cc, f, NULL, NULL, NULL) == -1 && cc == NULL);

	/* a read-only directory with no database yet */
	snprintf(d, sizeof(d), "%s/ro", root);
	mkdir(d, 0555);
	chmod(d, 0555);
	if (dac_caps(0) == 0 || geteuid() != 0) {
		char probe[400];
		snprintf(probe, sizeof(probe), "%s/probe", d);
		fd = open(probe, O_WRONLY | O_CREAT, 0600);
		if (fd >= 0) {
			close(fd);
			printf("# read-only directory not testable here\n");
		} else {
			memset(&err, 0, sizeof(err));
			CHECK(checkcache_open(&cc, d, on_warn, NULL, &err) == -1 && cc == NULL);
			CHECK(strstr(err.msg, "check cache") != NULL);
			CHECK(access(dbfile(d), F_OK) != 0);
		}
		dac_caps(1);
	}
	chmod(d, 0700);
}

/* A database file that cannot be written: lookups work, writes are reported once. */
TEST(read_only_file)
{
	const char *d = newdir();
	struct checkcache *cc = open_ok(d);
	int64_t now = (int64_t)time(NULL);
	char side[500];
	checkcache_add(cc, "b/old", now);
	checkcache_close(cc);
	chmod(dbfile(d), 0444);
	if (dac_caps(0) < 0 && geteuid() == 0) {
		printf("# cannot drop CAP_DAC_OVERRIDE: read-only file not tested\n");
		return;
	}
	warned.n = 0;
	cc = NULL;
	if (checkcache_open(&cc, d, on_warn, NULL, NULL) == 0) {
		CHECK(checkcache_has(cc, "b/old", now));
		for (int i = 0; i < 5000; i++) /* more than one batch */
			checkcache_add(cc, key(i), now);
		CHECK(checkcache_forget(cc, "b/old") == -1);
		checkcache_close(cc);
		CHECK(warned.n >= 1 && warned.n <= 2);
		printf("# read-only file: %s\n", warned.last);
	} else {
		printf("# read-only file: not opened\n");
	}
	dac_caps(1);
	chmod(dbfile(d), 0600);
	snprintf(side, sizeof(side), "%s.corrupt", dbfile(d));
	CHECK(access(side, F_OK) != 0); /* not taken for damage */
	CHECK(sql1(d, "SELECT count(*) FROM s3check_v1") == 1);
}

int main(void)
{
	char cmd[128];
	snprintf(root, sizeof(root), "/tmp/checkcache_test.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	unsetenv("JA_CHECK_CACHE_DAYS");
	RUN(has_add_expiry);
	RUN(null_and_odd_keys);
	RUN(persists_across_open_close);
	RUN(forget);
	RUN(env_days);
	RUN(two_handles);
	RUN(processes);
	RUN(threads);
	RUN(speed_10000);
	RUN(prune);
	RUN(hostile_rows);
	RUN(not_a_database);
	RUN(damaged_pages);
	RUN(unwritable);
	RUN(read_only_file);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 1;
	return unit_done();
}
