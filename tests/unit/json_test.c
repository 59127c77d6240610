/* json_test.c - the strict JSON pull parser, the ASCII-only writer and UTF-16 order
 * (spec/FORMATS.md §1.2 items 1 and 3, §1.3). */
#include "core/json.h"
#include "core/manifest.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------ */

/* json_put_str of s[0..n) into a static buffer (quotes included). */
static const char *enc_n(const char *s, size_t n)
{
	static char out[4096];
	struct buf b = BUF_INIT;
	json_put_str(&b, s, n);
	snprintf(out, sizeof(out), "%s", b.p);
	buf_release(&b);
	return out;
}

static const char *enc(const char *s)
{
	return enc_n(s, strlen(s));
}

/* Parse doc as one JSON string value followed by end of input.  Returns the decoded
 * bytes (static) or NULL with the error message in *msg. */
static const char *dec(const char *doc, size_t *len, const char **msg)
{
	static char out[4096];
	static struct ja_err err;
	struct jp jp;
	const char *s;
	size_t n;
	int rc;
	memset(&err, 0, sizeof(err));
	jp_init(&jp, doc, strlen(doc), &err);
	rc = jp_str(&jp, &s, &n);
	if (!rc)
		rc = jp_finish(&jp);
	if (!rc) {
		memcpy(out, s, n);
		out[n] = 0;
		if (len)
			*len = n;
	}
	jp_release(&jp);
	if (msg)
		*msg = err.msg;
	return rc ? NULL : out;
}

/* The error of decoding a string value, or NULL if it decoded. */
static const char *dec_err(const char *doc)
{
	const char *msg;
	return dec(doc, NULL, &msg) ? NULL : msg;
}

/* Parse doc as one integer; returns 0 or -1 with err filled. */
static int int_of(const char *doc, int64_t *v, struct ja_err *err)
{
	struct jp jp;
	int rc;
	memset(err, 0, sizeof(*err));
	jp_init(&jp, doc, strlen(doc), err);
	rc = jp_int(&jp, v);
	if (!rc)
		rc = jp_finish(&jp);
	jp_release(&jp);
	return rc;
}

/* Skip one whole value of doc[0..n) and require the end; returns 0 / -1 with err. */
static int skip_doc(const char *doc, size_t n, struct ja_err *err)
{
	struct jp jp;
	int rc;
	memset(err, 0, sizeof(*err));
	jp_init(&jp, doc, n, err);
	rc = jp_skip(&jp);
	if (!rc)
		rc = jp_finish(&jp);
	jp_release(&jp);
	return rc;
}

/* Parsed from an exact-size copy without a NUL (the parser must not need one). */
static int valid_doc(const char *doc)
{
	struct ja_err err;
	size_t n = strlen(doc);
	char *copy = malloc(n ? n : 1);
	int rc;
	memcpy(copy, doc, n);
	rc = skip_doc(copy, n, &err);
	free(copy);
	return rc == 0;
}

/* 1 if msg contains needle. */
static int has(const char *msg, const char *needle)
{
	if (!msg || !strstr(msg, needle)) {
		printf("# message '%s' lacks '%s'\n", msg ? msg : "(null)", needle);
		return 0;
	}
	return 1;
}

/* ---- writer ------------------------------------------------------------------------- */

