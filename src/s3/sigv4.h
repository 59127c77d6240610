/* sigv4.h - AWS Signature Version 4 as pure functions: no clock, no I/O, no curl.
 *
 * The caller gives the request as it will be sent (method, raw path, query
 * parameters, headers, payload hash) plus the key material and the time; the
 * functions return the canonical request, the string to sign, the signature
 * and the Authorization header value.  Table-tested against the AWS suite in
 * tests/vectors/sigv4.
 */
#ifndef JA_SIGV4_H
#define JA_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"

#define SIGV4_ALGORITHM	       "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_header {
	const char *name; /* any case; duplicates are joined with ',' in order */
	const char *value;
};

struct sigv4_param {
	const char *name; /* raw (not percent-encoded) query parameter */
	const char *value;
};

struct sigv4_request {
	const char *method; /* "GET" */
	/* The path before percent-encoding ("/bucket/my key").  The canonical URI is this
	 * path with every byte but A-Z a-z 0-9 - . _ ~ and '/' encoded once as %XX; the
	 * client sends the same encoded string (sigv4_uri_encode with keep_slash). */
	const char *path;
	const struct sigv4_param *params; /* query parameters, any order; may be NULL */
	size_t nparams;
	/* The headers to sign: must include host and x-amz-date (and
	 * x-amz-content-sha256, x-amz-security-token when used). */
	const struct sigv4_header *headers;
	size_t nheaders;
	const char *payload_hash; /* lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
	int normalize_path;	  /* 1: remove . and .. segments, collapse // (generic
				     services, the test suite); 0: S3, the path as given */
};

struct sigv4_key {
	const char *access_key;
	const char *secret_key;
	const char *region;   /* "us-east-1" */
	const char *service;  /* "s3" */
	const char *amz_date; /* "20150830T123600Z"; the scope date is its first 8 characters */
};

/* Canonical request (malloc'd, no trailing newline); *signed_headers (malloc'd) gets the
 * "host;x-amz-date" list when signed_headers is not NULL. */
char *sigv4_canonical_request(const struct sigv4_request *rq, char **signed_headers);
/* "AWS4-HMAC-SHA256\nDATE\nSCOPE\nHEX(SHA256(canonical))" (malloc'd). */
char *sigv4_string_to_sign(const struct sigv4_key *k, const char *canonical_request);
/* The 64-hex signature of string_to_sign. */
void sigv4_signature(const struct sigv4_key *k, const char *string_to_sign, char out[65]);
/* The whole Authorization header value (malloc'd):
 * "AWS4-HMAC-SHA256 Credential=AK/SCOPE, SignedHeaders=..., Signature=...". */
char *sigv4_authorization(const struct sigv4_key *k, const struct sigv4_request *rq);

/* The query string of a presigned URL (malloc'd, no leading '?'): rq's parameters plus
 * X-Amz-Algorithm, -Credential, -Date, -Expires (seconds), -Security-Token (when
 * session_token is not NULL) and -SignedHeaders, percent-encoded and in canonical order,
 * then "&X-Amz-Signature=HEX".  rq->headers are the headers to sign (host at least, never
 * x-amz-date: the date travels in the query); rq->payload_hash is UNSIGNED-PAYLOAD for S3.
 * *canonical (malloc'd) gets the canonical request that was signed when it is not NULL. */
char *sigv4_presign_query(const struct sigv4_key *k, const struct sigv4_request *rq,
			  int64_t expires, const char *session_token, char **canonical);

/* Helpers the client shares with the signer. */
void sigv4_sha256_hex(const void *p, size_t n, char out[65]);
/* Append s[0..n) percent-encoded (uppercase hex, unreserved A-Z a-z 0-9 - . _ ~ kept;
 * '/' kept when keep_slash). */
void sigv4_uri_encode(struct buf *b, const char *s, size_t n, int keep_slash);
/* Unix time (UTC) as "YYYYMMDDTHHMMSSZ". */
void sigv4_amz_date(int64_t t, char out[17]);

#endif
