/* dest_test.c - the download destination (spec §8, decisions c, d, e): hostile paths,
 * symlinks inside DEST that point out, conflict policies and copy names, exact mtimes,
 * modes and groups, the directory cache under threads, resume checks, deletions and
 * the sweep of temporaries left by a killed run.  Everything happens in a fresh
 * directory under $TMPDIR; "outside" directories beside DEST must stay untouched. */
#include "core/dest.h"
#include "core/walk.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char base[512];

/* A fresh directory base/NAME (removed first) and its path in out. */
static const char *fresh(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", base, name);
	mkdir(out, 0755);
	return out;
}

static const char *at(const char *dir, const char *rel)
{
	static char buf[4][4096];
	static int next;
	char *o = buf[next++ & 3];
	snprintf(o, sizeof(buf[0]), "%s/%s", dir, rel);
	return o;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
		close(fd);
	}
}

/* 1 if path (not followed) is a regular file holding exactly s. */
static int file_is(const char *path, const char *s)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n;
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(s) && !memcmp(buf, s, (size_t)n);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Entries of dir (no . and ..); with prefix, only those starting with it. */
static int count(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (!prefix || !strncmp(e->d_name, prefix, strlen(prefix))))
			n++;
	closedir(d);
	return n;
}

static int open_fds(void)
{
	return count("/proc/self/fd", NULL);
}

/* Download s to rel the way ja-get does: temporary, pwrite, finish. */
static int put(struct dest *d, const char *rel, const char *s, int64_t mtime, int runnable,
	       char **final, struct ja_err *err)
{
	struct dest_file *f;
	size_t n = strlen(s);
	if (dest_tmp_create(d, rel, &f, err) < 0)
		return -1;
	if (pwrite(f->fd, s, n, 0) != (ssize_t)n) {
		dest_abort(d, f);
		return -1;
	}
	return dest_finish(d, f, mtime, runnable, final, err);
}

static int open_dest(struct dest *d, const char *dir, enum dest_conflict c)
{
	struct dest_opts o;
	struct ja_err err = {0};
	dest_opts_init(&o);
	o.conflict = c;
	return dest_open(d, dir, &o, &err);
}

static int bad(const char *p)
{
	struct ja_err err = {0};
	return dest_check_path(p, strlen(p), &err) < 0 && err.msg[0];
}

TEST(hostile_paths_are_refused)
{
	static char longp[DEST_PATH_MAX + 3], comp[300];
	struct ja_err err = {0};
	struct dest d;
	char root[600];
	const char *badp[] = {
	    "../x", "/etc/x", "a/../../x", "a/./b",	"a//b",		 "",	    "a/", ".", "..",
	    "x/..", "./x",    "/",	   ".ja-tmp-1", "a/.ja-tmp-x/b", "a/b/../c"};
	const char *good[] = {"a",	 "a/b", "a b/c\\d", "C:/x",	"\x01\n",
			      ".bashrc", "...", "..a",	    ".ja-tmpx", "a/.ja-tmp"};
	for (size_t i = 0; i < sizeof(badp) / sizeof(*badp); i++) {
		CHECK(bad(badp[i]));
		if (!bad(badp[i]))
			printf("# accepted: '%s'\n", badp[i]);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECK(!bad(good[i]));
	CHECK(dest_check_path("../x", 4, &err) < 0);
	CHECK_STR(err.msg, "../x: '..' path component");
	CHECK(dest_check_path("a\0b", 3, &err) < 0); /* a JSON \u0000 in a name */
	CHECK(dest_check_path("a\nb", 3, &err) == 0);
	memset(comp, 'c', 255);
	CHECK(!bad(comp));
	comp[255] = 'c';
	CHECK(bad(comp));
	/* 32767 bytes of short components is fine, one more is not */
	for (size_t i = 0; i < DEST_PATH_MAX; i++)
		longp[i] = i % 2 ? '/' : 'x';
	longp[DEST_PATH_MAX - 1] = 'x';
	CHECK(!bad(longp));
	longp[DEST_PATH_MAX] = '/';
	longp[DEST_PATH_MAX + 1] = 'x';
	CHECK(bad(longp));
	/* and nothing at all is written for them */
	fresh("hostile", root, sizeof(root));
	CHECK(open_dest(&d, at(root, "dest"), DEST_OVERWRITE) == 0);
	for (size_t i = 0; i < sizeof(badp) / sizeof(*badp); i++)
		CHECK(put(&d, badp[i], "evil", 0, 0, NULL, &err) < 0);
	CHECK(dest_mkdirs(&d, "../up", &err) < 0);
	CHECK(dest_symlink(&d, "../l", "x", NULL, &err) < 0);
	CHECK(dest_delete(&d, "../dest", &err) < 0);
	CHECK(dest_rmdir(&d, "..", &err) < 0);
	dest_close(&d);
	CHECK(count(at(root, "dest"), NULL) == 0);
	CHECK(count(root, NULL) == 1);
}

TEST(paths_longer_than_path_max)
{
	static char rel[8192];
	struct ja_err err = {0};
	struct dest d;
	char root[600], buf[8];
	size_t o = 0;
	int fd;
	while (o < 6000) {
		memset(rel + o, 'd', 200);
		o += 200;
		rel[o++] = '/';
	}
	strcpy(rel + o, "file");
	fresh("long", root, sizeof(root));
	CHECK(open_dest(&d, root, DEST_COPY) == 0);
	CHECK(put(&d, rel, "deep", 1000000, 0, NULL, &err) == DEST_PLACED);
	CHECK(dest_existing(&d, rel, 4, 1000000, NULL, &err) == DEST_MATCH);
	fd = walk_open(d.root, rel, 0, &err);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 4 && !memcmp(buf, "deep", 4));
	if (fd >= 0)
		close(fd);
	dest_close(&d);
}