TEST(escape_short_forms)
{
	CHECK_STR(enc("\""), "\"\\\"\"");
	CHECK_STR(enc("\\"), "\"\\\\\"");
	CHECK_STR(enc("\b"), "\"\\b\"");
	CHECK_STR(enc("\f"), "\"\\f\"");
	CHECK_STR(enc("\n"), "\"\\n\"");
	CHECK_STR(enc("\r"), "\"\\r\"");
	CHECK_STR(enc("\t"), "\"\\t\"");
	CHECK_STR(enc("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(escape_controls_and_del_lowercase_hex)
{
	CHECK_STR(enc("\x01"), "\"\\u0001\"");
	CHECK_STR(enc("\x0b"), "\"\\u000b\"");
	CHECK_STR(enc("\x1b"), "\"\\u001b\"");
	CHECK_STR(enc("\x1f"), "\"\\u001f\"");
	CHECK_STR(enc("\x7f"), "\"\\u007f\"");
	CHECK_STR(enc("Z\x7f\"q\\.txt"), "\"Z\\u007f\\\"q\\\\.txt\"");
	/* a NUL byte inside a length-given string is still escaped, never written raw */
	CHECK_STR(enc_n("a\0b", 3), "\"a\\u0000b\"");
}

TEST(escape_slash_and_printable_ascii_literal)
{
	char all[128], want[140];
	size_t n = 0;
	CHECK_STR(enc("a/b"), "\"a/b\"");
	CHECK_STR(enc("/"), "\"/\"");
	for (int c = 0x20; c < 0x7f; c++)
		if (c != '"' && c != '\\')
			all[n++] = (char)c;
	all[n] = 0;
	snprintf(want, sizeof(want), "\"%s\"", all);
	CHECK_STR(enc(all), want);
	CHECK_STR(enc(""), "\"\"");
}

TEST(escape_non_ascii_as_u_escapes)
{
	CHECK_STR(enc("\xc2\x80"), "\"\\u0080\"");     /* U+0080 */
	CHECK_STR(enc("\xc2\xab"), "\"\\u00ab\"");     /* lowercase hex digits */
	CHECK_STR(enc("\xc3\xa9"), "\"\\u00e9\"");     /* é */
	CHECK_STR(enc("\xc3\xb6"), "\"\\u00f6\"");     /* ö */
	CHECK_STR(enc("\xe2\x82\xac"), "\"\\u20ac\""); /* € */
	CHECK_STR(enc("\xef\xac\xb3"), "\"\\ufb33\""); /* U+FB33 */
	CHECK_STR(enc("\xef\xbb\xbf"), "\"\\ufeff\""); /* BOM char in a name */
	CHECK_STR(enc("\xef\xbf\xbf"), "\"\\uffff\""); /* U+FFFF */
	CHECK_STR(enc("\xed\x9f\xbf"), "\"\\ud7ff\""); /* last before surrogates */
	CHECK_STR(enc("\xee\x80\x80"), "\"\\ue000\""); /* first after surrogates */
	CHECK_STR(enc("sub/\xc3\xa9.txt"), "\"sub/\\u00e9.txt\"");
}

TEST(escape_astral_as_surrogate_pairs)
{
	CHECK_STR(enc("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");	  /* 😀 U+1F600 */
	CHECK_STR(enc("\xf0\x90\x80\x80"), "\"\\ud800\\udc00\"");	  /* U+10000 */
	CHECK_STR(enc("\xf4\x8f\xbf\xbf"), "\"\\udbff\\udfff\"");	  /* U+10FFFF */
	CHECK_STR(enc("x-\xf0\x9f\x98\x80/f"), "\"x-\\ud83d\\ude00/f\""); /* mixed */
}

TEST(writer_output_is_ascii_and_round_trips)
{
	static const char *const v[] = {
	    "",
	    "plain",
	    "\x7f\x01\x1f",
	    "caf\xc3\xa9 \"q\"\\",
	    "\xf0\x9f\x98\x80\xef\xac\xb3",
	    "tab\tname\n\r\b\f",
	    "\xe4\xb8\xad\xe6\x96\x87",
	    "a/b/c",
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *e = enc(v[i]), *d, *msg;
		char copy[4096];
		size_t n;
		for (const unsigned char *p = (const unsigned char *)e; *p; p++)
			CHECK(*p >= 0x20 && *p < 0x7f);
		snprintf(copy, sizeof(copy), "%s", e);
		d = dec(copy, &n, &msg);
		CHECK(d != NULL);
		if (d) {
			CHECK(n == strlen(v[i]));
			CHECK_STR(d, v[i]);
		}
	}
}

TEST(put_int)
{
	struct buf b = BUF_INIT;
	json_put_int(&b, 0);
	buf_addc(&b, ' ');
	json_put_int(&b, -1);
	buf_addc(&b, ' ');
	json_put_int(&b, 1700000000123456);
	buf_addc(&b, ' ');
	json_put_int(&b, INT64_MAX);
	buf_addc(&b, ' ');
	json_put_int(&b, INT64_MIN);
	CHECK_STR(b.p, "0 -1 1700000000123456 9223372036854775807 -9223372036854775808");
	buf_release(&b);
}

/* The writer and the reader scan eight bytes at a time: a byte that needs care is found
 * wherever it falls in (or after) such a block. */
TEST(strings_with_one_special_byte_at_every_offset)
{
	static const char *const special[] = {"\"", "\\", "\x01", "\x7f", "\xc3\xa9", "/"};
	static const char *const escaped[] = {"\\\"", "\\\\", "\\u0001", "\\u007f", "\\u00e9", "/"};
	for (size_t len = 0; len <= 40; len++)
		for (size_t pos = 0; pos <= len; pos++)
			for (size_t k = 0; k < sizeof(special) / sizeof(special[0]); k++) {
				char in[64], want[128], doc[130];
				const char *got;
				size_t n = 0, w = 0, dn;
				want[w++] = '"';
				for (size_t i = 0; i < len; i++) {
					const char *add = i == pos ? special[k] : "a";
					const char *wadd = i == pos ? escaped[k] : "a";
					memcpy(in + n, add, strlen(add));
					n += strlen(add);
					memcpy(want + w, wadd, strlen(wadd));
					w += strlen(wadd);
				}
				want[w++] = '"';
				want[w] = 0;
				in[n] = 0;
				CHECK_STR(enc_n(in, n), want);
				snprintf(doc, sizeof(doc), "%s", want);
				got = dec(doc, &dn, NULL);
				CHECK(got && dn == n && !memcmp(got, in, n));
				/* unescaped: the raw bytes in the document (a quote ends the
				 * string) */
				if (k >= 4) {
					snprintf(doc, sizeof(doc), "\"%s\"", in);
					got = dec(doc, &dn, NULL);
					CHECK(got && dn == n && !memcmp(got, in, n));
				}
			}
}

/* ---- string decoding ---------------------------------------------------------------- */

TEST(decode_escapes)
{
	size_t n;
	const char *msg;
	CHECK_STR(dec("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", NULL, NULL), "\"\\/\b\f\n\r\t");
	CHECK_STR(dec("\"\\u00e9\"", NULL, NULL), "\xc3\xa9");
	CHECK_STR(dec("\"\\u00E9\"", NULL, NULL), "\xc3\xa9"); /* upper-case hex is read */
	CHECK_STR(dec("\"\\u007f\"", NULL, NULL), "\x7f");
	CHECK_STR(dec("\"\\u0041\"", NULL, NULL), "A");
	CHECK_STR(dec("\"\\u20ac\"", NULL, NULL), "\xe2\x82\xac");
	CHECK_STR(dec("\"\\ud83d\\ude00\"", NULL, NULL), "\xf0\x9f\x98\x80");
	CHECK_STR(dec("\"\\uD83D\\uDE00\"", NULL, NULL), "\xf0\x9f\x98\x80");
	CHECK_STR(dec("\"\\udbff\\udfff\"", NULL, NULL), "\xf4\x8f\xbf\xbf");
	CHECK_STR(dec("\"\\ufb33\"", NULL, NULL), "\xef\xac\xb3");
	/* raw UTF-8 and raw DEL are valid JSON */
	CHECK_STR(dec("\"caf\xc3\xa9\x7f\xf0\x9f\x98\x80\"", NULL, NULL),
		  "caf\xc3\xa9\x7f\xf0\x9f\x98\x80");
	CHECK(dec("\"\"", &n, &msg) && n == 0);
}

TEST(decode_rejects_lone_surrogates)
{
	CHECK(has(dec_err("\"\\ud83d\""), "lone surrogate"));
	CHECK(has(dec_err("\"\\ude0a\""), "lone surrogate"));
	CHECK(has(dec_err("\"\\ud83dx\""), "lone surrogate"));
	CHECK(has(dec_err("\"\\ud83d\\u0041\""), "lone surrogate"));
	CHECK(has(dec_err("\"\\ud83d\\ud83d\""), "lone surrogate"));
	CHECK(has(dec_err("\"\\ude00\\ud83d\""), "lone surrogate")); /* reversed pair */
	CHECK(has(dec_err("\"\\ud83d\\n\""), "lone surrogate"));
	CHECK(dec_err("\"\\ud83d\\ude0\"") != NULL); /* truncated low half */
}

TEST(decode_rejects_nul_and_raw_controls)
{
	char doc[8];
	CHECK(has(dec_err("\"\\u0000\""), "NUL"));
	CHECK(has(dec_err("\"a\\u0000b\""), "NUL"));
	for (int c = 1; c < 0x20; c++) {
		snprintf(doc, sizeof(doc), "\"a%cb\"", c);
		CHECK(has(dec_err(doc), "control character"));
	}
	/* a raw NUL inside the buffer (length-given input) */
	{
		struct ja_err err;
		CHECK(skip_doc("\"a\0b\"", 5, &err) < 0);
	}
}

TEST(decode_rejects_invalid_utf8)
{
	static const char *const bad[] = {
	    "\"\xff\"",			    /* never valid */
	    "\"\xfe\"",			    /* never valid */
	    "\"\x80\"",			    /* lone continuation */
	    "\"\xc3\"",			    /* truncated 2-byte */
	    "\"\xc3x\"",		    /* bad continuation */
	    "\"\xc0\x80\"",		    /* overlong NUL */
	    "\"\xc1\xbf\"",		    /* overlong */
	    "\"\xe0\x80\x80\"",		    /* overlong 3-byte */
	    "\"\xe0\x9f\xbf\"",		    /* overlong 3-byte */
	    "\"\xed\xa0\x80\"",		    /* encoded surrogate U+D800 */
	    "\"\xed\xbf\xbf\"",		    /* encoded surrogate U+DFFF */
	    "\"\xed\xa0\xbd\xed\xb8\x80\"", /* CESU-8 pair */
	    "\"\xf0\x80\x80\x80\"",	    /* overlong 4-byte */
	    "\"\xf0\x8f\xbf\xbf\"",	    /* overlong 4-byte */
	    "\"\xf4\x90\x80\x80\"",	    /* above U+10FFFF */
	    "\"\xf5\x80\x80\x80\"",	    /* lead byte F5 */
	    "\"\xf8\x88\x80\x80\x80\"",	    /* 5-byte form */
	    "\"\xe2\x82\"",		    /* truncated 3-byte */
	    "\"\xf0\x9f\x98\"",		    /* truncated 4-byte */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *m = dec_err(bad[i]);
		if (!m || !strstr(m, "invalid UTF-8"))
			printf("# case %zu: %s\n", i, m ? m : "(accepted)");
		CHECK(m && strstr(m, "invalid UTF-8"));
	}
	/* the boundaries that are valid */
	CHECK(dec("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f"
		  "\xbf\xbf\"",
		  NULL, NULL) != NULL);
}

TEST(decode_rejects_bad_escapes)
{
	CHECK(has(dec_err("\"\\x41\""), "bad escape"));
	CHECK(has(dec_err("\"\\a\""), "bad escape"));
	CHECK(has(dec_err("\"\\'\""), "bad escape"));
	CHECK(has(dec_err("\"\\u12\""), "bad \\u escape"));
	CHECK(has(dec_err("\"\\u12g4\""), "bad \\u escape"));
	CHECK(has(dec_err("\"\\u"), "bad \\u escape"));
	CHECK(has(dec_err("\"abc"), "unterminated string"));
	CHECK(has(dec_err("\"abc\\"), "unterminated string"));
	CHECK(has(dec_err("\"abc\\\""), "unterminated string"));
	CHECK(has(dec_err("'abc'"), "expected a string"));
}

TEST(utf8_valid_helper)
{
	CHECK(utf8_valid("", 0));
	CHECK(utf8_valid("abc\x7f", 4));
	CHECK(utf8_valid("\xc3\xa9\xf0\x9f\x98\x80", 6));
	CHECK(!utf8_valid("\xed\xa0\x80", 3));
	CHECK(!utf8_valid("\xc0\x80", 2));
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));
	CHECK(!utf8_valid("\xc3", 1)); /* truncated at the end of the given length */
	CHECK(!utf8_valid("\xe2\x82\xac", 2));
}

/* ---- UTF-16 order ------------------------------------------------------------------- */

static int u16(const char *a, const char *b)
{
	int c = utf16_cmp(a, strlen(a), b, strlen(b));
	return c < 0 ? -1 : c > 0;
}

TEST(utf16_order)
{
	/* 😀 (D83D DE00) sorts before U+FB33 in UTF-16, after it by code point */
	CHECK(u16("\xf0\x9f\x98\x80", "\xef\xac\xb3") == -1);
	CHECK(u16("\xef\xac\xb3", "\xf0\x9f\x98\x80") == 1);
	CHECK(u16("x-\xf0\x9f\x98\x80", "x-\xef\xbc\xa1") == -1); /* x-😀 < x-Ａ */
	/* astral after everything below U+D800 */
	CHECK(u16("\xed\x9f\xbf", "\xf0\x90\x80\x80") == -1);
	CHECK(u16("\xe2\x82\xac", "\xf0\x9f\x98\x80") == -1);
	/* U+E000..U+FFFF among themselves by value */
	CHECK(u16("\xee\x80\x80", "\xef\xbf\xbf") == -1);
	/* astral among themselves by code point */
	CHECK(u16("\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf") == -1);
	CHECK(u16("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81") == -1);
	/* ASCII: byte order; uppercase before lowercase; the a-b < a.b < a/b < a_b probe */
	CHECK(u16("Z", "a") == -1);
	CHECK(u16("a-b", "a.b") == -1);
	CHECK(u16("a.b", "a/b") == -1);
	CHECK(u16("a/b", "a_b") == -1);
	CHECK(u16("\r", "1") == -1);
	CHECK(u16("\x7f", "\xc2\x80") == -1);
	/* prefixes sort first; equal strings compare equal */
	CHECK(u16("abc", "abcd") == -1);
	CHECK(u16("abcd", "abc") == 1);
	CHECK(u16("", "a") == -1);
	CHECK(u16("", "") == 0);
	CHECK(u16("caf\xc3\xa9", "caf\xc3\xa9") == 0);
	/* NFC é (U+00E9) vs NFD e + U+0301: 'e' (0x65) < 0xe9 */
	CHECK(u16("cafe\xcc\x81", "caf\xc3\xa9") == -1);
	/* difference in a continuation byte of the same lead */
	CHECK(u16("\xc3\xa9", "\xc3\xb6") == -1);
	CHECK(u16("\xf0\x9f\x98\x80", "\xf0\x9f\x99\x80") == -1);
}

/* ---- numbers ------------------------------------------------------------------------ */

TEST(integers_in_range)
{
	struct ja_err err;
	int64_t v = 7;
	CHECK(int_of("0", &v, &err) == 0 && v == 0);
	CHECK(int_of("-0", &v, &err) == 0 && v == 0);
	CHECK(int_of("42", &v, &err) == 0 && v == 42);
	CHECK(int_of("-17", &v, &err) == 0 && v == -17);
	CHECK(int_of("167907934333848", &v, &err) == 0 && v == 167907934333848);
	CHECK(int_of("9223372036854775807", &v, &err) == 0 && v == INT64_MAX);
	CHECK(int_of("-9223372036854775808", &v, &err) == 0 && v == INT64_MIN);
	CHECK(int_of(" 12 \n", &v, &err) == 0 && v == 12);
}

/* Eight digits are read and written at a time: values around every power of ten. */
TEST(integers_at_digit_boundaries)
{
	struct ja_err err;
	char want[32], doc[40];
	int64_t p = 1, v;
	for (int k = 0; k <= 18; k++, p = k <= 18 ? p * 10 : p) {
		const int64_t vals[] = {p - 1, p, p + 1, -(p - 1), -p, -(p + 1), p * 7 + 3};
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			struct buf b = BUF_INIT;
			snprintf(want, sizeof(want), "%lld", (long long)vals[i]);
			json_put_int(&b, vals[i]);
			CHECK_STR(b.p, want);
			buf_release(&b);
			CHECK(int_of(want, &v, &err) == 0 && v == vals[i]);
			snprintf(doc, sizeof(doc), "%s.5", want);
			CHECK(int_of(doc, &v, &err) < 0 && has(err.msg, "not an integer"));
			snprintf(doc, sizeof(doc), "%se1", want);
			CHECK(int_of(doc, &v, &err) < 0 && has(err.msg, "not an integer"));
			snprintf(doc, sizeof(doc), "[%s,1]", want);
			CHECK(skip_doc(doc, strlen(doc), &err) == 0);
		}
	}
	CHECK(int_of("0123456789", &v, &err) < 0 && has(err.msg, "leading zero"));
	CHECK(int_of("1234567890123456789", &v, &err) == 0 && v == 1234567890123456789);
	CHECK(int_of("12345678x", &v, &err) < 0);
	CHECK(int_of("1234567812345678", &v, &err) == 0 && v == 1234567812345678);
}

TEST(integers_out_of_range)
{
	static const char *const big[] = {
	    "9223372036854775808",  "-9223372036854775809",    "18446744073709551615",
	    "18446744073709551616", "99999999999999999999999",
	};
	struct ja_err err;
	char digits[402];
	int64_t v;
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		CHECK(int_of(big[i], &v, &err) < 0);
		CHECK(has(err.msg, "integer out of range"));
		CHECK(err.code == EXIT_USAGE);
	}
	memset(digits, '9', 400);
	digits[400] = 0;
	CHECK(int_of(digits, &v, &err) < 0);
	CHECK_STR(err.msg, "integer out of range");
	digits[0] = '-';
	CHECK(int_of(digits, &v, &err) < 0);
	CHECK_STR(err.msg, "integer out of range");
}

