/* json.h - a strict pull parser and an ASCII-only string writer.
 *
 * The parser walks a NUL-terminated buffer without building a tree, so a manifest
 * of a million entries costs no more memory than its model.  It is strict where
 * RFC 8259 is: no comments, no NaN/Infinity, no trailing commas, no raw control
 * characters in strings, valid UTF-8 only, paired surrogates only.  It adds limits
 * for hostile input: nesting depth, duplicate keys, NUL in strings.
 */
#ifndef JA_JSON_H
#define JA_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "util.h"

enum jtype { J_NONE, J_OBJ, J_ARR, J_STR, J_NUM, J_BOOL, J_NULL };

struct jkeyset; /* per-level duplicate key detection */

#define JP_MAX_DEPTH 64

struct jp {
	const char *start, *p, *end;
	int depth;
	struct ja_err *err;
	struct buf str;				 /* decoded string scratch */
	struct jkeyset *keys[JP_MAX_DEPTH + 1];	 /* one per open object */
	unsigned char started[JP_MAX_DEPTH + 1]; /* array level has had an element */
	int failed;
};

/* Borrow buf[0..len) (need not be NUL-terminated) for parsing; errors go to err. */
void jp_init(struct jp *jp, const char *buf, size_t len, struct ja_err *err);
void jp_release(struct jp *jp);

/* Type of the next value, skipping whitespace; J_NONE at end of input or on a syntax error. */
enum jtype jp_peek(struct jp *jp);
const char *jp_type_name(enum jtype t);

/* Objects: jp_obj_begin, then while ((r = jp_obj_key(jp, &k, &n)) > 0) { value }.
 * The key (not NUL-terminated) is valid until the next call that decodes a string.  0 = '}'
 * reached, -1 error. A repeated key in one object is an error. */
int jp_obj_begin(struct jp *jp);
int jp_obj_key(struct jp *jp, const char **key, size_t *len);
/* Arrays: jp_arr_begin, then while ((r = jp_arr_next(jp)) > 0) { value }. */
int jp_arr_begin(struct jp *jp);
int jp_arr_next(struct jp *jp);

/* Scalars.  A string comes back as UTF-8 bytes s[0..len), NOT NUL-terminated: either
 * a slice of the input (no escapes) or scratch space valid until the next string. */
int jp_str(struct jp *jp, const char **s, size_t *len);
/* An integer in int64 range written without fraction or exponent.
 * Errors: "not an integer" (any other type or a fraction/exponent), "integer out of range". */
int jp_int(struct jp *jp, int64_t *v);
int jp_bool(struct jp *jp, int *v);
int jp_skip(struct jp *jp);
/* After the top-level value: only whitespace may follow. */
int jp_finish(struct jp *jp);

/* Set err to "line L, column C: MSG" at the current position; returns -1. */
int jp_fail(struct jp *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s[0..n) (valid UTF-8) as a JSON string with quotes, escaping like Python's
 * json.dumps(ensure_ascii=True): \" \\ \b \f \n \r \t, every other byte outside
 * 0x20..0x7e as \uXXXX (lowercase hex, surrogate pairs above U+FFFF). */
void json_put_str(struct buf *out, const char *s, size_t n);
/* Append an int64 in decimal. */
void json_put_int(struct buf *out, int64_t v);
/* The same into memory the caller reserved: json_esc writes s[0..n) as json_put_str
 * does at o, which has room for 6 * n + 2 bytes; json_itoa writes v at o, which has room
 * for 20 bytes.  Both return the end of what they wrote (no NUL). */
char *json_esc(char *o, const char *s, size_t n);
/* json_esc without the quotes (room for 6 * n bytes). */
char *json_esc_chars(char *o, const char *s, size_t n);
char *json_itoa(char *o, int64_t v);

/* UTF-8 helpers shared with the manifest code. */
/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int utf8_valid(const char *s, size_t n);

#endif