TEST(a_symlinked_directory_is_never_followed)
{
	struct ja_err err = {0};
	struct dest d;
	char root[600], dst[700], out[700];
	fresh("linkdir", root, sizeof(root));
	snprintf(dst, sizeof(dst), "%s/dest", root);
	snprintf(out, sizeof(out), "%s/outside", root);
	mkdir(dst, 0755);
	mkdir(out, 0755);
	write_file(at(out, "x"), "outside");
	CHECK(symlink(out, at(dst, "link")) == 0); /* absolute */
	CHECK(symlink("../outside", at(dst, "rel")) == 0);
	mkdir(at(dst, "a"), 0755);
	CHECK(symlink(out, at(dst, "a/b")) == 0);
	write_file(at(dst, "f"), "file");
	CHECK(open_dest(&d, dst, DEST_OVERWRITE) == 0);
	const char *via[] = {"link/x", "link/new", "link/sub/x", "rel/x", "a/b/x", "f/x"};
	for (size_t i = 0; i < sizeof(via) / sizeof(*via); i++) {
		err.msg[0] = 0;
		CHECK(put(&d, via[i], "evil", 0, 0, NULL, &err) < 0);
		CHECK(strstr(err.msg, "a symlink or non-directory is in the way") != NULL);
	}
	CHECK(dest_mkdirs(&d, "link/y", &err) < 0);
	CHECK(dest_existing(&d, "link/x", 7, 0, NULL, &err) < 0);
	CHECK(dest_delete(&d, "link/x", &err) < 0);
	CHECK(dest_rmdir(&d, "link/x", &err) < 0);
	CHECK(dest_symlink(&d, "link/l", "x", NULL, &err) < 0);
	CHECK(dest_sweep_tmp(&d, "link", NULL, &err) < 0);
	dest_close(&d);
	CHECK(count(out, NULL) == 1);
	CHECK(file_is(at(out, "x"), "outside"));
	CHECK(file_is(at(dst, "f"), "file"));
}

TEST(a_symlink_at_the_file_name_is_replaced_not_written_through)
{
	struct ja_err err = {0};
	struct dest d;
	char root[600], dst[700], out[700], *fin = NULL;
	fresh("linkfile", root, sizeof(root));
	snprintf(dst, sizeof(dst), "%s/dest", root);
	snprintf(out, sizeof(out), "%s/outside", root);
	mkdir(dst, 0755);
	mkdir(out, 0755);
	write_file(at(out, "secret"), "secret");
	CHECK(symlink(at(out, "secret"), at(dst, "f")) == 0);
	CHECK(symlink(at(out, "none"), at(dst, "g")) == 0); /* dangling */

	CHECK(open_dest(&d, dst, DEST_SKIP) == 0);
	CHECK(put(&d, "f", "new", 0, 0, &fin, &err) == DEST_SKIPPED);
	CHECK(fin == NULL);
	dest_close(&d);

	CHECK(open_dest(&d, dst, DEST_COPY) == 0);
	CHECK(put(&d, "f", "new", 0, 0, &fin, &err) == DEST_COPIED);
	CHECK_STR(fin, "f (1)");
	free(fin);
	CHECK(put(&d, "g", "new", 0, 0, NULL, &err) == DEST_COPIED);
	dest_close(&d);

	CHECK(open_dest(&d, dst, DEST_OVERWRITE) == 0);
	CHECK(put(&d, "f", "new", 0, 0, &fin, &err) == DEST_PLACED);
	CHECK_STR(fin, "f");
	free(fin);
	CHECK(put(&d, "g", "new", 0, 0, NULL, &err) == DEST_PLACED);
	dest_close(&d);

	CHECK(file_is(at(dst, "f"), "new"));
	CHECK(file_is(at(dst, "g"), "new"));
	CHECK(file_is(at(dst, "f (1)"), "new"));
	CHECK(file_is(at(out, "secret"), "secret"));
	CHECK(count(out, NULL) == 1);
	CHECK(count(dst, ".ja-tmp-") == 0);
}