TEST(integers_reject_fractions_exponents_and_other_types)
{
	static const char *const notint[] = {
	    "1.0",  "1e3",   "1E3",  "1e+3",  "1.5", "-0.0", "0e0",
	    "true", "false", "null", "\"1\"", "[1]", "{}",
	};
	struct ja_err err;
	int64_t v;
	for (size_t i = 0; i < sizeof(notint) / sizeof(notint[0]); i++) {
		CHECK(int_of(notint[i], &v, &err) < 0);
		if (strcmp(err.msg, "not an integer"))
			printf("# %s: %s\n", notint[i], err.msg);
		CHECK_STR(err.msg, "not an integer");
	}
}

TEST(number_syntax_errors)
{
	struct ja_err err;
	int64_t v;
	CHECK(int_of("01", &v, &err) < 0 && has(err.msg, "leading zero"));
	CHECK(int_of("-", &v, &err) < 0);
	CHECK(int_of("1.", &v, &err) < 0 && has(err.msg, "digit expected after '.'"));
	CHECK(int_of("1e", &v, &err) < 0 && has(err.msg, "exponent"));
	CHECK(int_of("+1", &v, &err) < 0);
	CHECK(int_of(".5", &v, &err) < 0);
	CHECK(int_of("0x10", &v, &err) < 0);
	CHECK(int_of("1 2", &v, &err) < 0 && has(err.msg, "unexpected data after"));
	CHECK(!valid_doc("NaN"));
	CHECK(!valid_doc("Infinity"));
	CHECK(!valid_doc("-Infinity"));
	CHECK(!valid_doc("[NaN]"));
	CHECK(!valid_doc("{\"a\":Infinity}"));
	CHECK(valid_doc("[1.5e-3,-0,0.0,1E+9]"));
}

