/* sigv4.c - AWS Signature Version 4: canonical request, string to sign, signature.
 *
 * Each step is a small pure function so the AWS test suite can check every
 * intermediate string byte for byte (tests/unit/sigv4_test.c).
 */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCOPE_TERM "aws4_request"

static void hex_lower(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* libcrypto fails here only when it cannot allocate: treat it like any other OOM. */
static void crypto_failed(void)
{
	xmalloc(SIZE_MAX); /* does not return: out of memory is fatal (util.h) */
}

void sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) || len != 32)
		crypto_failed();
	hex_lower(md, 32, out);
}

static void hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
			unsigned char out[32])
{
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), key, (int)klen, p, n, out, &len) || len != 32)
		crypto_failed();
}

/* --- encoding ------------------------------------------------------------ */

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

void sigv4_uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			buf_addc(b, (char)c);
		} else {
			char e[3] = {'%', digits[c >> 4], digits[c & 15]};
			buf_add(b, e, 3);
		}
	}
}

/* --- canonical URI --------------------------------------------------------- */

struct seg {
	const char *p;
	size_t n;
};

/* Generic services sign the path with dot segments resolved and empty segments
 * dropped; a trailing '/' of the input survives so "/dir/" and "/dir" stay distinct. */
static void append_normalized_path(struct buf *b, const char *path)
{
	size_t len = strlen(path), nseg = 0, cap = 1;
	for (size_t i = 0; i < len; i++)
		cap += path[i] == '/';
	struct seg *segs = xcalloc(cap, sizeof(*segs));
	for (const char *p = path; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && !memcmp(p, "..", 2)) {
			nseg -= nseg > 0;
		} else if (n && !(n == 1 && *p == '.')) {
			segs[nseg].p = p;
			segs[nseg++].n = n;
		}
		p += n + (e != NULL);
	}
	for (size_t i = 0; i < nseg; i++) {
		buf_addc(b, '/');
		sigv4_uri_encode(b, segs[i].p, segs[i].n, 0);
	}
	if (!nseg || path[len - 1] == '/')
		buf_addc(b, '/');
	free(segs);
}

static void append_canonical_uri(struct buf *b, const struct sigv4_request *rq)
{
	const char *path = rq->path ? rq->path : "";
	if (!*path)
		buf_addc(b, '/');
	else if (rq->normalize_path)
		append_normalized_path(b, path);
	else
		sigv4_uri_encode(b, path, strlen(path), 1);
}

/* --- canonical query ------------------------------------------------------- */

struct qent {
	char *name, *value; /* percent-encoded */
};

static int qent_cmp(const void *a, const void *b)
{
	const struct qent *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *encode_str(const char *s)
{
	struct buf b = BUF_INIT;
	if (s)
		sigv4_uri_encode(&b, s, strlen(s), 0);
	return buf_detach(&b, NULL);
}

/* Sorting happens on the encoded forms because that is what the server sees:
 * "%E1%88%B4" sorts before "Param" although the raw UTF-8 would not. */
static void append_canonical_query(struct buf *b, const struct sigv4_param *params, size_t n)
{
	if (!n)
		return;
	struct qent *q = xcalloc(n, sizeof(*q));
	for (size_t i = 0; i < n; i++) {
		q[i].name = encode_str(params[i].name);
		q[i].value = encode_str(params[i].value);
	}
	qsort(q, n, sizeof(*q), qent_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, '&');
		buf_adds(b, q[i].name);
		buf_addc(b, '=');
		buf_adds(b, q[i].value);
		free(q[i].name);
		free(q[i].value);
	}
	free(q);
}

/* --- canonical headers ----------------------------------------------------- */

struct hent {
	char *name; /* lower-cased copy */
	const char *value;
	size_t order; /* keeps duplicates in request order: qsort is not stable */
};

