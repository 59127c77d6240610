/* store_test.c - the store interface: URLs, defaults, the file backend end to end,
 * and the S3 adapter's checks (plus a live run when S3_ENDPOINT is set, as
 * tests/bats/s3-helper.bash's s3_start exports it). */
#include "core/store.h"
#include "s3/s3.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];
static pthread_t main_thread;

static const char *at(const char *rel)
{
	static char ring[4][4096];
	static int n;
	char *b = ring[n++ & 3];
	snprintf(b, sizeof(ring[0]), "%s/%s", tmp, rel);
	return b;
}

static struct store *open_at(const char *rel, int jobs)
{
	struct ja_err err = {0};
	struct store_opts o = {.jobs = jobs};
	struct store *s = store_open(at(rel), &o, &err);
	if (!s)
		printf("# store_open %s: %s\n", rel, err.msg);
	return s;
}

static int put(struct store *s, const char *key, const char *data, size_t n,
	       const struct store_meta *meta, size_t nmeta)
{
	struct store_op op = {.kind = STORE_PUT, .key = key, .buf = data, .len = n, .fd = -1};
	op.meta = meta;
	op.nmeta = nmeta;
	int rc = store_do(s, &op);
	if (rc < 0)
		printf("# put %s: %s\n", key, op.err.msg);
	store_op_release(&op);
	return rc;
}

/* GET into memory: the bytes (caller frees) or NULL. */
static char *get(struct store *s, const char *key, size_t *len)
{
	struct store_op op = {.kind = STORE_GET, .key = key};
	if (store_do(s, &op) < 0) {
		store_op_release(&op);
		return NULL;
	}
	char *r = op.out_buf;
	*len = op.out_len;
	op.out_buf = NULL;
	store_op_release(&op);
	return r;
}

static int exists(const char *rel)
{
	struct stat st;
	return lstat(at(rel), &st) == 0;
}

static int ntmp;
static int tmp_visit(const char *p, const struct stat *st, int type, struct FTW *f)
{
	if (!strncmp(p + f->base, ".ja-tmp-", 8))
		ntmp++;
	return 0;
}

/* Temporaries left anywhere under rel. */
static int count_tmp(const char *rel)
{
	ntmp = 0;
	nftw(at(rel), tmp_visit, 16, FTW_PHYS);
	return ntmp;
}

static void write_file(const char *rel, const char *data, size_t n)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		printf("# cannot write %s\n", rel);
	close(fd);
}

/* ---- URLs ---- */