/* ---- structure ---------------------------------------------------------------------- */

TEST(values_and_structure)
{
	CHECK(valid_doc("{}"));
	CHECK(valid_doc("[]"));
	CHECK(valid_doc(" {\"a\" : [1, \"x\", true, false, null, {\"b\": {}}]}\n\t\r "));
	CHECK(valid_doc("\"s\""));
	CHECK(valid_doc("true"));
	CHECK(valid_doc("null"));
	CHECK(!valid_doc("[1,]"));
	CHECK(!valid_doc("[,1]"));
	CHECK(!valid_doc("{\"a\":1,}"));
	CHECK(!valid_doc("{,}"));
	CHECK(!valid_doc("{\"a\" 1}"));
	CHECK(!valid_doc("{\"a\":1 \"b\":2}"));
	CHECK(!valid_doc("{'a':1}"));
	CHECK(!valid_doc("{a:1}"));
	CHECK(!valid_doc("[1}"));
	CHECK(!valid_doc("{\"a\":1]"));
	CHECK(!valid_doc("tru"));
	CHECK(!valid_doc("truex"));
	CHECK(!valid_doc("nul"));
	CHECK(!valid_doc("[1] // comment"));
	CHECK(!valid_doc("/* c */ [1]"));
	CHECK(!valid_doc("[1]\f")); /* form feed is not JSON whitespace */
}

