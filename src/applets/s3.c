/* s3.c - ja-s3: look into and repair a store with ja's own S3 client
 * (ls, stat, cat, cp, rm), with the credentials, endpoint and retries every
 * other applet uses. */
#include "core/buf.h"
#include "core/opt.h"
#include "core/util.h"
#include "core/walk.h"
#include "s3cli.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OPT_META  1201
#define OPT_CTYPE 1202
#define OPT_PAGE  1203
#define OPT_RANGE 1204

const struct opt applet_s3_opts[] = {
    {'r', 'r', "recursive", NULL, "ls, cp, rm: every object under the prefix / every file", NULL},
    {OPT_META, 0, "metadata", "NAME=VALUE", "cp to S3: user metadata (repeatable)", NULL},
    {OPT_CTYPE, 0, "content-type", "TYPE", "cp to S3: Content-Type", NULL},
    {OPT_RANGE, 0, "range", "FIRST-[LAST]", "cat: only these bytes (0-based, inclusive)", NULL},
    {OPT_PAGE, 0, "page-size", "N", "keys asked for per list request (default 1000)", NULL},
    OPT_JOBS,
    OPT_S3,
    OPT_END,
};

struct ctx {
	struct s3_client *c;
	struct s3_config cfg;
	int recursive;
	struct s3_meta *meta;
	size_t nmeta;
	const char *ctype;
	int page;
	int has_range;
	uint64_t range_off, range_len; /* range_len 0: to the end */
	int failed;
};

static void report(struct ctx *x, const struct s3_op *op)
{
	errorx("%s", op->err.msg);
	if (op->err.code == 130 || x->failed == 130)
		x->failed = 130;
	else
		x->failed = 1;
}

static int is_s3(const char *s)
{
	return !strncmp(s, "s3://", 5);
}

static void parse(const char *url, char **bucket, char **key)
{
	struct ja_err err = {0};
	if (s3_parse_url(url, bucket, key, &err) < 0)
		die_err(&err);
}

/* ---- ls ---- */

static void print_obj(const struct s3_object *o)
{
	char date[24] = "";
	/* "2026-11-22T10:00:00.000Z" -> "2026-11-22 10:00:00" */
	if (o->last_modified && strlen(o->last_modified) >= 19) {
		memcpy(date, o->last_modified, 19);
		date[10] = ' ';
		date[19] = 0;
	}
	printf("%-19s %12" PRIu64 " %s\n", date, o->size, esc_name(o->key));
}

static int cmd_ls(struct ctx *x, char **args, int n)
{
	if (n != 1)
		opt_usage_error("ls: one s3://BUCKET[/PREFIX] operand expected");
	char *bucket, *prefix;
	parse(args[0], &bucket, &prefix);
	struct s3_op op = {
	    .kind = S3_LIST, .bucket = bucket, .prefix = prefix, .max_keys = x->page};
	if (!x->recursive)
		op.delimiter = "/";
	char *token = NULL;
	do {
		op.token = token;
		if (s3_do(x->c, &op) < 0) {
			report(x, &op);
			break;
		}
		for (size_t i = 0; i < op.list.nprefixes; i++)
			printf("%-19s %12s %s\n", "", "PRE", esc_name(op.list.prefixes[i]));
		for (size_t i = 0; i < op.list.nobjs; i++)
			print_obj(&op.list.objs[i]);
		free(token);
		token =
		    op.list.truncated && op.list.next_token ? xstrdup(op.list.next_token) : NULL;
		if (op.list.truncated && !token) {
			errorx("ListObjectsV2 s3://%s/%s: truncated listing without a continuation "
			       "token",
			       bucket, esc_name(prefix));
			x->failed = 1;
		}
		s3_op_release(&op);
	} while (token);
	free(bucket);
	free(prefix);
	return 0;
}

