/* sigv4_test.c - SigV4 against every case of tests/vectors/sigv4 (the aws-c-auth suite and
 * the S3 documentation example), read at run time, plus the edges the suite does not reach:
 * every byte class of the encoder, dates far from 2015, S3 paths and secrets. */
#include "core/json.h"
#include "s3/sigv4.h"
#include "unit.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define V4_CASES 38 /* the whole suite: a lost directory must not pass unnoticed */

/* ---- helpers ------------------------------------------------------------------------ */

/* A diagnostic that may span lines, each line kept inside the TAP comment. */
static void diag(const char *label, const char *s)
{
	printf("#   %s: ", label);
	for (; *s; s++)
		fputs(*s == '\n' ? "\\n\n#     " : (char[]){*s, 0}, stdout);
	putchar('\n');
}

/* "a/b" (caller frees). */
static char *path_join(const char *a, const char *b)
{
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/%s", a, b);
	return buf_detach(&p, NULL);
}

static int read_text(const char *dir, const char *file, struct buf *b)
{
	struct ja_err err = {0};
	char *path = path_join(dir, file);
	int rc = buf_read_file(b, path, &err);
	if (rc < 0) {
		printf("# %s\n", err.msg);
		unit_cur_failed = 1;
	}
	free(path);
	return rc;
}

static void check_file(const char *dir, const char *file, const char *got)
{
	struct buf want = BUF_INIT;
	if (read_text(dir, file, &want) == 0 && strcmp(want.p, got)) {
		printf("# %s/%s differs\n", dir, file);
		diag("got ", got);
		diag("want", want.p);
		unit_cur_failed = 1;
	}
	buf_release(&want);
}

static int exists(const char *dir, const char *file)
{
	struct stat st;
	char *path = path_join(dir, file);
	int rc = stat(path, &st) == 0;
	free(path);
	return rc;
}

/* Percent-decode s[0..n) into a new string ('+' stays '+': this is not a form). */
static char *pct_decode(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = hex_value((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hex_value((unsigned char)s[i + 2])) >= 0) {
			buf_addc(&b, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_addc(&b, s[i]);
		}
	}
	return buf_detach(&b, NULL);
}

static char *encode(const char *s, int keep_slash)
{
	struct buf b = BUF_INIT;
	sigv4_uri_encode(&b, s, strlen(s), keep_slash);
	return buf_detach(&b, NULL);
}

/* ---- one vector case ---------------------------------------------------------------- */

#define MAXP 16
#define MAXH 16
#define MAXS 96

struct vcase {
	char *own[MAXS]; /* every string below is one of these */
	size_t nown;
	const char *method, *path, *body;
	size_t body_len;
	struct sigv4_param params[MAXP];
	size_t nparams;
	struct sigv4_header headers[MAXH];
	size_t nheaders;
	/* context.json */
	const char *access_key, *secret_key, *token, *region, *service, *timestamp;
	int64_t expires;
	int sign_body, omit_token, normalize;
};

static char *keep(struct vcase *c, char *s)
{
	if (c->nown == MAXS) {
		free(s);
		unit_cur_failed = 1;
		return "";
	}
	return c->own[c->nown++] = s;
}

static void vcase_free(struct vcase *c)
{
	for (size_t i = 0; i < c->nown; i++)
		free(c->own[i]);
}

/* "a=1&b&c=%41" -> decoded raw pairs; a name without '=' has the value "". */
static int parse_query(struct vcase *c, const char *q, const char *end)
{
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q)), *e = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(e - q));
		if (c->nparams == MAXP)
			return -1;
		struct sigv4_param *p = &c->params[c->nparams++];
		p->name = keep(c, pct_decode(q, (size_t)((eq ? eq : e) - q)));
		p->value = keep(c, eq ? pct_decode(eq + 1, (size_t)(e - eq - 1)) : xstrdup(""));
		q = amp ? amp + 1 : end;
	}
	return 0;
}

/* "GET /path with spaces?q HTTP/1.1": the target runs to the last space. */
static int parse_request_line(struct vcase *c, const char *p, const char *eol)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p)), *sp2 = eol;
	while (sp2 > p && sp2[-1] != ' ')
		sp2--;
	if (!sp1 || sp2 <= sp1 + 1)
		return -1;
	sp2--;
	c->method = keep(c, xstrndup(p, (size_t)(sp1 - p)));
	const char *t = sp1 + 1, *qm = memchr(t, '?', (size_t)(sp2 - t));
	c->path = keep(c, xstrndup(t, (size_t)((qm ? qm : sp2) - t)));
	return qm ? parse_query(c, qm + 1, sp2) : 0;
}

