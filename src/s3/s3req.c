/* s3req.c - one attempt of an S3 request: address, query, headers, SigV4, the
 * body going out (payload hash, the caller's last word) and the body coming in
 * (ranges trimmed to what was asked). */
#include "creds.h"
#include "s3int.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ERR_BODY_MAX ((size_t)64 << 10)
#define XML_BODY_MAX ((size_t)XML_MAX_DOC)

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

static void hdr(struct op_state *s, struct sigv4_header *sh, const char *name, const char *value)
{
	sh[s->nsh].name = name;
	sh[s->nsh].value = value;
	s->nsh++;
}

const char *s3_kind_method(enum s3_kind k)
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

void s3_free_attempt(struct op_state *s)
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

int s3_start_attempt(struct s3_client *c, struct s3_op *op)
{
	struct op_state *s = op->internal;
	struct ja_err err = {0};
	s3_free_attempt(s);
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
	const char *method = s3_kind_method(op->kind);
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
	x->on_done = s3_attempt_done;
	x->ctx = s;
	s->t0 = s3_now_ms();
	if (http_engine_add(c->engine, x, &err) < 0) {
		op->err = err;
		return -1;
	}
	c->running++;
	s3_live_link(c, s);
	return 0;
}

/* ---- outcomes ---- */
