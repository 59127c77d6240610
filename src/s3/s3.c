/* s3.c - the S3 client: operations on the HTTP engine, signing, retries.
 *
 * Each submitted op goes through attempts: build the request (URL, headers,
 * SigV4 with fresh credentials and skew-corrected time), run it on the engine,
 * classify the outcome.  Transient failures wait a jittered backoff and go
 * again while the attempt limit and the retry budget allow; a GET that lost its
 * connection resumes from the last byte delivered.  Error replies become one
 * line (s3err.c); multipart uploads are driven in s3mpu.c.
 */
#include "s3.h"
#include "creds.h"
#include "http.h"
#include "s3int.h"
#include "sigv4.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t s3_interrupted;

#define RETRY_TOKENS	   500
#define RETRY_COST	   5
#define RETRY_COST_TIMEOUT 10
#define BACKOFF_CAP_MS	   20000.0

double s3_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return def;
	return n;
}

void s3_log(struct s3_client *c, int level, const char *fmt, ...)
{
	if (c->cfg.verbose < level || !c->cfg.log)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->cfg.log(line);
}

/* ---- endpoint and addressing ---- */

static int parse_endpoint(struct s3_client *c, const char *url, struct ja_err *err)
{
	const char *p = strstr(url, "://");
	if (!p || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
		return err_set(err, EXIT_USAGE,
			       "endpoint URL must start with http:// or https://: %s", url);
	const char *host = p + 3, *end = host + strcspn(host, "/?#");
	if (end == host)
		return err_set(err, EXIT_USAGE, "endpoint URL has no host: %s", url);
	c->https = url[4] == 's';
	c->base = xstrndup(url, (size_t)(end - url));
	/* curl omits a default port from Host; the signed host must match it */
	const char *colon = memrchr(host, ':', (size_t)(end - host));
	if (colon && !memchr(colon, ']', (size_t)(end - colon)) &&
	    ((c->https && !strncmp(colon, ":443", 4) && colon + 4 == end) ||
	     (!c->https && !strncmp(colon, ":80", 3) && colon + 3 == end)))
		c->host = xstrndup(host, (size_t)(colon - host));
	else
		c->host = xstrndup(host, (size_t)(end - host));
	/* a path on the endpoint ("http://h/s3") prefixes every request */
	c->base_path = xstrndup(end, strcspn(end, "?#"));
	size_t bl = strlen(c->base_path);
	while (bl && c->base_path[bl - 1] == '/')
		c->base_path[--bl] = 0;
	return 0;
}

/* ---- client ---- */

struct s3_client *s3_client_new(const struct s3_config *cfg, struct ja_err *err)
{
	struct aws_settings set = {0};
	if (aws_settings_load(&set, cfg->profile, err) < 0)
		return NULL;
	struct s3_client *c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	const char *region = cfg->region ? cfg->region : set.region;
	c->region = xstrdup(region && *region ? region : "us-east-1");
	const char *ep = cfg->endpoint_url ? cfg->endpoint_url : set.endpoint_url;
	const char *owner = cfg->expected_bucket_owner ? cfg->expected_bucket_owner
						       : getenv("JA_EXPECTED_BUCKET_OWNER");
	if (owner && *owner)
		c->owner = xstrdup(owner);
	c->max_attempts = cfg->max_attempts ? cfg->max_attempts : set.max_attempts;
	if (c->max_attempts < 1)
		c->max_attempts = 5;
	if (ep && *ep) {
		c->custom_endpoint = 1;
		if (parse_endpoint(c, ep, err) < 0)
			goto fail;
	} else {
		c->https = 1;
	}
	c->concurrency = cfg->concurrency > 0 ? cfg->concurrency : S3_DEFAULT_CONCURRENCY;
	c->part_size = cfg->part_size ? cfg->part_size
				      : (uint64_t)env_long("JA_PART_SIZE_MB", 16, 8, 5120) << 20;
	c->mp_threshold = cfg->multipart_threshold
			      ? cfg->multipart_threshold
			      : (uint64_t)env_long("JA_MULTIPART_THRESHOLD_MB",
						   (long)(c->part_size >> 20), 8, 5120)
				    << 20;
	c->backoff_base_ms = (double)env_long("JA_RETRY_BASE_MS", 500, 0, 60000);
	c->tokens = RETRY_TOKENS;
	struct http_engine_opts ho = {
	    .max_conns = c->concurrency,
	    .connect_timeout_ms = cfg->connect_timeout_ms
				      ? cfg->connect_timeout_ms
				      : env_long("JA_CONNECT_TIMEOUT_MS", 10000, 1, 3600000),
	    .stall_timeout_ms = cfg->stall_timeout_ms
				    ? cfg->stall_timeout_ms
				    : env_long("JA_STALL_TIMEOUT_MS", 30000, 1000, 3600000),
	    .ca_bundle = set.ca_bundle,
	};
	c->engine = http_engine_new(&ho);
	c->creds = creds_chain_new(set.profile);
	c->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
	aws_settings_release(&set);
	return c;
fail:
	aws_settings_release(&set);
	s3_client_free(c);
	return NULL;
}

void s3_client_free(struct s3_client *c)
{
	if (!c)
		return;
	http_engine_free(c->engine);
	creds_chain_free(c->creds);
	free(c->region);
	free(c->owner);
	free(c->base);
	free(c->host);
	free(c->base_path);
	free(c);
}

const char *s3_client_region(const struct s3_client *c)
{
	return c->region;
}

void s3_set_feeder(struct s3_client *c, void (*feed)(void *ctx), void *ctx)
{
	c->feed = feed;
	c->feed_ctx = ctx;
}

/* ---- queue ---- */

static void enqueue(struct s3_client *c, struct s3_op *op)
{
	struct op_state *s = op->internal;
	s->next = NULL;
	if (c->qtail)
		((struct op_state *)c->qtail->internal)->next = op;
	else
		c->qhead = op;
	c->qtail = op;
	c->queued++;
}

static struct s3_op *dequeue(struct s3_client *c)
{
	struct s3_op *op = c->qhead;
	if (!op)
		return NULL;
	c->qhead = ((struct op_state *)op->internal)->next;
	if (!c->qhead)
		c->qtail = NULL;
	c->queued--;
	return op;
}

void s3_submit(struct s3_client *c, struct s3_op *op)
{
	op->ok = 0;
	op->status = 0;
	op->not_found = 0;
	op->attempts = 0;
	op->err.code = 0;
	op->err.msg[0] = 0;
	if (op->kind == S3_PUT && op->len > c->mp_threshold && !op->buf && !op->on_read) {
		s3_mpu_start(c, op);
		return;
	}
	struct op_state *s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->op = op;
	op->internal = s;
	c->pending++;
	enqueue(c, op);
}

void s3_live_link(struct s3_client *c, struct op_state *s)
{
	s->rprev = NULL;
	s->rnext = c->live;
	if (c->live)
		c->live->rprev = s;
	c->live = s;
}

void s3_live_unlink(struct s3_client *c, struct op_state *s)
{
	if (s->rprev)
		s->rprev->rnext = s->rnext;
	else
		c->live = s->rnext;
	if (s->rnext)
		s->rnext->rprev = s->rprev;
	s->rprev = s->rnext = NULL;
}

/* ---- one attempt ---- */

static void finish_op(struct s3_client *c, struct s3_op *op)
{
	struct op_state *s = op->internal;
	if (s->refunded == 0 && op->ok) {
		c->tokens += s->cost ? s->cost : 1;
		if (c->tokens > RETRY_TOKENS)
			c->tokens = RETRY_TOKENS;
	}
	s3_free_attempt(s);
	buf_release(&s->body);
	free(s->complete_body);
	free(s->num);
	free(s);
	op->internal = NULL;
	c->pending--;
	if (op->on_done)
		op->on_done(op);
}

static uint64_t rng_next(struct s3_client *c)
{
	uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))). */
