/* xml_fuzz.c - libFuzzer target for the S3 XML readers and the body writer.
 *
 * The input goes to all four readers; each must either succeed with a result that
 * keeps the documented promises or fail with one line of printable text.  The input
 * split on newlines is also used as ETags: the CompleteMultipartUpload body made of
 * them must always be well-formed XML with one Part per ETag.  abort() marks a
 * broken invariant.
 *   make fuzz FUZZ_TARGETS=xml_fuzz FUZZ_SECONDS=60
 */
#include "s3/xml.h"

#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_msg(const struct ja_err *err)
{
	if (!err->msg[0] || err->code != EXIT_FAIL) {
		fprintf(stderr, "error without message or code: %d '%s'\n", err->code, err->msg);
		abort();
	}
	for (const unsigned char *p = (const unsigned char *)err->msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "control character in message: %s\n", err->msg);
			abort();
		}
}

static void check_str(const char *s, size_t cap)
{
	if (strnlen(s, cap) == cap)
		abort(); /* not NUL-terminated within its field */
}

static void fuzz_error(const char *p, size_t n)
{
	struct s3_error_info ei;
	int rc = xml_parse_error(p, n, &ei);
	check_str(ei.code, sizeof(ei.code));
	check_str(ei.message, sizeof(ei.message));
	check_str(ei.request_id, sizeof(ei.request_id));
	check_str(ei.region, sizeof(ei.region));
	check_str(ei.endpoint, sizeof(ei.endpoint));
	check_str(ei.bucket, sizeof(ei.bucket));
	check_str(ei.key, sizeof(ei.key));
	if ((rc == 0) != (ei.code[0] != 0))
		abort();
}

static void fuzz_list(const char *p, size_t n)
{
	struct s3_list_page pg;
	struct ja_err err = {0};
	if (xml_parse_list(p, n, &pg, &err) < 0) {
		check_msg(&err);
		if (pg.nobjs || pg.nprefixes || pg.objs || pg.prefixes || pg.next_token)
			abort();
		return;
	}
	if (pg.nobjs + pg.nprefixes > XML_MAX_OBJECTS || (pg.truncated && !pg.next_token))
		abort();
	for (size_t i = 0; i < pg.nobjs; i++)
		if (!pg.objs[i].key[0] || strlen(pg.objs[i].key) > XML_MAX_TEXT ||
		    strlen(pg.objs[i].etag) > XML_MAX_TEXT || !pg.objs[i].last_modified)
			abort();
	for (size_t i = 0; i < pg.nprefixes; i++)
		if (strlen(pg.prefixes[i]) > XML_MAX_TEXT)
			abort();
	s3_list_page_release(&pg);
}

static void fuzz_multipart(const char *p, size_t n)
{
	struct ja_err err = {0};
	struct s3_error_info ei;
	char *s = NULL;
	int rc;
	if (xml_parse_initiate(p, n, &s, &err) < 0) {
		check_msg(&err);
		if (s)
			abort();
	} else if (!s || !*s) {
		abort();
	}
	free(s);
	memset(&err, 0, sizeof(err));
	rc = xml_parse_complete(p, n, &s, &ei, &err);
	if (rc < 0)
		check_msg(&err);
	if ((rc != 0 && s) || (rc == 1) != (ei.code[0] != 0))
		abort();
	free(s);
}

struct body {
	int depth;
	size_t parts;
};

static void XMLCALL b_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct body *b = ud;
	if (++b->depth == 2)
		b->parts++;
}

static void XMLCALL b_end(void *ud, const XML_Char *name)
{
	((struct body *)ud)->depth--;
}

/* The lines of data as ETags: the body must parse, with one Part each. */
static void fuzz_body(const char *p, size_t n)
{
	char *copy = malloc(n + 1), *etags[64], *line = copy, *body;
	size_t k = 0;
	struct body b = {0};
	XML_Parser xp;
	memcpy(copy, p, n);
	copy[n] = 0;
	while (k < 64) {
		char *nl = strchr(line, '\n');
		etags[k++] = line;
		if (!nl)
			break;
		*nl = 0;
		line = nl + 1;
	}
	body = xml_complete_body((const char *const *)etags, k);
	xp = XML_ParserCreate(NULL);
	XML_SetUserData(xp, &b);
	XML_SetElementHandler(xp, b_start, b_end);
	if (XML_Parse(xp, body, (int)strlen(body), XML_TRUE) != XML_STATUS_OK || b.parts != k) {
		fprintf(stderr, "bad body (%s): %s\n", XML_ErrorString(XML_GetErrorCode(xp)), body);
		abort();
	}
	XML_ParserFree(xp);
	free(body);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	fuzz_error(p, size);
	fuzz_list(p, size);
	fuzz_multipart(p, size);
	fuzz_body(p, size);
	return 0;
}
