/* creds_http.c - the credential providers that ask an HTTP endpoint: the ECS/EKS
 * container endpoint and EC2 instance metadata (IMDSv2, with botocore's IMDSv1
 * fallback).  Part of the chain in creds.c.
 */
#include "creds_int.h"
#include "http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DOC_MAX		     (64 * 1024)
#define CONTAINER_HOST	     "http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS 2000
#define CONTAINER_ATTEMPTS   3
#define CONTAINER_PAUSE_MS   250
#define IMDS_V4		     "http://169.254.169.254"
#define IMDS_V6		     "http://[fd00:ec2::254]"
#define IMDS_ROLES	     "/latest/meta-data/iam/security-credentials/"

/* scheme://host[:port] of url, without user info, path or query: a container URI's
 * path can itself be the capability that hands out credentials. */
static const char *url_origin(const char *url)
{
	static char out[256];
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	size_t end = strcspn(h, "/?#");
	const char *at = memchr(h, '@', end);
	const char *host = at ? at + 1 : h;
	snprintf(out, sizeof(out), "%.*s%.*s", (int)(h - url), url, (int)(h + end - host), host);
	return esc_name(out);
}

/* http_simple_fetch names the whole URL in its errors; keep only the reason. */
static void strip_url(struct ja_err *err, const char *url)
{
	size_t n = strlen(url);
	if (err && !strncmp(err->msg, url, n) && !strncmp(err->msg + n, ": ", 2))
		memmove(err->msg, err->msg + n + 2, strlen(err->msg + n + 2) + 1);
}

/* Retries transport errors and 5xx, like botocore's metadata fetchers. */
static int fetch(const struct http_simple *rq, int attempts, long pause_ms, long *status,
		 struct buf *body, struct ja_err *err)
{
	for (int i = 1;; i++) {
		int r = http_simple_fetch(rq, status, body, err);
		if ((r == 0 && *status < 500) || i >= attempts) {
			if (r < 0)
				strip_url(err, rq->url);
			return r;
		}
		if (pause_ms)
			creds_sleep_ms(pause_ms);
	}
}

/* The host of an http:// URL, lowercase, without brackets; "" when malformed. */
static void url_host(const char *url, char *host, size_t cap)
{
	const char *a = strstr(url, "://") + 3, *e = a + strcspn(a, "/?#"), *h = a, *he;
	for (const char *p = a; p < e; p++)
		if (*p == '@')
			h = p + 1;
	if (*h == '[') {
		h++;
		he = memchr(h, ']', (size_t)(e - h));
		if (!he)
			he = h;
	} else {
		he = memchr(h, ':', (size_t)(e - h));
		if (!he)
			he = e;
	}
	size_t n = (size_t)(he - h);
	if (n >= cap)
		n = 0; /* too long to be an allowed host */
	for (size_t i = 0; i < n; i++)
		host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' : h[i]);
	host[n] = 0;
}

/* Plain http may only reach the ECS/EKS agents or this machine (botocore's list). */
static int container_url_ok(const char *url, struct ja_err *err)
{
	static const char *const allowed[] = {"169.254.170.2", "169.254.170.23", "fd00:ec2::23",
					      "localhost"};
	char host[256];
	unsigned char a[16];
	if (!strncasecmp(url, "https://", 8))
		return 0;
	if (strncasecmp(url, "http://", 7))
		return err_set(
		    err, EXIT_USAGE,
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http:// or https:// URL");
	url_host(url, host, sizeof(host));
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcmp(host, allowed[i]))
			return 0;
	if (inet_pton(AF_INET, host, a) == 1 && a[0] == 127)
		return 0;
	if (inet_pton(AF_INET6, host, a) == 1 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a))
		return 0;
	return err_set(err, EXIT_USAGE,
		       "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http to host '%s' is not allowed "
		       "(only https, loopback addresses, localhost, 169.254.170.2, 169.254.170.23 "
		       "and fd00:ec2::23)",
		       esc_name(host));
}

