/* http.h - the only libcurl user.
 *
 * Two ways in: http_simple_fetch() for small blocking requests that need no
 * signing or retries (credential endpoints), and the transfer engine
 * (struct http_engine) that drives many requests at once on one curl multi
 * handle for the S3 client.
 */
#ifndef JA_HTTP_H
#define JA_HTTP_H

#include <stddef.h>
#include "core/buf.h"
#include "core/util.h"

/* Call once per process before any thread starts (idempotent). */
void http_global_init(void);

struct http_simple {
	const char *method;	    /* "GET", "PUT" */
	const char *url;	    /* http:// or https:// */
	const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
	const char *body;	    /* request body (PUT/POST), may be NULL */
	size_t body_len;
	long timeout_ms; /* whole request, connect included; 0 = 5000 */
	size_t max_body; /* response bytes kept at most (more is an error); 0 = 1 MiB */
};

/* Blocking request; *status gets the HTTP status, body the response bytes.
 * Returns -1 with err on a transport error (refused, timeout, oversized body). */
int http_simple_fetch(const struct http_simple *rq, long *status, struct buf *body,
		      struct ja_err *err);

/* The transfer engine: many requests at once on one curl multi handle, connections
 * reused.  Single-threaded: all calls from one thread.  A transfer is described by
 * a caller-owned struct http_xfer that must stay put until on_done has run. */
struct http_engine_opts {
	int max_conns;		 /* parallel connections (and transfers) */
	long connect_timeout_ms; /* 0 = 10 s */
	long stall_timeout_ms;	 /* abort when no byte moves for this long; 0 = 30 s */
	const char *ca_bundle;	 /* NULL = system CAs; verification is always on */
};

struct http_xfer;
/* Response body bytes; return 0, or -1 to abort the transfer (x->aborted is set). */
typedef int (*http_data_fn)(struct http_xfer *x, const char *p, size_t n);
/* Upload bytes: fill at most n bytes at offset off of the body; return bytes, -1 to abort. */
typedef long (*http_read_fn)(struct http_xfer *x, char *p, size_t n, uint64_t off);
typedef void (*http_done_fn)(struct http_xfer *x);

struct http_xfer {
	/* request, set by the caller */
	const char *method;
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated */
	int has_body;		    /* send a body of up_len bytes ... */
	uint64_t up_len;
	const char *up_buf; /* ... from this buffer, or through on_read */
	http_read_fn on_read;
	http_data_fn on_data; /* NULL: the body is discarded */
	http_done_fn on_done;
	void *ctx;
	/* response, filled by the engine (reset by http_engine_add) */
	long status;		 /* 0 when no response arrived */
	int failed;		 /* transport error: see err_msg */
	int retryable;		 /* ... one worth retrying (not TLS verification, bad URL) */
	int timed_out;		 /* ... because of the connect or stall timeout */
	int aborted;		 /* a callback returned -1 */
	char err_msg[256];	 /* transport error text */
	uint64_t sent, received; /* body bytes */
	double ms;		 /* duration */
	char *resp_headers;	 /* "name: value\n" lines, names lower-cased; malloc'd */
	size_t resp_headers_len;
	void *internal; /* engine bookkeeping */
};

struct http_engine;
struct http_engine *http_engine_new(const struct http_engine_opts *o);
void http_engine_free(struct http_engine *e); /* cancels what still runs (no on_done) */
/* Start a transfer.  -1 with err if it cannot even be set up. */
int http_engine_add(struct http_engine *e, struct http_xfer *x, struct ja_err *err);
/* Cancel a running transfer; its on_done is not called. */
void http_engine_cancel(struct http_engine *e, struct http_xfer *x);
/* Move data for up to timeout_ms (less when a transfer finishes: its on_done runs
 * from here).  Returns the number of transfers still running. */
int http_engine_step(struct http_engine *e, long timeout_ms);
int http_engine_running(const struct http_engine *e);
/* Value of response header NAME (lower case) while the body arrives (from on_data),
 * malloc'd, or NULL. */
char *http_xfer_live_header(const struct http_xfer *x, const char *name);
/* Value of response header NAME (lower case) of a finished transfer, malloc'd, or NULL. */
char *http_xfer_header(const struct http_xfer *x, const char *name);
void http_xfer_release(struct http_xfer *x); /* frees resp_headers */

#endif
