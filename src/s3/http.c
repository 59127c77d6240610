/* http.c - libcurl: small blocking requests and the multi-handle transfer engine. */
#include "http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdio.h>

static pthread_once_t http_once = PTHREAD_ONCE_INIT;

static void http_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EXIT_FAIL, "cannot initialise libcurl");
}

void http_global_init(void)
{
	pthread_once(&http_once, http_init_once);
}

static size_t simple_write(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	return buf_add(b, p, size * n) < 0 ? 0 : size * n;
}

int http_simple_fetch(const struct http_simple *rq, long *status, struct buf *body,
		      struct ja_err *err)
{
	http_global_init();
	CURL *h = curl_easy_init();
	if (!h)
		return err_set(err, EXIT_FAIL, "cannot create an HTTP handle");
	struct curl_slist *hl = NULL;
	for (const char *const *p = rq->headers; p && *p; p++)
		hl = curl_slist_append(hl, *p);
	hl = curl_slist_append(hl, "Expect:");
	size_t max = rq->max_body ? rq->max_body : (1u << 20);
	buf_release(body);
	body->max = max;
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* credential endpoints are link-local or loopback: never through a proxy */
	curl_easy_setopt(h, CURLOPT_NOPROXY,
			 "169.254.169.254,169.254.170.2,169.254.170.23,fd00:ec2::23,fd00:ec2::254,"
			 "localhost,127.0.0.1,::1");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms ? rq->timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, simple_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (!strcmp(rq->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (rq->body || !strcmp(rq->method, "PUT") || !strcmp(rq->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	CURLcode rc = curl_easy_perform(h);
	int ret = 0;
	if (rc != CURLE_OK) {
		if (body->over)
			ret = err_set(err, EXIT_FAIL, "%s: response larger than %zu bytes", rq->url,
				      max);
		else
			ret = err_set(err, EXIT_FAIL, "%s: %s", rq->url, curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return ret;
}

/* ---- the transfer engine ---- */

struct http_engine {
	CURLM *multi;
	CURLSH *share; /* DNS cache and TLS sessions shared by every handle */
	struct http_engine_opts o;
	CURL **idle; /* finished easy handles kept for reuse (their connections stay warm) */
	size_t nidle, capidle;
	int running;
	struct xfer_state *live; /* running transfers, for http_engine_free */
};

struct xfer_state {
	struct xfer_state *prev, *next;
	struct http_xfer *x;
	CURL *h;
	struct curl_slist *hl;
	struct buf hdrs;
	uint64_t up_pos;
	double t0;
	char errbuf[CURL_ERROR_SIZE];
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct http_engine *http_engine_new(const struct http_engine_opts *o)
{
	http_global_init();
	struct http_engine *e = xcalloc(1, sizeof(*e));
	e->o = *o;
	e->o.ca_bundle = o->ca_bundle ? xstrdup(o->ca_bundle) : NULL;
	if (e->o.max_conns < 1)
		e->o.max_conns = 1;
	if (!e->o.connect_timeout_ms)
		e->o.connect_timeout_ms = 10000;
	if (!e->o.stall_timeout_ms)
		e->o.stall_timeout_ms = 30000;
	e->multi = curl_multi_init();
	e->share = curl_share_init();
	if (!e->multi || !e->share)
		die(EXIT_FAIL, "cannot create the HTTP engine");
	curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->o.max_conns);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e->o.max_conns);
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->o.max_conns);
	return e;
}

static void state_free(struct http_xfer *x)
{
	struct xfer_state *st = x->internal;
	if (!st)
		return;
	curl_slist_free_all(st->hl);
	buf_release(&st->hdrs);
	free(st);
	x->internal = NULL;
}

static void handle_park(struct http_engine *e, CURL *h)
{
	curl_multi_remove_handle(e->multi, h);
	if (e->nidle >= (size_t)e->o.max_conns) {
		curl_easy_cleanup(h);
		return;
	}
	xgrow((void **)&e->idle, &e->capidle, e->nidle + 1, sizeof(*e->idle));
	e->idle[e->nidle++] = h;
}

static void live_unlink(struct http_engine *e, struct xfer_state *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		e->live = st->next;
	if (st->next)
		st->next->prev = st->prev;
}

void http_engine_free(struct http_engine *e)
{
	if (!e)
		return;
	while (e->live) {
		struct http_xfer *x = e->live->x;
		http_engine_cancel(e, x);
	}
	for (size_t i = 0; i < e->nidle; i++)
		curl_easy_cleanup(e->idle[i]);
	free(e->idle);
	curl_multi_cleanup(e->multi);
	curl_share_cleanup(e->share);
	free((char *)e->o.ca_bundle);
	free(e);
}

static size_t on_write(char *p, size_t size, size_t n, void *ctx)
{
	struct http_xfer *x = ctx;
	size_t len = size * n;
	x->received += len;
	if (x->on_data && x->on_data(x, p, len) < 0) {
		x->aborted = 1;
		return 0;
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
	struct http_xfer *x = ctx;
	struct xfer_state *st = x->internal;
	size_t want = size * n;
	uint64_t left = x->up_len - st->up_pos;
	if (want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	long got;
	if (x->up_buf) {
		memcpy(p, x->up_buf + st->up_pos, want);
		got = (long)want;
	} else {
		got = x->on_read(x, p, want, st->up_pos);
	}
	if (got < 0 || (got == 0 && want)) {
		x->aborted = 1;
		return CURL_READFUNC_ABORT;
	}
	st->up_pos += (uint64_t)got;
	x->sent = st->up_pos;
	return (size_t)got;
}

/* curl rewinds the body itself when it must resend (a redirect, an auth retry). */
static int on_seek(void *ctx, curl_off_t off, int origin)
{
	struct http_xfer *x = ctx;
	struct xfer_state *st = x->internal;
	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->up_len)
		return CURL_SEEKFUNC_CANTSEEK;
	st->up_pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct http_xfer *x = ctx;
	struct xfer_state *st = x->internal;
	size_t len = size * n;
	/* a new status line (100-continue, a redirect) starts a new header block */
	if (len > 5 && !memcmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', len);
		x->status = sp && sp + 4 <= p + len ? strtol(sp + 1, NULL, 10) : 0;
		buf_reset(&st->hdrs);
		return len;
	}
	const char *colon = memchr(p, ':', len);
	if (!colon)
		return len;
	size_t nl = (size_t)(colon - p);
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (size_t i = 0; i < nl; i++)
		buf_addc(&st->hdrs, (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]));
	buf_adds(&st->hdrs, ": ");
	buf_add(&st->hdrs, v, (size_t)(end - v));
	buf_addc(&st->hdrs, '\n');
	return st->hdrs.over ? 0 : len;
}

static CURL *handle_get(struct http_engine *e)
{
	CURL *h = e->nidle ? e->idle[--e->nidle] : curl_easy_init();
	if (!h)
		die(EXIT_FAIL, "cannot create an HTTP handle");
	curl_easy_reset(h);
	return h;
}

int http_engine_add(struct http_engine *e, struct http_xfer *x, struct ja_err *err)
{
	x->status = 0;
	x->failed = x->timed_out = x->aborted = x->retryable = 0;
	x->err_msg[0] = 0;
	x->sent = x->received = 0;
	x->ms = 0;
	free(x->resp_headers);
	x->resp_headers = NULL;
	x->resp_headers_len = 0;
	struct xfer_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->hdrs, 256 << 10);
	x->internal = st;
	for (const char *const *p = x->headers; p && *p; p++)
		st->hl = curl_slist_append(st->hl, *p);
	st->hl = curl_slist_append(st->hl, "Expect:");
	CURL *h = st->h = handle_get(e);
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(h, CURLOPT_SHARE, e->share);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, st->hl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (e->o.ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->o.ca_bundle);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->o.connect_timeout_ms);
	/* a stall: under 1 byte/s for the whole window */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (e->o.stall_timeout_ms + 999) / 1000);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, st->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L << 10);
	if (!strcmp(x->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(x->method, "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
	if (x->has_body) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		if (strcmp(x->method, "PUT"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->up_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L << 10);
	}
	st->t0 = now_ms();
	if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		state_free(x);
		return err_set(err, EXIT_FAIL, "cannot start a transfer");
	}
	st->x = x;
	st->next = e->live;
	if (e->live)
		e->live->prev = st;
	e->live = st;
	e->running++;
	return 0;
}

void http_engine_cancel(struct http_engine *e, struct http_xfer *x)
{
	struct xfer_state *st = x->internal;
	if (!st)
		return;
	curl_multi_remove_handle(e->multi, st->h);
	curl_easy_cleanup(st->h); /* the connection may be mid-body: do not reuse it */
	live_unlink(e, st);
	state_free(x);
	e->running--;
}

static void finish(struct http_engine *e, CURL *h, CURLcode rc)
{
	struct http_xfer *x = NULL;
	curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
	struct xfer_state *st = x->internal;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
	x->ms = now_ms() - st->t0;
	if (rc != CURLE_OK) {
		x->failed = 1;
		x->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		x->retryable = !x->aborted && rc != CURLE_PEER_FAILED_VERIFICATION &&
			       rc != CURLE_SSL_CACERT_BADFILE && rc != CURLE_URL_MALFORMAT &&
			       rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_SSL_CERTPROBLEM &&
			       rc != CURLE_COULDNT_RESOLVE_HOST;
		snprintf(x->err_msg, sizeof(x->err_msg), "%s",
			 st->errbuf[0] ? st->errbuf : curl_easy_strerror(rc));
		size_t l = strlen(x->err_msg);
		while (l && x->err_msg[l - 1] == '\n')
			x->err_msg[--l] = 0;
	}
	x->resp_headers = buf_detach(&st->hdrs, &x->resp_headers_len);
	if (rc == CURLE_OK)
		handle_park(e, h);
	else {
		curl_multi_remove_handle(e->multi, h);
		curl_easy_cleanup(h);
	}
	live_unlink(e, st);
	state_free(x);
	e->running--;
	if (x->on_done)
		x->on_done(x);
}

int http_engine_step(struct http_engine *e, long timeout_ms)
{
	int still = 0, nfds = 0;
	curl_multi_perform(e->multi, &still);
	CURLMsg *m;
	int left, done = 0;
	while ((m = curl_multi_info_read(e->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		finish(e, m->easy_handle, m->data.result);
		done++;
	}
	if (done || timeout_ms <= 0)
		return e->running;
	if (e->running)
		curl_multi_poll(e->multi, NULL, 0, (int)timeout_ms, &nfds);
	else if (timeout_ms > 0) {
		struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return e->running;
}

int http_engine_running(const struct http_engine *e)
{
	return e->running;
}

static char *find_header(const char *lines, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = lines; p && *p;) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			break;
		if ((size_t)(eol - p) > nl + 1 && !strncmp(p, name, nl) && p[nl] == ':')
			return xstrndup(p + nl + 2, (size_t)(eol - p) - nl - 2);
		p = eol + 1;
	}
	return NULL;
}

char *http_xfer_header(const struct http_xfer *x, const char *name)
{
	return find_header(x->resp_headers, name);
}

char *http_xfer_live_header(const struct http_xfer *x, const char *name)
{
	const struct xfer_state *st = x->internal;
	return st ? find_header(st->hdrs.p, name) : NULL;
}

void http_xfer_release(struct http_xfer *x)
{
	free(x->resp_headers);
	x->resp_headers = NULL;
	x->resp_headers_len = 0;
}