TEST(empty_and_whitespace_input_rejected)
{
	struct ja_err err;
	CHECK(skip_doc("", 0, &err) < 0);
	CHECK(has(err.msg, "unexpected end of input"));
	CHECK(skip_doc("  \n ", 4, &err) < 0);
	CHECK(has(err.msg, "unexpected end of input"));
}

TEST(trailing_garbage_rejected_trailing_whitespace_accepted)
{
	struct ja_err err;
	CHECK(valid_doc("{\"a\":1} \n\r\t\n"));
	CHECK(skip_doc("{\"a\":1} x", 9, &err) < 0);
	CHECK(has(err.msg, "unexpected data after the JSON value"));
	CHECK(!valid_doc("{}{}"));
	CHECK(!valid_doc("[] []"));
	CHECK(skip_doc("{}\0", 3, &err) < 0); /* a NUL after the value */
}

TEST(bom_rejected)
{
	CHECK(!valid_doc("\xef\xbb\xbf{}"));
}

TEST(error_position)
{
	struct ja_err err;
	CHECK(skip_doc("{\n  \"a\": x}", 11, &err) < 0);
	CHECK_STR(err.msg, "line 2, column 8: expected a value, found 'x'");
	CHECK(err.code == EXIT_USAGE);
	/* columns count characters, not bytes */
	CHECK(skip_doc("[\"\xc3\xa9\", x]", 10, &err) < 0);
	CHECK_STR(err.msg, "line 1, column 7: expected a value, found 'x'");
}

