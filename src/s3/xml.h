/* xml.h - readers (libexpat) for the few S3 XML documents ja handles, and the
 * one document it writes (CompleteMultipartUpload).
 *
 * Every input is hostile: documents over XML_MAX_DOC bytes, nesting deeper than
 * XML_MAX_DEPTH, or text fields longer than XML_MAX_TEXT are refused; entity
 * declarations (DTDs) are refused; nothing is ever printed.
 *
 * Elements are matched on their local names (with or without S3's xmlns) and only
 * at their documented place, so a <Key> under <Owner> is never an object key.
 * Unknown elements are skipped; a known text field given twice in the same parent
 * makes the document malformed (neither copy is more trustworthy).
 */
#ifndef JA_XML_H
#define JA_XML_H

#include <stddef.h>
#include <stdint.h>
#include "core/util.h"

#define XML_MAX_DOC	(32u << 20)
#define XML_MAX_DEPTH	16
#define XML_MAX_TEXT	8192
#define XML_MAX_OBJECTS 100000u /* Contents + CommonPrefixes in one list page */

/* An S3 <Error> document; fields are NUL-terminated and truncated to fit (on a
 * UTF-8 character boundary).  They are the server's text: any character but NUL. */
struct s3_error_info {
	char code[64]; /* "NoSuchKey" */
	char message[512];
	char request_id[128];
	char region[64];    /* <Region> of a PermanentRedirect / AuthorizationHeaderMalformed */
	char endpoint[256]; /* <Endpoint> of a PermanentRedirect */
	char bucket[256];   /* <BucketName>, or <Bucket> of a PermanentRedirect */
	char key[1024];
};

/* 0 when p[0..n) is an S3 <Error> document, i.e. a well-formed <Error> root with a
 * non-empty <Code> (out filled), -1 otherwise (out zeroed). */
int xml_parse_error(const char *p, size_t n, struct s3_error_info *out);

struct s3_object {
	char *key;
	uint64_t size;
	char *etag;	     /* as sent, quotes included; "" when absent */
	char *last_modified; /* "2026-11-22T10:00:00.000Z"; "" when absent */
};

/* One ListObjectsV2 page.  Every Contents has a non-empty Key and a Size (a
 * decimal uint64); keys are as sent (URL-encoded only if the request asked). */
struct s3_list_page {
	struct s3_object *objs;
	size_t nobjs;
	char **prefixes; /* CommonPrefixes/Prefix, in document order */
	size_t nprefixes;
	int truncated;	  /* IsTruncated; 0 when absent */
	char *next_token; /* NextContinuationToken; NULL when none, never NULL when truncated */
};

/* 0 with out filled (caller releases), -1 with err and out zeroed.  An <Error>
 * document is an error whose message carries its Code and Message. */
int xml_parse_list(const char *p, size_t n, struct s3_list_page *out, struct ja_err *err);
/* Frees everything and zeroes pg; fine on a zeroed page. */
void s3_list_page_release(struct s3_list_page *pg);

/* InitiateMultipartUploadResult: 0 with *upload_id (malloc'd, non-empty), or -1
 * with err and *upload_id NULL. */
int xml_parse_initiate(const char *p, size_t n, char **upload_id, struct ja_err *err);

/* CompleteMultipartUpload reply, which may be a 200 whose body is an <Error>.
 * Returns 0 with *etag (malloc'd, may be NULL if absent), 1 when the body is an
 * <Error> with a Code (ei filled when not NULL), -1 with err when malformed. */
int xml_parse_complete(const char *p, size_t n, char **etag, struct s3_error_info *ei,
		       struct ja_err *err);

/* The CompleteMultipartUpload request body for parts 1..n (malloc'd); etags[i]
 * is part i+1's ETag as received, escaped here.  A byte XML cannot carry (a
 * control character, invalid UTF-8) becomes U+FFFD, so the body is always
 * well-formed. */
char *xml_complete_body(const char *const *etags, size_t n);

#endif