double s3_backoff_ms(struct s3_client *c, int attempt)
{
	double ceil = c->backoff_base_ms;
	for (int i = 1; i < attempt && ceil < BACKOFF_CAP_MS; i++)
		ceil *= 2;
	if (ceil > BACKOFF_CAP_MS)
		ceil = BACKOFF_CAP_MS;
	return ceil * (double)(rng_next(c) >> 11) / 9007199254740992.0;
}

static void schedule_retry(struct s3_client *c, struct s3_op *op, double delay_ms)
{
	struct op_state *s = op->internal;
	s->not_before = s3_now_ms() + delay_ms;
	s->next = c->retry;
	c->retry = op;
}

static void trace(struct s3_client *c, struct s3_op *op, const char *what)
{
	struct op_state *s = op->internal;
	s3_log(c, 2, "%s s3://%s/%s: %s, %" PRIu64 " B out, %" PRIu64 " B in, %.0f ms, attempt %d",
	       s3_kind_method(op->kind), op->bucket, op->key ? esc_name(op->key) : "", what,
	       s->x.sent, s->x.received, s->x.ms, op->attempts);
}

/* A result worth another attempt?  Sets *cost for the retry budget. */
static int transient(struct op_state *s, const struct s3_error_info *ei, int *cost)
{
	struct http_xfer *x = &s->x;
	*cost = RETRY_COST;
	if (x->failed) {
		if (x->timed_out)
			*cost = RETRY_COST_TIMEOUT;
		return x->retryable;
	}
	long st = x->status;
	if (st == 500 || st == 502 || st == 503 || st == 504 || st == 429)
		return 1;
	static const char *const codes[] = {"RequestTimeout",
					    "SlowDown",
					    "InternalError",
					    "ServiceUnavailable",
					    "Throttling",
					    "ThrottlingException",
					    "RequestThrottled",
					    "TooManyRequestsException",
					    "RequestLimitExceeded",
					    "BandwidthLimitExceeded",
					    "PriorRequestNotComplete",
					    NULL};
	for (int i = 0; codes[i]; i++)
		if (!strcmp(ei->code, codes[i]))
			return 1;
	return 0;
}