static char *nest(int depth, int obj)
{
	char *s = malloc((size_t)depth * 6 + 8);
	size_t n = 0;
	for (int i = 0; i < depth; i++) {
		if (obj) {
			memcpy(s + n, "{\"a\":", 5);
			n += 5;
		} else {
			s[n++] = '[';
		}
	}
	s[n++] = '1';
	for (int i = 0; i < depth; i++)
		s[n++] = obj ? '}' : ']';
	s[n] = 0;
	return s;
}

TEST(nesting_depth_limit)
{
	struct ja_err err;
	for (int obj = 0; obj < 2; obj++) {
		char *ok = nest(JP_MAX_DEPTH, obj), *deep = nest(JP_MAX_DEPTH + 1, obj);
		CHECK(skip_doc(ok, strlen(ok), &err) == 0);
		CHECK(skip_doc(deep, strlen(deep), &err) < 0);
		CHECK(has(err.msg, "nesting deeper than 64 levels"));
		free(ok);
		free(deep);
	}
	/* 100000 open brackets: fails at depth 65, no stack overflow */
	{
		size_t n = 100000;
		char *s = malloc(n + 1);
		memset(s, '[', n);
		s[n] = 0;
		CHECK(skip_doc(s, n, &err) < 0);
		CHECK(has(err.msg, "nesting deeper"));
		free(s);
	}
}