TEST(symlink_targets_must_stay_inside)
{
	struct ja_err err = {0};
	struct dest d;
	char root[600], dst[700], buf[64], *fin = NULL;
	ssize_t n;
#define LINK_OK(l, t)  CHECK(dest_check_link(l, t, &err) == 0)
#define LINK_BAD(l, t) CHECK(dest_check_link(l, t, &err) < 0)
	LINK_BAD("l", "/etc");
	LINK_BAD("l", "");
	LINK_BAD("l", "..");
	LINK_BAD("l", "../x");
	LINK_BAD("a/l", "../../x");
	LINK_BAD("a/l", "./../../x");
	LINK_BAD("l", "x/../..");
	LINK_BAD("l", "x/../y");
	LINK_BAD("a/b/l", "x/../y"); /* stays inside lexically, but x may be a link to ".." */
	CHECK(strstr(err.msg, "'..' after a name") != NULL);
	LINK_BAD("a/b/l", "../../../a");
	LINK_OK("a/l", "../x");
	LINK_OK("a/l", "./../x");
	LINK_OK("a/b/l", "../../x/y");
	LINK_OK("l", "sub/f");
	LINK_OK("l", ".");
	LINK_OK("l", "sub//f/");

	fresh("links", root, sizeof(root));
	snprintf(dst, sizeof(dst), "%s/dest", root);
	CHECK(open_dest(&d, dst, DEST_OVERWRITE) == 0);
	CHECK(dest_symlink(&d, "abs", "/etc/passwd", NULL, &err) < 0);
	CHECK(dest_symlink(&d, "a/esc", "../../outside", NULL, &err) < 0);
	CHECK(!exists(at(dst, "abs")) && !exists(at(dst, "a/esc")));
	CHECK(dest_mkdirs(&d, "sub", &err) == 0);
	CHECK(dest_symlink(&d, "l", "sub", &fin, &err) == DEST_PLACED);
	CHECK_STR(fin, "l");
	free(fin);
	n = readlink(at(dst, "l"), buf, sizeof(buf));
	CHECK(n == 3 && !memcmp(buf, "sub", 3));
	/* a later file "through" the link is refused, even though it stays inside */
	CHECK(put(&d, "l/x", "x", 0, 0, NULL, &err) < 0);
	CHECK(!exists(at(dst, "sub/x")));
	CHECK(dest_symlink(&d, "l", "sub", NULL, &err) == DEST_SKIPPED);
	CHECK(dest_symlink(&d, "l", "sub2", NULL, &err) == DEST_PLACED);
	n = readlink(at(dst, "l"), buf, sizeof(buf));
	CHECK(n == 4 && !memcmp(buf, "sub2", 4));
	write_file(at(dst, "r"), "file");
	CHECK(dest_symlink(&d, "r", "sub", NULL, &err) == DEST_PLACED); /* replaces a file */
	n = readlink(at(dst, "r"), buf, sizeof(buf));
	CHECK(n == 3);
	CHECK(dest_symlink(&d, "sub", "x", NULL, &err) < 0); /* never a directory */
	CHECK(strstr(err.msg, "a directory is in the way") != NULL);
	CHECK(dest_symlink(&d, "deep/er/l", "../../sub", NULL, &err) == DEST_PLACED);
	dest_close(&d);

	CHECK(open_dest(&d, dst, DEST_COPY) == 0);
	write_file(at(dst, "c"), "mine");
	CHECK(dest_symlink(&d, "c", "sub", &fin, &err) == DEST_COPIED);
	CHECK_STR(fin, "c (1)");
	free(fin);
	CHECK(file_is(at(dst, "c"), "mine"));
	dest_close(&d);
	CHECK(count(dst, ".ja-tmp-") == 0);
	CHECK(count(root, NULL) == 1);
}

