/* xml.c - readers for the S3 XML documents ja receives, and the one it sends.
 *
 * One streaming expat pass serves every document: a small stack of known element
 * names (anything else is T_OTHER) decides which text is taken, so a <Key> under
 * <Owner>, or a <Prefix> directly under <ListBucketResult>, is never mistaken for
 * the one we want.  Names are compared without their prefix: S3 declares its
 * namespace as the default one, others may bind a prefix, and the namespace URI
 * itself tells us nothing.  (expat's namespace mode would refuse a URI holding its
 * separator character, so the plain mode is the more forgiving one.)
 */
#include "s3/xml.h"
#include "core/buf.h"

#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok {
	T_OTHER,
	T_ERROR,
	T_CODE,
	T_MESSAGE,
	T_REQUEST_ID,
	T_REGION,
	T_ENDPOINT,
	T_BUCKET_NAME,
	T_BUCKET,
	T_KEY,
	T_LIST,
	T_CONTENTS,
	T_SIZE,
	T_ETAG,
	T_LAST_MODIFIED,
	T_COMMON_PREFIXES,
	T_PREFIX,
	T_IS_TRUNCATED,
	T_NEXT_TOKEN,
	T_INITIATE,
	T_UPLOAD_ID,
	T_COMPLETE,
	T_COUNT
};

static const char *const tok_names[T_COUNT] = {
    [T_ERROR] = "Error",
    [T_CODE] = "Code",
    [T_MESSAGE] = "Message",
    [T_REQUEST_ID] = "RequestId",
    [T_REGION] = "Region",
    [T_ENDPOINT] = "Endpoint",
    [T_BUCKET_NAME] = "BucketName",
    [T_BUCKET] = "Bucket",
    [T_KEY] = "Key",
    [T_LIST] = "ListBucketResult",
    [T_CONTENTS] = "Contents",
    [T_SIZE] = "Size",
    [T_ETAG] = "ETag",
    [T_LAST_MODIFIED] = "LastModified",
    [T_COMMON_PREFIXES] = "CommonPrefixes",
    [T_PREFIX] = "Prefix",
    [T_IS_TRUNCATED] = "IsTruncated",
    [T_NEXT_TOKEN] = "NextContinuationToken",
    [T_INITIATE] = "InitiateMultipartUploadResult",
    [T_UPLOAD_ID] = "UploadId",
    [T_COMPLETE] = "CompleteMultipartUploadResult",
};

struct level {
	enum tok tok;
	uint32_t seen; /* text fields already met among this element's children */
};

struct xp {
	XML_Parser p;
	const char *what; /* names the document in messages */
	struct ja_err *err;
	int failed;
	enum tok want; /* the root we parse for; an <Error> root is always accepted */
	enum tok root;
	int depth;
	struct level st[XML_MAX_DEPTH + 1]; /* st[1] is the root */
	enum tok field;			    /* text field being collected, T_OTHER when none */
	struct buf text;
	struct s3_error_info ei;
	struct s3_list_page *pg;
	size_t objcap, prefcap;
	struct s3_object cur;
	char *value; /* UploadId or ETag */
};

