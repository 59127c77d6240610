/* s3int.h - what s3.c, s3err.c and s3mpu.c share; not for other modules. */
#ifndef JA_S3INT_H
#define JA_S3INT_H

#include "http.h"
#include "s3.h"
#include "sigv4.h"

struct creds_chain;

struct s3_client {
	struct s3_config cfg;
	struct http_engine *engine;
	struct creds_chain *creds;
	char *region;
	char *owner;
	int custom_endpoint, https;
	char *base, *host, *base_path; /* custom endpoint: "http://h:p", "h:p", "/prefix" */
	int concurrency, max_attempts;
	uint64_t part_size, mp_threshold;
	double backoff_base_ms;
	int tokens;   /* retry budget */
	int64_t skew; /* seconds to add to the local clock */
	uint64_t rng;
	struct s3_op *qhead, *qtail; /* ready to start */
	size_t queued;
	struct s3_op *retry;   /* waiting for their backoff */
	struct op_state *live; /* running */
	int running;	       /* requests in flight */
	size_t pending;	       /* submitted ops not finished */
	int mpu_active;	       /* multipart uploads between their steps */
	void (*feed)(void *ctx);
	void *feed_ctx;
};

struct op_state {
	struct s3_client *c;
	struct s3_op *op;
	struct s3_op *next;		/* queue link */
	struct op_state *rprev, *rnext; /* running list */
	struct http_xfer x;
	char *url;
	char *str[96]; /* strings of the current attempt */
	size_t nstr;
	const char *hdrs[96];
	size_t nsh;
	struct sigv4_param params[8];
	size_t nparams;
	char *num;
	struct buf body; /* error or XML reply */
	char phash[65];
	int have_phash;
	char *complete_body;
	uint64_t start, got; /* GET: first offset, bytes delivered */
	int range_sent, range_end_set, window_set;
	uint64_t range_start, range_end; /* the Range of this attempt, end inclusive */
	uint64_t skip, keep;		 /* of the reply's bytes: drop, then pass on */
	uint64_t total;			 /* GET: object size */
	int total_known;
	double not_before, t0;
	int redirected, skew_fixed, creds_refreshed;
	int cost, refunded;
	int cb_failed;
	struct ja_err cb_err;
};

double s3_now_ms(void);
/* Host header, signing path (unencoded) and URL (appended to url) of bucket/key. */
void s3_address(struct s3_client *c, const char *bucket, const char *key, char **host, char **path,
		struct buf *url);
/* An HTTP Date ("Tue, 01 Dec 2026 13:40:00 GMT") to unix seconds. */
int s3_parse_http_date(const char *s, int64_t *out);
/* The next retry's wait: uniform in [0, min(20 s, base * 2^(attempt-1))). */
double s3_backoff_ms(struct s3_client *c, int attempt);
void s3_log(struct s3_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* s3.c */
void s3_live_link(struct s3_client *c, struct op_state *s);
void s3_live_unlink(struct s3_client *c, struct op_state *s);
void s3_attempt_done(struct http_xfer *x);
/* s3req.c: start the next attempt of op: 0 started, 1 nothing left to do (a resumed
 * download that already has every byte), -1 failed (op->err). */
int s3_start_attempt(struct s3_client *c, struct s3_op *op);
void s3_free_attempt(struct op_state *s);
const char *s3_kind_method(enum s3_kind k);
/* One actionable line for a failed op (s3err.c). */
void s3_error_line(struct s3_client *c, struct s3_op *op, const struct s3_error_info *ei,
		   struct ja_err *err);
/* HEAD/GET response headers into op (size, type, metadata); *total from Content-Range
 * or Content-Length when total is not NULL. */
void s3_take_headers(struct s3_op *op, const struct http_xfer *x, uint64_t *total);
/* Start the multipart upload of a large S3_PUT (s3mpu.c). */
void s3_mpu_start(struct s3_client *c, struct s3_op *op);

#endif