/* The token file is read on every fetch: EKS rotates it. */
static int container_auth(struct buf *hdr, struct ja_err *err)
{
	const char *file = aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tok = aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct buf fb;
	int r = 0;
	buf_init(&fb, 16384);
	if (file) {
		if (buf_read_file(&fb, file, err) < 0) {
			creds_wipe_buf(&fb);
			err_prefix(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
			return -1;
		}
		while (fb.len && (fb.p[fb.len - 1] == '\n' || fb.p[fb.len - 1] == '\r'))
			fb.p[--fb.len] = 0;
		tok = fb.len ? fb.p : NULL;
	}
	if (tok && strpbrk(tok, "\r\n"))
		r = err_set(err, EXIT_USAGE, "the container authorization token has a line break");
	else if (tok)
		buf_addf(hdr, "Authorization: %s", tok);
	creds_wipe_buf(&fb);
	return r;
}

int creds_from_container(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err)
{
	const char *rel = aws_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = aws_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	struct buf url = BUF_INIT, auth = BUF_INIT, body = BUF_INIT;
	long status = 0;
	int r;
	if (!rel && !full)
		return 0;
	if (rel)
		buf_addf(&url, "%s%s", CONTAINER_HOST, rel);
	else
		buf_adds(&url, full);
	r = rel ? 0 : container_url_ok(full, err);
	if (r == 0)
		r = container_auth(&auth, err);
	if (r == 0) {
		const char *hdrs[] = {auth.len ? auth.p : NULL, NULL};
		struct http_simple rq = {.method = "GET",
					 .url = url.p,
					 .headers = hdrs,
					 .timeout_ms = CONTAINER_TIMEOUT_MS,
					 .max_body = DOC_MAX};
		r = fetch(&rq, CONTAINER_ATTEMPTS, CONTAINER_PAUSE_MS, &status, &body, err);
	}
	if (r == 0 && status != 200)
		r = err_set(err, EXIT_FAIL, "answered HTTP %ld", status);
	if (r == 0)
		r = creds_from_doc(&body, &creds_endpoint_names, 0, "container", c, err);
	if (r < 0)
		err_prefix(err, "container credentials endpoint %s", url_origin(url.p));
	creds_wipe_buf(&auth);
	creds_wipe_buf(&body);
	buf_release(&url);
	return r < 0 ? -1 : 1;
}

/* ---- EC2 instance metadata (IMDSv2) ------------------------------------------------ */

struct imds {
	char base[512];
	long timeout_ms;
	int attempts, v1_disabled;
	char token_hdr[1100]; /* "X-aws-ec2-metadata-token: ..."; empty = IMDSv1 */
};

/* An environment variable, else the profile's key (config or credentials file). */
static const char *setting(struct creds_ctx *x, const char *env, const char *key, const char **from)
{
	const char *v = aws_env(env);
	*from = env;
	if (!v) {
		*from = key;
		v = aws_profile_get(x->f, AWS_SCOPE_MERGED, x->profile, key);
	}
	return v;
}

static int setting_int(struct creds_ctx *x, const char *env, const char *key, int lo, int hi,
		       int *out, struct ja_err *err)
{
	const char *from, *v = setting(x, env, key, &from), *p = v;
	long n = 0;
	if (!v)
		return 0;
	while (*p >= '0' && *p <= '9' && n <= hi)
		n = n * 10 + (*p++ - '0');
	if (p == v || *p || n < lo || n > hi)
		return err_set(err, EXIT_USAGE, "%s '%s' is not a number from %d to %d", from,
			       esc_name(v), lo, hi);
	*out = (int)n;
	return 0;
}

static int imds_config(struct creds_ctx *x, struct imds *m, struct ja_err *err)
{
	const char *from, *ep = setting(x, "AWS_EC2_METADATA_SERVICE_ENDPOINT",
					"ec2_metadata_service_endpoint", &from);
	const char *mode = setting(x, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
				   "ec2_metadata_service_endpoint_mode", &from);
	int secs = 1;
	memset(m, 0, sizeof(*m));
	m->attempts = 1;
	if (mode && strcasecmp(mode, "ipv4") && strcasecmp(mode, "ipv6"))
		return err_set(err, EXIT_USAGE, "%s '%s' is not IPv4 or IPv6", from,
			       esc_name(mode));
	if (!ep)
		ep = mode && !strcasecmp(mode, "ipv6") ? IMDS_V6 : IMDS_V4;
	if ((strncasecmp(ep, "http://", 7) && strncasecmp(ep, "https://", 8)) ||
	    strlen(ep) >= sizeof(m->base))
		return err_set(err, EXIT_USAGE,
			       "instance metadata endpoint '%s' is not an http URL", esc_name(ep));
	snprintf(m->base, sizeof(m->base), "%s", ep);
	for (size_t n = strlen(m->base); n && m->base[n - 1] == '/'; n--)
		m->base[n - 1] = 0;
	if (setting_int(x, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout", 1, 3600,
			&secs, err) < 0 ||
	    setting_int(x, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts", 1,
			100, &m->attempts, err) < 0)
		return -1;
	m->timeout_ms = secs * 1000L;
	const char *v1 =
	    setting(x, "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled", &from);
	m->v1_disabled = v1 && !strcasecmp(v1, "true");
	return 0;
}

static int imds_call(struct imds *m, const char *method, const char *path, const char *hdr,
		     long *status, struct buf *body, struct ja_err *err)
{
	char url[1024];
	const char *hdrs[] = {hdr && *hdr ? hdr : NULL, NULL};
	snprintf(url, sizeof(url), "%s%s", m->base, path);
	creds_wipe_buf(body); /* it may hold the session token */
	struct http_simple rq = {.method = method,
				 .url = url,
				 .headers = hdrs,
				 .timeout_ms = m->timeout_ms,
				 .max_body = DOC_MAX};
	return fetch(&rq, m->attempts, 0, status, body, err);
}

/* 1 with a session token (or IMDSv1 allowed), 0 with a note when there is no usable service. */
static int imds_token(struct creds_ctx *x, struct imds *m, struct buf *body)
{
	struct ja_err e = {0};
	long st = 0;
	char *note = x->imds_note;
	size_t cap = sizeof(x->imds_note);
	if (imds_call(m, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds: 21600",
		      &st, body, &e) < 0)
		return snprintf(note, cap, "%s: %.200s", url_origin(m->base), e.msg), 0;
	if (st == 200) {
		while (body->len && strchr("\r\n \t", body->p[body->len - 1]))
			body->p[--body->len] = 0;
		if (!creds_value_ok(body->p) || body->len > 1000)
			return snprintf(note, cap, "malformed session token"), 0;
		snprintf(m->token_hdr, sizeof(m->token_hdr), "X-aws-ec2-metadata-token: %s",
			 body->p);
		return 1;
	}
	/* botocore's IMDSv1 fallback: these answers mean "no IMDSv2 here" */
	if ((st == 403 || st == 404 || st == 405) && !m->v1_disabled)
		return 1;
	snprintf(note, cap, "HTTP %ld for a session token%s", st,
		 m->v1_disabled ? " (IMDSv1 fallback disabled)" : "");
	return 0;
}

/* 1 with the role name in role, 0 with a note, -1 with err. */
static int imds_role(struct creds_ctx *x, struct imds *m, struct buf *body, char *role, size_t cap,
		     struct ja_err *err)
{
	struct ja_err e = {0};
	long st = 0;
	if (imds_call(m, "GET", IMDS_ROLES, m->token_hdr, &st, body, &e) < 0)
		return snprintf(x->imds_note, sizeof(x->imds_note), "%s: %.200s",
				url_origin(m->base), e.msg),
		       0;
	if (st == 404)
		return snprintf(x->imds_note, sizeof(x->imds_note), "no IAM role attached"), 0;
	if (st != 200)
		return snprintf(x->imds_note, sizeof(x->imds_note), "HTTP %ld for the role", st), 0;
	size_t n = strcspn(body->p, "\r\n");
	if (n == 0)
		return snprintf(x->imds_note, sizeof(x->imds_note), "no IAM role attached"), 0;
	if (n >= cap || strspn(body->p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789+=,.@_-") < n)
		return err_set(err, EXIT_FAIL, "instance metadata returned a malformed role name");
	memcpy(role, body->p, n);
	role[n] = 0;
	return 1;
}

int creds_from_imds(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err)
{
	struct imds m;
	struct buf body = BUF_INIT;
	char role[130], path[200];
	const char *off = aws_env("AWS_EC2_METADATA_DISABLED");
	long st = 0;
	int r;
	if (off && !strcasecmp(off, "true")) {
		snprintf(x->imds_note, sizeof(x->imds_note),
			 "disabled by AWS_EC2_METADATA_DISABLED");
		return 0;
	}
	if (imds_config(x, &m, err) < 0)
		return -1;
	r = imds_token(x, &m, &body);
	if (r > 0)
		r = imds_role(x, &m, &body, role, sizeof(role), err);
	if (r > 0) {
		snprintf(path, sizeof(path), "%s%s", IMDS_ROLES, role);
		r = imds_call(&m, "GET", path, m.token_hdr, &st, &body, err);
		if (r == 0 && st != 200)
			r = err_set(err, EXIT_FAIL, "HTTP %ld", st);
		if (r == 0)
			r = creds_from_doc(&body, &creds_endpoint_names, 0, "imds", c, err);
		if (r < 0)
			err_prefix(err, "instance metadata %s, role '%s'", url_origin(m.base),
				   role);
		else
			r = 1;
	}
	explicit_bzero(m.token_hdr, sizeof(m.token_hdr));
	creds_wipe_buf(&body);
	return r;
}
