/* store_s3.c - the s3:// store: each store op becomes one S3 client op (a LIST
 * one per page), which the client runs with its retries, multipart uploads and
 * interrupt handling.  Keys are PREFIX "/" KEY, joined as the Python tool does.
 *
 * Interrupts: the client watches s3_interrupted, the store store_interrupted.
 * store_interrupt() sets both (what a signal handler should call); a handler
 * that sets only store_interrupted is noticed here at the next callback or
 * completion, and copied to s3_interrupted then. */
#include "core/store_int.h"
#include "core/json.h"
#include "s3.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S3_MAX_KEY     1024
#define S3_MAX_PUT_ONE ((uint64_t)5 << 30) /* a single PutObject */

struct s3store {
	struct s3_client *c;
	size_t strip; /* bytes of "PREFIX/" on listed keys */
};

struct lent {
	char *key;
	uint64_t size;
};

/* One store op in flight (op->internal). */
struct sop {
	struct s3_op op;
	struct store_op *user;
	struct store *s;
	char *key; /* the full key, or the LIST prefix */
	struct s3_meta *meta;
	char *token; /* LIST: the page being asked for */
	struct lent *v;
	size_t n, cap;
};

static int propagate(void)
{
	if (store_interrupted)
		s3_interrupted = 1;
	return store_interrupted;
}

static char *full_key(const struct store *s, const char *key)
{
	size_t pl = strlen(s->prefix), kl = strlen(key);
	char *k = xmalloc(pl + kl + 2);
	if (pl) {
		memcpy(k, s->prefix, pl);
		k[pl++] = '/';
	}
	memcpy(k + pl, key, kl + 1);
	return k;
}

static int s3s_check(struct store *s, const struct store_op *op, struct ja_err *err)
{
	const char *k = op->key ? op->key : "", *why = NULL;
	size_t pl = strlen(s->prefix);
	if (pl + (pl ? 1 : 0) + strlen(k) > S3_MAX_KEY)
		why = "the key is longer than 1024 bytes";
	else if (!utf8_valid(k, strlen(k)))
		why = "the key is not UTF-8";
	else if (op->kind == STORE_PUT && op->on_seen && op->len > S3_MAX_PUT_ONE)
		why = "more than 5 GiB in one stream (a PUT with on_seen)";
	else if (op->kind == STORE_PUT && op->len > S3_MAX_OBJECT)
		why = "more than 5 TiB";
	if (!why)
		return 0;
	char *u = store_key_url(s, k);
	err_set(err, EXIT_FAIL, "%s %.600s: %s", store_kind_name(op->kind), esc_name(u), why);
	free(u);
	return -1;
}

/* Fail the S3 op from a callback with a message naming the key. */
static int cb_fail(struct sop *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cb_fail(struct sop *x, const char *fmt, ...)
{
	char what[512];
	struct ja_err e = {0};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	char *u = store_key_url(x->s, x->user->key);
	err_set(&e, EXIT_FAIL, "%s %.600s: %s", store_kind_name(x->user->kind), esc_name(u), what);
	free(u);
	s3_op_fail(&x->op, &e);
	return -1;
}

/* The caller's callback returned -1: its reason, when it gave one. */
static int refused(struct sop *x)
{
	if (x->user->err.msg[0])
		s3_op_fail(&x->op, &x->user->err);
	return -1;
}

/* ---- callbacks ---- */

static int s3s_data(struct s3_op *o, const char *p, size_t n, uint64_t off)
{
	struct sop *x = o->ctx;
	propagate();
	return x->user->on_data(x->user, p, n, off) < 0 ? refused(x) : 0;
}

/* The body of a PUT whose bytes the caller sees: read here, shown, then sent. */
static long s3s_read(struct s3_op *o, char *p, size_t n, uint64_t off)
{
	struct sop *x = o->ctx;
	struct store_op *op = x->user;
	ssize_t r;
	if (propagate()) {
		s3_op_fail(o, &(struct ja_err){130, "interrupted"});
		return -1;
	}
	if (op->buf) {
		memcpy(p, op->buf + off, n);
		r = (ssize_t)n;
	} else {
		do
			r = pread(op->fd, p, n, (off_t)(op->off + off));
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return cb_fail(x, "reading the source: %s", strerror(errno));
		if (r == 0)
			return cb_fail(x, "the source ended %" PRIu64 " bytes short (it shrank?)",
				       op->len - off);
	}
	if (op->on_seen(op, p, (size_t)r, off) < 0)
		return refused(x);
	return (long)r;
}

static int s3s_commit(struct s3_op *o)
{
	struct sop *x = o->ctx;
	if (propagate()) {
		s3_op_fail(o, &(struct ja_err){130, "interrupted"});
		return -1;
	}
	return x->user->before_commit(x->user) < 0 ? refused(x) : 0;
}

/* ---- completion ---- */

static int lent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lent *)a)->key, ((const struct lent *)b)->key);
}