int s3_parse_http_date(const char *s, int64_t *out)
{
	static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int d, y, hh, mm, ss;
	if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d", &d, mon, &y, &hh, &mm, &ss) != 6)
		return -1;
	const char *m = strstr(mons, mon);
	if (!m || (m - mons) % 3)
		return -1;
	int mo = (int)(m - mons) / 3 + 1;
	/* days from civil (proleptic Gregorian) */
	int yy = y - (mo <= 2);
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	*out = days * 86400 + hh * 3600 + mm * 60 + ss;
	return 0;
}

/* Fill the outputs of a successful response. */
static int take_success(struct s3_client *c, struct s3_op *op)
{
	struct op_state *s = op->internal;
	struct http_xfer *x = &s->x;
	char *v;
	if (op->kind == S3_HEAD || op->kind == S3_GET || op->kind == S3_PUT ||
	    op->kind == S3_MPU_PART) {
		if ((v = http_xfer_header(x, "etag"))) {
			if (op->etag && s->got && strcmp(op->etag, v)) {
				free(v);
				return err_set(&op->err, EXIT_FAIL,
					       "object changed while it was downloaded");
			}
			free(op->etag);
			op->etag = v;
		}
	}
	if (op->kind == S3_HEAD || op->kind == S3_GET)
		s3_take_headers(op, x, s->total_known ? NULL : &s->total);
	if (op->kind == S3_GET) {
		if (!s->total_known) {
			s->total_known = 1;
			op->size = s->total;
		}
	}
	struct ja_err err = {0};
	switch (op->kind) {
	case S3_LIST:
		s3_list_page_release(&op->list);
		if (xml_parse_list(s->body.p, s->body.len, &op->list, &err) < 0)
			return op->err = err, -1;
		break;
	case S3_MPU_CREATE:
		free(op->upload_id_out);
		op->upload_id_out = NULL;
		if (xml_parse_initiate(s->body.p, s->body.len, &op->upload_id_out, &err) < 0)
			return op->err = err, -1;
		break;
	case S3_MPU_COMPLETE: {
		struct s3_error_info ei;
		char *etag = NULL;
		int r = xml_parse_complete(s->body.p, s->body.len, &etag, &ei, &err);
		if (r < 0)
			return op->err = err, -1;
		if (r == 1) {
			s3_error_line(c, op, &ei, &op->err);
			return -2; /* an error inside a 200: may be transient */
		}
		free(op->etag);
		op->etag = etag;
		break;
	}
	default:
		break;
	}
	return 0;
}

static int redirect_region(struct s3_client *c, struct op_state *s, const struct s3_error_info *ei)
{
	char *r = http_xfer_header(&s->x, "x-amz-bucket-region");
	if (!r && ei->region[0])
		r = xstrdup(ei->region);
	if (!r || !*r || !strcmp(r, c->region) || strlen(r) > 32) {
		free(r);
		return 0;
	}
	s3_log(c, 1, "bucket %s is in region %s, not %s: using %s", s->op->bucket, r, c->region, r);
	free(c->region);
	c->region = r;
	return 1;
}