TEST(duplicate_keys)
{
	struct ja_err err;
	const char *d = "{\"a\":1,\"b\":2,\"a\":3}";
	CHECK(skip_doc(d, strlen(d), &err) < 0);
	CHECK(has(err.msg, "duplicate key \"a\""));
	/* the same key in sibling objects and at other depths is fine */
	CHECK(valid_doc("[{\"a\":1},{\"a\":2},{\"a\":{\"a\":{\"a\":3}}}]"));
	CHECK(valid_doc("{\"a\":{\"b\":1},\"b\":{\"a\":1}}"));
	/* keys are compared after decoding: "\u0061" is "a" */
	d = "{\"a\":1,\"\\u0061\":2}";
	CHECK(skip_doc(d, strlen(d), &err) < 0);
	CHECK(has(err.msg, "duplicate key"));
	/* a key that differs only after a NUL-free prefix is distinct */
	CHECK(valid_doc("{\"ab\":1,\"a\":2,\"abc\":3}"));
}

TEST(duplicate_key_message_is_one_escaped_line)
{
	struct ja_err err;
	const char *d = "{\"k\\nx\\u001b[31m\":1,\"k\\nx\\u001b[31m\":2}";
	CHECK(skip_doc(d, strlen(d), &err) < 0);
	CHECK(has(err.msg, "duplicate key"));
	CHECK(strchr(err.msg, '\n') == NULL);
	CHECK(strchr(err.msg, '\x1b') == NULL);
}

TEST(many_distinct_keys)
{
	size_t n = 50000, len = 0;
	char *s = malloc(n * 16 + 4);
	struct ja_err err;
	s[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s\"k%zu\":%zu", i ? "," : "", i, i);
	s[len++] = '}';
	s[len] = 0;
	CHECK(skip_doc(s, len, &err) == 0);
	/* the same again with one repeated key at the end */
	len--;
	len += (size_t)sprintf(s + len, ",\"k17\":0}");
	CHECK(skip_doc(s, len, &err) < 0);
	CHECK(has(err.msg, "duplicate key \"k17\""));
	free(s);
}