static void s3_env(void)
{
	setenv("AWS_CONFIG_FILE", "/nonexistent/ja-test-config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ja-test-credentials", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
}

static void check_s3_url(const char *url, const char *canon, const char *id, const char *keyurl)
{
	struct ja_err err = {0};
	struct store *s = store_open(url, NULL, &err);
	CHECK(s != NULL);
	if (!s) {
		printf("# %s: %s\n", url, err.msg);
		return;
	}
	CHECK_STR(store_url(s), canon);
	CHECK_STR(store_cache_id(s), id);
	CHECK(store_is_remote(s) == 1);
	char *k = store_key_url(s, "Data/x.xxh128");
	CHECK_STR(k, keyurl);
	free(k);
	store_close(s);
}

static void check_bad_url(const char *url)
{
	struct ja_err err = {0};
	struct store *s = store_open(url, NULL, &err);
	CHECK(s == NULL);
	CHECK(err.code == EXIT_USAGE);
	if (s) {
		printf("# %s was accepted\n", url);
		store_close(s);
	}
}

TEST(urls)
{
	s3_env();
	check_s3_url("s3://bkt/pfx", "s3://bkt/pfx", "bkt/pfx", "s3://bkt/pfx/Data/x.xxh128");
	check_s3_url("s3://bkt/a/b//", "s3://bkt/a/b", "bkt/a/b", "s3://bkt/a/b/Data/x.xxh128");
	check_s3_url("s3://bkt", "s3://bkt", "bkt", "s3://bkt/Data/x.xxh128");
	check_s3_url("s3://bkt/", "s3://bkt", "bkt", "s3://bkt/Data/x.xxh128");
	check_bad_url("");
	check_bad_url("s3://");
	check_bad_url("s3:///pfx");
	check_bad_url("s3://bad bucket/x");
	check_bad_url("http://host/x");
	check_bad_url("file://relative/path");
	check_bad_url("file://");

	struct ja_err err = {0};
	char url[256];
	snprintf(url, sizeof(url), "file://%s/u1/./x/../st/", tmp);
	struct store *s = store_open(url, NULL, &err);
	CHECK(s != NULL);
	if (s) {
		snprintf(url, sizeof(url), "file://%s/u1/st", tmp);
		CHECK_STR(store_url(s), url);
		CHECK_STR(store_cache_id(s), url);
		CHECK(store_is_remote(s) == 0);
		char *k = store_key_url(s, "Data/a");
		snprintf(url, sizeof(url), "file://%s/u1/st/Data/a", tmp);
		CHECK_STR(k, url);
		free(k);
		store_close(s);
	}
	CHECK(exists("u1/st")); /* created, parents too */

	/* a plain relative path is made absolute */
	char *cwd = getcwd(NULL, 0);
	CHECK(chdir(tmp) == 0);
	s = store_open("rel/st", NULL, &err);
	CHECK(s != NULL);
	if (s) {
		snprintf(url, sizeof(url), "file://%s/rel/st", tmp);
		CHECK_STR(store_url(s), url);
		store_close(s);
	}
	CHECK(chdir(cwd) == 0);
	free(cwd);
	CHECK(exists("rel/st"));
}

TEST(default_location)
{
	struct ja_err err = {0};
	char want[256];
	unsetenv("JA_STORE");
	setenv("XDG_DATA_HOME", at("xdg"), 1);
	struct store *s = store_open(NULL, NULL, &err);
	snprintf(want, sizeof(want), "file://%s/xdg/ja/store", tmp);
	CHECK(s && !strcmp(store_url(s), want));
	store_close(s);
	CHECK(exists("xdg/ja/store"));

	setenv("XDG_DATA_HOME", "relative/ignored", 1);
	setenv("HOME", at("home"), 1);
	s = store_open(NULL, NULL, &err);
	snprintf(want, sizeof(want), "file://%s/home/.local/share/ja/store", tmp);
	CHECK(s && !strcmp(store_url(s), want));
	store_close(s);

	unsetenv("XDG_DATA_HOME");
	setenv("JA_STORE", "", 1); /* empty: as unset */
	s = store_open(NULL, NULL, &err);
	CHECK(s && !strcmp(store_url(s), want));
	store_close(s);

	snprintf(want, sizeof(want), "file://%s/envstore", tmp);
	setenv("JA_STORE", want, 1);
	s = store_open(NULL, NULL, &err);
	CHECK(s && !strcmp(store_url(s), want));
	store_close(s);

	unsetenv("JA_STORE");
	unsetenv("HOME");
	err.code = 0;
	s = store_open(NULL, NULL, &err);
	CHECK(s == NULL && err.code == EXIT_USAGE);
	store_close(s);
	setenv("HOME", tmp, 1);
}

/* ---- the file backend ---- */

TEST(put_get_head)
{
	struct store *s = open_at("st1", 0);
	if (!s)
		return;
	CHECK(put(s, "Data/abc.xxh128", "hello world", 11, NULL, 0) == 0);
	CHECK(exists("st1/Data/abc.xxh128"));
	size_t n = 0;
	char *b = get(s, "Data/abc.xxh128", &n);
	CHECK(b && n == 11 && !strcmp(b, "hello world"));
	free(b);

	struct store_op op = {.kind = STORE_HEAD, .key = "Data/abc.xxh128"};
	CHECK(store_do(s, &op) == 0 && op.size == 11 && !op.not_found && op.nmeta_out == 0);
	store_op_release(&op);

	/* ranges: inside, clipped at the end, from an offset to the end */
	op = (struct store_op){.kind = STORE_GET, .key = "Data/abc.xxh128", .has_range = 1};
	op.range_off = 6, op.range_len = 3;
	CHECK(store_do(s, &op) == 0 && op.out_len == 3 && !memcmp(op.out_buf, "wor", 3));
	CHECK(op.size == 11);
	store_op_release(&op);
	op.range_off = 6, op.range_len = 100;
	CHECK(store_do(s, &op) == 0 && op.out_len == 5 && !strcmp(op.out_buf, "world"));
	store_op_release(&op);
	op.range_off = 10, op.range_len = 0;
	CHECK(store_do(s, &op) == 0 && op.out_len == 1 && !strcmp(op.out_buf, "d"));
	store_op_release(&op);
	op.range_off = 11;
	CHECK(store_do(s, &op) < 0 && !op.not_found && strstr(op.err.msg, "past the end"));
	store_op_release(&op);

	/* missing keys: not_found, with the message the S3 backend gives */
	const char *missing[] = {"Data/nope", "Nope/x", "Data/abc.xxh128/below", "Data"};
	for (size_t i = 0; i < 4; i++) {
		for (int k = 0; k < 2; k++) {
			op = (struct store_op){.kind = k ? STORE_GET : STORE_HEAD,
					       .key = missing[i]};
			CHECK(store_do(s, &op) < 0);
			CHECK(op.not_found == 1 && op.err.code == EXIT_FAIL);
			CHECK(strstr(op.err.msg, "no such object") != NULL);
			CHECK(op.out_buf == NULL);
			store_op_release(&op);
		}
	}
	/* an empty object */
	CHECK(put(s, "Data/empty", "", 0, NULL, 0) == 0);
	b = get(s, "Data/empty", &n);
	CHECK(b && n == 0 && b[0] == 0);
	free(b);
	/* a replaced object */
	CHECK(put(s, "Data/abc.xxh128", "bye", 3, NULL, 0) == 0);
	b = get(s, "Data/abc.xxh128", &n);
	CHECK(b && n == 3 && !strcmp(b, "bye"));
	free(b);
	CHECK(count_tmp("st1") == 0);
	store_close(s);
}

TEST(put_from_fd_range)
{
	struct store *s = open_at("st2", 2);
	if (!s)
		return;
	/* bigger than one copy chunk, from an offset: the fast path */
	size_t big = (3u << 20) + 12345;
	char *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 7 + (i >> 9));
	write_file("src.bin", data, big);
	int fd = open(at("src.bin"), O_RDONLY);
	CHECK(fd >= 0);
	struct store_op op = {.kind = STORE_PUT, .key = "Data/big", .fd = fd, .off = 1000};
	op.len = big - 2000;
	CHECK(store_do(s, &op) == 0 && op.size == big - 2000);
	store_op_release(&op);
	size_t n = 0;
	char *b = get(s, "Data/big", &n);
	CHECK(b && n == big - 2000 && !memcmp(b, data + 1000, n));
	free(b);

	/* the fd's own offset is not used nor moved */
	CHECK(lseek(fd, 0, SEEK_CUR) == 0);

	/* a source shorter than len: an error, no object, no temporary */
	for (int seen = 0; seen < 2; seen++) {
		op = (struct store_op){.kind = STORE_PUT, .key = "Data/short", .fd = fd};
		op.off = big - 10, op.len = 20;
		CHECK(store_do(s, &op) < 0 && strstr(op.err.msg, "short"));
		store_op_release(&op);
		CHECK(!exists("st2/Data/short"));
	}
	/* a bad fd */
	op = (struct store_op){.kind = STORE_PUT, .key = "Data/badfd", .fd = 9999, .len = 5};
	CHECK(store_do(s, &op) < 0 && !exists("st2/Data/badfd"));
	store_op_release(&op);
	CHECK(count_tmp("st2") == 0);
	close(fd);
	free(data);
	store_close(s);
}