static int hent_cmp(const void *a, const void *b)
{
	const struct hent *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Proxies may re-fold whitespace, so the signature covers the value with leading
 * and trailing whitespace dropped and inner runs reduced to one space. */
static void append_trimmed(struct buf *b, const char *v)
{
	int gap = 0, started = 0;
	for (; v && *v; v++) {
		if (is_ows(*v)) {
			gap = 1;
			continue;
		}
		if (gap && started)
			buf_addc(b, ' ');
		buf_addc(b, *v);
		gap = 0;
		started = 1;
	}
}

/* lines gets "name:v1,v2\n" per distinct name, names gets "a;b;c". */
static void canonical_headers(const struct sigv4_request *rq, struct buf *lines, struct buf *names)
{
	size_t n = rq->nheaders;
	struct hent *h = xcalloc(n ? n : 1, sizeof(*h));
	for (size_t i = 0; i < n; i++) {
		h[i].name = xstrdup(rq->headers[i].name);
		for (char *c = h[i].name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		h[i].value = rq->headers[i].value;
		h[i].order = i;
	}
	qsort(h, n, sizeof(*h), hent_cmp);
	for (size_t i = 0; i < n; i++) {
		int first = i == 0 || strcmp(h[i].name, h[i - 1].name);
		if (first) {
			if (i) {
				buf_addc(lines, '\n');
				buf_addc(names, ';');
			}
			buf_adds(names, h[i].name);
			buf_adds(lines, h[i].name);
			buf_addc(lines, ':');
		} else {
			buf_addc(lines, ',');
		}
		append_trimmed(lines, h[i].value);
	}
	if (n)
		buf_addc(lines, '\n');
	for (size_t i = 0; i < n; i++)
		free(h[i].name);
	free(h);
}

/* --- canonical request ----------------------------------------------------- */

static char *assemble_canonical(const struct sigv4_request *rq, const struct sigv4_param *params,
				size_t nparams, const struct buf *lines, const char *names)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, rq->method);
	buf_addc(&b, '\n');
	append_canonical_uri(&b, rq);
	buf_addc(&b, '\n');
	append_canonical_query(&b, params, nparams);
	buf_addc(&b, '\n');
	buf_add(&b, lines->p, lines->len);
	buf_addc(&b, '\n');
	buf_adds(&b, names);
	buf_addc(&b, '\n');
	buf_adds(&b, rq->payload_hash ? rq->payload_hash : SIGV4_EMPTY_SHA256);
	return buf_detach(&b, NULL);
}

char *sigv4_canonical_request(const struct sigv4_request *rq, char **signed_headers)
{
	struct buf lines = BUF_INIT, names = BUF_INIT;
	canonical_headers(rq, &lines, &names);
	char *cr = assemble_canonical(rq, rq->params, rq->nparams, &lines, names.p);
	buf_release(&lines);
	if (signed_headers)
		*signed_headers = buf_detach(&names, NULL);
	buf_release(&names);
	return cr;
}

/* --- string to sign and signature ------------------------------------------ */

/* "DATE/REGION/SERVICE/aws4_request"; the date is the first 8 characters of amz_date. */
static void append_scope(struct buf *b, const struct sigv4_key *k)
{
	size_t dlen = strnlen(k->amz_date, 8);
	buf_add(b, k->amz_date, dlen);
	buf_addf(b, "/%s/%s/" SCOPE_TERM, k->region, k->service);
}

char *sigv4_string_to_sign(const struct sigv4_key *k, const char *canonical_request)
{
	char hex[65];
	struct buf b = BUF_INIT;
	sigv4_sha256_hex(canonical_request, strlen(canonical_request), hex);
	buf_adds(&b, SIGV4_ALGORITHM "\n");
	buf_adds(&b, k->amz_date);
	buf_addc(&b, '\n');
	append_scope(&b, k);
	buf_addc(&b, '\n');
	buf_adds(&b, hex);
	return buf_detach(&b, NULL);
}

/* Each step's key is the previous step's MAC, so a key is only ever good for
 * one day, region and service. */
static void signing_key(const struct sigv4_key *k, unsigned char key[32])
{
	struct buf secret = BUF_INIT;
	buf_adds(&secret, "AWS4");
	buf_adds(&secret, k->secret_key);
	hmac_sha256(secret.p, secret.len, k->amz_date, strnlen(k->amz_date, 8), key);
	OPENSSL_cleanse(secret.p, secret.len);
	buf_release(&secret);
	hmac_sha256(key, 32, k->region, strlen(k->region), key);
	hmac_sha256(key, 32, k->service, strlen(k->service), key);
	hmac_sha256(key, 32, SCOPE_TERM, strlen(SCOPE_TERM), key);
}

