/* store.c - store URLs, the default location, checks every backend shares, and
 * dispatch to the backend (store_file.c, s3/store_s3.c) through a small vtable. */
#include "store_int.h"
#include "buf.h"
#include "json.h"
#include "walk.h"
#include "s3/s3.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t store_interrupted;

#define STORE_MAX_PREFIX 1024
#define STORE_MAX_BUCKET 255
/* S3's own limits on user metadata: 2 KB of names and values together */
#define STORE_MAX_META	   2048
#define STORE_MAX_CTYPE	   256
#define STORE_DEFAULT_PATH "/ja/store"

void store_interrupt(void)
{
	/* async-signal-safe: only stores to sig_atomic_t flags */
	store_interrupted = 1;
	s3_interrupted = 1;
}

const char *store_kind_name(enum store_kind k)
{
	switch (k) {
	case STORE_HEAD:
		return "HEAD";
	case STORE_GET:
		return "GET";
	case STORE_PUT:
		return "PUT";
	case STORE_LIST:
		return "LIST";
	case STORE_DELETE:
		return "DELETE";
	}
	return "?";
}

/* ---- URLs ---- */

/* The length of "scheme" when u starts with "scheme://" (RFC 3986 letters), else 0. */
static size_t scheme_len(const char *u)
{
	size_t i = 0;
	if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z')))
		return 0;
	while ((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') ||
	       (u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-' || u[i] == '.')
		i++;
	return strncmp(u + i, "://", 3) ? 0 : i;
}

/* Bucket names go into host names and paths: the characters S3 has ever allowed. */
static int bucket_ok(const char *b, size_t n)
{
	if (!n || n > STORE_MAX_BUCKET)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int parse_s3(struct store *s, const char *url, struct ja_err *err)
{
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b);
	if (!bucket_ok(b, bl))
		return err_set(err, EXIT_USAGE, "bad bucket name in store URL %s", esc_name(url));
	const char *p = slash ? slash + 1 : "";
	size_t pl = strlen(p);
	while (pl && p[pl - 1] == '/') /* keys are PREFIX "/" KEY: no "//" */
		pl--;
	if (pl > STORE_MAX_PREFIX || !utf8_valid(p, pl))
		return err_set(err, EXIT_USAGE, "bad key prefix in store URL %s", esc_name(url));
	s->bucket = xstrndup(b, bl);
	s->prefix = xstrndup(p, pl);
	struct buf u = BUF_INIT;
	buf_addf(&u, "s3://%s%s%s", s->bucket, pl ? "/" : "", s->prefix);
	s->url = buf_detach(&u, NULL);
	s->cache_id = xstrdup(s->url + 5);
	s->remote = 1;
	return 0;
}

static void set_file(struct store *s, const char *path)
{
	s->root = path_absolute(path);
	size_t n = strlen(s->root) + 8;
	s->url = xmalloc(n);
	snprintf(s->url, n, "file://%s", s->root);
	s->cache_id = xstrdup(s->url);
}

static int parse_url(struct store *s, const char *url, struct ja_err *err)
{
	if (!*url)
		return err_set(err, EXIT_USAGE, "empty store URL");
	if (!strncmp(url, "s3://", 5))
		return parse_s3(s, url, err);
	size_t sl = scheme_len(url);
	if (sl == 4 && !strncmp(url, "file", 4)) {
		if (url[7] != '/')
			return err_set(err, EXIT_USAGE,
				       "not an absolute file URL: %s (file:///PATH)",
				       esc_name(url));
		set_file(s, url + 7);
		return 0;
	}
	if (sl)
		return err_set(err, EXIT_USAGE, "unsupported store URL %s (s3:// or file://)",
			       esc_name(url));
	set_file(s, url);
	return 0;
}

/* file://$XDG_DATA_HOME/ja/store, as the XDG spec says: a relative XDG_DATA_HOME is
 * ignored, the default is $HOME/.local/share. */
static char *default_url(struct ja_err *err)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	struct buf u = BUF_INIT;
	if (x && x[0] == '/')
		buf_addf(&u, "file://%s" STORE_DEFAULT_PATH, x);
	else if (home && home[0] == '/')
		buf_addf(&u, "file://%s/.local/share" STORE_DEFAULT_PATH, home);
	else {
		err_set(err, EXIT_USAGE, "no store given and no default: HOME is not set");
		return NULL;
	}
	return buf_detach(&u, NULL);
}

static void store_free(struct store *s)
{
	free(s->url);
	free(s->cache_id);
	free(s->root);
	free(s->bucket);
	free(s->prefix);
	free(s);
}

struct store *store_open(const char *url, const struct store_opts *o, struct ja_err *err)
{
	static const struct store_opts none;
	char *def = NULL;
	if (!o)
		o = &none;
	if (!url) {
		url = getenv("JA_STORE");
		if (!url || !*url)
			url = def = default_url(err);
		if (!url)
			return NULL;
	}
	struct store *s = xcalloc(1, sizeof(*s));
	s->jobs = o->jobs > 0 ? o->jobs : 0;
	int rc = parse_url(s, url, err);
	free(def);
	if (rc == 0)
		rc = s->bucket ? store_s3_open(s, o, err) : store_file_open(s, o, err);
	if (rc < 0) {
		store_free(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->vt)
		s->vt->close(s);
	store_free(s);
}

const char *store_url(const struct store *s)
{
	return s->url;
}

char *store_key_url(const struct store *s, const char *key)
{
	struct buf u = BUF_INIT;
	/* the root "/" would make "file:////key" */
	int bare = s->root && !strcmp(s->root, "/");
	buf_addf(&u, "%s%s%s", s->url, bare ? "" : "/", key ? key : "");
	return buf_detach(&u, NULL);
}

int store_is_remote(const struct store *s)
{
	return s->remote;
}

const char *store_cache_id(const struct store *s)
{
	return s->cache_id;
}

/* ---- checks shared by every backend ---- */

static int meta_name_ok(const char *n)
{
	if (!*n)
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '-' ||
		      *n == '_' || *n == '.'))
			return 0;
	return 1;
}

/* Values travel as HTTP header values: printable ASCII only (no CR, LF, NUL). */
static int printable(const char *v)
{
	for (; *v; v++)
		if (*v < 0x20 || *v > 0x7e)
			return 0;
	return 1;
}

static int check_meta(const struct store_op *op, struct ja_err *err)
{
	size_t total = 0;
	for (size_t i = 0; i < op->nmeta; i++) {
		const struct store_meta *m = &op->meta[i];
		if (!m->name || !meta_name_ok(m->name))
			return err_set(err, EXIT_FAIL, "bad metadata name '%s'",
				       m->name ? esc_name(m->name) : "(null)");
		if (!m->value || !printable(m->value))
			return err_set(err, EXIT_FAIL,
				       "metadata %s: the value is not printable ASCII", m->name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(op->meta[k].name, m->name))
				return err_set(err, EXIT_FAIL, "metadata %s given twice", m->name);
		total += strlen(m->name) + strlen(m->value);
		if (total > STORE_MAX_META)
			return err_set(err, EXIT_FAIL, "more than %d bytes of metadata",
				       STORE_MAX_META);
	}
	if (op->content_type &&
	    (!printable(op->content_type) || strlen(op->content_type) > STORE_MAX_CTYPE))
		return err_set(err, EXIT_FAIL, "bad content type '%s'", esc_name(op->content_type));
	return 0;
}

static int check_op(const struct store_op *op, struct ja_err *err)
{
	if (op->kind != STORE_HEAD && op->kind != STORE_GET && op->kind != STORE_PUT &&
	    op->kind != STORE_LIST && op->kind != STORE_DELETE)
		return err_set(err, EXIT_FAIL, "unknown store operation %d", (int)op->kind);
	if (op->kind != STORE_LIST && (!op->key || !*op->key))
		return err_set(err, EXIT_FAIL, "%s: empty key", store_kind_name(op->kind));
	if (op->kind == STORE_GET && op->has_range && op->range_off + op->range_len < op->range_off)
		return err_set(err, EXIT_FAIL, "GET %s: bad range", esc_name(op->key));
	if (op->kind != STORE_PUT)
		return 0;
	if (!op->buf && op->len && op->fd < 0)
		return err_set(err, EXIT_FAIL, "PUT %s: no source", esc_name(op->key));
	if (!op->buf && (op->off > INT64_MAX || op->len > INT64_MAX - op->off))
		return err_set(err, EXIT_FAIL, "PUT %s: bad source range", esc_name(op->key));
	if (check_meta(op, err) < 0) {
		err_prefix(err, "PUT %s", esc_name(op->key));
		return -1;
	}
	return 0;
}

/* ---- ops ---- */

/* The outputs an op owns, forgotten (not freed). */
static void clear_outputs(struct store_op *op)
{
	op->meta_out = NULL;
	op->nmeta_out = 0;
	op->out_buf = NULL;
	op->out_len = 0;
	op->keys = NULL;
	op->sizes = NULL;
	op->nkeys = 0;
	op->truncated = 0;
}

void store_submit(struct store *s, struct store_op *op)
{
	struct ja_err e = {0};
	op->ok = op->not_found = 0;
	op->err.code = 0;
	op->err.msg[0] = 0;
	op->size = 0;
	clear_outputs(op);
	op->internal = NULL;
	if (check_op(op, &e) < 0 || s->vt->check(s, op, &e) < 0) {
		op->err = e;
		if (s->failed_tail)
			s->failed_tail->internal = op;
		else
			s->failed = op;
		s->failed_tail = op;
		s->nfailed++;
		return;
	}
	s->vt->submit(s, op);
}

size_t store_finish_failed(struct store *s)
{
	size_t n = 0;
	while (s->failed) {
		struct store_op *op = s->failed;
		s->failed = op->internal;
		if (!s->failed)
			s->failed_tail = NULL;
		op->internal = NULL;
		s->nfailed--;
		n++;
		if (op->on_done)
			op->on_done(op);
	}
	return n;
}

int store_run(struct store *s, struct ja_err *err)
{
	return s->vt->run(s, err);
}

int store_do(struct store *s, struct store_op *op)
{
	struct ja_err err = {0};
	store_submit(s, op);
	if (store_run(s, &err) < 0 && op->ok)
		op->ok = 0, op->err = err;
	return op->ok ? 0 : -1;
}

void store_set_feeder(struct store *s, void (*feed)(void *ctx), void *ctx)
{
	s->feed = feed;
	s->feed_ctx = ctx;
}

size_t store_pending(const struct store *s)
{
	return s->nfailed + s->vt->pending(s);
}

void store_op_fail(struct store_op *op, const struct ja_err *why)
{
	/* the callback's thread owns the op until it returns; the backend reads this */
	op->err = *why;
	if (!op->err.code)
		op->err.code = EXIT_FAIL;
}

void store_op_release(struct store_op *op)
{
	for (size_t i = 0; i < op->nmeta_out; i++) {
		free(op->meta_out[i].name);
		free(op->meta_out[i].value);
	}
	free(op->meta_out);
	free(op->out_buf);
	for (size_t i = 0; i < op->nkeys; i++)
		free(op->keys[i]);
	free(op->keys);
	free(op->sizes);
	clear_outputs(op);
}

const char *store_op_meta(const struct store_op *op, const char *name)
{
	for (size_t i = 0; i < op->nmeta_out; i++)
		if (!strcmp(op->meta_out[i].name, name))
			return op->meta_out[i].value;
	return NULL;
}