TEST(metadata)
{
	struct store *s = open_at("st3", 0);
	if (!s)
		return;
	struct store_meta m[] = {{"asset-root", "/mnt/proj"}, {"asset-root-json", "\"\\u00e9\""}};
	CHECK(put(s, "Manifests/f/q/x_input", "{}", 2, m, 2) == 0);
	CHECK(exists("st3/.ja/meta/Manifests/f/q/x_input.json"));
	struct store_op op = {.kind = STORE_HEAD, .key = "Manifests/f/q/x_input"};
	CHECK(store_do(s, &op) == 0 && op.nmeta_out == 2);
	CHECK_STR(store_op_meta(&op, "asset-root"), "/mnt/proj");
	CHECK_STR(store_op_meta(&op, "asset-root-json"), "\"\\u00e9\"");
	CHECK(store_op_meta(&op, "nope") == NULL);
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_GET, .key = "Manifests/f/q/x_input"};
	CHECK(store_do(s, &op) == 0 && !strcmp(op.out_buf, "{}"));
	CHECK_STR(store_op_meta(&op, "asset-root"), "/mnt/proj");
	store_op_release(&op);

	/* replaced, then removed by a PUT without metadata */
	struct store_meta m2[] = {{"asset-root", "/other"}};
	CHECK(put(s, "Manifests/f/q/x_input", "{}", 2, m2, 1) == 0);
	op = (struct store_op){.kind = STORE_HEAD, .key = "Manifests/f/q/x_input"};
	CHECK(store_do(s, &op) == 0 && op.nmeta_out == 1);
	CHECK_STR(store_op_meta(&op, "asset-root"), "/other");
	store_op_release(&op);
	CHECK(put(s, "Manifests/f/q/x_input", "{}", 2, NULL, 0) == 0);
	CHECK(store_do(s, &op) == 0 && op.nmeta_out == 0);
	store_op_release(&op);
	CHECK(!exists("st3/.ja/meta/Manifests/f/q/x_input.json"));

	/* values that cannot be HTTP header values, bad names, duplicates: refused */
	struct store_meta bad[][2] = {
	    {{"asset-root", "a\r\nx-amz-acl: public"}, {"b", "c"}},
	    {{"Asset-Root", "x"}, {"b", "c"}},
	    {{"", "x"}, {"b", "c"}},
	    {{"a", "\xc3\xa9"}, {"b", "c"}},
	    {{"b", "x"}, {"b", "c"}},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		op = (struct store_op){.kind = STORE_PUT, .key = "Manifests/bad", .buf = "x"};
		op.len = 1, op.meta = bad[i], op.nmeta = 2;
		CHECK(store_do(s, &op) < 0 && op.err.code == EXIT_FAIL);
		store_op_release(&op);
	}
	CHECK(!exists("st3/Manifests/bad"));

	/* a hostile sidecar is an error, not a crash */
	CHECK(put(s, "Manifests/h", "x", 1, m2, 1) == 0);
	write_file("st3/.ja/meta/Manifests/h.json", "{\"a\":1}", 7);
	op = (struct store_op){.kind = STORE_HEAD, .key = "Manifests/h"};
	CHECK(store_do(s, &op) < 0 && strstr(op.err.msg, "metadata") && op.nmeta_out == 0);
	store_op_release(&op);
	store_close(s);
}