/* A line that starts with whitespace continues the previous header's value (obs-fold);
 * it is joined with one space and its own indentation, which the signer must collapse. */
static int parse_header_line(struct vcase *c, const char *p, const char *le)
{
	if (*p == ' ' || *p == '\t') {
		if (!c->nheaders)
			return -1;
		struct sigv4_header *h = &c->headers[c->nheaders - 1];
		struct buf b = BUF_INIT;
		buf_adds(&b, h->value);
		buf_addc(&b, ' ');
		buf_add(&b, p, (size_t)(le - p));
		h->value = keep(c, buf_detach(&b, NULL));
		return 0;
	}
	const char *colon = memchr(p, ':', (size_t)(le - p));
	if (!colon || c->nheaders == MAXH)
		return -1;
	c->headers[c->nheaders].name = keep(c, xstrndup(p, (size_t)(colon - p)));
	c->headers[c->nheaders++].value = keep(c, xstrndup(colon + 1, (size_t)(le - colon - 1)));
	return 0;
}

/* request.txt: request line, header lines, then a blank line and the body if any. */
static int parse_request(struct vcase *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	const char *eol = memchr(p, '\n', len);
	if (!eol || parse_request_line(c, p, eol) < 0)
		return -1;
	for (p = eol + 1; p < end;) {
		eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if (le == p) {
			p++;
			break;
		}
		if (parse_header_line(c, p, le) < 0)
			return -1;
		p = eol ? eol + 1 : end;
	}
	c->body = p;
	c->body_len = (size_t)(end - p);
	return 0;
}

static int keyis(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(k, want, n);
}

static int json_string(struct vcase *c, struct jp *jp, const char **out)
{
	const char *s;
	size_t n;
	if (jp_str(jp, &s, &n) < 0)
		return -1;
	*out = keep(c, xstrndup(s, n));
	return 0;
}

static int parse_credentials(struct vcase *c, struct jp *jp)
{
	const char *k;
	size_t n;
	int r;
	if (jp_obj_begin(jp) < 0)
		return -1;
	while ((r = jp_obj_key(jp, &k, &n)) > 0) {
		if (keyis(k, n, "access_key_id"))
			r = json_string(c, jp, &c->access_key);
		else if (keyis(k, n, "secret_access_key"))
			r = json_string(c, jp, &c->secret_key);
		else if (keyis(k, n, "token"))
			r = json_string(c, jp, &c->token);
		else
			r = jp_skip(jp);
		if (r < 0)
			return -1;
	}
	return r;
}

static int parse_context_key(struct vcase *c, struct jp *jp, const char *k, size_t n)
{
	if (keyis(k, n, "credentials"))
		return parse_credentials(c, jp);
	if (keyis(k, n, "region"))
		return json_string(c, jp, &c->region);
	if (keyis(k, n, "service"))
		return json_string(c, jp, &c->service);
	if (keyis(k, n, "timestamp"))
		return json_string(c, jp, &c->timestamp);
	if (keyis(k, n, "expiration_in_seconds"))
		return jp_int(jp, &c->expires);
	if (keyis(k, n, "sign_body"))
		return jp_bool(jp, &c->sign_body);
	if (keyis(k, n, "omit_session_token"))
		return jp_bool(jp, &c->omit_token);
	if (keyis(k, n, "normalize"))
		return jp_bool(jp, &c->normalize);
	return jp_skip(jp);
}

static int parse_context(struct vcase *c, const char *text, size_t len)
{
	struct ja_err err = {0};
	struct jp jp;
	const char *k;
	size_t n;
	int r;
	jp_init(&jp, text, len, &err);
	r = jp_obj_begin(&jp);
	while (r >= 0 && (r = jp_obj_key(&jp, &k, &n)) > 0)
		r = parse_context_key(c, &jp, k, n);
	if (r == 0)
		r = jp_finish(&jp);
	jp_release(&jp);
	if (r < 0)
		printf("# context.json: %s\n", err.msg);
	if (!c->access_key || !c->secret_key || !c->region || !c->service || !c->timestamp)
		r = -1;
	return r;
}

/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" through Unix time, so the vectors also
 * check sigv4_amz_date. */
