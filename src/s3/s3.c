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
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t s3_interrupted;

#define ERR_BODY_MAX	   ((size_t)64 << 10)
#define XML_BODY_MAX	   ((size_t)XML_MAX_DOC)
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

/* Virtual-hosted style works when the bucket is a DNS label set without dots. */
static int bucket_dns_ok(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || strchr(b, '.'))
		return 0;
	for (const char *p = b; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return b[0] != '-' && b[n - 1] != '-';
}

/* host, signing path and URL of a request on bucket/key */
void s3_address(struct s3_client *c, const char *bucket, const char *key, char **host, char **path,
		struct buf *url)
{
	struct buf p = BUF_INIT;
	if (c->custom_endpoint) {
		*host = xstrdup(c->host);
		buf_adds(&p, c->base_path);
		buf_addc(&p, '/');
		buf_adds(&p, bucket);
		if (key) {
			buf_addc(&p, '/');
			buf_adds(&p, key);
		}
		buf_adds(url, c->base);
	} else {
		struct buf h = BUF_INIT;
		if (bucket_dns_ok(bucket)) {
			buf_addf(&h, "%s.s3.%s.amazonaws.com", bucket, c->region);
			buf_addc(&p, '/');
			if (key)
				buf_adds(&p, key);
		} else {
			buf_addf(&h, "s3.%s.amazonaws.com", c->region);
			buf_addf(&p, "/%s", bucket);
			if (key) {
				buf_addc(&p, '/');
				buf_adds(&p, key);
			}
		}
		buf_addf(url, "https://%s", h.p);
		*host = buf_detach(&h, NULL);
	}
	sigv4_uri_encode(url, p.p, p.len, 1);
	*path = buf_detach(&p, NULL);
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

static void live_link(struct s3_client *c, struct op_state *s)
{
	s->rprev = NULL;
	s->rnext = c->live;
	if (c->live)
		c->live->rprev = s;
	c->live = s;
}

static void live_unlink(struct s3_client *c, struct op_state *s)
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

static void hdr(struct op_state *s, struct sigv4_header *sh, const char *name, const char *value)
{
	sh[s->nsh].name = name;
	sh[s->nsh].value = value;
	s->nsh++;
}

static const char *kind_method(enum s3_kind k)
{
	switch (k) {
	case S3_HEAD:
		return "HEAD";
	case S3_GET:
	case S3_LIST:
		return "GET";
	case S3_PUT:
	case S3_MPU_PART:
		return "PUT";
	case S3_DELETE:
	case S3_MPU_ABORT:
		return "DELETE";
	case S3_MPU_CREATE:
	case S3_MPU_COMPLETE:
		return "POST";
	}
	return "GET";
}

static long read_body(struct http_xfer *x, char *p, size_t n, uint64_t off)
{
	struct op_state *s = x->ctx;
	struct s3_op *op = s->op;
	if (op->on_read)
		return op->on_read(op, p, n, off);
	if (op->buf) {
		memcpy(p, op->buf + off, n);
		return (long)n;
	}
	ssize_t r;
	do
		r = pread(op->fd, p, n, (off_t)(op->off + off));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		err_set(&s->cb_err, EXIT_FAIL, "%s", r < 0 ? strerror(errno) : "file shrank");
		s->cb_failed = 1;
		return -1;
	}
	return (long)r;
}

/* The body as curl sends it: the caller gets the last word before the final byte
 * goes out, so a body found wrong at the end never becomes an object. */
static long send_body(struct http_xfer *x, char *p, size_t n, uint64_t off)
{
	struct op_state *s = x->ctx;
	struct s3_op *op = s->op;
	long r = read_body(x, p, n, off);
	if (r > 0 && op->before_commit && off + (uint64_t)r == x->up_len && op->kind == S3_PUT &&
	    op->before_commit(op) < 0) {
		s->cb_failed = 1;
		if (!s->cb_err.msg[0])
			err_set(&s->cb_err, EXIT_FAIL, "upload refused before commit");
		return -1;
	}
	return r;
}