TEST(list)
{
	struct store *s = open_at("st4", 3);
	if (!s)
		return;
	const char *keys[] = {"Data/b",		 "Data/a",	  "Data/ab", "Manifests/f/q/2",
			      "Manifests/f/q/1", "Manifests/f/r", "top",     "Data/A",
			      "Data/\xc3\xa9"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(put(s, keys[i], keys[i], strlen(keys[i]), NULL, 0) == 0);
	struct store_meta m[] = {{"x", "y"}};
	CHECK(put(s, "Manifests/f/q/1", "12", 2, m, 1) == 0);
	write_file("st4/Data/.ja-tmp-123", "t", 1);
	CHECK(symlink("/etc", at("st4/Data/link")) == 0);

	struct store_op op = {.kind = STORE_LIST, .key = ""};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 9);
	const char *all[] = {"Data/A",		"Data/a",	 "Data/ab",
			     "Data/b",		"Data/\xc3\xa9", "Manifests/f/q/1",
			     "Manifests/f/q/2", "Manifests/f/r", "top"};
	for (size_t i = 0; i < op.nkeys && i < 9; i++)
		CHECK_STR(op.keys[i], all[i]);
	CHECK(op.nkeys > 5 && op.sizes[5] == 2 && op.sizes[0] == 6);
	store_op_release(&op);

	op = (struct store_op){.kind = STORE_LIST, .key = "Data/a"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 2);
	CHECK(op.nkeys == 2 && !strcmp(op.keys[0], "Data/a") && !strcmp(op.keys[1], "Data/ab"));
	store_op_release(&op);

	op = (struct store_op){.kind = STORE_LIST, .key = "Manifests/f/"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 3);
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_LIST, .key = "Manifests/f/q"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 2);
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_LIST, .key = NULL};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 9);
	store_op_release(&op);
	/* nothing there: an empty list, not an error */
	op = (struct store_op){.kind = STORE_LIST, .key = "Nothing/here/"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 0 && op.keys == NULL);
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_LIST, .key = "top/"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 0);
	store_op_release(&op);
	/* the prefix's directories follow the key rules */
	op = (struct store_op){.kind = STORE_LIST, .key = "../"};
	CHECK(store_do(s, &op) < 0);
	store_op_release(&op);
	store_close(s);
}

TEST(hostile_keys)
{
	struct store *s = open_at("st5", 0);
	if (!s)
		return;
	char longkey[2001];
	memset(longkey, 'a', 2000);
	longkey[2000] = 0;
	const char *bad[] = {"../x",  "/abs", "a//b", ".ja/meta/x.json", "a/./b",    "a/../../x",
			     "Data/", ".",    "..",   "Data/.ja-tmp-1",	 "x/.jab/y", longkey,
			     ".jazz"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int k = 0; k < 3; k++) {
			enum store_kind kinds[] = {STORE_PUT, STORE_GET, STORE_HEAD};
			struct store_op op = {
			    .kind = kinds[k], .key = bad[i], .buf = "x", .len = 1};
			CHECK(store_do(s, &op) < 0 && !op.not_found && op.err.code == EXIT_FAIL);
			store_op_release(&op);
		}
	}
	CHECK(!exists("x"));
	CHECK(!exists("st5/a"));
	/* 1024 bytes is fine (in short components) */
	char ok[1025];
	for (int i = 0; i < 1024; i++)
		ok[i] = (i % 100 == 99) ? '/' : 'k';
	ok[1024] = 0;
	CHECK(put(s, ok, "v", 1, NULL, 0) == 0);
	/* one component longer than the file system allows: an error, no crash */
	char longname[400];
	memset(longname, 'n', 399);
	longname[399] = 0;
	struct store_op op = {.kind = STORE_PUT, .key = longname, .buf = "v", .len = 1};
	CHECK(store_do(s, &op) < 0 && strstr(op.err.msg, "too long"));
	CHECK(count_tmp("st5") == 0);
	store_close(s);
}

