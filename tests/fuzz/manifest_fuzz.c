/* manifest_fuzz.c - libFuzzer target for the manifest model.
 *
 * Decode any bytes; an accepted document must encode, the encoding must decode again
 * and re-encode to the same bytes, and merging/converting must never crash.  Every
 * error must be one line of printable text.  abort() marks a broken invariant.
 *   make fuzz FUZZ_TARGETS=manifest_fuzz FUZZ_SECONDS=60
 */
#include "core/buf.h"
#include "core/manifest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_msg(const struct ja_err *err)
{
	if (!err->msg[0] || (err->code != EXIT_USAGE && err->code != EXIT_FAIL)) {
		fprintf(stderr, "error without message or code: %d '%s'\n", err->code, err->msg);
		abort();
	}
	for (const unsigned char *p = (const unsigned char *)err->msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "control character in message: %s\n", err->msg);
			abort();
		}
}

/* Encode m into out; an encoding must always decode and re-encode identically. */
static int encode_checked(struct manifest *m, struct buf *out, int must)
{
	struct manifest again;
	struct buf enc2 = BUF_INIT;
	struct ja_err err = {0};
	if (manifest_encode(m, out, &err) < 0) {
		check_msg(&err);
		if (must) {
			fprintf(stderr, "decoded but does not encode: %s\n", err.msg);
			abort();
		}
		return -1;
	}
	manifest_init(&again, MVER_2023);
	if (manifest_decode(&again, out->p, out->len, &err) < 0) {
		fprintf(stderr, "encoding does not decode: %s\n%s\n", err.msg, out->p);
		abort();
	}
	if (manifest_encode(&again, &enc2, &err) < 0) {
		fprintf(stderr, "re-decoded encoding does not encode: %s\n", err.msg);
		abort();
	}
	if (enc2.len != out->len || memcmp(enc2.p, out->p, out->len)) {
		fprintf(stderr, "re-encoding differs:\n%s\n%s\n", out->p, enc2.p);
		abort();
	}
	buf_release(&enc2);
	manifest_release(&again);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, raw, one, two, *in[2];
	struct buf enc = BUF_INIT, e = BUF_INIT;
	struct ja_err err = {0}, err2 = {0};
	char *copy = malloc(size + 1);
	int rc, rc2;

	memcpy(copy, data, size);
	copy[size] = 0;
	manifest_init(&m, MVER_2023);
	rc = manifest_decode(&m, copy, size, &err);
	/* the same bytes without a NUL after them (libFuzzer's buffer is exactly size long):
	 * the decoder must not read past len, and must reach the same verdict */
	manifest_init(&raw, MVER_2023);
	rc2 = manifest_decode(&raw, (const char *)data, size, &err2);
	if (rc != rc2 || (rc && strcmp(err.msg, err2.msg))) {
		fprintf(stderr, "verdict depends on a NUL after the input: '%s' vs '%s'\n", err.msg,
			err2.msg);
		abort();
	}
	memset(copy, 0, size); /* the model must not point into the input */
	if (rc < 0) {
		check_msg(&err);
		goto out;
	}
	encode_checked(&m, &enc, 1);

	/* one input: the formatter (totalSize recomputed, else the same bytes) */
	in[0] = in[1] = &m;
	if (manifest_merge(&one, in, 1, &err) == 0) {
		one.total_size = m.total_size;
		encode_checked(&one, &e, 1);
		if (e.len != enc.len || memcmp(e.p, enc.p, enc.len)) {
			fprintf(stderr, "merge of one input changed it:\n%s\n%s\n", enc.p, e.p);
			abort();
		}
		buf_reset(&e);
	} else {
		check_msg(&err);
	}
	manifest_release(&one);

	/* merged with itself */
	if (manifest_merge(&two, in, 2, &err) == 0)
		encode_checked(&two, &e, 0);
	else
		check_msg(&err);
	buf_reset(&e);
	manifest_release(&two);

	/* converted to the other version, where that is lossless */
	if (manifest_convert(&raw, raw.ver == MVER_2023 ? MVER_2025 : MVER_2023, &err) == 0)
		encode_checked(&raw, &e, 0);
	else
		check_msg(&err);
out:
	buf_release(&enc);
	buf_release(&e);
	manifest_release(&m);
	manifest_release(&raw);
	free(copy);
	return 0;
}
