/* json.c - strict JSON pull parser and ASCII-only writer. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Max bytes in one decoded string; keeps a hostile document from making huge copies. */
#define JP_MAX_STRING (64u << 20)

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static uint64_t load8(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_BYTE(mask) ((size_t)__builtin_ctzll(mask) / 8)
#endif

/* Nonzero if any byte of v may be one a JSON string cannot hold as it is: below 0x20,
 * 0x80 or above, '"' or '\\'.  Bytes above a flagged one may be flagged falsely (a
 * borrow), the lowest flagged byte never is. */
static uint64_t swar_special(uint64_t v)
{
	uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
	return (v | ((v - ONES * 0x20) & ~v) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* The first byte at or after p that swar_special flags (or end). */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
	while (end - p >= 8) {
		uint64_t m = swar_special(load8(p));
		if (m) {
#ifdef FIRST_BYTE
			return p + FIRST_BYTE(m);
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* Duplicate key detection.  The first JK_SMALL keys of an object (every object of a
 * manifest entry) are kept as fingerprints and compared linearly: a key of up to 8 bytes
 * is its own fingerprint, a longer one its xxh3 hash, with the length beside it.  An
 * object with more keys moves to an open-addressing set of 64-bit key hashes. */
#define JK_SMALL 8
struct jkeyset {
	uint64_t *tab; /* 0 = empty slot; in use once n > JK_SMALL */
	size_t cap, n;
	uint64_t fp[JK_SMALL];
	size_t fl[JK_SMALL];
};

void jp_init(struct jp *jp, const char *buf, size_t len, struct ja_err *err)
{
	memset(jp, 0, sizeof(*jp));
	jp->start = jp->p = buf;
	jp->end = buf + len;
	jp->err = err;
	buf_init(&jp->str, JP_MAX_STRING);
}

void jp_release(struct jp *jp)
{
	for (int i = 0; i <= JP_MAX_DEPTH; i++) {
		if (jp->keys[i]) {
			free(jp->keys[i]->tab);
			free(jp->keys[i]);
			jp->keys[i] = NULL;
		}
	}
	buf_release(&jp->str);
}

int jp_fail(struct jp *jp, const char *fmt, ...)
{
	char msg[512];
	size_t line = 1, col = 1;
	va_list ap;
	if (jp->failed)
		return -1;
	jp->failed = 1;
	for (const char *q = jp->start; q < jp->p && q < jp->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*q & 0xc0) != 0x80) {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(jp->err, EXIT_USAGE, "line %zu, column %zu: %s", line, col, msg);
}

static inline void skip_ws(struct jp *jp)
{
	const char *p = jp->p;
	if (p < jp->end && (unsigned char)*p > ' ') /* minified input */
		return;
	while (p < jp->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	jp->p = p;
}

const char *jp_type_name(enum jtype t)
{
	static const char *n[] = {"nothing",  "an object", "an array", "a string",
				  "a number", "a boolean", "null"};
	return n[t];
}

/* The type a value starting with byte c has (J_NONE: none, or whitespace). */
static const unsigned char type_of[256] = {
    ['{'] = J_OBJ,  ['['] = J_ARR,  ['"'] = J_STR, ['t'] = J_BOOL,
    ['f'] = J_BOOL, ['n'] = J_NULL, ['-'] = J_NUM, ['0' ... '9'] = J_NUM,
};

static inline enum jtype peek(struct jp *jp)
{
	if (jp->failed)
		return J_NONE;
	/* minified input: no whitespace to skip */
	if (jp->p < jp->end && (unsigned char)*jp->p > ' ')
		return (enum jtype)type_of[(unsigned char)*jp->p];
	skip_ws(jp);
	if (jp->p >= jp->end)
		return J_NONE;
	return (enum jtype)type_of[(unsigned char)*jp->p];
}

enum jtype jp_peek(struct jp *jp)
{
	return peek(jp);
}

static int unexpected(struct jp *jp, const char *wanted)
{
	if (jp->failed)
		return -1;
	if (jp->p >= jp->end)
		return jp_fail(jp, "unexpected end of input (expected %s)", wanted);
	if ((unsigned char)*jp->p >= 0x20 && (unsigned char)*jp->p < 0x7f)
		return jp_fail(jp, "expected %s, found '%c'", wanted, *jp->p);
	return jp_fail(jp, "expected %s, found byte 0x%02x", wanted, (unsigned char)*jp->p);
}

static int push(struct jp *jp)
{
	if (jp->depth >= JP_MAX_DEPTH)
		return jp_fail(jp, "nesting deeper than %d levels", JP_MAX_DEPTH);
	jp->depth++;
	return 0;
}

int jp_obj_begin(struct jp *jp)
{
	struct jkeyset *ks;
	if (peek(jp) != J_OBJ)
		return unexpected(jp, "an object");
	if (push(jp) < 0)
		return -1;
	jp->p++;
	ks = jp->keys[jp->depth];
	if (!ks)
		ks = jp->keys[jp->depth] = xcalloc(1, sizeof(*ks));
	if (ks->n > JK_SMALL)
		memset(ks->tab, 0, ks->cap * sizeof(uint64_t));
	ks->n = 0;
	return 0;
}

/* Insert h (not 0) into the hash set; 1 if it was there. */
static int tab_seen(struct jkeyset *ks, uint64_t h)
{
	size_t i;
	if ((ks->n + 1) * 2 > ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 16;
		uint64_t *nt = xcalloc(ncap, sizeof(uint64_t));
		for (size_t j = 0; j < ks->cap; j++) {
			uint64_t v = ks->tab[j];
			if (!v)
				continue;
			for (i = v & (ncap - 1); nt[i]; i = (i + 1) & (ncap - 1))
				;
			nt[i] = v;
		}
		free(ks->tab);
		ks->tab = nt;
		ks->cap = ncap;
	}
	for (i = h & (ks->cap - 1); ks->tab[i]; i = (i + 1) & (ks->cap - 1))
		if (ks->tab[i] == h)
			return 1;
	ks->tab[i] = h;
	ks->n++;
	return 0;
}

static uint64_t key_fp(const char *k, size_t n)
{
	uint64_t v = 0;
	if (n > 8)
		return XXH3_64bits(k, n);
	/* byte by byte: a memcpy of n bytes and a load of 8 would stall store forwarding */
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)(unsigned char)k[i] << (8 * i);
	return v;
}

/* in_input: k is a slice of the input with at least 8 bytes from k on. */
static int key_seen(struct jkeyset *ks, const char *k, size_t n, int in_input)
{
	uint64_t fp;
#ifdef FIRST_BYTE
	if (in_input && n <= 8) /* the key and the bytes after it, masked */
		fp = load8((const unsigned char *)k) & (n == 8 ? ~0ull : (1ull << (8 * n)) - 1);
	else
#endif
		fp = key_fp(k, n);
	size_t i;
	if (ks->n < JK_SMALL) {
		for (i = 0; i < ks->n; i++)
			if (ks->fp[i] == fp && ks->fl[i] == n)
				return 1;
		ks->fp[i] = fp;
		ks->fl[i] = n;
		ks->n++;
		return 0;
	}
	if (ks->n == JK_SMALL) {
		/* the object outgrew the small list: rehash its keys into the set */
		ks->n = 0;
		for (i = 0; i < JK_SMALL; i++) {
			uint64_t h = ks->fp[i];
			if (ks->fl[i] <= 8) {
				char b[8];
				for (size_t j = 0; j < 8; j++)
					b[j] = (char)(h >> (8 * j));
				h = XXH3_64bits(b, ks->fl[i]);
			}
			tab_seen(ks, h | 1);
		}
	}
	return tab_seen(ks, (n > 8 ? fp : XXH3_64bits(k, n)) | 1); /* never 0 */
}

static void end_object(struct jp *jp)
{
	struct jkeyset *ks = jp->keys[jp->depth];
	/* a big object's table is dropped so the next small one does not pay to clear it */
	if (ks && ks->cap > 256) {
		free(ks->tab);
		ks->tab = NULL;
		ks->cap = ks->n = 0;
	}
	jp->depth--;
}

static inline int str_at(struct jp *jp, const char **s, size_t *len);

int jp_obj_key(struct jp *jp, const char **key, size_t *len)
{
	struct jkeyset *ks = jp->keys[jp->depth];
	if (jp->failed)
		return -1;
	skip_ws(jp);
	if (jp->p < jp->end && *jp->p == '}') {
		jp->p++;
		end_object(jp);
		return 0;
	}
	if (ks->n) {
		if (jp->p >= jp->end || *jp->p != ',')
			return unexpected(jp, "',' or '}'");
		jp->p++;
		skip_ws(jp);
	}
	if (jp->p >= jp->end || *jp->p != '"')
		return unexpected(jp, "a key string");
	if (str_at(jp, key, len) < 0)
		return -1;
	if (key_seen(ks, *key, *len, *key != jp->str.p && jp->end - *key >= 8)) {
		char k[80];
		size_t n = *len < sizeof(k) - 1 ? *len : sizeof(k) - 1;
		memcpy(k, *key, n);
		k[n] = 0;
		return jp_fail(jp, "duplicate key \"%s\"", esc_name(k));
	}
	skip_ws(jp);
	if (jp->p >= jp->end || *jp->p != ':')
		return unexpected(jp, "':'");
	jp->p++;
	return 1;
}

int jp_arr_begin(struct jp *jp)
{
	if (peek(jp) != J_ARR)
		return unexpected(jp, "an array");
	if (push(jp) < 0)
		return -1;
	jp->p++;
	jp->started[jp->depth] = 0;
	return 0;
}

int jp_arr_next(struct jp *jp)
{
	if (jp->failed)
		return -1;
	skip_ws(jp);
	if (jp->p < jp->end && *jp->p == ']') {
		jp->p++;
		jp->depth--;
		return 0;
	}
	if (jp->started[jp->depth]) {
		if (jp->p >= jp->end || *jp->p != ',')
			return unexpected(jp, "',' or ']'");
		jp->p++;
		skip_ws(jp);
		if (jp->p < jp->end && *jp->p == ']')
			return unexpected(jp, "a value");
	}
	jp->started[jp->depth] = 1;
	return 1;
}

static int read_u4(struct jp *jp, const char *p, unsigned *out)
{
	unsigned v = 0;
	if (jp->end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hex_value((unsigned char)p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, u, n);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n = end - p;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		size_t k;
		if (end - p >= 8 && !(load8(p) & HIGHS)) {
			p += 8;
			continue;
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		k = utf8_seq(p, end);
		if (!k)
			return 0;
		p += k;
	}
	return 1;
}

/* A string that is not plain ASCII (or too long): escapes and UTF-8 are decoded into the
 * scratch buffer.  run = its first byte, p = where skip_plain stopped.  Out of line, so
 * that the plain path stays small. */
static __attribute__((noinline)) int str_slow(struct jp *jp, const unsigned char *run,
					      const unsigned char *p, const char **s, size_t *len)
{
	const unsigned char *end = (const unsigned char *)jp->end;
	if (p < end && *p == '"') {
		jp->p = (const char *)p;
		return jp_fail(jp, "string longer than %u bytes", JP_MAX_STRING);
	}
	buf_reset(&jp->str);
	for (;;) {
		p = skip_plain(p, end);
		if (p >= end) {
			jp->p = (const char *)p;
			return jp_fail(jp, "unterminated string");
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			unsigned cp;
			buf_add(&jp->str, run, (size_t)(p - run));
			if (p + 1 >= end) {
				jp->p = (const char *)p;
				return jp_fail(jp, "unterminated string");
			}
			switch (p[1]) {
			case '"':
				buf_addc(&jp->str, '"');
				break;
			case '\\':
				buf_addc(&jp->str, '\\');
				break;
			case '/':
				buf_addc(&jp->str, '/');
				break;
			case 'b':
				buf_addc(&jp->str, '\b');
				break;
			case 'f':
				buf_addc(&jp->str, '\f');
				break;
			case 'n':
				buf_addc(&jp->str, '\n');
				break;
			case 'r':
				buf_addc(&jp->str, '\r');
				break;
			case 't':
				buf_addc(&jp->str, '\t');
				break;
			case 'u':
				if (read_u4(jp, (const char *)p + 2, &cp) < 0) {
					jp->p = (const char *)p;
					return jp_fail(jp, "bad \\u escape");
				}
				if (cp >= 0xdc00 && cp <= 0xdfff) {
					jp->p = (const char *)p;
					return jp_fail(jp, "lone surrogate \\u%04x in string", cp);
				}
				if (cp >= 0xd800 && cp <= 0xdbff) {
					unsigned lo;
					if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
					    read_u4(jp, (const char *)p + 8, &lo) < 0 ||
					    lo < 0xdc00 || lo > 0xdfff) {
						jp->p = (const char *)p;
						return jp_fail(
						    jp, "lone surrogate \\u%04x in string", cp);
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
				if (cp == 0) {
					jp->p = (const char *)p;
					return jp_fail(jp, "NUL character (\\u0000) in string");
				}
				put_utf8(&jp->str, cp);
				p += 4;
				break;
			default:
				jp->p = (const char *)p;
				return jp_fail(jp, "bad escape '\\%c'",
					       p[1] >= 0x20 && p[1] < 0x7f ? p[1] : '?');
			}
			p += 2;
			run = p;
			continue;
		}
		if (*p < 0x20) {
			jp->p = (const char *)p;
			return jp_fail(jp, "control character 0x%02x in string (must be escaped)",
				       *p);
		}
		{
			size_t k = utf8_seq(p, end);
			if (!k) {
				jp->p = (const char *)p;
				return jp_fail(jp, "invalid UTF-8 in string");
			}
			p += k;
		}
	}
	buf_add(&jp->str, run, (size_t)(p - run));
	if (jp->str.over) {
		jp->p = (const char *)p;
		return jp_fail(jp, "string longer than %u bytes", JP_MAX_STRING);
	}
	jp->p = (const char *)p + 1;
	*s = jp->str.p;
	*len = jp->str.len;
	return 0;
}

/* The string at jp->p (a '"'): plain printable ASCII is returned in place. */
static inline int str_at(struct jp *jp, const char **s, size_t *len)
{
	const unsigned char *run = (const unsigned char *)jp->p + 1;
	const unsigned char *end = (const unsigned char *)jp->end, *p = skip_plain(run, end);
	if (p < end && *p == '"' && (size_t)(p - run) <= JP_MAX_STRING) {
		*s = (const char *)run;
		*len = (size_t)(p - run);
		jp->p = (const char *)p + 1;
		return 0;
	}
	return str_slow(jp, run, p, s, len);
}

int jp_str(struct jp *jp, const char **s, size_t *len)
{
	if (peek(jp) != J_STR)
		return unexpected(jp, "a string");
	return str_at(jp, s, len);
}

/* Scan a number per the JSON grammar; sets *isint when it has no fraction/exponent. */
static int scan_number(struct jp *jp, const char **endp, int *isint)
{
	const char *p = jp->p, *end = jp->end;
	*isint = 1;
	if (p < end && *p == '-')
		p++;
	if (p >= end || *p < '0' || *p > '9')
		return unexpected(jp, "a digit");
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9') {
			jp->p = p;
			return jp_fail(jp, "leading zero in number");
		}
	} else {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && *p == '.') {
		*isint = 0;
		p++;
		if (p >= end || *p < '0' || *p > '9') {
			jp->p = p;
			return jp_fail(jp, "digit expected after '.'");
		}
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		*isint = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9') {
			jp->p = p;
			return jp_fail(jp, "digit expected in exponent");
		}
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	*endp = p;
	return 0;
}

#ifdef FIRST_BYTE
/* Eight ASCII digits at once (the first one in the lowest byte). */
static int eight_digits(uint64_t v)
{
	return (v & (ONES * 0xf0)) == ONES * '0' &&
	       ((v + ONES * 0x06) & (ONES * 0xf0)) == ONES * '0';
}

static uint64_t parse8(uint64_t v)
{
	v -= ONES * '0';
	v = v * 10 + (v >> 8); /* pairs of digits */
	return (((v & 0x000000ff000000ffull) * (100 + (1000000ull << 32))) +
		(((v >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32)))) >>
	       32;
}
#endif

int jp_int(struct jp *jp, int64_t *v)
{
	const char *p, *e;
	int isint, neg = 0;
	uint64_t acc = 0;
	enum jtype t = peek(jp);
	if (t != J_NUM) {
		if (t == J_NONE)
			return unexpected(jp, "an integer");
		return err_set(jp->err, EXIT_USAGE, "not an integer");
	}
	/* fast path: up to 18 digits without a leading zero cannot overflow */
	p = jp->p;
	neg = *p == '-';
	p += neg;
	if (p < jp->end && *p >= '1' && *p <= '9') {
		const char *lim = jp->end - p > 18 ? p + 18 : jp->end;
#ifdef FIRST_BYTE
		while (lim - p >= 8 && eight_digits(load8((const unsigned char *)p))) {
			acc = acc * 100000000 + parse8(load8((const unsigned char *)p));
			p += 8;
		}
#endif
		for (; p < lim && *p >= '0' && *p <= '9'; p++)
			acc = acc * 10 + (unsigned)(*p - '0');
		if (p == jp->end ||
		    !((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E')) {
			*v = neg ? -(int64_t)acc : (int64_t)acc;
			jp->p = p;
			return 0;
		}
		acc = 0;
	}
	neg = 0;
	if (scan_number(jp, &e, &isint) < 0)
		return -1;
	if (!isint)
		return err_set(jp->err, EXIT_USAGE, "not an integer");
	p = jp->p;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; p < e; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (acc > (UINT64_MAX - d) / 10)
			goto range;
		acc = acc * 10 + d;
	}
	if (neg) {
		if (acc > (uint64_t)INT64_MAX + 1)
			goto range;
		*v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	} else {
		if (acc > (uint64_t)INT64_MAX)
			goto range;
		*v = (int64_t)acc;
	}
	jp->p = e;
	return 0;
range:
	return err_set(jp->err, EXIT_USAGE, "integer out of range");
}

int jp_bool(struct jp *jp, int *v)
{
	enum jtype t = peek(jp);
	if (t != J_BOOL) {
		if (t == J_NONE)
			return unexpected(jp, "true or false");
		return err_set(jp->err, EXIT_USAGE, "not a boolean (found %s)", jp_type_name(t));
	}
	if (jp->end - jp->p >= 4 && !memcmp(jp->p, "true", 4)) {
		*v = 1;
		jp->p += 4;
		return 0;
	}
	if (jp->end - jp->p >= 5 && !memcmp(jp->p, "false", 5)) {
		*v = 0;
		jp->p += 5;
		return 0;
	}
	return unexpected(jp, "true or false");
}

int jp_skip(struct jp *jp)
{
	const char *s, *e;
	size_t n;
	int r, isint, b;
	switch (peek(jp)) {
	case J_OBJ:
		if (jp_obj_begin(jp) < 0)
			return -1;
		while ((r = jp_obj_key(jp, &s, &n)) > 0)
			if (jp_skip(jp) < 0)
				return -1;
		return r;
	case J_ARR:
		if (jp_arr_begin(jp) < 0)
			return -1;
		while ((r = jp_arr_next(jp)) > 0)
			if (jp_skip(jp) < 0)
				return -1;
		return r;
	case J_STR:
		return jp_str(jp, &s, &n);
	case J_NUM:
		if (scan_number(jp, &e, &isint) < 0)
			return -1;
		jp->p = e;
		return 0;
	case J_BOOL:
		return jp_bool(jp, &b);
	case J_NULL:
		if (jp->end - jp->p >= 4 && !memcmp(jp->p, "null", 4)) {
			jp->p += 4;
			return 0;
		}
		return unexpected(jp, "a value");
	default:
		return unexpected(jp, "a value");
	}
}

int jp_finish(struct jp *jp)
{
	if (jp->failed)
		return -1;
	skip_ws(jp);
	if (jp->p != jp->end)
		return jp_fail(jp, "unexpected data after the JSON value");
	return 0;
}

/* Writer. */
static const char hexd[] = "0123456789abcdef";

/* 0: copy literally; 1: short escape; 2: \u00XX; 3: non-ASCII lead (decode).
 * Constant tables: writers in several threads need no lazy set-up. */
static const unsigned char esc_class[256] = {
    [0x00 ... 0x07] = 2, ['\b'] = 1, ['\t'] = 1, ['\n'] = 1,
    [0x0b] = 2,		 ['\f'] = 1, ['\r'] = 1, [0x0e ... 0x1f] = 2,
    ['"'] = 1,		 ['\\'] = 1, [0x7f] = 2, [0x80 ... 0xff] = 3,
};
static const char esc_short[128] = {
    ['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
    ['\n'] = 'n', ['\r'] = 'r',	 ['\t'] = 't',
};

static void put_u4(char *o, unsigned v)
{
	o[0] = '\\';
	o[1] = 'u';
	o[2] = hexd[v >> 12 & 15];
	o[3] = hexd[v >> 8 & 15];
	o[4] = hexd[v >> 4 & 15];
	o[5] = hexd[v & 15];
}

/* Nonzero if some byte of v may need escaping (swar_special or 0x7f). */
static uint64_t swar_escaped(uint64_t v)
{
	uint64_t d = v ^ (ONES * 0x7f);
	return swar_special(v) | (((d - ONES) & ~d) & HIGHS);
}

char *json_esc(char *o, const char *s, size_t n)
{
	*o++ = '"';
	o = json_esc_chars(o, s, n);
	*o++ = '"';
	return o;
}

char *json_esc_chars(char *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
	run = p;
	while (p < end) {
		unsigned cls;
		if (end - p >= 8) {
			uint64_t m = swar_escaped(load8(p));
			if (!m) {
				p += 8;
				continue;
			}
#ifdef FIRST_BYTE
			p += FIRST_BYTE(m);
#endif
		}
#ifdef FIRST_BYTE
		else if (n >= 8 && !(swar_escaped(load8(end - 8)) >> (8 * (8 - (end - p))))) {
			/* the last bytes, seen through the (overlapping) last eight */
			p = end;
			break;
		}
#endif
		cls = esc_class[*p];
		if (!cls) {
			p++;
			continue;
		}
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (cls == 1) {
			*o++ = '\\';
			*o++ = esc_short[*p];
			p++;
		} else if (cls == 2) {
			put_u4(o, *p);
			o += 6;
			p++;
		} else {
			unsigned cp;
			size_t k = utf8_seq(p, end);
			if (k == 2)
				cp = (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu);
			else if (k == 3)
				cp = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
			else if (k == 4)
				cp = (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 |
				     (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
			else {
				cp = 0xfffd; /* callers pass valid UTF-8; never emit raw bytes */
				k = 1;
			}
			if (cp >= 0x10000) {
				cp -= 0x10000;
				put_u4(o, 0xd800 + (cp >> 10));
				put_u4(o + 6, 0xdc00 + (cp & 0x3ff));
				o += 12;
			} else {
				put_u4(o, cp);
				o += 6;
			}
			p += k;
		}
		run = p;
	}
	memcpy(o, run, (size_t)(p - run));
	return o + (p - run);
}

void json_put_str(struct buf *out, const char *s, size_t n)
{
	/* worst case 12 output bytes per 4 input bytes, +2 quotes */
	if (buf_reserve(out, n * 6 + 2) < 0)
		return;
	out->len = (size_t)(json_esc(out->p + out->len, s, n) - out->p);
	out->p[out->len] = 0;
}

static const char digits2[] = "00010203040506070809101112131415161718192021222324"
			      "25262728293031323334353637383940414243444546474849"
			      "50515253545556575859606162636465666768697071727374"
			      "75767778798081828384858687888990919293949596979899";

static const uint64_t pow10_tab[20] = {1ull,
				       10ull,
				       100ull,
				       1000ull,
				       10000ull,
				       100000ull,
				       1000000ull,
				       10000000ull,
				       100000000ull,
				       1000000000ull,
				       10000000000ull,
				       100000000000ull,
				       1000000000000ull,
				       10000000000000ull,
				       100000000000000ull,
				       1000000000000000ull,
				       10000000000000000ull,
				       100000000000000000ull,
				       1000000000000000000ull,
				       10000000000000000000ull};

/* Number of decimal digits of u. */
static int ndigits(uint64_t u)
{
#ifdef __GNUC__
	/* bits * log10(2) estimates it within one (Bit Twiddling Hacks, "IntegerLog10") */
	int t = ((64 - __builtin_clzll(u | 1)) * 1233) >> 12;
	return u ? t + (u >= pow10_tab[t]) : 1;
#else
	int n = 1;
	while (n < 20 && u >= pow10_tab[n])
		n++;
	return n;
#endif
}

static void put_pair(char *d, unsigned r)
{
	memcpy(d, digits2 + 2 * r, 2);
}

char *json_itoa(char *o, int64_t v)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	uint32_t x;
	char *q;
	int n;
	if (v < 0)
		*o++ = '-';
	n = ndigits(u);
	q = o + n;
	/* backwards from the end, eight digits in 32-bit arithmetic at a time */
	while (u >= 100000000) {
		uint32_t lo = (uint32_t)(u % 100000000);
		u /= 100000000;
		put_pair(q - 2, lo % 100);
		lo /= 100;
		put_pair(q - 4, lo % 100);
		lo /= 100;
		put_pair(q - 6, lo % 100);
		put_pair(q - 8, lo / 100);
		q -= 8;
	}
	x = (uint32_t)u;
	while (x >= 100) {
		put_pair(q - 2, x % 100);
		x /= 100;
		q -= 2;
	}
	if (x >= 10)
		put_pair(q - 2, x);
	else
		q[-1] = (char)('0' + x);
	return o + n;
}

void json_put_int(struct buf *out, int64_t v)
{
	if (buf_reserve(out, 20) < 0)
		return;
	out->len = (size_t)(json_itoa(out->p + out->len, v) - out->p);
	out->p[out->len] = 0;
}