TEST(symlinks_not_followed)
{
	CHECK(mkdir(at("elsewhere"), 0777) == 0);
	write_file("elsewhere/x", "secret", 6);
	write_file("target", "keep", 4);
	struct store *s = open_at("st6", 0);
	if (!s)
		return;
	CHECK(symlink(at("elsewhere"), at("st6/Data")) == 0);
	CHECK(mkdir(at("st6/Manifests"), 0777) == 0);
	CHECK(symlink(at("target"), at("st6/Manifests/m")) == 0);

	struct store_op op = {.kind = STORE_PUT, .key = "Data/y", .buf = "z", .len = 1};
	CHECK(store_do(s, &op) < 0 && strstr(op.err.msg, "symlink"));
	store_op_release(&op);
	CHECK(!exists("elsewhere/y"));
	op = (struct store_op){.kind = STORE_GET, .key = "Data/x"};
	CHECK(store_do(s, &op) < 0 && op.out_buf == NULL && strstr(op.err.msg, "symlink"));
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_HEAD, .key = "Data/x"};
	CHECK(store_do(s, &op) < 0);
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_GET, .key = "Manifests/m"};
	CHECK(store_do(s, &op) < 0 && op.out_buf == NULL);
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_LIST, .key = ""};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 0);
	store_op_release(&op);
	/* a PUT replaces the link itself; its target stays as it was */
	CHECK(put(s, "Manifests/m", "new", 3, NULL, 0) == 0);
	size_t n;
	char *b = get(s, "Manifests/m", &n);
	CHECK(b && !strcmp(b, "new"));
	free(b);
	int fd = open(at("target"), O_RDONLY);
	char t[8] = {0};
	CHECK(fd >= 0 && read(fd, t, sizeof(t)) == 4 && !strcmp(t, "keep"));
	close(fd);
	/* a link where the metadata lives is not followed either */
	CHECK(mkdir(at("st6/.ja"), 0777) == 0);
	CHECK(symlink(at("elsewhere"), at("st6/.ja/meta")) == 0);
	struct store_meta m[] = {{"a", "b"}};
	op = (struct store_op){.kind = STORE_PUT, .key = "Manifests/n", .buf = "x", .len = 1};
	op.meta = m, op.nmeta = 1;
	CHECK(store_do(s, &op) < 0 && strstr(op.err.msg, "symlink"));
	CHECK(!exists("st6/Manifests/n") && !exists("elsewhere/Manifests"));
	store_close(s);
}

/* ---- callbacks ---- */

struct seen {
	char *got;
	size_t len;
	uint64_t next;
	int out_of_order, fail_at, calls, off_thread, commit_rc, commit_calls, commit_off;
	int done_calls, done_off;
};

static int on_seen(struct store_op *op, const char *p, size_t n, uint64_t off)
{
	struct seen *c = op->ctx;
	if (off != c->next)
		c->out_of_order = 1;
	if (c->calls++ == c->fail_at) {
		store_op_fail(op, &(struct ja_err){EXIT_FAIL, "hash mismatch"});
		return -1;
	}
	memcpy(c->got + off, p, n);
	c->next = off + n;
	return 0;
}

static int before_commit(struct store_op *op)
{
	struct seen *c = op->ctx;
	c->commit_calls++;
	if (!pthread_equal(pthread_self(), main_thread))
		c->commit_off = 1;
	return c->commit_rc;
}

static void on_done(struct store_op *op)
{
	struct seen *c = op->ctx;
	c->done_calls++;
	if (!pthread_equal(pthread_self(), main_thread))
		c->done_off = 1;
}

TEST(on_seen_and_commit)
{
	struct store *s = open_at("st7", 4);
	if (!s)
		return;
	size_t len = (5u << 20) / 2 + 77;
	char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i ^ (i >> 11));
	write_file("seen.bin", data, len);
	int fd = open(at("seen.bin"), O_RDONLY);
	for (int from_fd = 0; from_fd < 2; from_fd++) {
		struct seen c = {.got = calloc(1, len), .fail_at = -1};
		struct store_op op = {.kind = STORE_PUT, .key = "Data/seen", .len = len};
		op.buf = from_fd ? NULL : data;
		op.fd = from_fd ? fd : -1;
		op.on_seen = on_seen, op.before_commit = before_commit, op.on_done = on_done;
		op.ctx = &c;
		CHECK(store_do(s, &op) == 0);
		CHECK(c.next == len && !c.out_of_order && !memcmp(c.got, data, len));
		CHECK(c.commit_calls == 1 && !c.commit_off && c.done_calls == 1 && !c.done_off);
		store_op_release(&op);

		/* -1 from on_seen on the second chunk: its reason, no object, no temporary */
		c = (struct seen){.got = c.got, .fail_at = 1};
		op.key = "Data/seen-fail";
		CHECK(store_do(s, &op) < 0 && !strcmp(op.err.msg, "hash mismatch"));
		CHECK(c.commit_calls == 0 && c.done_calls == 1);
		store_op_release(&op);
		CHECK(!exists("st7/Data/seen-fail"));

		/* -1 from before_commit: nothing either */
		c = (struct seen){.got = c.got, .fail_at = -1, .commit_rc = -1};
		op.key = "Data/commit-fail";
		CHECK(store_do(s, &op) < 0 && strstr(op.err.msg, "refused"));
		CHECK(c.commit_calls == 1 && !c.commit_off);
		store_op_release(&op);
		CHECK(!exists("st7/Data/commit-fail"));
		free(c.got);
	}
	CHECK(count_tmp("st7") == 0);
	size_t n;
	char *b = get(s, "Data/seen", &n);
	CHECK(b && n == len && !memcmp(b, data, len));
	free(b);
	close(fd);
	free(data);
	store_close(s);
}