/* A hostile name or value made fit for a one-line message. */
static const char *clean(char *dst, size_t cap, const char *s)
{
	size_t i;
	for (i = 0; s[i] && i + 1 < cap; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	dst[i] = 0;
	return dst;
}

static int fail(struct xp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct xp *x, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	if (x->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(x->err, EXIT_FAIL, "%s: %s", x->what, msg);
	x->failed = 1;
	if (x->p)
		XML_StopParser(x->p, XML_FALSE);
	return -1;
}

static enum tok tok_of(const XML_Char *name)
{
	const char *local = strrchr(name, ':');
	local = local ? local + 1 : name;
	for (int t = 1; t < T_COUNT; t++)
		if (!strcmp(local, tok_names[t]))
			return (enum tok)t;
	return T_OTHER;
}

/* Is t, just opened at x->depth, a text field of the document being read? */
static int is_field(const struct xp *x, enum tok t)
{
	enum tok parent = x->st[x->depth - 1].tok;
	if (x->depth == 2) {
		switch (x->root) {
		case T_ERROR:
			return t >= T_CODE && t <= T_KEY;
		case T_LIST:
			return t == T_IS_TRUNCATED || t == T_NEXT_TOKEN;
		case T_INITIATE:
			return t == T_UPLOAD_ID;
		case T_COMPLETE:
			return t == T_ETAG;
		default:
			return 0;
		}
	}
	if (x->depth == 3 && x->root == T_LIST && parent == T_CONTENTS)
		return t == T_KEY || t == T_SIZE || t == T_ETAG || t == T_LAST_MODIFIED;
	if (x->depth == 3 && x->root == T_LIST && parent == T_COMMON_PREFIXES)
		return t == T_PREFIX;
	return 0;
}

static int open_root(struct xp *x, enum tok t, const XML_Char *name)
{
	char nm[80];
	x->root = t;
	if (t != x->want && t != T_ERROR)
		return fail(x, "root element is %s, not %s", clean(nm, sizeof(nm), name),
			    tok_names[x->want]);
	return 0;
}

static int open_contents(struct xp *x)
{
	if (x->pg->nobjs + x->pg->nprefixes >= XML_MAX_OBJECTS)
		return fail(x, "more than %u objects and prefixes", XML_MAX_OBJECTS);
	memset(&x->cur, 0, sizeof(x->cur));
	return 0;
}

static int start(struct xp *x, const XML_Char *name)
{
	enum tok t;
	if (x->field)
		return fail(x, "unexpected element inside %s", tok_names[x->field]);
	if (x->depth == XML_MAX_DEPTH)
		return fail(x, "elements nested deeper than %d", XML_MAX_DEPTH);
	t = tok_of(name);
	x->depth++;
	x->st[x->depth].tok = t;
	x->st[x->depth].seen = 0;
	if (x->depth == 1)
		return open_root(x, t, name);
	if (is_field(x, t)) {
		uint32_t bit = UINT32_C(1) << t;
		if (x->st[x->depth - 1].seen & bit)
			return fail(x, "duplicate %s in %s", tok_names[t],
				    tok_names[x->st[x->depth - 1].tok]);
		x->st[x->depth - 1].seen |= bit;
		x->field = t;
		buf_reset(&x->text);
	} else if (x->depth == 2 && x->root == T_LIST && t == T_CONTENTS) {
		return open_contents(x);
	}
	return 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xp *x = ud;
	if (!x->failed)
		start(x, name);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xp *x = ud;
	if (x->failed || !x->field)
		return;
	if (buf_add(&x->text, s, (size_t)len) < 0)
		fail(x, "%s is longer than %d bytes", tok_names[x->field], XML_MAX_TEXT);
}

/* Copy s into a fixed field, cut on a UTF-8 character boundary. */
static int copy_field(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

static int error_field(struct s3_error_info *ei, enum tok t, const char *s)
{
	switch (t) {
	case T_CODE:
		return copy_field(ei->code, sizeof(ei->code), s);
	case T_MESSAGE:
		return copy_field(ei->message, sizeof(ei->message), s);
	case T_REQUEST_ID:
		return copy_field(ei->request_id, sizeof(ei->request_id), s);
	case T_REGION:
		return copy_field(ei->region, sizeof(ei->region), s);
	case T_ENDPOINT:
		return copy_field(ei->endpoint, sizeof(ei->endpoint), s);
	case T_BUCKET_NAME: /* NoSuchBucket and most others */
	case T_BUCKET:	    /* PermanentRedirect */
		return copy_field(ei->bucket, sizeof(ei->bucket), s);
	case T_KEY:
		return copy_field(ei->key, sizeof(ei->key), s);
	default:
		return 0;
	}
}

/* s without the XML whitespace around it, in place. */
static char *trim(char *s)
{
	size_t n;
	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	if (s[n]) /* never write to an empty text, which may be the shared "" */
		s[n] = 0;
	return s;
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d = (unsigned char)*s - '0';
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int list_field(struct xp *x, enum tok t, char *s)
{
	struct s3_list_page *pg = x->pg;
	if (t == T_IS_TRUNCATED) {
		s = trim(s);
		if (strcmp(s, "true") && strcmp(s, "false"))
			return fail(x, "IsTruncated is neither true nor false");
		pg->truncated = !strcmp(s, "true");
	} else if (t == T_NEXT_TOKEN) {
		pg->next_token = xstrdup(s);
	} else if (t == T_PREFIX) {
		if (pg->nobjs + pg->nprefixes >= XML_MAX_OBJECTS)
			return fail(x, "more than %u objects and prefixes", XML_MAX_OBJECTS);
		xgrow((void **)&pg->prefixes, &x->prefcap, pg->nprefixes + 1, sizeof(char *));
		pg->prefixes[pg->nprefixes++] = xstrdup(s);
	} else if (t == T_KEY) {
		if (!*s)
			return fail(x, "empty Key");
		x->cur.key = xstrdup(s);
	} else if (t == T_SIZE) {
		if (parse_u64(trim(s), &x->cur.size) < 0)
			return fail(x, "Size is not a number");
	} else if (t == T_ETAG) {
		x->cur.etag = xstrdup(s);
	} else if (t == T_LAST_MODIFIED) {
		x->cur.last_modified = xstrdup(s);
	}
	return 0;
}

static int close_field(struct xp *x)
{
	enum tok t = x->field;
	x->field = T_OTHER;
	switch (x->root) {
	case T_ERROR:
		return error_field(&x->ei, t, x->text.p);
	case T_LIST:
		return list_field(x, t, x->text.p);
	default: /* UploadId or ETag */
		x->value = xstrdup(x->text.p);
		return 0;
	}
}

static int close_contents(struct xp *x)
{
	struct s3_list_page *pg = x->pg;
	uint32_t seen = x->st[x->depth].seen;
	if (!(seen & UINT32_C(1) << T_KEY))
		return fail(x, "Contents without Key");
	if (!(seen & UINT32_C(1) << T_SIZE))
		return fail(x, "Contents without Size");
	/* Absent ETag / LastModified read as "" so that callers never meet NULL. */
	if (!x->cur.etag)
		x->cur.etag = xstrdup("");
	if (!x->cur.last_modified)
		x->cur.last_modified = xstrdup("");
	xgrow((void **)&pg->objs, &x->objcap, pg->nobjs + 1, sizeof(*pg->objs));
	pg->objs[pg->nobjs++] = x->cur;
	memset(&x->cur, 0, sizeof(x->cur));
	return 0;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xp *x = ud;
	if (x->failed)
		return;
	if (x->field) {
		close_field(x);
	} else if (x->depth == 2 && x->root == T_LIST) {
		if (x->st[2].tok == T_CONTENTS)
			close_contents(x);
		else if (x->st[2].tok == T_COMMON_PREFIXES &&
			 !(x->st[2].seen & UINT32_C(1) << T_PREFIX))
			fail(x, "CommonPrefixes without Prefix");
	}
	x->depth--;
}

/* A DTD is the door to entity expansion (billion laughs) and external fetches;
 * S3 never sends one, so its mere start ends the parse. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	fail(ud, "document type declarations are not accepted");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
			      int value_len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	fail(ud, "entity declarations are not accepted");
}

/* expat allocates through the x* allocators, so running out of memory is fatal as
 * everywhere else instead of a parse error. */
static const XML_Memory_Handling_Suite xml_mem = {xmalloc, xrealloc, free};

static int run(struct xp *x, const char *p, size_t n)
{
	if (n == 0)
		return fail(x, "empty document");
	if (n > XML_MAX_DOC)
		return fail(x, "document is larger than %u bytes", XML_MAX_DOC);
	x->p = XML_ParserCreate_MM(NULL, &xml_mem, NULL);
	if (!x->p)
		return fail(x, "cannot create an XML parser");
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	XML_SetEntityDeclHandler(x->p, on_entity);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(x->p, p, (int)n, XML_TRUE) != XML_STATUS_OK && !x->failed) {
		enum XML_Error e = XML_GetErrorCode(x->p);
		unsigned long line = XML_GetCurrentLineNumber(x->p);
		unsigned long col = XML_GetCurrentColumnNumber(x->p);
		fail(x, "%s at line %lu, column %lu", XML_ErrorString(e), line, col);
	}
	XML_ParserFree(x->p);
	x->p = NULL;
	return x->failed ? -1 : 0;
}

static void xp_init(struct xp *x, const char *what, enum tok want, struct ja_err *err)
{
	memset(x, 0, sizeof(*x));
	x->what = what;
	x->want = want;
	x->err = err;
	buf_init(&x->text, XML_MAX_TEXT);
}

static void xp_release(struct xp *x)
{
	buf_release(&x->text);
	free(x->cur.key);
	free(x->cur.etag);
	free(x->cur.last_modified);
	free(x->value);
}

/* After a parse of a document that should have been want: an <Error> root is a
 * failure that names S3's own code and message. */
static int error_root(struct xp *x)
{
	char code[sizeof(x->ei.code)], msg[sizeof(x->ei.message)];
	if (x->root != T_ERROR)
		return 0;
	if (!x->ei.code[0])
		fail(x, "an Error document without Code");
	else
		fail(x, "S3 error %s: %s", clean(code, sizeof(code), x->ei.code),
		     clean(msg, sizeof(msg), x->ei.message));
	return -1;
}

int xml_parse_error(const char *p, size_t n, struct s3_error_info *out)
{
	struct xp x;
	struct ja_err err;
	xp_init(&x, "S3 error response", T_ERROR, &err);
	run(&x, p, n);
	if (!x.failed && x.ei.code[0])
		*out = x.ei;
	else
		memset(out, 0, sizeof(*out));
	xp_release(&x);
	return out->code[0] ? 0 : -1;
}

int xml_parse_list(const char *p, size_t n, struct s3_list_page *out, struct ja_err *err)
{
	struct xp x;
	memset(out, 0, sizeof(*out));
	xp_init(&x, "S3 list response", T_LIST, err);
	x.pg = out;
	run(&x, p, n);
	if (!x.failed && !error_root(&x) && out->truncated &&
	    (!out->next_token || !*out->next_token))
		fail(&x, "IsTruncated is true but NextContinuationToken is missing");
	xp_release(&x);
	if (x.failed) {
		s3_list_page_release(out);
		return -1;
	}
	return 0;
}

void s3_list_page_release(struct s3_list_page *pg)
{
	for (size_t i = 0; i < pg->nobjs; i++) {
		free(pg->objs[i].key);
		free(pg->objs[i].etag);
		free(pg->objs[i].last_modified);
	}
	for (size_t i = 0; i < pg->nprefixes; i++)
		free(pg->prefixes[i]);
	free(pg->objs);
	free(pg->prefixes);
	free(pg->next_token);
	memset(pg, 0, sizeof(*pg));
}

int xml_parse_initiate(const char *p, size_t n, char **upload_id, struct ja_err *err)
{
	struct xp x;
	*upload_id = NULL;
	xp_init(&x, "S3 InitiateMultipartUpload response", T_INITIATE, err);
	run(&x, p, n);
	if (!x.failed && !error_root(&x) && (!x.value || !*x.value))
		fail(&x, "no UploadId");
	if (!x.failed) {
		*upload_id = x.value;
		x.value = NULL;
	}
	xp_release(&x);
	return x.failed ? -1 : 0;
}

int xml_parse_complete(const char *p, size_t n, char **etag, struct s3_error_info *ei,
		       struct ja_err *err)
{
	struct xp x;
	int rc = 0;
	*etag = NULL;
	if (ei)
		memset(ei, 0, sizeof(*ei));
	xp_init(&x, "S3 CompleteMultipartUpload response", T_COMPLETE, err);
	run(&x, p, n);
	if (!x.failed && x.root == T_ERROR) {
		if (!x.ei.code[0])
			fail(&x, "an Error document without Code");
		else if (ei)
			*ei = x.ei;
		rc = 1;
	} else if (!x.failed) {
		*etag = x.value;
		x.value = NULL;
	}
	xp_release(&x);
	return x.failed ? -1 : rc;
}

/* Length of the UTF-8 sequence at s if it encodes a character XML 1.0 can carry
 * (and that is not a control character handled by the caller), else 0. */
static size_t xml_char_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;
	if (s[0] < 0x80)
		return s[0] >= 0x20;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	/* The NUL terminator fails this test, so we never read past it. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0; /* overlong or beyond Unicode */
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
		return 0; /* not an XML Char */
	return n;
}

/* ETags come from response headers, which we do not trust either: whatever XML
 * cannot carry becomes U+FFFD so that the body stays well-formed and S3, not a
 * parse error, reports the mismatch. */
static void put_text(struct buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	while (*u) {
		size_t n;
		switch (*u) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&apos;");
			break;
		case '\t':
		case '\n':
		case '\r': /* as references, so end-of-line handling keeps them */
			buf_addf(b, "&#%d;", *u);
			break;
		default:
			n = xml_char_len(u);
			if (n) {
				buf_add(b, u, n);
				u += n;
				continue;
			}
			buf_adds(b, "\xEF\xBF\xBD");
		}
		u++;
	}
}

char *xml_complete_body(const char *const *etags, size_t n)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < n; i++) {
		buf_addf(&b, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
		put_text(&b, etags[i] ? etags[i] : "");
		buf_adds(&b, "</ETag></Part>");
	}
	buf_adds(&b, "</CompleteMultipartUpload>");
	return buf_detach(&b, NULL);
}
