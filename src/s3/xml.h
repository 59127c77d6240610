/* xml.h - readers (libexpat) for the few S3 XML documents ja handles, and the
 * one document it writes (CompleteMultipartUpload).
 *
 * Every input is hostile: documents over XML_MAX_DOC bytes, nesting deeper than
 * XML_MAX_DEPTH, or text fields longer than XML_MAX_TEXT are refused; entity
 * declarations (DTDs) are refused; nothing is ever printed.
 */
#ifndef JA_XML_H
#define JA_XML_H

#include <stddef.h>
#include <stdint.h>
#include "core/util.h"

#define XML_MAX_DOC (32u << 20)
#define XML_MAX_DEPTH 16
#define XML_MAX_TEXT 8192

/* An S3 <Error> document; fields are NUL-terminated and truncated to fit. */
struct s3_error_info {
	char code[64];	      /* "NoSuchKey" */
	char message[512];
	char request_id[128];
	char region[64];      /* <Region> of a PermanentRedirect / AuthorizationHeaderMalformed */
	char endpoint[256];   /* <Endpoint> of a PermanentRedirect */
	char bucket[256];
	char key[1024];
};

/* 0 when p[0..n) is an S3 <Error> document (out filled), -1 otherwise (out zeroed). */
int xml_parse_error(const char *p, size_t n, struct s3_error_info *out);

struct s3_object {
	char *key;
	uint64_t size;
	char *etag;	     /* as sent, quotes included */
	char *last_modified; /* "2026-11-22T10:00:00.000Z" */
};

/* One ListObjectsV2 page. */
struct s3_list_page {
	struct s3_object *objs;
	size_t nobjs;
	char **prefixes; /* CommonPrefixes/Prefix, in document order */
	size_t nprefixes;
	int truncated;	  /* IsTruncated */
	char *next_token; /* NextContinuationToken; NULL when none */
};

int xml_parse_list(const char *p, size_t n, struct s3_list_page *out, struct ja_err *err);
void s3_list_page_release(struct s3_list_page *pg);

/* InitiateMultipartUploadResult: *upload_id (malloc'd). */
int xml_parse_initiate(const char *p, size_t n, char **upload_id, struct ja_err *err);

/* CompleteMultipartUpload reply, which may be a 200 whose body is an <Error>.
 * Returns 0 with *etag (malloc'd, may be NULL if absent), 1 when the body is an
 * <Error> (ei filled), -1 with err when malformed. */
int xml_parse_complete(const char *p, size_t n, char **etag, struct s3_error_info *ei,
		       struct ja_err *err);

/* The CompleteMultipartUpload request body for parts 1..n (malloc'd). */
char *xml_complete_body(const char *const *etags, size_t n);

#endif