struct sink {
	char *got;
	uint64_t next;
	int bad, stop_at, calls;
};

static int on_data(struct store_op *op, const char *p, size_t n, uint64_t off)
{
	struct sink *k = op->ctx;
	if (off != k->next)
		k->bad = 1;
	if (k->calls++ == k->stop_at) {
		store_op_fail(op, &(struct ja_err){EXIT_FAIL, "disk full"});
		return -1;
	}
	memcpy(k->got + off, p, n);
	k->next = off + n;
	return 0;
}

TEST(get_on_data)
{
	struct store *s = open_at("st8", 0);
	if (!s)
		return;
	size_t len = (3u << 20) + 5;
	char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 31);
	CHECK(put(s, "Data/d", data, len, NULL, 0) == 0);
	struct sink k = {.got = calloc(1, len), .stop_at = -1};
	struct store_op op = {.kind = STORE_GET, .key = "Data/d", .on_data = on_data, .ctx = &k};
	CHECK(store_do(s, &op) == 0 && k.next == len && !k.bad && !memcmp(k.got, data, len));
	CHECK(op.size == len && op.out_buf == NULL && k.calls > 1);
	store_op_release(&op);
	/* a range through on_data: offsets are offsets in the object */
	k = (struct sink){.got = k.got, .next = 1000, .stop_at = -1};
	op.has_range = 1, op.range_off = 1000, op.range_len = (1u << 20) + 10;
	CHECK(store_do(s, &op) == 0 && !k.bad && k.next == 1000 + op.range_len);
	CHECK(!memcmp(k.got + 1000, data + 1000, op.range_len));
	store_op_release(&op);
	k = (struct sink){.got = k.got, .stop_at = 1};
	op.has_range = 0;
	CHECK(store_do(s, &op) < 0 && !strcmp(op.err.msg, "disk full"));
	store_op_release(&op);

	/* over the in-memory cap (a sparse file: no real bytes) */
	int fd = open(at("st8/Data/huge"), O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0 && ftruncate(fd, ((off_t)1 << 30) + 1) == 0);
	close(fd);
	op = (struct store_op){.kind = STORE_GET, .key = "Data/huge"};
	CHECK(store_do(s, &op) < 0 && op.out_buf == NULL && strstr(op.err.msg, "too large"));
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_HEAD, .key = "Data/huge"};
	CHECK(store_do(s, &op) == 0 && op.size == ((uint64_t)1 << 30) + 1);
	store_op_release(&op);
	free(k.got);
	free(data);
	store_close(s);
}

/* ---- concurrency, feeder, interrupts ---- */

#define NPUT 500

struct feed {
	struct store *s;
	struct store_op ops[NPUT];
	char keys[NPUT][32], vals[NPUT][32];
	const char *dir; /* keys are DIR NNN/kI */
	int next, done, failed, max_pending;
};

static void put_done(struct store_op *op)
{
	struct feed *f = op->ctx;
	f->done++;
	if (!op->ok)
		f->failed++;
	store_op_release(op);
}

static void feeder(void *ctx)
{
	struct feed *f = ctx;
	int per_call = 3; /* a feeder may give a few at a time */
	while (f->next < NPUT && per_call--) {
		int i = f->next++;
		struct store_op *op = &f->ops[i];
		snprintf(f->keys[i], 32, "%s%03d/k%d", f->dir, i % 7, i);
		snprintf(f->vals[i], 32, "value %d", i);
		*op = (struct store_op){.kind = STORE_PUT, .key = f->keys[i], .buf = f->vals[i]};
		op->len = strlen(f->vals[i]);
		op->on_done = put_done;
		op->ctx = f;
		store_submit(f->s, op);
		if ((int)store_pending(f->s) > f->max_pending)
			f->max_pending = (int)store_pending(f->s);
	}
}

TEST(concurrency_with_feeder)
{
	struct store *s = open_at("st9", 4);
	if (!s)
		return;
	struct feed *f = calloc(1, sizeof(*f));
	struct ja_err err = {0};
	f->s = s;
	f->dir = "Data/";
	store_set_feeder(s, feeder, f);
	CHECK(store_run(s, &err) == 0);
	CHECK(f->done == NPUT && f->failed == 0 && f->next == NPUT);
	CHECK(store_pending(s) == 0);
	CHECK(f->max_pending <= 4 * 2 + 3 && f->max_pending > 1);
	store_set_feeder(s, NULL, NULL);
	struct store_op op = {.kind = STORE_LIST, .key = "Data/"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == NPUT);
	store_op_release(&op);
	for (int i = 0; i < NPUT; i += 37) {
		size_t n;
		char *b = get(s, f->keys[i], &n);
		CHECK(b && !strcmp(b, f->vals[i]));
		free(b);
	}
	free(f);
	store_close(s);
}