/* The copy names and the three policies, once per placement strategy. */
static void conflicts(int compat)
{
	struct ja_err err = {0};
	struct dest d;
	struct dest_opts o;
	struct dest_file *f;
	char root[600], name[32], *fin = NULL;
	static char n255[256], rel[300];
	const struct {
		const char *name, *copy1, *copy2;
	} v[] = {
	    {"a.txt", "a (1).txt", "a (2).txt"},
	    {".bashrc", ".bashrc (1)", ".bashrc (2)"},
	    {"x.tar.gz", "x.tar (1).gz", "x.tar (2).gz"},
	    {"noext", "noext (1)", "noext (2)"},
	    {"a.", "a. (1)", "a. (2)"},
	    {"..a", ". (1).a", ". (2).a"},
	    {"d/e.f", "d/e (1).f", "d/e (2).f"},
	};
	snprintf(name, sizeof(name), "conflicts%d", compat);
	fresh(name, root, sizeof(root));
	dest_opts_init(&o);
	o.compat_test = compat;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		CHECK(put(&d, v[i].name, "0", 0, 0, &fin, &err) == DEST_PLACED);
		CHECK_STR(fin, v[i].name);
		free(fin);
		CHECK(put(&d, v[i].name, "1", 0, 0, &fin, &err) == DEST_COPIED);
		CHECK_STR(fin, v[i].copy1);
		free(fin);
		CHECK(put(&d, v[i].name, "2", 0, 0, &fin, &err) == DEST_COPIED);
		CHECK_STR(fin, v[i].copy2);
		free(fin);
		CHECK(file_is(at(root, v[i].name), "0"));
		CHECK(file_is(at(root, v[i].copy1), "1"));
		CHECK(file_is(at(root, v[i].copy2), "2"));
	}
	/* no room for " (1)" in a 255-byte name */
	memset(n255, 'n', 255);
	CHECK(put(&d, n255, "0", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(put(&d, n255, "1", 0, 0, NULL, &err) < 0);
	CHECK(strstr(err.msg, "no room for a copy's name") != NULL);
	dest_close(&d);

	o.conflict = DEST_SKIP;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(put(&d, "a.txt", "skip", 0, 0, &fin, &err) == DEST_SKIPPED);
	CHECK(fin == NULL);
	CHECK(put(&d, "new", "n", 0, 0, NULL, &err) == DEST_PLACED);
	dest_close(&d);
	CHECK(file_is(at(root, "a.txt"), "0"));

	o.conflict = DEST_OVERWRITE;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(put(&d, "a.txt", "over", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(file_is(at(root, "a.txt"), "over"));
	/* a directory at the name: refused before the download ... */
	mkdir(at(root, "dir"), 0755);
	CHECK(dest_tmp_create(&d, "dir", &f, &err) < 0 && f == NULL);
	CHECK(strstr(err.msg, "a directory is in the way") != NULL);
	dest_close(&d);
	/* ... and at the rename, under every policy, when it appeared meanwhile */
	for (int c = DEST_COPY; c <= DEST_OVERWRITE; c++) {
		o.conflict = (enum dest_conflict)c;
		CHECK(dest_open(&d, root, &o, &err) == 0);
		snprintf(rel, sizeof(rel), "late%d", c);
		CHECK(dest_tmp_create(&d, rel, &f, &err) == 0);
		mkdir(at(root, rel), 0755);
		CHECK(dest_finish(&d, f, 0, 0, NULL, &err) < 0);
		CHECK(strstr(err.msg, "a directory is in the way") != NULL);
		dest_close(&d);
	}
	CHECK(count(root, ".ja-tmp-") == 0);
	/* 6 names x 3, d (holding 3 more), n255, new, dir, late0..2 */
	CHECK(count(root, NULL) == 18 + 1 + 1 + 1 + 1 + 3);
}

TEST(conflict_policies_and_copy_names)
{
	conflicts(0);
}

TEST(conflicts_without_rename_noreplace)
{
	conflicts(1);
}

TEST(conflicts_without_hard_links)
{
	conflicts(2);
}

struct racer {
	struct dest *d;
	int id, bad;
	char *fin[5];
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct ja_err err = {0};
	char s[16];
	for (int i = 0; i < 5; i++) {
		snprintf(s, sizeof(s), "t%d-%d", r->id, i);
		if (put(r->d, "c.txt", s, 0, 0, &r->fin[i], &err) < 0)
			r->bad++;
	}
	return NULL;
}

static void copies_race(int compat)
{
	struct ja_err err = {0};
	struct dest d;
	struct dest_opts o;
	struct racer r[4];
	pthread_t t[4];
	char root[600], name[32], want[32];
	snprintf(name, sizeof(name), "race%d", compat);
	fresh(name, root, sizeof(root));
	dest_opts_init(&o);
	o.compat_test = compat;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){.d = &d, .id = i};
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(r[i].bad == 0);
	}
	dest_close(&d);
	CHECK(count(root, NULL) == 20);
	/* every name from c.txt to c (19).txt, each holding what its writer was told */
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 5; j++) {
			char s[16];
			snprintf(s, sizeof(s), "t%d-%d", i, j);
			CHECK(r[i].fin[j] && file_is(at(root, r[i].fin[j]), s));
			free(r[i].fin[j]);
		}
	CHECK(exists(at(root, "c.txt")));
	for (int n = 1; n < 20; n++) {
		snprintf(want, sizeof(want), "c (%d).txt", n);
		CHECK(exists(at(root, want)));
	}
}