/* Every key under prefix (recursive listing), into a list of malloc'd strings. */
static int list_all(struct ctx *x, const char *bucket, const char *prefix, char ***keys,
		    uint64_t **sizes, size_t *n)
{
	size_t cap = 0, scap = 0;
	struct s3_op op = {
	    .kind = S3_LIST, .bucket = bucket, .prefix = prefix, .max_keys = x->page};
	char *token = NULL;
	int rc = 0;
	*n = 0;
	do {
		op.token = token;
		if (s3_do(x->c, &op) < 0) {
			report(x, &op);
			rc = -1;
			break;
		}
		for (size_t i = 0; i < op.list.nobjs; i++) {
			xgrow((void **)keys, &cap, *n + 1, sizeof(**keys));
			xgrow((void **)sizes, &scap, *n + 1, sizeof(**sizes));
			(*keys)[*n] = xstrdup(op.list.objs[i].key);
			(*sizes)[*n] = op.list.objs[i].size;
			(*n)++;
		}
		free(token);
		token =
		    op.list.truncated && op.list.next_token ? xstrdup(op.list.next_token) : NULL;
		s3_op_release(&op);
	} while (token);
	return rc;
}

/* ---- stat ---- */

struct item {
	struct s3_op op;
	struct ctx *x;
	char *bucket, *key; /* owned */
	char *src, *dst;    /* cp: local path and temporary name */
	int fd;
	int prep_errno; /* download: creating the temporary file failed */
	const char *prep_what;
	uint64_t size;
};

static void print_stat(const struct item *it, const char *url)
{
	const struct s3_op *op = &it->op;
	printf("%s\n  size: %" PRIu64 "\n", esc_name(url), op->size);
	if (op->etag)
		printf("  etag: %s\n", esc_name(op->etag));
	if (op->last_modified)
		printf("  last-modified: %s\n", esc_name(op->last_modified));
	if (op->content_type_out)
		printf("  content-type: %s\n", esc_name(op->content_type_out));
	for (size_t i = 0; i < op->nmeta_out; i++)
		printf("  x-amz-meta-%s: %s\n", esc_name(op->meta_out[i].name),
		       esc_name(op->meta_out[i].value));
}

static int cmd_stat(struct ctx *x, char **args, int n)
{
	if (n < 1)
		opt_usage_error("stat: s3://BUCKET/KEY operand expected");
	struct item *it = xcalloc((size_t)n, sizeof(*it));
	for (int i = 0; i < n; i++) {
		parse(args[i], &it[i].bucket, &it[i].key);
		it[i].op =
		    (struct s3_op){.kind = S3_HEAD, .bucket = it[i].bucket, .key = it[i].key};
		s3_submit(x->c, &it[i].op);
	}
	struct ja_err err;
	if (s3_run(x->c, &err) < 0)
		x->failed = 130;
	for (int i = 0; i < n; i++) {
		if (it[i].op.ok)
			print_stat(&it[i], args[i]);
		else
			report(x, &it[i].op);
		s3_op_release(&it[i].op);
		free(it[i].bucket);
		free(it[i].key);
	}
	free(it);
	return 0;
}

/* ---- cat ---- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int to_stdout(struct s3_op *op, const char *p, size_t n, uint64_t off)
{
	(void)off;
	if (write_all(1, p, n) < 0) {
		struct ja_err e;
		err_set(&e, EXIT_FAIL, "stdout: %s", strerror(errno));
		s3_op_fail(op, &e);
		return -1;
	}
	return 0;
}

static int cmd_cat(struct ctx *x, char **args, int n)
{
	if (n < 1)
		opt_usage_error("cat: s3://BUCKET/KEY operand expected");
	fflush(stdout);
	for (int i = 0; i < n && !x->failed; i++) {
		char *bucket, *key;
		parse(args[i], &bucket, &key);
		struct s3_op op = {.kind = S3_GET,
				   .bucket = bucket,
				   .key = key,
				   .on_data = to_stdout,
				   .has_range = x->has_range,
				   .range_off = x->range_off,
				   .range_len = x->range_len};
		if (s3_do(x->c, &op) < 0)
			report(x, &op);
		s3_op_release(&op);
		free(bucket);
		free(key);
	}
	return 0;
}

/* ---- cp ---- */