void sigv4_signature(const struct sigv4_key *k, const char *string_to_sign, char out[65])
{
	unsigned char key[32], mac[32];
	signing_key(k, key);
	hmac_sha256(key, 32, string_to_sign, strlen(string_to_sign), mac);
	OPENSSL_cleanse(key, sizeof(key));
	hex_lower(mac, 32, out);
}

/* Signature of a canonical request (freed here). */
static void sign_canonical(const struct sigv4_key *k, char *canonical, char sig[65])
{
	char *sts = sigv4_string_to_sign(k, canonical);
	sigv4_signature(k, sts, sig);
	free(sts);
	free(canonical);
}

char *sigv4_authorization(const struct sigv4_key *k, const struct sigv4_request *rq)
{
	char *names, sig[65];
	sign_canonical(k, sigv4_canonical_request(rq, &names), sig);
	struct buf b = BUF_INIT;
	buf_adds(&b, SIGV4_ALGORITHM " Credential=");
	buf_adds(&b, k->access_key);
	buf_addc(&b, '/');
	append_scope(&b, k);
	buf_addf(&b, ", SignedHeaders=%s, Signature=%s", names, sig);
	free(names);
	return buf_detach(&b, NULL);
}

/* --- presigned URLs -------------------------------------------------------- */

char *sigv4_presign_query(const struct sigv4_key *k, const struct sigv4_request *rq,
			  int64_t expires, const char *session_token, char **canonical)
{
	struct buf lines = BUF_INIT, names = BUF_INIT, cred = BUF_INIT, q = BUF_INIT;
	char exp[24], sig[65];
	canonical_headers(rq, &lines, &names);
	buf_adds(&cred, k->access_key);
	buf_addc(&cred, '/');
	append_scope(&cred, k);
	snprintf(exp, sizeof(exp), "%lld", (long long)expires);

	size_t n = rq->nparams;
	struct sigv4_param *p = xcalloc(n + 6, sizeof(*p));
	if (n)
		memcpy(p, rq->params, n * sizeof(*p));
	p[n++] = (struct sigv4_param){"X-Amz-Algorithm", SIGV4_ALGORITHM};
	p[n++] = (struct sigv4_param){"X-Amz-Credential", cred.p};
	p[n++] = (struct sigv4_param){"X-Amz-Date", k->amz_date};
	p[n++] = (struct sigv4_param){"X-Amz-Expires", exp};
	if (session_token)
		p[n++] = (struct sigv4_param){"X-Amz-Security-Token", session_token};
	p[n++] = (struct sigv4_param){"X-Amz-SignedHeaders", names.p};

	char *cr = assemble_canonical(rq, p, n, &lines, names.p);
	if (canonical)
		*canonical = xstrdup(cr);
	sign_canonical(k, cr, sig);
	append_canonical_query(&q, p, n);
	buf_adds(&q, "&X-Amz-Signature=");
	buf_adds(&q, sig);
	free(p);
	buf_release(&lines);
	buf_release(&names);
	buf_release(&cred);
	return buf_detach(&q, NULL);
}

/* --- dates ----------------------------------------------------------------- */

/* Proleptic Gregorian date of a day count from 1970-01-01, computed over 400-year
 * eras (146097 days each) so leap years need no table and no libc time zone. */
static void civil_date(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468; /* days since 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153; /* month counted from March */
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put_digits(char *out, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
}

/* The format has room for four year digits only, hence the clamp. */
#define AMZ_MIN_TIME (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define AMZ_MAX_TIME 253402300799LL   /* 9999-12-31T23:59:59Z */

void sigv4_amz_date(int64_t t, char out[17])
{
	if (t < AMZ_MIN_TIME)
		t = AMZ_MIN_TIME;
	if (t > AMZ_MAX_TIME)
		t = AMZ_MAX_TIME;
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int y, m, d;
	civil_date(days, &y, &m, &d);
	put_digits(out, y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, (int)(secs / 3600), 2);
	put_digits(out + 11, (int)(secs / 60 % 60), 2);
	put_digits(out + 13, (int)(secs % 60), 2);
	out[15] = 'Z';
	out[16] = 0;
}
