/* s3.h - the S3 client: signed requests, retries, errors, multipart uploads.
 *
 * An operation (struct s3_op) is filled by the caller, submitted, and finished
 * by s3_run(), which drives every submitted operation concurrently on one HTTP
 * engine and calls each op's on_done as it completes (on_done may submit more).
 * Retries (standard mode: exponential backoff with full jitter, a retry budget),
 * clock-skew correction, region redirects and credential refresh happen inside;
 * what comes out is success or one actionable error line in op->err.
 */
#ifndef JA_S3_H
#define JA_S3_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/util.h"
#include "xml.h"

#define S3_DEFAULT_CONCURRENCY 64
#define S3_MAX_PARTS	       10000
#define S3_MIN_PART	       ((uint64_t)8 << 20)
#define S3_MAX_OBJECT	       ((uint64_t)5 << 40)
#define S3_MAX_BODY	       ((size_t)256 << 20) /* a GET kept in memory */

struct s3_config {
	const char *profile;		   /* NULL: AWS_PROFILE or "default" */
	const char *region;		   /* NULL: from the environment/profile, else us-east-1 */
	const char *endpoint_url;	   /* NULL: from the environment/profile, else AWS */
	const char *expected_bucket_owner; /* NULL: JA_EXPECTED_BUCKET_OWNER, else none */
	int concurrency;		   /* requests in flight; 0 = S3_DEFAULT_CONCURRENCY */
	int max_attempts;		   /* 0: AWS_MAX_ATTEMPTS / profile / 5 */
	long connect_timeout_ms;	   /* 0: 10 s (JA_CONNECT_TIMEOUT_MS) */
	long stall_timeout_ms;		   /* 0: 30 s (JA_STALL_TIMEOUT_MS) */
	uint64_t part_size;		   /* multipart part size; 0 = 16 MiB (grown to fit) */
	uint64_t multipart_threshold;	   /* 0 = part size */
	int verbose;			   /* 1: redirects and retries; 2: a line per request */
	void (*log)(const char *line);	   /* where verbose lines go (never holds secrets) */
};

/* Set by the applet's SIGINT/SIGTERM handler; s3_run then stops every transfer,
 * aborts open multipart uploads and returns. */
extern volatile sig_atomic_t s3_interrupted;

struct s3_client;
struct s3_client *s3_client_new(const struct s3_config *cfg, struct ja_err *err);
void s3_client_free(struct s3_client *c);
const char *s3_client_region(const struct s3_client *c);

/* S3_PUT of more than the multipart threshold becomes a multipart upload inside
 * (create, parts in parallel, complete; abort on any failure or an interrupt). */
enum s3_kind {
	S3_HEAD,
	S3_GET,
	S3_PUT,
	S3_DELETE,
	S3_LIST,
	S3_MPU_CREATE,
	S3_MPU_PART,
	S3_MPU_COMPLETE,
	S3_MPU_ABORT,
};

struct s3_meta {
	char *name; /* without "x-amz-meta-", lower case */
	char *value;
};

struct s3_op;
typedef void (*s3_done_fn)(struct s3_op *op);
/* Object bytes as they arrive, in order; off is the offset in the object.  After a
 * dropped connection the GET resumes where it stopped, so every byte comes once.
 * Return -1 to abort the op (it fails with the caller's err, see s3_op_fail). */
typedef int (*s3_data_fn)(struct s3_op *op, const char *p, size_t n, uint64_t off);
/* Upload bytes: fill p with n bytes at offset off of the body; -1 aborts.  Called
 * again from offset 0 when a request is retried. */
typedef long (*s3_read_fn)(struct s3_op *op, char *p, size_t n, uint64_t off);

struct s3_op {
	/* --- input --- */
	enum s3_kind kind;
	const char *bucket;
	const char *key;
	/* PUT, MPU_PART body: buf[0..len), or fd at [off, off+len), or on_read */
	const char *buf;
	int fd;
	uint64_t off, len;
	s3_read_fn on_read;
	const struct s3_meta *meta; /* PUT, MPU_CREATE: user metadata */
	size_t nmeta;
	const char *content_type;
	/* GET: a range (has_range: bytes [range_off, range_off+range_len)), the sink */
	int has_range;
	uint64_t range_off, range_len;
	s3_data_fn on_data;
	/* LIST: one page */
	const char *prefix, *delimiter, *token, *start_after;
	int max_keys;
	/* MPU_PART / MPU_COMPLETE / MPU_ABORT */
	const char *upload_id;
	int part_number;
	const char *const *etags; /* MPU_COMPLETE: parts 1..nparts */
	size_t nparts;
	int cleanup; /* run even after an interrupt (MPU_ABORT) */
	/* PUT: called when every byte is read but before the object can appear (before
	 * the last byte of a single PUT is sent, before CompleteMultipartUpload); -1
	 * (with s3_op_fail) aborts and nothing is stored. */
	int (*before_commit)(struct s3_op *op);
	s3_done_fn on_done;
	void *ctx;

	/* --- output --- */
	int ok;
	long status;	   /* last HTTP status, 0 if none */
	int not_found;	   /* 404 (NoSuchKey, or NoSuchBucket: see err) */
	int attempts;	   /* requests made */
	struct ja_err err; /* when !ok */
	uint64_t size;	   /* HEAD/GET: the object's size */
	char *etag;	   /* HEAD/GET/PUT/MPU_PART/MPU_COMPLETE */
	char *last_modified;
	char *content_type_out;
	struct s3_meta *meta_out; /* HEAD/GET */
	size_t nmeta_out;
	struct s3_list_page list; /* LIST */
	char *upload_id_out;	  /* MPU_CREATE */
	struct buf body;	  /* GET without on_data: the bytes (at most S3_MAX_BODY) */

	void *internal;
};

/* Queue op (caller-owned, must stay put until its on_done ran). */
void s3_submit(struct s3_client *c, struct s3_op *op);
/* Run until every submitted op finished.  -1 with err when interrupted. */
int s3_run(struct s3_client *c, struct ja_err *err);
/* Submitted ops not finished yet (multipart uploads count as one). */
size_t s3_pending(const struct s3_client *c);
/* Submit one op and run until it finished: op->ok tells. */
int s3_do(struct s3_client *c, struct s3_op *op);
/* Mark op failed from a callback with the caller's reason (after on_data returned -1). */
void s3_op_fail(struct s3_op *op, const struct ja_err *why);
/* Free the outputs (etag, meta, list page ...) so the op can be reused. */
void s3_op_release(struct s3_op *op);
/* The value of user metadata NAME of a HEAD/GET result, or NULL. */
const char *s3_op_meta(const struct s3_op *op, const char *name);

/* More work on demand: called by s3_run whenever a request slot is free and nothing
 * is queued, so a caller with a million objects never holds a million ops.  It
 * submits zero or more ops; it is not called again after it submitted none until
 * an op finishes. */
void s3_set_feeder(struct s3_client *c, void (*feed)(void *ctx), void *ctx);

/* The multipart part size for an object of len bytes: configured (at least 8 MiB),
 * grown in MiB steps so no object needs more than S3_MAX_PARTS parts. */
uint64_t s3_part_size(uint64_t len, uint64_t configured);

/* "s3://BUCKET/KEY" -> bucket, key (malloc'd; key may be ""); -1 with err (code 2). */
int s3_parse_url(const char *url, char **bucket, char **key, struct ja_err *err);

#endif