static int amz_date_of(const char *ts, char out[17])
{
	struct tm tm = {0};
	if (sscanf(ts, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	sigv4_amz_date((int64_t)timegm(&tm), out);
	return 0;
}

/* The Authorization value from a signed request ("Authorization:VALUE\n"). */
static char *authorization_of(const char *signed_request)
{
	const char *p = strstr(signed_request, "\nAuthorization:");
	if (!p)
		return xstrdup("(no Authorization header)");
	p += strlen("\nAuthorization:");
	return xstrndup(p, strcspn(p, "\n"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A query string as its decoded items, sorted, one per line: the suite's parameter order
 * and its choice of raw or encoded UTF-8 are not significant. */
static char *query_set(const char *q, size_t n)
{
	char *items[64];
	size_t ni = 0;
	const char *end = q + n;
	while (q < end && ni < 64) {
		const char *amp = memchr(q, '&', (size_t)(end - q)), *e = amp ? amp : end;
		items[ni++] = pct_decode(q, (size_t)(e - q));
		q = amp ? amp + 1 : end;
	}
	qsort(items, ni, sizeof(*items), cmp_str);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < ni; i++) {
		buf_adds(&b, items[i]);
		buf_addc(&b, '\n');
		free(items[i]);
	}
	return buf_detach(&b, NULL);
}

/* The query of the signed URL in query-signed-request.txt's request line. */
static char *expected_query_set(const char *signed_request)
{
	const char *q = strchr(signed_request, '?'), *eol = strchr(signed_request, '\n');
	if (!q || !eol || q > eol)
		return xstrdup("(no query)");
	const char *sp = eol;
	while (sp > q && *sp != ' ')
		sp--;
	return query_set(q + 1, (size_t)(sp - q - 1));
}

static void check_header_variant(const char *dir, struct vcase *c, const struct sigv4_key *k,
				 const char *body_hash)
{
	struct sigv4_header h[MAXH + 3];
	size_t n = c->nheaders;
	memcpy(h, c->headers, n * sizeof(*h));
	h[n++] = (struct sigv4_header){"X-Amz-Date", k->amz_date};
	if (c->sign_body)
		h[n++] = (struct sigv4_header){"x-amz-content-sha256", body_hash};
	if (c->token && !c->omit_token)
		h[n++] = (struct sigv4_header){"X-Amz-Security-Token", c->token};
	struct sigv4_request rq = {
	    .method = c->method,
	    .path = c->path,
	    .params = c->params,
	    .nparams = c->nparams,
	    .headers = h,
	    .nheaders = n,
	    .payload_hash = body_hash,
	    .normalize_path = c->normalize,
	};
	char sig[65], *cr = sigv4_canonical_request(&rq, NULL);
	char *sts = sigv4_string_to_sign(k, cr);
	sigv4_signature(k, sts, sig);
	check_file(dir, "header-canonical-request.txt", cr);
	check_file(dir, "header-string-to-sign.txt", sts);
	check_file(dir, "header-signature.txt", sig);

	struct buf sr = BUF_INIT;
	if (read_text(dir, "header-signed-request.txt", &sr) == 0) {
		char *want = authorization_of(sr.p), *got = sigv4_authorization(k, &rq);
		CHECK_STR(got, want);
		free(want);
		free(got);
	}
	buf_release(&sr);
	free(cr);
	free(sts);
}

/* The presigned variant signs only the request's own headers; a token added after
 * signing (omit_session_token) is appended to the URL unsigned. */
static void check_query_variant(const char *dir, struct vcase *c, const struct sigv4_key *k,
				const char *body_hash)
{
	struct sigv4_request rq = {
	    .method = c->method,
	    .path = c->path,
	    .params = c->params,
	    .nparams = c->nparams,
	    .headers = c->headers,
	    .nheaders = c->nheaders,
	    .payload_hash = body_hash,
	    .normalize_path = c->normalize,
	};
	const char *signed_token = c->token && !c->omit_token ? c->token : NULL;
	char sig[65], *cr, *q = sigv4_presign_query(k, &rq, c->expires, signed_token, &cr);
	char *sts = sigv4_string_to_sign(k, cr);
	sigv4_signature(k, sts, sig);
	check_file(dir, "query-canonical-request.txt", cr);
	check_file(dir, "query-string-to-sign.txt", sts);
	check_file(dir, "query-signature.txt", sig);

	struct buf url = BUF_INIT, sr = BUF_INIT;
	buf_adds(&url, q);
	if (c->token && c->omit_token) {
		buf_adds(&url, "&X-Amz-Security-Token=");
		sigv4_uri_encode(&url, c->token, strlen(c->token), 0);
	}
	if (read_text(dir, "query-signed-request.txt", &sr) == 0) {
		char *got = query_set(url.p, url.len), *want = expected_query_set(sr.p);
		CHECK_STR(got, want);
		CHECK(strstr(q, sig) != NULL);
		free(got);
		free(want);
	}
	buf_release(&url);
	buf_release(&sr);
	free(q);
	free(cr);
	free(sts);
}

static void run_case(const char *dir, int need_query)
{
	struct vcase c = {0};
	struct buf req = BUF_INIT, ctx = BUF_INIT;
	char amz[17], body_hash[65];
	if (read_text(dir, "request.txt", &req) < 0 || read_text(dir, "context.json", &ctx) < 0)
		goto out;
	if (parse_request(&c, req.p, req.len) < 0 || parse_context(&c, ctx.p, ctx.len) < 0 ||
	    amz_date_of(c.timestamp, amz) < 0) {
		printf("# %s: cannot parse the case\n", dir);
		unit_cur_failed = 1;
		goto out;
	}
	sigv4_sha256_hex(c.body, c.body_len, body_hash);
	struct sigv4_key k = {c.access_key, c.secret_key, c.region, c.service, amz};
	check_header_variant(dir, &c, &k, body_hash);
	if (need_query || exists(dir, "query-canonical-request.txt"))
		check_query_variant(dir, &c, &k, body_hash);
out:
	vcase_free(&c);
	buf_release(&req);
	buf_release(&ctx);
}

/* ---- the vector directories --------------------------------------------------------- */

static const char *vectors_dir(void)
{
	const char *e = getenv("JA_VECTORS");
	return e && *e ? e : "tests/vectors/sigv4";
}

/* Sorted case directory names of dir (caller frees); -1 if dir cannot be read. */
static long list_cases(const char *dir, char ***names)
{
	DIR *d = opendir(dir);
	size_t n = 0, cap = 0;
	struct dirent *e;
	*names = NULL;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct stat st;
		char *path = path_join(dir, e->d_name);
		int skip = e->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISDIR(st.st_mode);
		free(path);
		if (skip)
			continue;
		xgrow((void **)names, &cap, n + 1, sizeof(**names));
		(*names)[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(*names, n, sizeof(**names), cmp_str);
	return (long)n;
}

/* RUN for names known only at run time. */
static void tap_line(const char *sub, const char *name, int failed)
{
	printf("%sok %d - %s%s\n", failed ? "not " : "", ++unit_n, sub, name);
	unit_failed += failed;
	fflush(stdout);
}

/* One TAP line per case, named "v4/get-vanilla", so a failure names its case; a missing
 * directory or a wrong case count fails too. */
static void run_dir(const char *sub, long want, int need_query)
{
	char *dir = path_join(vectors_dir(), sub), **names, count[32];
	long n = list_cases(dir, &names);
	int bad = n <= 0 || (want && n != want);
	if (n < 0)
		printf("# cannot read %s (run from the repository root or set JA_VECTORS)\n", dir);
	else if (bad)
		printf("# %s: %ld cases, expected %ld\n", dir, n, want ? want : 1);
	snprintf(count, sizeof(count), ": %ld cases", n);
	tap_line(sub, count, bad);
	for (long i = 0; i < n; i++) {
		char *cdir = path_join(dir, names[i]), *name = path_join("", names[i]);
		unit_cur_failed = 0;
		run_case(cdir, need_query);
		tap_line(sub, name, unit_cur_failed);
		free(cdir);
		free(name);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* ---- targeted tests ----------------------------------------------------------------- */

TEST(sha256_hex)
{
	char h[65];
	sigv4_sha256_hex("", 0, h);
	CHECK_STR(h, SIGV4_EMPTY_SHA256);
	sigv4_sha256_hex("abc", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(uri_encode_classes)
{
	struct {
		const char *in;
		int keep_slash;
		const char *out;
	} t[] = {
	    {"", 0, ""},
	    {"a b", 1, "a%20b"},
	    {"/a/b/", 1, "/a/b/"},
	    {"/a/b/", 0, "%2Fa%2Fb%2F"},
	    {"-._~", 0, "-._~"},
	    {"AZaz09", 0, "AZaz09"},
	    {"\xe1\x88\xb4", 1, "%E1%88%B4"},
	    {"100%", 1, "100%25"},
	    {"%2F", 1, "%252F"},
	    {"a+b=c&d", 0, "a%2Bb%3Dc%26d"},
	    {"!*'();:@$,?#[]", 0, "%21%2A%27%28%29%3B%3A%40%24%2C%3F%23%5B%5D"},
	    {"\t\n\x7f", 0, "%09%0A%7F"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = encode(t[i].in, t[i].keep_slash);
		CHECK_STR(got, t[i].out);
		free(got);
	}
}

/* Every byte value, including NUL: unreserved bytes pass, all others become %XX. */
TEST(uri_encode_every_byte)
{
	static const char keep[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
	for (int c = 0; c < 256; c++) {
		char in = (char)c, want[4];
		struct buf b = BUF_INIT;
		sigv4_uri_encode(&b, &in, 1, 0);
		if (c && strchr(keep, c))
			snprintf(want, sizeof(want), "%c", c);
		else
			snprintf(want, sizeof(want), "%%%02X", c);
		if (strcmp(b.p, want))
			printf("# byte 0x%02x -> '%s', want '%s'\n", c, b.p, want);
		CHECK(!strcmp(b.p, want));
		buf_release(&b);
	}
}

TEST(amz_date)
{
	struct {
		int64_t t;
		const char *s;
	} t[] = {
	    {0, "19700101T000000Z"},
	    {-1, "19691231T235959Z"},
	    {1440938160, "20150830T123600Z"},
	    {1369353600, "20130524T000000Z"},
	    {951782400, "20000229T000000Z"},  /* leap day of a century divisible by 400 */
	    {951868800, "20000301T000000Z"},  /* the day after */
	    {1456790399, "20160229T235959Z"}, /* last second of a leap day */
	    {4107456000, "21000228T000000Z"}, /* 2100 is not a leap year... */
	    {4107542400, "21000301T000000Z"}, /* ...so March follows February 28 */
	    {2147483647, "20380119T031407Z"},
	    {2147483648, "20380119T031408Z"}, /* past 32-bit time_t */
	    {4102444800, "21000101T000000Z"},
	    {253402300799, "99991231T235959Z"},
	    {253402300800, "99991231T235959Z"}, /* clamped: four year digits */
	    {INT64_MAX, "99991231T235959Z"},
	    {INT64_MIN, "00000101T000000Z"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[17];
		sigv4_amz_date(t[i].t, out);
		CHECK_STR(out, t[i].s);
	}
}

/* The arithmetic agrees with libc over four centuries, at an odd stride to hit every
 * time of day and day of month. */
TEST(amz_date_matches_gmtime)
{
	int bad = 0;
	for (int64_t t = -2208988800LL; t < 10413792000LL && bad < 5; t += 86400 * 7 + 3607) {
		time_t tt = (time_t)t;
		struct tm tm;
		char want[32], got[17];
		gmtime_r(&tt, &tm);
		strftime(want, sizeof(want), "%Y%m%dT%H%M%SZ", &tm);
		sigv4_amz_date(t, got);
		if (strcmp(got, want)) {
			printf("# %lld: %s, want %s\n", (long long)t, got, want);
			bad++;
		}
	}
	CHECK(bad == 0);
}

static char *canonical_uri(const char *path, int normalize)
{
	struct sigv4_header h = {"Host", "b.s3.amazonaws.com"};
	struct sigv4_request rq = {.method = "GET",
				   .path = path,
				   .headers = &h,
				   .nheaders = 1,
				   .payload_hash = SIGV4_UNSIGNED_PAYLOAD,
				   .normalize_path = normalize};
	char *cr = sigv4_canonical_request(&rq, NULL);
	char *nl = strchr(cr, '\n'), *uri = xstrndup(nl + 1, strcspn(nl + 1, "\n"));
	free(cr);
	return uri;
}

/* S3 keys may contain "//", "." and "..": the signed path must be the key as sent. */
TEST(s3_path_kept)
{
	struct {
		const char *path;
		int normalize;
		const char *uri;
	} t[] = {
	    {"/bucket/a//b/../c/./d", 0, "/bucket/a//b/../c/./d"},
	    {"/bucket/a//b/../c/./d", 1, "/bucket/a/c/d"},
	    {"/bucket/dir/", 0, "/bucket/dir/"},
	    {"/bucket/dir/", 1, "/bucket/dir/"},
	    {"/bucket/a b+c%d\xc3\xa9", 0, "/bucket/a%20b%2Bc%25d%C3%A9"},
	    {"/bucket/x/..", 0, "/bucket/x/.."},
	    {"/..", 1, "/"},
	    {"/a/b/../../..", 1, "/"},
	    {"", 0, "/"},
	    {"", 1, "/"},
	    {NULL, 0, "/"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *uri = canonical_uri(t[i].path, t[i].normalize);
		CHECK_STR(uri, t[i].uri);
		free(uri);
	}
}

/* Sorted by encoded name, then encoded value; a missing value signs as "n=". */
TEST(query_sort_duplicates)
{
	struct sigv4_param p[] = {
	    {"b", "2"}, {"a", "z"}, {"a", "y"}, {"a", ""}, {"c", NULL}, {"x y", "1/2"}, {"*", "1"},
	};
	struct sigv4_header h = {"host", "example.com"};
	struct sigv4_request rq = {.method = "GET",
				   .path = "/",
				   .params = p,
				   .nparams = sizeof(p) / sizeof(p[0]),
				   .headers = &h,
				   .nheaders = 1,
				   .payload_hash = SIGV4_EMPTY_SHA256};
	char *names, *cr = sigv4_canonical_request(&rq, &names);
	CHECK_STR(
	    cr,
	    "GET\n/"
	    "\n%2A=1&a=&a=y&a=z&b=2&c=&x%20y=1%2F2\nhost:example.com\n\nhost\n" SIGV4_EMPTY_SHA256);
	CHECK_STR(names, "host");
	free(cr);
	free(names);
}

/* Names fold to lower case and sort; duplicates join in request order; tabs and
 * spaces trim and collapse; an empty value stays an empty line item. */
TEST(header_canonicalisation)
{
	struct sigv4_header h[] = {
	    {"X-B", "\t two\t\tparts  "}, {"Host", "h"}, {"x-a", "1"}, {"X-A", " 2 "}, {"x-e", ""},
	};
	struct sigv4_request rq = {.method = "PUT",
				   .path = "/k",
				   .headers = h,
				   .nheaders = sizeof(h) / sizeof(h[0]),
				   .payload_hash = SIGV4_UNSIGNED_PAYLOAD};
	char *names, *cr = sigv4_canonical_request(&rq, &names);
	CHECK_STR(cr, "PUT\n/k\n\nhost:h\nx-a:1,2\nx-b:two parts\nx-e:\n\nhost;x-a;x-b;x-e\n"
		      "UNSIGNED-PAYLOAD");
	CHECK_STR(names, "host;x-a;x-b;x-e");
	free(cr);
	free(names);
}

TEST(secret_changes_signature)
{
	struct sigv4_header h[] = {{"Host", "b.s3.amazonaws.com"},
				   {"x-amz-date", "20240101T000000Z"}};
	struct sigv4_request rq = {.method = "GET",
				   .path = "/key",
				   .headers = h,
				   .nheaders = 2,
				   .payload_hash = SIGV4_UNSIGNED_PAYLOAD};
	char secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	struct sigv4_key k = {"AKIAIOSFODNN7EXAMPLE", secret, "us-east-1", "s3",
			      "20240101T000000Z"};
	char *a1 = sigv4_authorization(&k, &rq), *a2 = sigv4_authorization(&k, &rq);
	CHECK_STR(a1, a2); /* deterministic */
	secret[sizeof(secret) - 2] ^= 1;
	char *a3 = sigv4_authorization(&k, &rq);
	CHECK(strcmp(a1, a3) != 0);
	/* Only the signature differs: the credential carries no secret. */
	CHECK(!strncmp(a1, a3, strlen(a1) - 64));
	k.region = "us-west-2";
	char *a4 = sigv4_authorization(&k, &rq);
	CHECK(strstr(a4, "/20240101/us-west-2/s3/aws4_request, ") != NULL);
	free(a1);
	free(a2);
	free(a3);
	free(a4);
}

int main(void)
{
	RUN(sha256_hex);
	RUN(uri_encode_classes);
	RUN(uri_encode_every_byte);
	RUN(amz_date);
	RUN(amz_date_matches_gmtime);
	RUN(s3_path_kept);
	RUN(query_sort_duplicates);
	RUN(header_canonicalisation);
	RUN(secret_changes_signature);
	run_dir("v4", V4_CASES, 1);
	run_dir("extra", 0, 0);
	return unit_done();
}