void s3_attempt_done(struct http_xfer *x)
{
	struct op_state *s = x->ctx;
	struct s3_op *op = s->op;
	struct s3_client *c = s->c;
	struct s3_error_info ei;
	memset(&ei, 0, sizeof(ei));
	c->running--;
	s3_live_unlink(c, s);
	op->status = x->status;
	if (op->kind == S3_GET && x->status >= 200 && x->status <= 299 && !s->total_known &&
	    x->failed) {
		/* a download cut short: what the retry resumes needs size and ETag */
		s3_take_headers(op, x, &s->total);
		s->total_known = 1;
		free(op->etag);
		op->etag = http_xfer_header(x, "etag");
	}
	int cost = RETRY_COST;
	if (s->cb_failed) { /* the caller's callback said stop */
		op->err = s->cb_err;
		trace(c, op, "aborted");
		finish_op(c, op);
		return;
	}
	if (x->failed && x->aborted && s->body.over) {
		err_set(&op->err, EXIT_FAIL, "response too large");
		finish_op(c, op);
		return;
	}
	if (!x->failed && x->status >= 200 && x->status <= 299) {
		int r = take_success(c, op);
		trace(c, op, r == 0 ? "ok" : "bad reply");
		if (r == 0) {
			op->ok = 1;
			finish_op(c, op);
			return;
		}
		if (r == -2 && !transient(s, &ei, &cost))
			goto fail;
		if (r == -1 && op->kind == S3_MPU_COMPLETE)
			goto fail;
		/* a malformed or truncated reply: worth another try */
		if (r == -1)
			x->retryable = 1, x->failed = 1;
	} else if (!x->failed) {
		xml_parse_error(s->body.p, s->body.len, &ei);
		char st[96];
		snprintf(st, sizeof(st), "HTTP %ld%s%s", x->status, ei.code[0] ? " " : "", ei.code);
		trace(c, op, st);
		if ((x->status == 301 || x->status == 307 ||
		     !strcmp(ei.code, "PermanentRedirect") ||
		     !strcmp(ei.code, "AuthorizationHeaderMalformed") ||
		     (x->status == 400 && op->kind == S3_HEAD)) &&
		    !s->redirected && redirect_region(c, s, &ei)) {
			s->redirected = 1;
			op->attempts--;
			enqueue(c, op);
			return;
		}
		if (!strcmp(ei.code, "RequestTimeTooSkewed") && !s->skew_fixed) {
			char *d = http_xfer_header(x, "date");
			int64_t server;
			if (d && s3_parse_http_date(d, &server) == 0) {
				c->skew = server - (int64_t)time(NULL);
				s3_log(c, 1, "clock differs from S3's by %" PRId64 " s: correcting",
				       c->skew);
				s->skew_fixed = 1;
				free(d);
				op->attempts--;
				enqueue(c, op);
				return;
			}
			free(d);
		}
		if ((!strcmp(ei.code, "ExpiredToken") ||
		     !strcmp(ei.code, "TokenRefreshRequired")) &&
		    !s->creds_refreshed) {
			creds_invalidate(c->creds);
			s->creds_refreshed = 1;
			enqueue(c, op);
			return;
		}
	} else {
		trace(c, op, x->err_msg);
	}
	if (!transient(s, &ei, &cost) || s3_interrupted)
		goto fail;
	if (op->attempts >= c->max_attempts) {
		s3_error_line(c, op, &ei, &op->err);
		err_prefix(&op->err, "gave up after %d attempts", op->attempts);
		finish_op(c, op);
		return;
	}
	if (c->tokens < cost) {
		s3_error_line(c, op, &ei, &op->err);
		err_prefix(&op->err, "retry budget exhausted");
		finish_op(c, op);
		return;
	}
	c->tokens -= cost;
	s->cost += cost;
	double d = s3_backoff_ms(c, op->attempts);
	s3_log(c, 1, "%s s3://%s/%s: %s; retrying in %.0f ms", s3_kind_method(op->kind), op->bucket,
	       op->key ? esc_name(op->key) : "",
	       x->failed ? x->err_msg : (ei.code[0] ? ei.code : "server error"), d);
	schedule_retry(c, op, d);
	return;
fail:
	s3_error_line(c, op, &ei, &op->err);
	finish_op(c, op);
}

/* ---- the loop ---- */

static void fail_interrupted(struct s3_client *c, struct s3_op *op)
{
	err_set(&op->err, 130, "interrupted");
	finish_op(c, op);
}

static void cancel_all(struct s3_client *c)
{
	/* queued and waiting ops that are not cleanup work fail now */
	struct s3_op *keepq = NULL, *keept = NULL, *op;
	while ((op = dequeue(c))) {
		if (op->cleanup) {
			((struct op_state *)op->internal)->next = NULL;
			if (keept)
				((struct op_state *)keept->internal)->next = op;
			else
				keepq = op;
			keept = op;
		} else {
			fail_interrupted(c, op);
		}
	}
	while (c->retry) {
		op = c->retry;
		c->retry = ((struct op_state *)op->internal)->next;
		fail_interrupted(c, op);
	}
	for (op = keepq; op;) {
		struct s3_op *n = ((struct op_state *)op->internal)->next;
		enqueue(c, op);
		op = n;
	}
}

