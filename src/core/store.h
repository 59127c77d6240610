/* store.h - a content-addressed store: the Deadline Cloud key layout
 * (Data/HASH.xxh128, Manifests/...) under a root, on a local disk (file://) or
 * in S3 (s3://BUCKET/PREFIX).  Transfer code talks to this interface only and
 * never knows which backend it has.
 *
 * Operations are asynchronous, like the S3 client's: fill a struct store_op,
 * store_submit() it, and store_run() drives everything submitted (concurrently:
 * an S3 engine or a pool of file threads) and calls each op's on_done on the
 * calling thread.  on_done may submit more.  A feeder (store_set_feeder) is
 * called whenever there is room, so callers never hold more ops than fit in
 * flight.
 */
#ifndef JA_STORE_H
#define JA_STORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"

/* Keys are relative to the store root, '/'-separated: "Data/<hash>.xxh128". */
#define STORE_DATA_DIR	   "Data/"
#define STORE_MANIFEST_DIR "Manifests/"

struct store_opts {
	int jobs; /* operations in flight; 0 = the backend's default (S3: 32, file: 8) */
	/* S3 only (NULL/0 = from the environment and ~/.aws, as the AWS CLI) */
	const char *profile, *region, *endpoint_url, *expected_bucket_owner;
	int max_attempts;
	int verbose;		       /* S3: 1 retries and redirects, 2 every request */
	void (*log)(const char *line); /* where verbose lines go */
};

/* url: "s3://BUCKET/PREFIX", "file:///ABS/PATH" or a plain directory path; NULL =
 * $JA_STORE, else file://$XDG_DATA_HOME/ja/store (~/.local/share/ja/store).  A
 * file store's root is created when missing.  -1 (NULL) with err: a bad URL is
 * code 2. */
struct store *store_open(const char *url, const struct store_opts *o, struct ja_err *err);
void store_close(struct store *s);
/* "s3://bucket/prefix" or "file:///abs/path", for messages and JSON output. */
const char *store_url(const struct store *s);
/* The full location of key, for messages: "s3://bucket/prefix/Data/x.xxh128". */
char *store_key_url(const struct store *s, const char *key);
/* 1 for S3 (a HEAD costs a round trip: worth a check cache), 0 for file. */
int store_is_remote(const struct store *s);
/* A string that names the store in caches: "bucket/prefix" for S3 (the S3 check
 * cache key is CACHE_ID "/" key, as the Python tool's "bucket/full-key"). */
const char *store_cache_id(const struct store *s);

/* Set by SIGINT/SIGTERM handlers; store_run then stops, cleans up and returns. */
extern volatile sig_atomic_t store_interrupted;
/* For those handlers: sets store_interrupted and every backend's own flag
 * (s3_interrupted), so a run stops at once whichever backend it drives.
 * Async-signal-safe. */
void store_interrupt(void);

/* STORE_DELETE removes a key (a missing key is not an error); it exists to clean up
 * after servers that keep the remains of an aborted upload. */
enum store_kind { STORE_HEAD, STORE_GET, STORE_PUT, STORE_LIST, STORE_DELETE };

struct store_meta {
	char *name; /* user metadata name, lower case, without any x-amz-meta- prefix */
	char *value;
};

struct store_op;
typedef void (*store_done_fn)(struct store_op *op);
/* GET: bytes of the object in order (off = offset in the object; a resumed
 * transfer never repeats a byte).  Return -1 to fail the op (set the reason with
 * store_op_fail).  May run on a backend thread: touch only this op's state. */
typedef int (*store_data_fn)(struct store_op *op, const char *p, size_t n, uint64_t off);
/* PUT: called with the bytes read from the source before they are sent, in
 * order from off 0 (again from 0 when a request is retried); -1 aborts the op
 * and nothing is stored under the key.  May run on a backend thread.  An op with
 * on_seen is sent as one stream (S3: one PutObject, so at most 5 GiB); without it
 * large objects go as S3 multipart uploads, parts in parallel. */
typedef int (*store_seen_fn)(struct store_op *op, const char *p, size_t n, uint64_t off);
/* PUT: called once every byte is stored but before the object becomes visible
 * under its key (S3: before CompleteMultipartUpload or the end of the request
 * body; file: before the rename); -1 aborts and nothing is stored under the key.
 * Runs on the store_run thread. */
typedef int (*store_commit_fn)(struct store_op *op);

struct store_op {
	/* --- input --- */
	enum store_kind kind;
	const char *key; /* STORE_LIST: the prefix */
	/* PUT source: buf[0..len), or fd at [off, off+len) */
	const char *buf;
	int fd;
	uint64_t off, len;
	store_seen_fn on_seen;	       /* PUT: see every byte (hash while uploading) */
	store_commit_fn before_commit; /* PUT: last word before the object appears */
	const struct store_meta *meta; /* PUT: user metadata (ASCII values) */
	size_t nmeta;
	const char *content_type;      /* PUT */
	int has_range;		       /* GET */
	uint64_t range_off, range_len; /* GET: range_len 0 = to the end */
	store_data_fn on_data;	       /* GET; NULL: the bytes go to out_buf */
	size_t max_keys; /* LIST: stop once at least this many keys are in (0: all); the
			    keys are then the first ones in byte order and truncated is set */
	store_done_fn on_done;
	void *ctx;

	/* --- output --- */
	int ok;
	int not_found; /* HEAD/GET: no such key */
	struct ja_err err;
	uint64_t size;		     /* HEAD/GET: object size */
	struct store_meta *meta_out; /* HEAD/GET */
	size_t nmeta_out;
	char *out_buf; /* GET without on_data: the object (NUL-terminated), malloc'd */
	size_t out_len;
	char **keys; /* LIST: every key under the prefix (all pages), sorted */
	uint64_t *sizes;
	size_t nkeys;
	int truncated; /* LIST: stopped at max_keys */

	void *internal;
};

void store_submit(struct store *s, struct store_op *op);
/* Run until every submitted op has finished; -1 with err (code 130) when interrupted. */
int store_run(struct store *s, struct ja_err *err);
/* Submit and run one op: 0 when op->ok. */
int store_do(struct store *s, struct store_op *op);
void store_set_feeder(struct store *s, void (*feed)(void *ctx), void *ctx);
/* Ops submitted and not finished. */
size_t store_pending(const struct store *s);
/* From an on_data/on_seen callback: the reason the op fails. */
void store_op_fail(struct store_op *op, const struct ja_err *why);
/* Free the outputs so the op can be reused. */
void store_op_release(struct store_op *op);
const char *store_op_meta(const struct store_op *op, const char *name);

#endif