static int to_fd(struct s3_op *op, const char *p, size_t n, uint64_t off)
{
	struct item *it = op->ctx;
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(it->fd, p + done, n - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			struct ja_err e;
			err_set(&e, EXIT_FAIL, "%s: %s", esc_name(it->src),
				w < 0 ? strerror(errno) : "short write");
			s3_op_fail(op, &e);
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

static void get_done(struct s3_op *op)
{
	struct item *it = op->ctx;
	int ok = op->ok;
	if (ok && close(it->fd) < 0) {
		errorx("%s: %s", esc_name(it->src), strerror(errno));
		it->x->failed = 1;
		ok = 0;
	} else if (!ok) {
		close(it->fd);
		report(it->x, op);
	}
	if (ok && rename(it->dst, it->src) < 0) {
		errorx("%s: %s", esc_name(it->src), strerror(errno));
		it->x->failed = 1;
		ok = 0;
	}
	if (!ok)
		unlink(it->dst);
	it->fd = -1;
	s3_op_release(op);
}

/* Create the temporary file a download goes to (on the prep thread: file creation
 * is slow on some file systems and must not stall the transfers). */
static void get_prepare(struct item *it, mode_t mode)
{
	if (mkdir_p(it->src, 1) < 0) {
		it->prep_errno = errno;
		it->prep_what = "cannot create its directory";
		return;
	}
	struct buf t = BUF_INIT;
	buf_addf(&t, "%s.ja-tmp-XXXXXX", it->src);
	it->dst = buf_detach(&t, NULL);
	it->fd = mkstemp(it->dst);
	if (it->fd < 0) {
		it->prep_errno = errno;
		it->prep_what = "cannot create it";
		return;
	}
	fchmod(it->fd, mode);
}

static int get_start(struct ctx *x, struct item *it)
{
	if (it->prep_errno) {
		errorx("%s: %s: %s", esc_name(it->src), it->prep_what, strerror(it->prep_errno));
		x->failed = 1;
		return -1;
	}
	it->op = (struct s3_op){.kind = S3_GET,
				.bucket = it->bucket,
				.key = it->key,
				.on_data = to_fd,
				.on_done = get_done,
				.ctx = it};
	s3_submit(x->c, &it->op);
	return 0;
}

static void put_done(struct s3_op *op)
{
	struct item *it = op->ctx;
	if (!op->ok)
		report(it->x, op);
	close(it->fd);
	it->fd = -1;
	s3_op_release(op);
}

static int put_start(struct ctx *x, struct item *it, int dirfd, const char *rel)
{
	struct ja_err err = {0};
	it->fd = rel ? walk_open(dirfd, rel, 1, &err) : open(it->src, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (it->fd < 0 || fstat(it->fd, &sb) < 0) {
		errorx("%s: %s", esc_name(it->src), rel ? err.msg : strerror(errno));
		if (it->fd >= 0)
			close(it->fd);
		x->failed = 1;
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		errorx("%s: not a regular file", esc_name(it->src));
		close(it->fd);
		x->failed = 1;
		return -1;
	}
	it->op = (struct s3_op){.kind = S3_PUT,
				.bucket = it->bucket,
				.key = it->key,
				.fd = it->fd,
				.len = (uint64_t)sb.st_size,
				.meta = x->meta,
				.nmeta = x->nmeta,
				.content_type = x->ctype,
				.on_done = put_done,
				.ctx = it};
	s3_submit(x->c, &it->op);
	return 0;
}

/* Feeding many transfers: start the next few whenever the client has room. */
/* Feeding many transfers: start the next few whenever the client has room.  For
 * downloads a prep thread creates the temporary files ahead of the transfers, at
 * most PREP_AHEAD of them (each holds an open descriptor). */
#define PREP_AHEAD 256

struct feed {
	struct ctx *x;
	struct item *it;
	size_t n, next;
	int upload, dirfd;
	const char *const *rel;
	pthread_t prep;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t prepped; /* items 0..prepped-1 are ready */
	int stop, has_prep;
	mode_t mode;
};

static void *prep_main(void *arg)
{
	struct feed *f = arg;
	for (size_t i = 0; i < f->n; i++) {
		pthread_mutex_lock(&f->mu);
		while (!f->stop && i >= f->next + PREP_AHEAD)
			pthread_cond_wait(&f->cv, &f->mu);
		int stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			break;
		get_prepare(&f->it[i], f->mode);
		pthread_mutex_lock(&f->mu);
		f->prepped = i + 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
	return NULL;
}

/* The next download is ready; when nothing is in flight it is worth waiting for. */
static int next_ready(struct feed *f)
{
	pthread_mutex_lock(&f->mu);
	while (f->prepped <= f->next && !s3_pending(f->x->c))
		pthread_cond_wait(&f->cv, &f->mu);
	int ready = f->prepped > f->next;
	pthread_mutex_unlock(&f->mu);
	return ready;
}

static void feed(void *arg)
{
	struct feed *f = arg;
	for (int k = 0; k < 64 && f->next < f->n; k++) {
		struct item *it = &f->it[f->next];
		const char *rel = f->rel ? f->rel[f->next] : NULL;
		if (!f->upload && !next_ready(f))
			break;
		pthread_mutex_lock(&f->mu);
		f->next++;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		if (f->upload)
			put_start(f->x, it, f->dirfd, rel);
		else
			get_start(f->x, it);
	}
}

static void run_feed(struct ctx *x, struct feed *f)
{
	struct ja_err err;
	mode_t um = umask(0);
	umask(um);
	f->mode = 0666 & ~um;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (!f->upload && f->n) {
		if (pthread_create(&f->prep, NULL, prep_main, f))
			die(EXIT_FAIL, "cannot start a thread");
		f->has_prep = 1;
	}
	s3_set_feeder(x->c, feed, f);
	if (s3_run(x->c, &err) < 0)
		x->failed = 130;
	s3_set_feeder(x->c, NULL, NULL);
	if (f->has_prep) {
		pthread_mutex_lock(&f->mu);
		f->stop = 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->prep, NULL);
	}
	for (size_t i = 0; i < f->n; i++) {
		if (f->it[i].fd >= 0 && f->it[i].dst) { /* prepared, never finished */
			close(f->it[i].fd);
			unlink(f->it[i].dst);
		}
		free(f->it[i].bucket);
		free(f->it[i].key);
		free(f->it[i].src);
		free(f->it[i].dst);
	}
	free(f->it);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
}

/* The key for a local file copied to an s3 URL: "dir/" or "" takes the file's name. */
static char *dest_key(const char *key, const char *src)
{
	size_t kl = strlen(key);
	if (kl && key[kl - 1] != '/')
		return xstrdup(key);
	const char *base = strrchr(src, '/');
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s%s", key, base ? base + 1 : src);
	return buf_detach(&b, NULL);
}

/* A key below a prefix as a relative local path: no empty, ".", ".." components. */
static int safe_rel(const char *rel)
{
	if (!*rel || *rel == '/')
		return 0;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

static void cp_upload_tree(struct ctx *x, const char *src, const char *bucket, const char *key)
{
	struct walk w;
	struct walk_opts wo = {.links = WALK_FOLLOW, .jobs = 2};
	struct ja_err err = {0};
	if (walk_tree(src, &wo, &w, &err) < 0)
		die_err(&err);
	struct feed f = {.x = x, .upload = 1, .dirfd = w.rootfd};
	const char **rel = xcalloc(w.n + 1, sizeof(*rel));
	f.it = xcalloc(w.n + 1, sizeof(*f.it));
	size_t kl = strlen(key);
	for (size_t i = 0; i < w.n; i++) {
		if (w.v[i].type != WENT_FILE)
			continue;
		struct item *it = &f.it[f.n];
		struct buf k = BUF_INIT, s = BUF_INIT;
		buf_addf(&k, "%s%s%s", key, kl && key[kl - 1] != '/' ? "/" : "", w.v[i].path);
		buf_addf(&s, "%s/%s", src, w.v[i].path);
		it->bucket = xstrdup(bucket);
		it->key = buf_detach(&k, NULL);
		it->src = buf_detach(&s, NULL);
		it->fd = -1;
		it->x = x;
		rel[f.n++] = w.v[i].path;
	}
	f.rel = rel;
	run_feed(x, &f);
	free(rel);
	walk_release(&w);
}

static void cp_download_tree(struct ctx *x, const char *bucket, const char *prefix, const char *dst)
{
	char **keys = NULL;
	uint64_t *sizes = NULL;
	size_t n = 0;
	struct buf pre = BUF_INIT;
	buf_adds(&pre, prefix);
	if (pre.len && pre.p[pre.len - 1] != '/')
		buf_addc(&pre, '/');
	if (list_all(x, bucket, pre.p, &keys, &sizes, &n) < 0)
		n = 0;
	struct feed f = {.x = x};
	f.it = xcalloc(n + 1, sizeof(*f.it));
	for (size_t i = 0; i < n; i++) {
		const char *rel = keys[i] + pre.len;
		if (!*rel || rel[strlen(rel) - 1] == '/') /* a "folder" marker */
			continue;
		if (!safe_rel(rel)) {
			errorx("s3://%s/%s: refusing a key that is not a plain relative path",
			       bucket, esc_name(keys[i]));
			x->failed = 1;
			continue;
		}
		struct item *it = &f.it[f.n++];
		struct buf s = BUF_INIT;
		buf_addf(&s, "%s/%s", dst, rel);
		it->bucket = xstrdup(bucket);
		it->key = xstrdup(keys[i]);
		it->src = buf_detach(&s, NULL);
		it->fd = -1;
		it->x = x;
	}
	if (mkdir(dst, 0777) < 0 && errno != EEXIST) {
		errorx("%s: %s", esc_name(dst), strerror(errno));
		x->failed = 1;
		f.n = 0; /* nothing starts; run_feed only frees */
		for (size_t i = 0; f.it[i].key; i++) {
			free(f.it[i].bucket);
			free(f.it[i].key);
			free(f.it[i].src);
		}
	}
	run_feed(x, &f);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(sizes);
	buf_release(&pre);
}

/* One file or object of a plain (not -r) cp into item it. */
static void cp_item(struct item *it, const char *src, const char *dst, int many)
{
	char *bucket, *key;
	parse(is_s3(src) ? src : dst, &bucket, &key);
	it->bucket = bucket;
	if (is_s3(dst)) {
		size_t kl = strlen(key);
		if (many && kl && key[kl - 1] != '/')
			opt_usage_error("cp: with several sources DST must end in '/'");
		it->key = dest_key(key, src);
		it->src = xstrdup(src);
		free(key);
		return;
	}
	struct stat sb;
	const char *base = strrchr(key, '/');
	struct buf d = BUF_INIT;
	if (!*key || key[strlen(key) - 1] == '/')
		opt_usage_error("cp: %s names no object", esc_name(src));
	if (stat(dst, &sb) == 0 && S_ISDIR(sb.st_mode))
		buf_addf(&d, "%s/%s", dst, base ? base + 1 : key);
	else if (many)
		opt_usage_error("cp: with several sources DST must be a directory");
	else
		buf_adds(&d, dst);
	it->key = key;
	it->src = buf_detach(&d, NULL);
}

static int cmd_cp(struct ctx *x, char **args, int n)
{
	if (n < 2)
		opt_usage_error("cp: SRC and DST expected (one of them s3://)");
	const char *dst = args[n - 1];
	for (int i = 0; i < n - 1; i++)
		if (is_s3(args[i]) == is_s3(dst))
			opt_usage_error("cp: exactly one of SRC and DST must be an s3:// URL");
	if (x->recursive) {
		if (n != 2)
			opt_usage_error("cp -r: one SRC and one DST expected");
		char *bucket, *key;
		parse(is_s3(dst) ? dst : args[0], &bucket, &key);
		if (is_s3(dst))
			cp_upload_tree(x, args[0], bucket, key);
		else
			cp_download_tree(x, bucket, key, dst);
		free(bucket);
		free(key);
		return 0;
	}
	struct feed f = {.x = x, .n = (size_t)n - 1, .upload = is_s3(dst), .dirfd = AT_FDCWD};
	f.it = xcalloc(f.n, sizeof(*f.it));
	for (size_t i = 0; i < f.n; i++) {
		f.it[i].x = x;
		f.it[i].fd = -1;
		cp_item(&f.it[i], args[i], dst, f.n > 1);
	}
	run_feed(x, &f);
	return 0;
}

/* ---- rm ---- */

static void rm_done(struct s3_op *op)
{
	struct item *it = op->ctx;
	if (!op->ok)
		report(it->x, op);
	s3_op_release(op);
}

static int cmd_rm(struct ctx *x, char **args, int n)
{
	if (n < 1)
		opt_usage_error("rm: s3://BUCKET/KEY operand expected");
	for (int a = 0; a < n; a++) {
		char *bucket, *key;
		char **keys = NULL;
		uint64_t *sizes = NULL;
		size_t nk = 0;
		parse(args[a], &bucket, &key);
		if (x->recursive) {
			list_all(x, bucket, key, &keys, &sizes, &nk);
		} else {
			keys = xcalloc(1, sizeof(*keys));
			keys[0] = xstrdup(key);
			nk = 1;
		}
		struct item *it = xcalloc(nk + 1, sizeof(*it));
		for (size_t i = 0; i < nk; i++) {
			it[i].x = x;
			it[i].op = (struct s3_op){.kind = S3_DELETE,
						  .bucket = bucket,
						  .key = keys[i],
						  .on_done = rm_done,
						  .ctx = &it[i]};
			s3_submit(x->c, &it[i].op);
		}
		struct ja_err err;
		if (s3_run(x->c, &err) < 0)
			x->failed = 130;
		for (size_t i = 0; i < nk; i++)
			free(keys[i]);
		free(keys);
		free(sizes);
		free(it);
		free(bucket);
		free(key);
	}
	return 0;
}

static void parse_range(struct ctx *x, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long a = strtoull(arg, &end, 10), b = 0;
	int ok = *arg >= '0' && *arg <= '9' && !errno && *end == '-';
	if (ok && end[1]) {
		const char *p = end + 1;
		b = strtoull(p, &end, 10);
		ok = *p >= '0' && *p <= '9' && !errno && !*end && b >= a;
		x->range_len = b - a + 1;
	}
	if (!ok)
		opt_usage_error("--range: FIRST-LAST or FIRST- expected, not '%s'", esc_name(arg));
	x->has_range = 1;
	x->range_off = a;
}

int applet_s3_main(int argc, char **argv)
{
	struct optstate st;
	struct ctx x = {0};
	size_t metacap = 0;
	int id;
	opt_init(&st, NULL, argc, argv);
	while ((id = opt_next(&st))) {
		if (s3cli_option(&x.cfg, id, st.arg))
			continue;
		if (id == 'r')
			x.recursive = 1;
		else if (id == OPT_CTYPE)
			x.ctype = st.arg;
		else if (id == OPT_RANGE)
			parse_range(&x, st.arg);
		else if (id == OPT_PAGE)
			x.page = (int)opt_long(st.arg, "--page-size", 1, 1000);
		else if (id == OPT_META) {
			const char *eq = strchr(st.arg, '=');
			if (!eq || eq == st.arg)
				opt_usage_error("--metadata: NAME=VALUE expected, not '%s'",
						esc_name(st.arg));
			xgrow((void **)&x.meta, &metacap, x.nmeta + 1, sizeof(*x.meta));
			x.meta[x.nmeta].name = xstrndup(st.arg, (size_t)(eq - st.arg));
			x.meta[x.nmeta].value = xstrdup(eq + 1);
			x.nmeta++;
		}
	}
	if (st.npos < 1)
		opt_usage_error("a command is required: ls, stat, cat, cp or rm");
	static const struct {
		const char *name;
		int (*fn)(struct ctx *, char **, int);
	} cmds[] = {
	    {"ls", cmd_ls}, {"stat", cmd_stat}, {"cat", cmd_cat}, {"cp", cmd_cp}, {"rm", cmd_rm}};
	int (*fn)(struct ctx *, char **, int) = NULL;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(st.pos[0], cmds[i].name))
			fn = cmds[i].fn;
	if (!fn)
		opt_usage_error("unknown command '%s' (ls, stat, cat, cp or rm)",
				esc_name(st.pos[0]));
	x.c = s3cli_client(&x.cfg);
	fn(&x, st.pos + 1, st.npos - 1);
	s3_client_free(x.c);
	for (size_t i = 0; i < x.nmeta; i++) {
		free(x.meta[i].name);
		free(x.meta[i].value);
	}
	free(x.meta);
	opt_release(&st);
	return x.failed;
}