/* Stop the transfers in flight (but cleanup work) and fail their ops. */
static void abort_running(struct s3_client *c)
{
	struct op_state *s = c->live, *n;
	for (; s; s = n) {
		n = s->rnext;
		if (s->op->cleanup)
			continue;
		http_engine_cancel(c->engine, &s->x);
		s3_live_unlink(c, s);
		c->running--;
		fail_interrupted(c, s->op);
	}
}

static void wake_retries(struct s3_client *c, double now, double *next)
{
	struct s3_op **pp = &c->retry;
	while (*pp) {
		struct op_state *s = (*pp)->internal;
		if (s->not_before <= now) {
			struct s3_op *op = *pp;
			*pp = s->next;
			enqueue(c, op);
		} else {
			if (*next == 0 || s->not_before < *next)
				*next = s->not_before;
			pp = &s->next;
		}
	}
}

int s3_run(struct s3_client *c, struct ja_err *err)
{
	int stopped = 0;
	for (;;) {
		if (s3_interrupted && !stopped) {
			stopped = 1;
			abort_running(c);
			cancel_all(c);
		}
		double next = 0, now = s3_now_ms();
		wake_retries(c, now, &next);
		if (!c->qhead && c->feed && !stopped && c->running < c->concurrency)
			c->feed(c->feed_ctx);
		while (c->running < c->concurrency && c->qhead) {
			struct s3_op *op = dequeue(c);
			if (stopped && !op->cleanup) {
				fail_interrupted(c, op);
				continue;
			}
			int r = s3_start_attempt(c, op);
			if (r > 0)
				op->ok = 1;
			if (r != 0)
				finish_op(c, op);
		}
		if (!c->running && !c->qhead && !c->retry && !c->mpu_active) {
			if (c->feed && !stopped) {
				size_t before = c->pending;
				c->feed(c->feed_ctx);
				if (c->pending != before)
					continue;
			}
			break;
		}
		long wait = 200;
		if (next) {
			double w = next - s3_now_ms();
			if (w < wait)
				wait = w < 1 ? 1 : (long)w;
		}
		http_engine_step(c->engine, c->running ? wait : (c->qhead ? 0 : wait));
	}
	if (stopped || s3_interrupted)
		return err_set(err, 130, "interrupted");
	return 0;
}

size_t s3_pending(const struct s3_client *c)
{
	return c->pending + (size_t)c->mpu_active;
}

int s3_do(struct s3_client *c, struct s3_op *op)
{
	struct ja_err err;
	s3_submit(c, op);
	if (s3_run(c, &err) < 0 && op->ok)
		op->ok = 0, op->err = err;
	return op->ok ? 0 : -1;
}

void s3_op_fail(struct s3_op *op, const struct ja_err *why)
{
	struct op_state *s = op->internal;
	if (!s) { /* a multipart upload's own op */
		op->err = *why;
		return;
	}
	s->cb_err = *why;
	s->cb_failed = 1;
}

void s3_op_release(struct s3_op *op)
{
	free(op->etag);
	free(op->last_modified);
	free(op->content_type_out);
	for (size_t i = 0; i < op->nmeta_out; i++) {
		free(op->meta_out[i].name);
		free(op->meta_out[i].value);
	}
	free(op->meta_out);
	s3_list_page_release(&op->list);
	free(op->upload_id_out);
	buf_release(&op->body);
	op->etag = op->last_modified = op->content_type_out = op->upload_id_out = NULL;
	op->meta_out = NULL;
	op->nmeta_out = 0;
}

const char *s3_op_meta(const struct s3_op *op, const char *name)
{
	for (size_t i = 0; i < op->nmeta_out; i++)
		if (!strcmp(op->meta_out[i].name, name))
			return op->meta_out[i].value;
	return NULL;
}

int s3_parse_url(const char *url, char **bucket, char **key, struct ja_err *err)
{
	if (strncmp(url, "s3://", 5))
		return err_set(err, EXIT_USAGE, "not an s3:// URL: %s", esc_name(url));
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b);
	if (!bl)
		return err_set(err, EXIT_USAGE, "no bucket in %s", esc_name(url));
	*bucket = xstrndup(b, bl);
	*key = xstrdup(slash ? slash + 1 : "");
	return 0;
}