static int interrupt_seen(struct store_op *op, const char *p, size_t n, uint64_t off)
{
	if (off >= (2u << 20))
		store_interrupted = 1; /* as a signal handler would */
	return 0;
}

static void counting_done(struct store_op *op)
{
	int *c = op->ctx;
	c[0]++;
	if (op->err.code == 130)
		c[1]++;
	if (op->ok)
		c[2]++;
}

TEST(interrupt)
{
	struct store *s = open_at("st10", 3);
	if (!s)
		return;
	size_t len = 8u << 20;
	char *data = calloc(1, len);
	struct store_op ops[12];
	char keys[12][16];
	int counts[3] = {0};
	for (int i = 0; i < 12; i++) {
		snprintf(keys[i], sizeof(keys[i]), "Data/i%d", i);
		ops[i] =
		    (struct store_op){.kind = STORE_PUT, .key = keys[i], .buf = data, .len = len};
		ops[i].on_seen = i == 0 ? interrupt_seen : NULL;
		ops[i].on_done = counting_done;
		ops[i].ctx = counts;
		store_submit(s, &ops[i]);
	}
	struct ja_err err = {0};
	CHECK(store_run(s, &err) < 0 && err.code == 130);
	CHECK(counts[0] == 12 && counts[1] >= 1 && counts[1] + counts[2] == 12);
	CHECK(store_pending(s) == 0);
	CHECK(count_tmp("st10") == 0);
	CHECK(!exists("st10/Data/i0"));
	/* a run started while the flag is set does nothing, and says so */
	struct store_op op = {.kind = STORE_HEAD, .key = "Data/i1", .on_done = counting_done};
	op.ctx = counts;
	CHECK(store_do(s, &op) < 0 && op.err.code == 130);
	store_interrupted = 0;
	for (int i = 0; i < 12; i++)
		store_op_release(&ops[i]);
	free(data);
	store_close(s);
}

