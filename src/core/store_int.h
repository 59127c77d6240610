/* store_int.h - what store.c shares with its backends (store_file.c, s3/store_s3.c).
 *
 * store.c parses the URL, validates what every backend needs validated
 * (metadata, content type, the PUT source) and keeps the ops that fail before
 * reaching a backend; a backend implements the vtable below.  An op a backend
 * refuses in check() never reaches its submit(): it is completed with its error
 * from the backend's run loop through store_finish_failed(), so on_done still
 * runs on the store_run thread, like every other completion.
 */
#ifndef JA_STORE_INT_H
#define JA_STORE_INT_H

#include "store.h"

struct store_vt {
	/* 0, or -1 with err: the op cannot be submitted (bad key, too large) */
	int (*check)(struct store *s, const struct store_op *op, struct ja_err *err);
	void (*submit)(struct store *s, struct store_op *op);
	int (*run)(struct store *s, struct ja_err *err);
	size_t (*pending)(const struct store *s);
	void (*close)(struct store *s);
};

struct store {
	const struct store_vt *vt;
	char *url;	/* canonical: "s3://bucket/prefix", "file:///abs" */
	char *cache_id; /* "bucket/prefix" or the file URL */
	int remote;
	char *root;	       /* file: absolute path of the root */
	char *bucket, *prefix; /* s3: prefix without a trailing '/', may be "" */
	int jobs;	       /* as asked; 0 = the backend's default */
	void (*feed)(void *ctx);
	void *feed_ctx;
	struct store_op *failed, *failed_tail; /* linked through op->internal */
	size_t nfailed;
	void *be; /* the backend's state */
};

int store_file_open(struct store *s, const struct store_opts *o, struct ja_err *err);
int store_s3_open(struct store *s, const struct store_opts *o, struct ja_err *err);

/* Run on_done of every op that failed at submission (on_done may submit more,
 * which may fail too: those are finished as well).  Returns how many ran. */
size_t store_finish_failed(struct store *s);

/* "HEAD", "GET", "PUT", "LIST": the verb of an op in messages, as the S3 client's. */
const char *store_kind_name(enum store_kind k);

#endif