TEST(concurrent_copies_get_distinct_names)
{
	copies_race(0);
	copies_race(2);
}

TEST(mtime_is_exact)
{
	const int64_t v[] = {
	    0,	1,	  999999,	   1000000, 1700000000123456, 1700000000999999,
	    -1, -1500000, 4102444800000001};
	struct ja_err err = {0};
	struct dest d;
	struct stat st;
	char root[600], rel[32];
	fresh("mtime", root, sizeof(root));
	CHECK(open_dest(&d, root, DEST_OVERWRITE) == 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		snprintf(rel, sizeof(rel), "m%zu", i);
		CHECK(put(&d, rel, "x", v[i], 0, NULL, &err) == DEST_PLACED);
		CHECK(lstat(at(root, rel), &st) == 0);
		int64_t ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		int64_t ans = (int64_t)st.st_atim.tv_sec * 1000000000 + st.st_atim.tv_nsec;
		CHECK(ns == v[i] * 1000);
		CHECK(ans == ns);
		CHECK(dest_existing(&d, rel, 1, v[i], NULL, &err) == DEST_MATCH);
	}
	CHECK(put(&d, "now", "x", DEST_MTIME_NONE, 0, NULL, &err) == DEST_PLACED);
	CHECK(lstat(at(root, "now"), &st) == 0 && st.st_mtime > time(NULL) - 60);
	dest_close(&d);
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	return lstat(p, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

static gid_t gid_of(const char *p)
{
	struct stat st;
	return lstat(p, &st) ? (gid_t)-1 : st.st_gid;
}

TEST(modes_runnable_umask_and_group)
{
	struct ja_err err = {0};
	struct dest d;
	struct dest_opts o;
	char root[600];
	/* as root, a group we are not already in the files' default, so chgrp is seen */
	gid_t g = geteuid() == 0 ? 1 : getgid();
	fresh("modes", root, sizeof(root));
	dest_opts_init(&o);
	CHECK(dest_open(&d, root, &o, &err) == 0); /* process umask 022 */
	CHECK(put(&d, "plain", "x", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(put(&d, "run", "x", 0, 1, NULL, &err) == DEST_PLACED);
	dest_close(&d);
	CHECK(mode_of(at(root, "plain")) == 0644);
	CHECK(mode_of(at(root, "run")) == 0755);
	CHECK(mode_of(root) == 0755);

	o.umask = 027;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(put(&d, "u/plain", "x", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(put(&d, "u/run", "x", 0, 1, NULL, &err) == DEST_PLACED);
	dest_close(&d);
	CHECK(mode_of(at(root, "u/plain")) == 0640);
	CHECK(mode_of(at(root, "u/run")) == 0750);
	CHECK(mode_of(at(root, "u")) == 0750);

	o.umask = 077;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(put(&d, "private", "x", 0, 1, NULL, &err) == DEST_PLACED);
	dest_close(&d);
	CHECK(mode_of(at(root, "private")) == 0700);

	/* the worker's settings: group write on files and on every directory on the way */
	mkdir(at(root, "pre"), 0700);
	mkdir(at(root, "other"), 0755);
	o.umask = -1;
	o.file_mode = 020;
	o.dir_mode = 020;
	o.group = (long)g;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(put(&d, "p/q/plain", "x", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(put(&d, "p/q/run", "x", 0, 1, NULL, &err) == DEST_PLACED);
	CHECK(put(&d, "pre/x", "x", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(dest_mkdirs(&d, "empty/dir", &err) == 0);
	dest_close(&d);
	CHECK(mode_of(at(root, "p/q/plain")) == 0664);
	CHECK(mode_of(at(root, "p/q/run")) == 0775);
	CHECK(mode_of(at(root, "p/q")) == 0775);
	CHECK(mode_of(at(root, "p")) == 0775);
	CHECK(mode_of(root) == 0775); /* DEST itself */
	CHECK(mode_of(at(root, "pre")) == 0720);
	CHECK(mode_of(at(root, "empty/dir")) == 0775);
	CHECK(mode_of(at(root, "other")) == 0755); /* not on any file's way */
	CHECK(gid_of(at(root, "p/q/plain")) == g);
	CHECK(gid_of(at(root, "p/q/run")) == g);
	CHECK(gid_of(at(root, "p/q")) == g);
	CHECK(gid_of(at(root, "pre")) == g);
	CHECK(gid_of(root) == g);
	CHECK(gid_of(at(root, "empty/dir")) == g);
}

struct writer {
	struct dest *d;
	int id, bad;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	struct ja_err err = {0};
	char rel[64], s[32];
	for (int i = w->id; i < 1000; i += 4) {
		snprintf(rel, sizeof(rel), "d%d/e%d/f%d", i % 10, i % 100, i);
		snprintf(s, sizeof(s), "file %d", i);
		if (put(w->d, rel, s, 1000000 + i, i & 1, NULL, &err) != DEST_PLACED) {
			printf("# %s\n", err.msg);
			w->bad++;
		}
	}
	return NULL;
}

TEST(directory_cache_under_four_threads)
{
	struct ja_err err = {0};
	struct dest d;
	struct dest_opts o;
	struct writer w[4];
	pthread_t t[4];
	char root[600], rel[64], s[32];
	int fds = open_fds(), ok = 1;
	fresh("cache", root, sizeof(root));
	dest_opts_init(&o);
	o.dir_mode = 020;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){.d = &d, .id = i};
		pthread_create(&t[i], NULL, write_many, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].bad == 0);
	}
	CHECK(d.ncache <= DEST_CACHE);
	dest_close(&d);
	CHECK(open_fds() == fds);
	for (int i = 0; i < 1000; i++) {
		snprintf(rel, sizeof(rel), "d%d/e%d/f%d", i % 10, i % 100, i);
		snprintf(s, sizeof(s), "file %d", i);
		ok &= file_is(at(root, rel), s);
	}
	CHECK(ok);
	for (int i = 0; i < 100; i++) {
		snprintf(rel, sizeof(rel), "d%d/e%d", i % 10, i);
		ok &= mode_of(at(root, rel)) == 0775 && count(at(root, rel), NULL) == 10;
	}
	CHECK(ok);
}

TEST(existing_match_different_absent)
{
	const int64_t m = 1700000000123456, neg = -1500001;
	struct ja_err err = {0};
	struct dest d;
	char root[600], buf[8];
	int fd;
	fresh("existing", root, sizeof(root));
	CHECK(open_dest(&d, root, DEST_OVERWRITE) == 0);
	CHECK(put(&d, "e", "hello", m, 0, NULL, &err) == DEST_PLACED);
	CHECK(put(&d, "n", "old", neg, 0, NULL, &err) == DEST_PLACED);
	CHECK(dest_existing(&d, "e", 5, m, NULL, &err) == DEST_MATCH);
	CHECK(dest_existing(&d, "e", 5, m - 1, NULL, &err) == DEST_MATCH);
	CHECK(dest_existing(&d, "e", 5, m + 1, NULL, &err) == DEST_MATCH);
	CHECK(dest_existing(&d, "e", 5, m + 2, NULL, &err) == DEST_DIFFERENT);
	CHECK(dest_existing(&d, "e", 5, m - 2, NULL, &err) == DEST_DIFFERENT);
	CHECK(dest_existing(&d, "e", 4, m, NULL, &err) == DEST_DIFFERENT);
	CHECK(dest_existing(&d, "e", 5, INT64_MIN, NULL, &err) == DEST_DIFFERENT);
	CHECK(dest_existing(&d, "n", 3, neg, NULL, &err) == DEST_MATCH);
	CHECK(dest_existing(&d, "n", 3, neg + 1, NULL, &err) == DEST_MATCH);
	CHECK(dest_existing(&d, "n", 3, neg - 2, NULL, &err) == DEST_DIFFERENT);
	CHECK(dest_existing(&d, "absent", 5, m, NULL, &err) == DEST_ABSENT);
	CHECK(dest_existing(&d, "no/dir/x", 5, m, NULL, &err) == DEST_ABSENT);
	CHECK(!exists(at(root, "no")));
	CHECK(symlink("e", at(root, "ln")) == 0);
	CHECK(dest_existing(&d, "ln", 5, m, NULL, &err) == DEST_DIFFERENT);
	CHECK(dest_mkdirs(&d, "dir", &err) == 0);
	CHECK(dest_existing(&d, "dir", 4096, m, NULL, &err) == DEST_DIFFERENT);
	CHECK(dest_existing(&d, "e/x", 5, m, NULL, &err) < 0);
	fd = 99;
	CHECK(dest_existing(&d, "e", 5, m, &fd, &err) == DEST_MATCH);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5));
	if (fd >= 0)
		close(fd);
	CHECK(dest_existing(&d, "e", 6, m, &fd, &err) == DEST_DIFFERENT && fd == -1);
	CHECK(dest_existing(&d, "ln", 5, m, &fd, &err) == DEST_DIFFERENT && fd == -1);
	dest_close(&d);
}

TEST(abort_leaves_nothing)
{
	struct ja_err err = {0};
	struct dest d;
	struct dest_file *f;
	char root[600];
	fresh("abort", root, sizeof(root));
	CHECK(open_dest(&d, root, DEST_COPY) == 0);
	CHECK(dest_tmp_create(&d, "ab/c", &f, &err) == 0);
	CHECK(count(at(root, "ab"), ".ja-tmp-") == 1);
	CHECK(mode_of(at(root, "ab")) == 0755);
	CHECK(pwrite(f->fd, "partial", 7, 0) == 7);
	dest_abort(&d, f);
	dest_abort(&d, NULL);
	dest_close(&d);
	CHECK(count(at(root, "ab"), NULL) == 0);
}

/* A temporary the way a killed ja-get leaves it: created by another process, which
 * then dies (SIGKILL); or, with hold, one that stays alive until told to go. */
static pid_t other_writer(const char *root, const char *rel, int hold, int *go)
{
	int p[2], q[2];
	pid_t pid;
	char c;
	if (pipe(p) || pipe(q))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct dest d;
		struct dest_file *f;
		struct ja_err err = {0};
		if (open_dest(&d, root, DEST_COPY) < 0 || dest_tmp_create(&d, rel, &f, &err) < 0)
			_exit(1);
		CHECK(write(p[1], "r", 1) == 1);
		if (hold)
			CHECK(read(q[0], &c, 1) == 1);
		raise(SIGKILL);
		_exit(2);
	}
	close(p[1]);
	close(q[0]);
	CHECK(read(p[0], &c, 1) == 1);
	close(p[0]);
	*go = q[1];
	return pid;
}

TEST(sweep_removes_stale_temporaries_only)
{
	struct ja_err err = {0};
	struct dest d;
	struct dest_opts o;
	char root[600];
	size_t n = 99;
	int live, go, st;
	pid_t pid;
	fresh("sweep", root, sizeof(root));
	mkdir(at(root, "sw"), 0755);
	write_file(at(root, "sw/.ja-tmp-stale"), "s");
	write_file(at(root, "sw/keep"), "k");
	CHECK(symlink("keep", at(root, "sw/.ja-tmp-link")) == 0);
	mkdir(at(root, "sw/.ja-tmp-dir"), 0755);
	write_file(at(root, "sw/.ja-tmp-live"), "l");
	live = open(at(root, "sw/.ja-tmp-live"), O_RDONLY);
	CHECK(live >= 0 && flock(live, LOCK_EX) == 0); /* held by a writer in this process */
	dest_opts_init(&o);
	o.sweep_age = 3600; /* too young: nothing goes */
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(dest_sweep_tmp(&d, "sw", &n, &err) == 0 && n == 0);
	CHECK(dest_sweep_tmp(&d, "missing", &n, &err) == 0 && n == 0);
	CHECK(dest_sweep_tmp(&d, "../x", &n, &err) < 0);
	dest_close(&d);
	CHECK(count(at(root, "sw"), ".ja-tmp-") == 4);

	o.sweep_age = 0;
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(put(&d, "sw/new", "n", 0, 0, NULL, &err) == DEST_PLACED); /* first use sweeps */
	CHECK(!exists(at(root, "sw/.ja-tmp-stale")));
	CHECK(!exists(at(root, "sw/.ja-tmp-link")));
	CHECK(exists(at(root, "sw/.ja-tmp-live")));
	CHECK(exists(at(root, "sw/.ja-tmp-dir")));
	CHECK(file_is(at(root, "sw/keep"), "k") && file_is(at(root, "sw/new"), "n"));
	dest_close(&d);
	close(live);

	/* a ja-get killed with -9 leaves its temporary; the rerun removes it */
	pid = other_writer(root, "k/file", 0, &go);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	close(go);
	CHECK(count(at(root, "k"), ".ja-tmp-") == 1);
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(put(&d, "k/file", "f", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(count(at(root, "k"), ".ja-tmp-") == 0);
	dest_close(&d);

	/* one still running keeps its temporary */
	pid = other_writer(root, "r/file", 1, &go);
	CHECK(pid > 0);
	CHECK(dest_open(&d, root, &o, &err) == 0);
	CHECK(dest_sweep_tmp(&d, "r", &n, &err) == 0 && n == 0);
	CHECK(count(at(root, "r"), ".ja-tmp-") == 1);
	CHECK(write(go, "g", 1) == 1);
	close(go);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(dest_sweep_tmp(&d, "r", &n, &err) == 0 && n == 1);
	CHECK(count(at(root, "r"), NULL) == 0);
	dest_close(&d);
}

TEST(deletions_never_follow)
{
	struct ja_err err = {0};
	struct dest d;
	struct dest_opts o;
	char root[600], dst[700], out[700];
	fresh("delete", root, sizeof(root));
	snprintf(dst, sizeof(dst), "%s/dest", root);
	snprintf(out, sizeof(out), "%s/outside", root);
	mkdir(out, 0755);
	mkdir(at(out, "x"), 0755);
	write_file(at(out, "secret"), "secret");
	dest_opts_init(&o);
	o.dir_mode = 020;
	CHECK(dest_open(&d, dst, &o, &err) == 0);
	CHECK(put(&d, "dd/f", "f", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(put(&d, "dd/g", "g", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(dest_delete(&d, "dd/f", &err) == 1);
	CHECK(dest_delete(&d, "dd/f", &err) == 0);
	CHECK(dest_delete(&d, "nodir/f", &err) == 0);
	CHECK(dest_delete(&d, "dd", &err) < 0);
	CHECK(strstr(err.msg, "is a directory") != NULL);
	CHECK(symlink(at(out, "secret"), at(dst, "dd/l")) == 0);
	CHECK(dest_delete(&d, "dd/l", &err) == 1);
	CHECK(file_is(at(out, "secret"), "secret"));
	CHECK(dest_rmdir(&d, "dd", &err) == DEST_RM_NOTEMPTY);
	CHECK(dest_delete(&d, "dd/g", &err) == 1);
	CHECK(dest_rmdir(&d, "dd", &err) == DEST_RM_DONE);
	CHECK(!exists(at(dst, "dd")));
	CHECK(dest_rmdir(&d, "dd", &err) == DEST_RM_ABSENT);
	CHECK(dest_rmdir(&d, "no/dd", &err) == DEST_RM_ABSENT);
	/* made again: through a fresh handle, with its mode again */
	CHECK(put(&d, "dd/h", "h", 0, 0, NULL, &err) == DEST_PLACED);
	CHECK(file_is(at(dst, "dd/h"), "h"));
	CHECK(mode_of(at(dst, "dd")) == 0775);
	CHECK(symlink(out, at(dst, "sl")) == 0);
	CHECK(dest_rmdir(&d, "sl", &err) < 0);
	CHECK(strstr(err.msg, "not a directory") != NULL);
	CHECK(dest_rmdir(&d, "dd/h", &err) < 0);
	CHECK(dest_rmdir(&d, "sl/x", &err) < 0);
	CHECK(dest_delete(&d, "sl/secret", &err) < 0);
	dest_close(&d);
	CHECK(exists(at(dst, "sl")) && exists(at(out, "x")) &&
	      file_is(at(out, "secret"), "secret"));
}

TEST(open_free_space_and_mkdir_p)
{
	struct ja_err err = {0};
	struct dest d;
	char root[600];
	uint64_t free_bytes = 0;
	fresh("open", root, sizeof(root));
	CHECK(open_dest(&d, at(root, "new/deep/dest"), DEST_COPY) == 0);
	CHECK(dest_free_bytes(&d, &free_bytes, &err) == 0 && free_bytes > 0);
	CHECK(dest_mkdirs(&d, "", &err) == 0);
	dest_close(&d);
	CHECK(mode_of(at(root, "new/deep/dest")) == 0755);
	write_file(at(root, "file"), "f");
	CHECK(open_dest(&d, at(root, "file"), DEST_COPY) < 0);
	CHECK(open_dest(&d, at(root, "file/sub"), DEST_COPY) < 0);
	CHECK(open_dest(&d, "", DEST_COPY) < 0);
	dest_close(&d); /* harmless after a failed open */
	/* DEST itself may be a symlink: the user chose it */
	CHECK(symlink("new/deep", at(root, "via")) == 0);
	CHECK(open_dest(&d, at(root, "via/dest"), DEST_COPY) == 0);
	CHECK(put(&d, "x", "x", 0, 0, NULL, &err) == DEST_PLACED);
	dest_close(&d);
	CHECK(file_is(at(root, "new/deep/dest/x"), "x"));
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/ja-dest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		return 1;
	umask(022);
	RUN(hostile_paths_are_refused);
	RUN(paths_longer_than_path_max);
	RUN(a_symlinked_directory_is_never_followed);
	RUN(a_symlink_at_the_file_name_is_replaced_not_written_through);
	RUN(symlink_targets_must_stay_inside);
	RUN(conflict_policies_and_copy_names);
	RUN(conflicts_without_rename_noreplace);
	RUN(conflicts_without_hard_links);
	RUN(concurrent_copies_get_distinct_names);
	RUN(mtime_is_exact);
	RUN(modes_runnable_umask_and_group);
	RUN(directory_cache_under_four_threads);
	RUN(existing_match_different_absent);
	RUN(abort_leaves_nothing);
	RUN(sweep_removes_stale_temporaries_only);
	RUN(deletions_never_follow);
	RUN(open_free_space_and_mkdir_p);
	rm_rf(base);
	return unit_done();
}
