/* creds_int.h - what the provider chain (creds.c) shares with its HTTP providers
 * (creds_http.c).  Internal to src/s3.
 *
 * A provider answers 1 (credentials in *c), 0 (not configured: try the next one)
 * or -1 (configured but failing: err says why, and the chain stops there).
 */
#ifndef JA_CREDS_INT_H
#define JA_CREDS_INT_H

#include "creds.h"
#include "awsconfig.h"
#include "core/buf.h"

/* What one resolution needs; imds_note says why instance metadata had nothing. */
struct creds_ctx {
	const char *profile;
	struct aws_files *f;
	long process_timeout_ms;
	char imds_note[300];
};

/* How a provider names the four fields, for messages. */
struct creds_names {
	const char *key, *secret, *token, *expiration;
};
extern const struct creds_names creds_endpoint_names; /* AccessKeyId ... Token, Expiration */

/* Fill c from a JSON credentials document in body; versioned = "Version": 1 required
 * (credential_process).  A "Code" other than "Success" is an error.  Messages name
 * fields and positions, never values. */
int creds_from_doc(const struct buf *body, const struct creds_names *nm, int versioned,
		   const char *source, struct aws_creds *c, struct ja_err *err);
/* 1 if s is non-empty printable ASCII without spaces: safe in a header. */
int creds_value_ok(const char *s);
/* Zero the bytes (they may be secret), then buf_release. */
void creds_wipe_buf(struct buf *b);
void creds_sleep_ms(long ms);

int creds_from_container(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err);
int creds_from_imds(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err);

#endif