/* The SHA-256 of an upload body, for plain HTTP where the payload must be signed. */
static int body_sha256(struct op_state *s, char out[65])
{
	struct s3_op *op = s->op;
	if (op->buf || !op->len) {
		sigv4_sha256_hex(op->buf ? op->buf : "", op->buf ? op->len : 0, out);
		return 0;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		die(EXIT_FAIL, "cannot initialise SHA-256");
	size_t bs = 1 << 20;
	char *b = xmalloc(bs);
	int rc = 0;
	for (uint64_t off = 0; off < op->len;) {
		size_t want = op->len - off < bs ? (size_t)(op->len - off) : bs;
		long r = read_body(&s->x, b, want, off);
		if (r <= 0) {
			rc = -1;
			break;
		}
		EVP_DigestUpdate(md, b, (size_t)r);
		off += (uint64_t)r;
	}
	unsigned char d[32];
	unsigned int dl = 0;
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	free(b);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return rc;
}

/* A server may answer a ranged GET with more than was asked (the whole object with
 * 200, or a wider 206): work out how many leading bytes to drop and how many to
 * keep, so the sink only ever sees the requested bytes at the right offsets. */
static int range_window(struct op_state *s, struct http_xfer *x)
{
	s->window_set = 1;
	s->skip = 0;
	s->keep = UINT64_MAX;
	if (!s->range_sent)
		return 0;
	uint64_t want = s->range_end_set ? s->range_end - s->range_start + 1 : UINT64_MAX;
	if (x->status == 200) {
		s->skip = s->range_start;
		s->keep = want;
		return 0;
	}
	char *cr = http_xfer_live_header(x, "content-range");
	unsigned long long a = 0, b = 0;
	int ok = cr && sscanf(cr, "bytes %llu-%llu", &a, &b) == 2 && a <= s->range_start && b >= a;
	free(cr);
	if (!ok) {
		err_set(&s->cb_err, EXIT_FAIL,
			"the server's Content-Range does not match the range "
			"asked for");
		s->cb_failed = 1;
		return -1;
	}
	s->skip = s->range_start - a;
	s->keep = want;
	return 0;
}

static int deliver(struct op_state *s, const char *p, size_t n)
{
	struct s3_op *op = s->op;
	if (s->skip) {
		size_t d = s->skip < n ? (size_t)s->skip : n;
		s->skip -= d;
		p += d;
		n -= d;
	}
	if (n > s->keep)
		n = (size_t)s->keep;
	if (!n)
		return 0;
	s->keep -= s->keep == UINT64_MAX ? 0 : n;
	if (!op->on_data) {
		if (buf_add(&op->body, p, n) < 0) {
			err_set(&s->cb_err, EXIT_FAIL, "object larger than %zu bytes",
				op->body.max);
			s->cb_failed = 1;
			return -1;
		}
	} else if (op->on_data(op, p, n, s->start + s->got) < 0) {
		s->cb_failed = 1;
		if (!s->cb_err.msg[0])
			err_set(&s->cb_err, EXIT_FAIL, "aborted");
		return -1;
	}
	s->got += n;
	return 0;
}

static int on_data(struct http_xfer *x, const char *p, size_t n)
{
	struct op_state *s = x->ctx;
	struct s3_op *op = s->op;
	if (x->status < 200 || x->status > 299 || op->kind != S3_GET) {
		if (buf_add(&s->body, p, n) < 0)
			return op->kind == S3_GET || x->status >= 300 ? 0 : -1;
		return 0;
	}
	if (!s->window_set && range_window(s, x) < 0)
		return -1;
	return deliver(s, p, n);
}

static void attempt_done(struct http_xfer *x);

static void add_param(struct op_state *s, const char *name, const char *value)
{
	s->params[s->nparams].name = name;
	s->params[s->nparams].value = value ? value : "";
	s->nparams++;
}

static void build_query(struct op_state *s)
{
	struct s3_op *op = s->op;
	char num[32];
	s->nparams = 0;
	switch (op->kind) {
	case S3_LIST:
		add_param(s, "list-type", "2");
		if (op->prefix)
			add_param(s, "prefix", op->prefix);
		if (op->delimiter)
			add_param(s, "delimiter", op->delimiter);
		if (op->token)
			add_param(s, "continuation-token", op->token);
		if (op->start_after)
			add_param(s, "start-after", op->start_after);
		if (op->max_keys > 0) {
			snprintf(num, sizeof(num), "%d", op->max_keys);
			free(s->num);
			s->num = xstrdup(num);
			add_param(s, "max-keys", s->num);
		}
		break;
	case S3_MPU_CREATE:
		add_param(s, "uploads", "");
		break;
	case S3_MPU_PART:
		snprintf(num, sizeof(num), "%d", op->part_number);
		free(s->num);
		s->num = xstrdup(num);
		add_param(s, "partNumber", s->num);
		add_param(s, "uploadId", op->upload_id);
		break;
	case S3_MPU_COMPLETE:
	case S3_MPU_ABORT:
		add_param(s, "uploadId", op->upload_id);
		break;
	default:
		break;
	}
}

static void free_attempt(struct op_state *s)
{
	for (size_t i = 0; i < s->nstr; i++)
		free(s->str[i]);
	s->nstr = 0;
	free(s->url);
	s->url = NULL;
	http_xfer_release(&s->x);
}

static char *keep(struct op_state *s, char *str)
{
	if (s->nstr < sizeof(s->str) / sizeof(s->str[0]))
		s->str[s->nstr++] = str;
	return str;
}

static int start_attempt(struct s3_client *c, struct s3_op *op)
{
	struct op_state *s = op->internal;
	struct ja_err err = {0};
	free_attempt(s);
	s->x.ctx = s; /* read_body may run before the transfer starts (payload hash) */
	buf_release(&s->body);
	buf_init(&s->body,
		 op->kind == S3_LIST || op->kind == S3_MPU_CREATE || op->kind == S3_MPU_COMPLETE
		     ? XML_BODY_MAX
		     : ERR_BODY_MAX);
	if (op->kind == S3_GET && !op->on_data && !s->got) {
		buf_release(&op->body);
		buf_init(&op->body, S3_MAX_BODY);
	}
	const struct aws_creds *cr = creds_get(c->creds, (int64_t)time(NULL), &err);
	if (!cr) {
		op->err = err;
		return -1;
	}
	op->attempts++;
	s->cb_failed = 0;
	s->cb_err.msg[0] = 0;
	s->range_sent = s->window_set = 0;
	if (op->kind == S3_PUT && !op->len && op->before_commit && op->before_commit(op) < 0) {
		op->err = s->cb_err.msg[0] ? s->cb_err : (struct ja_err){EXIT_FAIL, "refused"};
		return -1;
	}
	const char *method = kind_method(op->kind);
	int has_body = op->kind == S3_PUT || op->kind == S3_MPU_PART || op->kind == S3_MPU_COMPLETE;
	if (op->kind == S3_MPU_COMPLETE && !s->complete_body) {
		s->complete_body = xml_complete_body(op->etags, op->nparts);
	}
	/* payload hash */
	const char *phash = SIGV4_UNSIGNED_PAYLOAD;
	if (!has_body) {
		phash = SIGV4_EMPTY_SHA256;
	} else if (op->kind == S3_MPU_COMPLETE) {
		sigv4_sha256_hex(s->complete_body, strlen(s->complete_body), s->phash);
		phash = s->phash;
	} else if (!c->https) {
		if (!s->have_phash) {
			if (body_sha256(s, s->phash) < 0) {
				op->err = s->cb_err;
				return -1;
			}
			s->have_phash = 1;
		}
		phash = s->phash;
	}
	char *host, *path;
	struct buf url = BUF_INIT;
	s3_address(c, op->bucket, op->kind == S3_LIST ? NULL : op->key, &host, &path, &url);
	keep(s, host);
	keep(s, path);
	build_query(s);
	for (size_t i = 0; i < s->nparams; i++) {
		buf_addc(&url, i ? '&' : '?');
		sigv4_uri_encode(&url, s->params[i].name, strlen(s->params[i].name), 0);
		buf_addc(&url, '=');
		sigv4_uri_encode(&url, s->params[i].value, strlen(s->params[i].value), 0);
	}
	s->url = buf_detach(&url, NULL);
	char amz_date[17];
	sigv4_amz_date((int64_t)time(NULL) + c->skew, amz_date);
	struct sigv4_header sh[16 + 64];
	s->nsh = 0;
	hdr(s, sh, "host", host);
	hdr(s, sh, "x-amz-date", keep(s, xstrdup(amz_date)));
	hdr(s, sh, "x-amz-content-sha256", keep(s, xstrdup(phash)));
	if (cr->session_token)
		hdr(s, sh, "x-amz-security-token", keep(s, xstrdup(cr->session_token)));
	if (c->owner)
		hdr(s, sh, "x-amz-expected-bucket-owner", c->owner);
	if (op->kind == S3_GET && (op->has_range || s->got)) {
		/* a range, or the rest of an interrupted download of the same object */
		uint64_t start = (op->has_range ? op->range_off : 0) + s->got, end = 0;
		int has_end = 0;
		if (op->has_range && op->range_len)
			end = op->range_off + op->range_len - 1, has_end = 1;
		else if (s->total_known && s->total)
			end = s->total - 1, has_end = 1;
		if (has_end && start > end && s->got)
			return 1; /* the connection broke after the last byte: nothing is missing */
		s->range_sent = 1;
		s->range_start = start;
		s->range_end = end;
		s->range_end_set = has_end;
		struct buf r = BUF_INIT;
		if (has_end)
			buf_addf(&r, "bytes=%" PRIu64 "-%" PRIu64, start, end);
		else
			buf_addf(&r, "bytes=%" PRIu64 "-", start);
		hdr(s, sh, "range", keep(s, buf_detach(&r, NULL)));
		if (s->got && op->etag)
			hdr(s, sh, "if-match", op->etag);
	}
	s->start = op->kind == S3_GET ? (op->has_range ? op->range_off : 0) : 0;
	if (op->kind == S3_PUT || op->kind == S3_MPU_CREATE) {
		if (op->content_type)
			hdr(s, sh, "content-type", op->content_type);
		for (size_t i = 0; i < op->nmeta && s->nsh < 16 + 60; i++) {
			struct buf n = BUF_INIT;
			buf_addf(&n, "x-amz-meta-%s", op->meta[i].name);
			hdr(s, sh, keep(s, buf_detach(&n, NULL)), op->meta[i].value);
		}
	}
	struct sigv4_request rq = {
	    .method = method,
	    .path = path,
	    .params = s->params,
	    .nparams = s->nparams,
	    .headers = sh,
	    .nheaders = s->nsh,
	    .payload_hash = phash,
	    .normalize_path = 0,
	};
	struct sigv4_key k = {
	    .access_key = cr->access_key,
	    .secret_key = cr->secret_key,
	    .region = c->region,
	    .service = "s3",
	    .amz_date = amz_date,
	};
	char *auth = sigv4_authorization(&k, &rq);
	/* the wire headers: every signed one but host (curl sends it), then Authorization */
	size_t nh = 0;
	for (size_t i = 1; i < s->nsh; i++) {
		struct buf h = BUF_INIT;
		buf_addf(&h, "%s: %s", sh[i].name, sh[i].value);
		s->hdrs[nh++] = keep(s, buf_detach(&h, NULL));
	}
	struct buf a = BUF_INIT;
	buf_addf(&a, "Authorization: %s", auth);
	free(auth);
	s->hdrs[nh++] = keep(s, buf_detach(&a, NULL));
	s->hdrs[nh++] = "User-Agent: ja/" JA_VERSION;
	if (has_body && !op->content_type)
		s->hdrs[nh++] = "Content-Type:";
	s->hdrs[nh] = NULL;

	struct http_xfer *x = &s->x;
	x->method = method;
	x->url = s->url;
	x->headers = (const char *const *)s->hdrs;
	x->has_body = has_body;
	x->up_buf = NULL;
	x->on_read = NULL;
	if (op->kind == S3_MPU_COMPLETE) {
		x->up_buf = s->complete_body;
		x->up_len = strlen(s->complete_body);
	} else if (has_body) {
		x->up_len = op->len;
		if (op->buf && !op->before_commit)
			x->up_buf = op->buf;
		else
			x->on_read = send_body;
	}
	x->on_data = on_data;
	x->on_done = attempt_done;
	x->ctx = s;
	s->t0 = s3_now_ms();
	if (http_engine_add(c->engine, x, &err) < 0) {
		op->err = err;
		return -1;
	}
	c->running++;
	live_link(c, s);
	return 0;
}

/* ---- outcomes ---- */

static void finish_op(struct s3_client *c, struct s3_op *op)
{
	struct op_state *s = op->internal;
	if (s->refunded == 0 && op->ok) {
		c->tokens += s->cost ? s->cost : 1;
		if (c->tokens > RETRY_TOKENS)
			c->tokens = RETRY_TOKENS;
	}
	free_attempt(s);
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
	       kind_method(op->kind), op->bucket, op->key ? esc_name(op->key) : "", what, s->x.sent,
	       s->x.received, s->x.ms, op->attempts);
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

static void attempt_done(struct http_xfer *x)
{
	struct op_state *s = x->ctx;
	struct s3_op *op = s->op;
	struct s3_client *c = s->c;
	struct s3_error_info ei;
	memset(&ei, 0, sizeof(ei));
	c->running--;
	live_unlink(c, s);
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
	s3_log(c, 1, "%s s3://%s/%s: %s; retrying in %.0f ms", kind_method(op->kind), op->bucket,
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
		live_unlink(c, s);
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
			int r = start_attempt(c, op);
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
