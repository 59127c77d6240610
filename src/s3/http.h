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

#endif