TEST(refused_ops_still_complete)
{
	/* an op refused at submission finishes through store_run, on_done and all */
	struct store *s = open_at("st11", 0);
	if (!s)
		return;
	int counts[3] = {0};
	struct store_op a = {.kind = STORE_PUT, .key = "../escape", .buf = "x", .len = 1};
	struct store_op b = {.kind = STORE_PUT, .key = "Data/fine", .buf = "x", .len = 1};
	struct store_op c = {.kind = STORE_HEAD, .key = NULL};
	a.on_done = b.on_done = c.on_done = counting_done;
	a.ctx = b.ctx = c.ctx = counts;
	store_submit(s, &a);
	store_submit(s, &b);
	store_submit(s, &c);
	CHECK(store_pending(s) == 3);
	struct ja_err err = {0};
	CHECK(store_run(s, &err) == 0);
	CHECK(counts[0] == 3 && counts[2] == 1 && b.ok && !a.ok && !c.ok);
	CHECK(store_pending(s) == 0);
	store_close(s);
	CHECK(!exists("escape"));

	/* the S3 adapter's checks need no server */
	s3_env();
	struct ja_err e = {0};
	s = store_open("s3://bucket/some/prefix", NULL, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	char longkey[1100];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	struct store_op d = {.kind = STORE_HEAD, .key = longkey};
	CHECK(store_do(s, &d) < 0 && strstr(d.err.msg, "longer than 1024"));
	d = (struct store_op){.kind = STORE_PUT, .key = "k\xff", .buf = "x", .len = 1};
	CHECK(store_do(s, &d) < 0 && strstr(d.err.msg, "UTF-8"));
	struct store_meta m[] = {{"a", "line\nbreak"}};
	d = (struct store_op){.kind = STORE_PUT, .key = "k", .buf = "x", .len = 1};
	d.meta = m, d.nmeta = 1;
	CHECK(store_do(s, &d) < 0 && strstr(d.err.msg, "printable"));
	CHECK(store_pending(s) == 0);
	store_close(s);
}

/* ---- S3 against a live server (S3_ENDPOINT from s3_start), else skipped ---- */

static void s3_live(const char *endpoint)
{
	struct store_opts o = {.endpoint_url = endpoint, .region = "us-east-1"};
	struct ja_err err = {0};
	const char *bucket = getenv("S3_BUCKET") ? getenv("S3_BUCKET") : "ja-test";
	char url[256];
	snprintf(url, sizeof(url), "s3://%s/store-test/", bucket);
	struct store *s = store_open(url, &o, &err);
	CHECK(s != NULL);
	if (!s) {
		printf("# %s\n", err.msg);
		return;
	}
	struct store_meta m[] = {{"asset-root", "/mnt/x"}};
	CHECK(put(s, "Manifests/a_input", "{\"m\":1}", 7, m, 1) == 0);
	struct store_op op = {.kind = STORE_HEAD, .key = "Manifests/a_input"};
	CHECK(store_do(s, &op) == 0 && op.size == 7);
	CHECK_STR(store_op_meta(&op, "asset-root"), "/mnt/x");
	store_op_release(&op);
	size_t n;
	char *b = get(s, "Manifests/a_input", &n);
	CHECK(b && n == 7 && !strcmp(b, "{\"m\":1}"));
	free(b);
	op = (struct store_op){.kind = STORE_HEAD, .key = "Data/none"};
	CHECK(store_do(s, &op) < 0 && op.not_found);
	store_op_release(&op);

	size_t len = 3u << 20;
	char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 13);
	struct seen c = {.got = calloc(1, len), .fail_at = -1};
	op = (struct store_op){.kind = STORE_PUT, .key = "Data/big", .buf = data, .len = len};
	op.on_seen = on_seen, op.before_commit = before_commit, op.on_done = on_done;
	op.ctx = &c;
	CHECK(store_do(s, &op) == 0 && !memcmp(c.got, data, len) && c.commit_calls == 1);
	CHECK(!c.commit_off && !c.done_off);
	store_op_release(&op);
	c = (struct seen){.got = c.got, .fail_at = -1, .commit_rc = -1};
	op.key = "Data/refused";
	CHECK(store_do(s, &op) < 0 && c.commit_calls == 1);
	store_op_release(&op);
	/* S3 never stores a cut PUT; s3rver keeps an empty object: not the whole one */
	op = (struct store_op){.kind = STORE_HEAD, .key = "Data/refused"};
	CHECK((store_do(s, &op) < 0 && op.not_found) || op.size != len);
	store_op_release(&op);

	struct sink k = {.got = calloc(1, len), .next = 100, .stop_at = -1};
	op = (struct store_op){.kind = STORE_GET, .key = "Data/big", .on_data = on_data, .ctx = &k};
	op.has_range = 1, op.range_off = 100, op.range_len = 1000;
	CHECK(store_do(s, &op) == 0 && k.next == 1100 && !memcmp(k.got + 100, data + 100, 1000));
	store_op_release(&op);

	/* an interrupt from a callback stops the S3 client too */
	op = (struct store_op){.kind = STORE_PUT, .key = "Data/int", .buf = data, .len = len};
	op.on_seen = interrupt_seen;
	CHECK(store_do(s, &op) < 0 && op.err.code == 130 && s3_interrupted);
	store_op_release(&op);
	store_interrupted = s3_interrupted = 0;

	/* 1500 objects through the feeder, listed back over more than one page */
	struct feed *f = calloc(1, sizeof(*f));
	const char *dirs[] = {"Many/a", "Many/b", "Many/c"};
	for (int d = 0; d < 3; d++) {
		memset(f, 0, sizeof(*f));
		f->s = s;
		f->dir = dirs[d];
		store_set_feeder(s, feeder, f);
		CHECK(store_run(s, &err) == 0 && f->done == NPUT && f->failed == 0);
	}
	store_set_feeder(s, NULL, NULL);
	CHECK(store_pending(s) == 0);
	op = (struct store_op){.kind = STORE_LIST, .key = "Many/"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == 3 * NPUT);
	for (size_t i = 1; i < op.nkeys; i++)
		CHECK(strcmp(op.keys[i - 1], op.keys[i]) < 0);
	CHECK(op.nkeys && !strcmp(op.keys[0], "Many/a000/k0") && op.sizes[0] == 7);
	store_op_release(&op);
	op = (struct store_op){.kind = STORE_LIST, .key = "Many/b"};
	CHECK(store_do(s, &op) == 0 && op.nkeys == NPUT);
	store_op_release(&op);
	free(f);
	free(k.got);
	free(c.got);
	free(data);
	store_close(s);
}

TEST(s3_adapter_live)
{
	const char *ep = getenv("S3_ENDPOINT");
	if (!ep || !*ep) {
		printf("# S3_ENDPOINT not set: the live S3 part is skipped\n");
		return;
	}
	s3_live(ep);
}

static int rm_visit(const char *p, const struct stat *st, int type, struct FTW *f)
{
	return remove(p);
}

int main(void)
{
	main_thread = pthread_self();
	snprintf(tmp, sizeof(tmp), "/tmp/ja-store-test.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	RUN(urls);
	RUN(default_location);
	RUN(put_get_head);
	RUN(put_from_fd_range);
	RUN(metadata);
	RUN(list);
	RUN(hostile_keys);
	RUN(symlinks_not_followed);
	RUN(on_seen_and_commit);
	RUN(get_on_data);
	RUN(concurrency_with_feeder);
	RUN(interrupt);
	RUN(refused_ops_still_complete);
	RUN(s3_adapter_live);
	nftw(tmp, rm_visit, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}