/* Keep one page; 1 when the next page was asked for, 0 when done, -1 on a bad reply. */
static int list_page(struct sop *x)
{
	struct s3store *b = x->s->be;
	struct s3_list_page *pg = &x->op.list;
	size_t kl = strlen(x->key);
	for (size_t i = 0; i < pg->nobjs; i++) {
		const char *k = pg->objs[i].key;
		if (strncmp(k, x->key, kl))
			return cb_fail(x, "the listing holds a key outside the prefix: %s",
				       esc_name(k));
		if (strlen(k) == b->strip) /* "PREFIX/" itself: a console folder marker */
			continue;
		xgrow((void **)&x->v, &x->cap, x->n + 1, sizeof(*x->v));
		x->v[x->n].key = xstrdup(k + b->strip);
		x->v[x->n++].size = pg->objs[i].size;
	}
	if (!pg->truncated)
		return 0;
	if (x->user->max_keys && x->n >= x->user->max_keys) {
		x->user->truncated = 1; /* S3 lists in byte order: what came is a prefix */
		return 0;
	}
	if (x->token && !strcmp(x->token, pg->next_token))
		return cb_fail(x, "the listing does not advance (the same continuation token)");
	free(x->token);
	x->token = xstrdup(pg->next_token);
	s3_op_release(&x->op);
	x->op.token = x->token;
	s3_submit(b->c, &x->op);
	return 1;
}

static void take_list(struct sop *x, struct store_op *op)
{
	if (op->ok && x->n) {
		qsort(x->v, x->n, sizeof(*x->v), lent_cmp);
		op->keys = xcalloc(x->n, sizeof(*op->keys));
		op->sizes = xcalloc(x->n, sizeof(*op->sizes));
		for (size_t i = 0; i < x->n; i++) {
			op->keys[i] = x->v[i].key;
			op->sizes[i] = x->v[i].size;
		}
		op->nkeys = x->n;
	} else {
		for (size_t i = 0; i < x->n; i++)
			free(x->v[i].key);
	}
	free(x->v);
}

/* Move the S3 op's results into the store op. */
static void take_results(struct sop *x, struct store_op *op)
{
	struct s3_op *o = &x->op;
	op->ok = o->ok;
	op->not_found = o->not_found;
	if (!o->ok)
		op->err = o->err;
	if (op->kind == STORE_LIST) {
		take_list(x, op);
		return;
	}
	if (!o->ok)
		return;
	op->size = op->kind == STORE_PUT ? op->len : o->size;
	if (o->nmeta_out) {
		op->meta_out = xcalloc(o->nmeta_out, sizeof(*op->meta_out));
		for (size_t i = 0; i < o->nmeta_out; i++) {
			op->meta_out[i].name = o->meta_out[i].name;
			op->meta_out[i].value = o->meta_out[i].value;
		}
		op->nmeta_out = o->nmeta_out;
		free(o->meta_out);
		o->meta_out = NULL;
		o->nmeta_out = 0;
	}
	if (op->kind == STORE_GET && !op->on_data)
		op->out_buf = buf_detach(&o->body, &op->out_len);
}

static void s3s_done(struct s3_op *o)
{
	struct sop *x = o->ctx;
	struct store_op *op = x->user;
	propagate();
	if (o->kind == S3_LIST && o->ok) {
		int r = list_page(x);
		if (r > 0)
			return;
		if (r < 0) /* the op is finished: cb_fail left the reason in o->err */
			o->ok = 0;
	}
	take_results(x, op);
	s3_op_release(o);
	free(x->key);
	free(x->meta);
	free(x->token);
	free(x);
	op->internal = NULL;
	if (op->on_done)
		op->on_done(op);
}