TEST(every_prefix_of_a_document_fails)
{
	const char *d = "{\"a\":[1,-2,{\"b\":\"c\\u00e9\\ud83d\\ude00\"},true,false,null],\"x\":0}";
	size_t n = strlen(d);
	struct ja_err err;
	CHECK(skip_doc(d, n, &err) == 0);
	for (size_t k = 0; k < n; k++) {
		char *p = malloc(k ? k : 1); /* exactly k bytes, no NUL: ASan sees an overread */
		memcpy(p, d, k);
		if (skip_doc(p, k, &err) == 0)
			printf("# prefix %zu accepted\n", k);
		CHECK(skip_doc(p, k, &err) < 0);
		free(p);
	}
}

TEST(object_and_array_api)
{
	const char *d = "{\"s\":\"v\",\"n\":-5,\"b\":true,\"a\":[1,2,3]}";
	struct ja_err err = {0};
	struct jp jp;
	const char *k, *s;
	size_t n, kl;
	int64_t v, sum = 0;
	int r, b = 0, keys = 0;
	jp_init(&jp, d, strlen(d), &err);
	CHECK(jp_peek(&jp) == J_OBJ);
	CHECK(jp_obj_begin(&jp) == 0);
	while ((r = jp_obj_key(&jp, &k, &kl)) > 0) {
		keys++;
		if (kl == 1 && k[0] == 's') {
			CHECK(jp_peek(&jp) == J_STR);
			CHECK(jp_str(&jp, &s, &n) == 0 && n == 1 && s[0] == 'v');
		} else if (kl == 1 && k[0] == 'n') {
			CHECK(jp_peek(&jp) == J_NUM);
			CHECK(jp_int(&jp, &v) == 0 && v == -5);
		} else if (kl == 1 && k[0] == 'b') {
			CHECK(jp_peek(&jp) == J_BOOL);
			CHECK(jp_bool(&jp, &b) == 0 && b == 1);
		} else {
			CHECK(jp_peek(&jp) == J_ARR);
			CHECK(jp_arr_begin(&jp) == 0);
			while ((r = jp_arr_next(&jp)) > 0)
				CHECK(jp_int(&jp, &v) == 0 && (sum += v) > 0);
			CHECK(r == 0);
		}
	}
	CHECK(r == 0);
	CHECK(keys == 4);
	CHECK(sum == 6);
	CHECK(jp_finish(&jp) == 0);
	CHECK(jp.depth == 0);
	jp_release(&jp);
	CHECK_STR(jp_type_name(J_STR), "a string");
	CHECK_STR(jp_type_name(J_NULL), "null");
}

int main(void)
{
	RUN(escape_short_forms);
	RUN(escape_controls_and_del_lowercase_hex);
	RUN(escape_slash_and_printable_ascii_literal);
	RUN(escape_non_ascii_as_u_escapes);
	RUN(escape_astral_as_surrogate_pairs);
	RUN(writer_output_is_ascii_and_round_trips);
	RUN(put_int);
	RUN(strings_with_one_special_byte_at_every_offset);
	RUN(decode_escapes);
	RUN(decode_rejects_lone_surrogates);
	RUN(decode_rejects_nul_and_raw_controls);
	RUN(decode_rejects_invalid_utf8);
	RUN(decode_rejects_bad_escapes);
	RUN(utf8_valid_helper);
	RUN(utf16_order);
	RUN(integers_in_range);
	RUN(integers_at_digit_boundaries);
	RUN(integers_out_of_range);
	RUN(integers_reject_fractions_exponents_and_other_types);
	RUN(number_syntax_errors);
	RUN(values_and_structure);
	RUN(empty_and_whitespace_input_rejected);
	RUN(trailing_garbage_rejected_trailing_whitespace_accepted);
	RUN(bom_rejected);
	RUN(error_position);
	RUN(nesting_depth_limit);
	RUN(duplicate_keys);
	RUN(duplicate_key_message_is_one_escaped_line);
	RUN(many_distinct_keys);
	RUN(every_prefix_of_a_document_fails);
	RUN(object_and_array_api);
	return unit_done();
}