/* ---- the vtable ---- */

static void setup_put(struct sop *x, struct store_op *op)
{
	struct s3_op *o = &x->op;
	o->kind = S3_PUT;
	o->content_type = op->content_type;
	if (op->nmeta) {
		x->meta = xcalloc(op->nmeta, sizeof(*x->meta));
		for (size_t i = 0; i < op->nmeta; i++) {
			x->meta[i].name = (char *)op->meta[i].name;
			x->meta[i].value = (char *)op->meta[i].value;
		}
		o->meta = x->meta;
		o->nmeta = op->nmeta;
	}
	o->len = op->len;
	if (op->on_seen) { /* one stream: the bytes are seen in order, once per attempt */
		o->on_read = s3s_read;
	} else {
		o->buf = op->buf;
		o->fd = op->fd;
		o->off = op->off;
	}
	if (op->before_commit)
		o->before_commit = s3s_commit;
}

static void s3s_submit(struct store *s, struct store_op *op)
{
	struct s3store *b = s->be;
	struct sop *x = xcalloc(1, sizeof(*x));
	struct s3_op *o = &x->op;
	x->user = op;
	x->s = s;
	x->key = full_key(s, op->key ? op->key : "");
	op->internal = x;
	o->bucket = s->bucket;
	o->key = x->key;
	o->fd = -1;
	o->ctx = x;
	o->on_done = s3s_done;
	switch (op->kind) {
	case STORE_HEAD:
		o->kind = S3_HEAD;
		break;
	case STORE_GET:
		o->kind = S3_GET;
		o->has_range = op->has_range;
		o->range_off = op->range_off;
		o->range_len = op->range_len;
		o->on_data = op->on_data ? s3s_data : NULL;
		break;
	case STORE_PUT:
		setup_put(x, op);
		break;
	case STORE_DELETE:
		o->kind = S3_DELETE;
		break;
	case STORE_LIST:
		o->kind = S3_LIST;
		o->key = NULL;
		o->prefix = *x->key ? x->key : NULL;
		break;
	}
	s3_submit(b->c, o);
}

static void s3s_feed(void *ctx)
{
	struct store *s = ctx;
	if (!propagate() && s->feed)
		s->feed(s->feed_ctx);
}

static int s3s_run(struct store *s, struct ja_err *err)
{
	struct s3store *b = s->be;
	struct ja_err e = {0};
	int rc = 0;
	s3_set_feeder(b->c, s->feed ? s3s_feed : NULL, s);
	/* ops refused before reaching the client finish here, between client runs */
	for (;;) {
		store_finish_failed(s);
		propagate();
		if (s3_run(b->c, rc < 0 ? &(struct ja_err){0} : &e) < 0)
			rc = -1;
		if (!s->nfailed && !s3_pending(b->c))
			break;
	}
	if (rc < 0) {
		*err = e;
		return -1;
	}
	if (store_interrupted)
		return err_set(err, 130, "interrupted");
	return 0;
}

static size_t s3s_pending(const struct store *s)
{
	return s3_pending(((const struct s3store *)s->be)->c);
}

static void s3s_close(struct store *s)
{
	struct s3store *b = s->be;
	s3_client_free(b->c);
	free(b);
}

static const struct store_vt s3_vt = {
    .check = s3s_check,
    .submit = s3s_submit,
    .run = s3s_run,
    .pending = s3s_pending,
    .close = s3s_close,
};

int store_s3_open(struct store *s, const struct store_opts *o, struct ja_err *err)
{
	struct s3_config cfg = {
	    .profile = o->profile,
	    .region = o->region,
	    .endpoint_url = o->endpoint_url,
	    .expected_bucket_owner = o->expected_bucket_owner,
	    .concurrency = o->jobs,
	    .max_attempts = o->max_attempts,
	    .verbose = o->verbose,
	    .log = o->log,
	};
	struct s3_client *c = s3_client_new(&cfg, err);
	if (!c)
		return -1;
	struct s3store *b = xcalloc(1, sizeof(*b));
	b->c = c;
	b->strip = *s->prefix ? strlen(s->prefix) + 1 : 0;
	s->be = b;
	s->vt = &s3_vt;
	return 0;
}
