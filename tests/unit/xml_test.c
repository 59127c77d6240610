/* xml_test.c - the S3 XML readers and the CompleteMultipartUpload writer: documents
 * of the shapes S3 sends, then hostile ones. */
#include "core/buf.h"
#include "s3/xml.h"
#include "unit.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS   "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* ---- helpers ------------------------------------------------------------------------ */

static struct ja_err err;

/* Parse a list page; returns the rc, leaves the page in *pg (release it). */
static int list(const char *doc, struct s3_list_page *pg)
{
	memset(&err, 0, sizeof(err));
	return xml_parse_list(doc, strlen(doc), pg, &err);
}

/* The error message of a list document that must be refused ("" if it was not). */
static const char *list_err(const char *doc)
{
	struct s3_list_page pg;
	int rc = list(doc, &pg);
	if (rc == 0) {
		s3_list_page_release(&pg);
		return "";
	}
	/* a refused page is left empty */
	if (pg.objs || pg.nobjs || pg.prefixes || pg.nprefixes || pg.next_token)
		return "page not zeroed";
	return err.msg;
}

/* A list page holding one Contents whose inner XML is c. */
static const char *list1(const char *c)
{
	static char doc[32768];
	snprintf(doc, sizeof(doc),
		 "<ListBucketResult " NS "><Name>b</Name><Contents>%s</Contents>"
		 "<IsTruncated>false</IsTruncated></ListBucketResult>",
		 c);
	return doc;
}

/* The key of a one-object page whose Contents is c, or the error message. */
static const char *key1(const char *c)
{
	static char out[16384];
	struct s3_list_page pg;
	if (list(list1(c), &pg) < 0)
		return err.msg;
	snprintf(out, sizeof(out), "%s", pg.nobjs == 1 ? pg.objs[0].key : "(not one object)");
	s3_list_page_release(&pg);
	return out;
}

static int contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		printf("# '%s' does not contain '%s'\n", hay, needle);
		return 0;
	}
	return 1;
}

/* ---- error documents ---------------------------------------------------------------- */

TEST(error_all_fields)
{
	static const char doc[] =
	    DECL "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
		 "exist.</Message><Key>Data/abc.xxh128</Key><BucketName>farm-ja</BucketName>"
		 "<Region>us-west-2</Region><Endpoint>s3.us-west-2.amazonaws.com</Endpoint>"
		 "<RequestId>4442587FB7D0A2F9</RequestId><HostId>aGVsbG8=</HostId></Error>";
	struct s3_error_info ei;
	CHECK(xml_parse_error(doc, strlen(doc), &ei) == 0);
	CHECK_STR(ei.code, "NoSuchKey");
	CHECK_STR(ei.message, "The specified key does not exist.");
	CHECK_STR(ei.key, "Data/abc.xxh128");
	CHECK_STR(ei.bucket, "farm-ja");
	CHECK_STR(ei.region, "us-west-2");
	CHECK_STR(ei.endpoint, "s3.us-west-2.amazonaws.com");
	CHECK_STR(ei.request_id, "4442587FB7D0A2F9");
}

TEST(error_permanent_redirect)
{
	static const char doc[] =
	    DECL "<Error>\n  <Code>PermanentRedirect</Code>\n  <Message>The bucket you are "
		 "attempting to access must be addressed using the specified endpoint.</Message>\n"
		 "  <Endpoint>farm-ja.s3.eu-west-1.amazonaws.com</Endpoint>\n"
		 "  <Bucket>farm-ja</Bucket>\n  <Region>eu-west-1</Region>\n"
		 "  <RequestId>XZ1</RequestId>\n</Error>\n";
	struct s3_error_info ei;
	CHECK(xml_parse_error(doc, strlen(doc), &ei) == 0);
	CHECK_STR(ei.code, "PermanentRedirect");
	CHECK_STR(ei.endpoint, "farm-ja.s3.eu-west-1.amazonaws.com");
	CHECK_STR(ei.region, "eu-west-1");
	CHECK_STR(ei.bucket, "farm-ja");
	CHECK_STR(ei.key, "");
}

TEST(error_truncates_on_char_boundary)
{
	/* 63 bytes of room in code: 62 'x' then a 2-byte character that does not fit */
	char doc[256], want[64];
	struct s3_error_info ei;
	memset(want, 'x', 62);
	want[62] = 0;
	snprintf(doc, sizeof(doc), "<Error><Code>%s\xC3\xA9yy</Code></Error>", want);
	CHECK(xml_parse_error(doc, strlen(doc), &ei) == 0);
	CHECK_STR(ei.code, want);
}

TEST(error_refusals)
{
	static const char *const bad[] = {
	    "",
	    "<Error><Code>X</Code>",
	    "<ListBucketResult/>",
	    "<Error><Message>no code</Message></Error>",
	    "<Error><Code>A</Code><Code>B</Code></Error>",
	    "<Error><Code>X</Code></Error><Error/>",
	    "HTTP/1.1 500 oops",
	    "<!DOCTYPE Error [<!ENTITY c \"X\">]><Error><Code>&c;</Code></Error>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct s3_error_info ei;
		memset(&ei, 'z', sizeof(ei));
		CHECK(xml_parse_error(bad[i], strlen(bad[i]), &ei) == -1);
		CHECK(ei.code[0] == 0 && ei.message[0] == 0 && ei.key[sizeof(ei.key) - 1] == 0);
	}
}

TEST(error_nested_key_ignored)
{
	static const char doc[] = "<Error><Code>C</Code><Detail><Key>no</Key></Detail></Error>";
	struct s3_error_info ei;
	CHECK(xml_parse_error(doc, strlen(doc), &ei) == 0);
	CHECK_STR(ei.key, "");
}

/* ---- list pages --------------------------------------------------------------------- */

TEST(list_page)
{
	static const char doc[] =
	    DECL "<ListBucketResult " NS ">"
		 "<Name>farm-ja</Name><Prefix>Data/</Prefix><KeyCount>5</KeyCount>"
		 "<MaxKeys>5</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
		 "<ContinuationToken>1abc</ContinuationToken>"
		 "<Contents><Key>Data/0a1b.xxh128</Key>"
		 "<LastModified>2026-11-22T10:00:00.000Z</LastModified>"
		 "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>"
		 "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
		 "<Size>1048576</Size><StorageClass>STANDARD</StorageClass>"
		 "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f</ID><DisplayName>a</DisplayName>"
		 "</Owner></Contents>\n"
		 "<Contents><Key>Data/ffee.xxh128</Key><LastModified>2026-11-22T10:00:01.000Z"
		 "</LastModified><ETag>\"d41d8cd98f00b204e9800998ecf8427e\"</ETag>"
		 "<Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>\n"
		 "<Contents><Key>Data/big.xxh128</Key><LastModified>2026-11-22T10:00:02.000Z"
		 "</LastModified><ETag>\"abc-12\"</ETag><Size>18446744073709551615</Size>"
		 "</Contents>\n"
		 "<CommonPrefixes><Prefix>Data/sub1/</Prefix></CommonPrefixes>"
		 "<CommonPrefixes><Prefix>Data/sub2/</Prefix></CommonPrefixes>"
		 "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
		 "</NextContinuationToken><StartAfter>Data/</StartAfter></ListBucketResult>";
	struct s3_list_page pg;
	CHECK(list(doc, &pg) == 0);
	CHECK(pg.nobjs == 3);
	CHECK(pg.nprefixes == 2);
	if (pg.nobjs == 3 && pg.nprefixes == 2) {
		CHECK_STR(pg.objs[0].key, "Data/0a1b.xxh128");
		CHECK(pg.objs[0].size == 1048576);
		CHECK_STR(pg.objs[0].etag, "\"9b2cf535f27731c974343645a3985328\"");
		CHECK_STR(pg.objs[0].last_modified, "2026-11-22T10:00:00.000Z");
		CHECK_STR(pg.objs[1].key, "Data/ffee.xxh128");
		CHECK(pg.objs[1].size == 0);
		CHECK_STR(pg.objs[2].etag, "\"abc-12\"");
		CHECK(pg.objs[2].size == UINT64_MAX);
		CHECK_STR(pg.prefixes[0], "Data/sub1/");
		CHECK_STR(pg.prefixes[1], "Data/sub2/");
	}
	CHECK(pg.truncated == 1);
	CHECK_STR(pg.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	s3_list_page_release(&pg);
	CHECK(pg.objs == NULL && pg.nobjs == 0 && pg.next_token == NULL);
	s3_list_page_release(&pg); /* harmless twice */
}

TEST(list_empty)
{
	static const char doc[] = DECL "<ListBucketResult " NS "><Name>farm-ja</Name>"
				       "<Prefix>Nothing/</Prefix><KeyCount>0</KeyCount>"
				       "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
				       "</ListBucketResult>";
	struct s3_list_page pg;
	CHECK(list(doc, &pg) == 0);
	CHECK(pg.nobjs == 0 && pg.nprefixes == 0 && !pg.truncated && !pg.next_token);
	s3_list_page_release(&pg);
	/* no IsTruncated at all reads as the last page */
	CHECK(list("<ListBucketResult/>", &pg) == 0);
	CHECK(pg.nobjs == 0 && !pg.truncated);
	s3_list_page_release(&pg);
}

TEST(list_namespaces)
{
	static const char *const docs[] = {
	    "<ListBucketResult><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>",
	    "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<s3:Contents><s3:Key>k</s3:Key><s3:Size>1</s3:Size></s3:Contents>"
	    "</s3:ListBucketResult>",
	    "<ListBucketResult xmlns=\"urn:a|b\"><Contents><Key>k</Key><Size>1</Size></Contents>"
	    "</ListBucketResult>",
	    "<a:ListBucketResult xmlns:a=\"urn:x\" xmlns:b=\"urn:y\"><b:Contents><Key>k</Key>"
	    "<a:Size>1</a:Size></b:Contents></a:ListBucketResult>",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		struct s3_list_page pg;
		CHECK(list(docs[i], &pg) == 0);
		CHECK(pg.nobjs == 1 && !strcmp(pg.objs[0].key, "k") && pg.objs[0].size == 1);
		/* absent ETag and LastModified are empty strings, not NULL */
		CHECK(pg.nobjs == 1 && pg.objs[0].etag && !pg.objs[0].etag[0]);
		CHECK(pg.nobjs == 1 && pg.objs[0].last_modified && !pg.objs[0].last_modified[0]);
		s3_list_page_release(&pg);
	}
}

TEST(list_keys_only_in_place)
{
	static const char doc[] =
	    "<ListBucketResult " NS "><Key>root-key</Key><Prefix>p/</Prefix>"
	    "<Contents><Owner><Key>owner-key</Key><Size>9</Size></Owner><Key>real</Key>"
	    "<Size>5</Size></Contents><Other><Contents><Key>deep</Key><Size>1</Size></Contents>"
	    "<Prefix>x/</Prefix></Other><CommonPrefixes><Key>no</Key><Prefix>cp/</Prefix>"
	    "</CommonPrefixes><NextContinuationToken>t</NextContinuationToken>"
	    "</ListBucketResult>";
	struct s3_list_page pg;
	CHECK(list(doc, &pg) == 0);
	CHECK(pg.nobjs == 1 && pg.nprefixes == 1);
	if (pg.nobjs == 1 && pg.nprefixes == 1) {
		CHECK_STR(pg.objs[0].key, "real");
		CHECK(pg.objs[0].size == 5);
		CHECK_STR(pg.prefixes[0], "cp/");
	}
	/* a token without truncation is kept; the caller stops on !truncated */
	CHECK(!pg.truncated);
	CHECK_STR(pg.next_token, "t");
	s3_list_page_release(&pg);
}

TEST(list_escapes_utf8_cdata_split)
{
	CHECK_STR(key1("<Key>a&amp;b&lt;c&gt;&#x41;&#66;&quot;&apos;</Key><Size>1</Size>"),
		  "a&b<c>AB\"'");
	CHECK_STR(key1("<Key>donn\xC3\xA9"
		       "es/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x8E\xAC.exr</Key><Size>1</Size>"),
		  "donn\xC3\xA9"
		  "es/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x8E\xAC.exr");
	CHECK_STR(key1("<Key>&#xE9;&#x1F3AC;</Key><Size>1</Size>"), "\xC3\xA9\xF0\x9F\x8E\xAC");
	CHECK_STR(key1("<Key><![CDATA[a<b>&amp;]]></Key><Size>1</Size>"), "a<b>&amp;");
	/* several character-data callbacks: a comment, a CDATA section, line ends */
	CHECK_STR(
	    key1("<Key>ab<!-- c -->cd<![CDATA[ef]]>g\r\nh&amp;i<?pi x?>j</Key><Size>1</Size>"),
	    "abcdefg\nh&ij");
	CHECK_STR(key1("<Key>  spaces kept  </Key><Size> 7 </Size>"), "  spaces kept  ");
}

TEST(list_text_limit)
{
	char *c = malloc(XML_MAX_TEXT + 64);
	memcpy(c, "<Key>", 5);
	memset(c + 5, 'k', XML_MAX_TEXT);
	strcpy(c + 5 + XML_MAX_TEXT, "</Key><Size>1</Size>");
	CHECK(strlen(key1(c)) == XML_MAX_TEXT);
	memset(c + 5, 'k', XML_MAX_TEXT + 1);
	strcpy(c + 6 + XML_MAX_TEXT, "</Key><Size>1</Size>");
	CHECK(contains(key1(c), "Key is longer than 8192 bytes"));
	free(c);
}

TEST(list_size)
{
	struct s3_list_page pg;
	CHECK(list(list1("<Key>k</Key><Size>18446744073709551615</Size>"), &pg) == 0);
	CHECK(pg.nobjs == 1 && pg.objs[0].size == UINT64_MAX);
	s3_list_page_release(&pg);
	static const char *const bad[] = {
	    "<Size>18446744073709551616</Size>",
	    "<Size>99999999999999999999999</Size>",
	    "<Size>-1</Size>",
	    "<Size>+1</Size>",
	    "<Size>1e3</Size>",
	    "<Size>0x10</Size>",
	    "<Size></Size>",
	    "<Size>1 2</Size>",
	    "<Size>abc</Size>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char c[256];
		snprintf(c, sizeof(c), "<Key>k</Key>%s", bad[i]);
		CHECK(contains(list_err(list1(c)), "S3 list response: Size is not a number"));
	}
}

TEST(list_structure_errors)
{
	CHECK(contains(list_err(list1("<Size>1</Size>")), "Contents without Key"));
	CHECK(contains(list_err(list1("<Key>k</Key>")), "Contents without Size"));
	CHECK(contains(list_err(list1("<Key></Key><Size>1</Size>")), "empty Key"));
	CHECK(contains(list_err(list1("<Key>a<b/>c</Key><Size>1</Size>")),
		       "unexpected element inside Key"));
	CHECK(contains(list_err("<ListBucketResult><CommonPrefixes/></ListBucketResult>"),
		       "CommonPrefixes without Prefix"));
	CHECK(contains(list_err("<ListBucketResult><IsTruncated>yes</IsTruncated>"
				"</ListBucketResult>"),
		       "IsTruncated is neither true nor false"));
	CHECK(contains(list_err("<ListBucketResult><IsTruncated>true</IsTruncated>"
				"</ListBucketResult>"),
		       "NextContinuationToken is missing"));
	CHECK(contains(list_err("<ListBucketResult><IsTruncated>true</IsTruncated>"
				"<NextContinuationToken/></ListBucketResult>"),
		       "NextContinuationToken is missing"));
	CHECK(contains(list_err("<ListAllMyBucketsResult/>"),
		       "root element is ListAllMyBucketsResult, not ListBucketResult"));
	CHECK(contains(list_err("<Error><Code>NoSuchBucket</Code><Message>The specified bucket "
				"does not exist</Message></Error>"),
		       "S3 list response: S3 error NoSuchBucket: The specified bucket does not "
		       "exist"));
	/* server text in a message stays on one line */
	CHECK(contains(list_err("<Error><Code>A\nB</Code><Message>m&#127;[31m</Message></Error>"),
		       "S3 error A?B: m?[31m"));
}

/* Duplicates of a field within one parent are refused, not resolved by order. */
TEST(list_duplicates)
{
	CHECK(contains(list_err(list1("<Key>a</Key><Key>b</Key><Size>1</Size>")),
		       "duplicate Key in Contents"));
	CHECK(contains(list_err(list1("<Key>a</Key><Size>1</Size><Size>2</Size>")),
		       "duplicate Size in Contents"));
	CHECK(contains(list_err("<ListBucketResult><IsTruncated>false</IsTruncated>"
				"<IsTruncated>true</IsTruncated></ListBucketResult>"),
		       "duplicate IsTruncated in ListBucketResult"));
	CHECK(contains(list_err("<ListBucketResult><NextContinuationToken>a"
				"</NextContinuationToken><NextContinuationToken>b"
				"</NextContinuationToken></ListBucketResult>"),
		       "duplicate NextContinuationToken"));
	CHECK(contains(list_err("<ListBucketResult><CommonPrefixes><Prefix>a</Prefix><Prefix>b"
				"</Prefix></CommonPrefixes></ListBucketResult>"),
		       "duplicate Prefix in CommonPrefixes"));
	/* the same name in two different Contents is fine */
	struct s3_list_page pg;
	CHECK(list("<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents><Contents>"
		   "<Key>a</Key><Size>1</Size></Contents></ListBucketResult>",
		   &pg) == 0);
	CHECK(pg.nobjs == 2);
	s3_list_page_release(&pg);
}

/* ---- hostile input ------------------------------------------------------------------ */

TEST(hostile_doctype)
{
	static const char laughs[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
	    "<ListBucketResult><Contents><Key>&lol3;</Key><Size>1</Size></Contents>"
	    "</ListBucketResult>";
	CHECK(contains(list_err(laughs), "document type declarations are not accepted"));
	CHECK(contains(list_err("<!DOCTYPE ListBucketResult SYSTEM \"file:///etc/passwd\">"
				"<ListBucketResult/>"),
		       "document type declarations"));
	CHECK(contains(list_err("<!DOCTYPE ListBucketResult><ListBucketResult/>"),
		       "document type declarations"));
	/* an undeclared entity is plain malformed XML */
	CHECK(contains(list_err(list1("<Key>&lol;</Key><Size>1</Size>")), "undefined entity"));
}

/* A document nested depth elements deep, the innermost being the list root's child. */
static char *nested(int depth)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<ListBucketResult>");
	for (int i = 1; i < depth; i++)
		buf_adds(&b, "<a>");
	for (int i = 1; i < depth; i++)
		buf_adds(&b, "</a>");
	buf_adds(&b, "</ListBucketResult>");
	return buf_detach(&b, NULL);
}

TEST(hostile_depth)
{
	char *ok = nested(XML_MAX_DEPTH), *deep = nested(XML_MAX_DEPTH + 1);
	CHECK(!strcmp(list_err(ok), ""));
	CHECK(contains(list_err(deep), "elements nested deeper than 16"));
	free(ok);
	free(deep);
}

TEST(hostile_malformed)
{
	CHECK(contains(list_err(""), "S3 list response: empty document"));
	CHECK(contains(list_err("<ListBucketResult><Contents><Key>a</Key><Size>1</Size>"),
		       "no element found"));
	CHECK(contains(list_err("<ListBucketResult><Contents></ListBucketResult>"),
		       "mismatched tag"));
	CHECK(contains(list_err("\x89PNG\r\n\x1a\n\x00\x00"), "S3 list response: "));
	CHECK(contains(list_err("not xml at all"), "syntax error at line 1, column 0"));
	CHECK(contains(list_err("<ListBucketResult/>trailing"), "junk after document element"));
	CHECK(contains(list_err("<ListBucketResult><Contents><Key>\xff</Key>"), "not well-formed"));
	/* a NUL byte inside the length is never text */
	struct s3_list_page pg;
	static const char nul[] = "<ListBucketResult><Contents><Key>a\0b</Key><Size>1</Size>"
				  "</Contents></ListBucketResult>";
	CHECK(xml_parse_list(nul, sizeof(nul) - 1, &pg, &err) == -1);
	CHECK(contains(list_err(list1("<Key>&#0;</Key><Size>1</Size>")), "invalid character"));
	CHECK(contains(list_err(list1("<Key>&#27;</Key><Size>1</Size>")), "invalid character"));
}

TEST(hostile_sizes)
{
	size_t n = (size_t)XML_MAX_DOC + 1;
	char *doc = malloc(n);
	struct s3_list_page pg;
	memset(doc, ' ', n);
	memcpy(doc, "<ListBucketResult/>", 19);
	CHECK(xml_parse_list(doc, n, &pg, &err) == -1);
	CHECK(contains(err.msg, "document is larger than 33554432 bytes"));
	/* exactly at the limit is fine */
	CHECK(xml_parse_list(doc, n - 1, &pg, &err) == 0);
	s3_list_page_release(&pg);
	free(doc);
}

/* A page of count objects (every tenth one a common prefix instead). */
static char *many(size_t count)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<ListBucketResult>");
	for (size_t i = 0; i < count; i++)
		if (i % 10 == 9)
			buf_addf(&b, "<CommonPrefixes><Prefix>p%zu/</Prefix></CommonPrefixes>", i);
		else
			buf_addf(&b, "<Contents><Key>k%zu</Key><Size>%zu</Size></Contents>", i, i);
	buf_adds(&b, "</ListBucketResult>");
	return buf_detach(&b, NULL);
}

TEST(hostile_object_count)
{
	char *ok = many(XML_MAX_OBJECTS), *over = many(XML_MAX_OBJECTS + 1);
	struct s3_list_page pg;
	CHECK(list(ok, &pg) == 0);
	CHECK(pg.nobjs + pg.nprefixes == XML_MAX_OBJECTS);
	CHECK(pg.nobjs > 0 && pg.objs[pg.nobjs - 1].size == XML_MAX_OBJECTS - 2);
	s3_list_page_release(&pg);
	CHECK(contains(list_err(over), "more than 100000 objects and prefixes"));
	free(ok);
	free(over);
}

/* ---- multipart upload --------------------------------------------------------------- */

TEST(initiate)
{
	static const char doc[] =
	    DECL "<InitiateMultipartUploadResult " NS "><Bucket>farm-ja</Bucket>"
		 "<Key>Data/abc.xxh128</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3Zp"
		 "ZS5tMnRzIHVwbG9hZA</UploadId></InitiateMultipartUploadResult>";
	char *id = (char *)1;
	memset(&err, 0, sizeof(err));
	CHECK(xml_parse_initiate(doc, strlen(doc), &id, &err) == 0);
	CHECK_STR(id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
	free(id);

	static const char *const bad[] = {
	    "<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>",
	    "<InitiateMultipartUploadResult><UploadId/></InitiateMultipartUploadResult>",
	    "<InitiateMultipartUploadResult><UploadId>a</UploadId><UploadId>b</UploadId>"
	    "</InitiateMultipartUploadResult>",
	    "<InitiateMultipartUploadResult><x><UploadId>a</UploadId></x>"
	    "</InitiateMultipartUploadResult>",
	    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
	    "<UploadId>a</UploadId>",
	    "",
	};
	static const char *const why[] = {
	    "no UploadId",
	    "no UploadId",
	    "duplicate UploadId",
	    "no UploadId",
	    "S3 error AccessDenied: Access Denied",
	    "root element is UploadId",
	    "empty document",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		id = (char *)1;
		CHECK(xml_parse_initiate(bad[i], strlen(bad[i]), &id, &err) == -1);
		CHECK(id == NULL);
		CHECK(contains(err.msg, "S3 InitiateMultipartUpload response: "));
		CHECK(contains(err.msg, why[i]));
	}
}

TEST(complete)
{
	static const char doc[] =
	    DECL "<CompleteMultipartUploadResult " NS "><Location>https://farm-ja.s3.amazonaws.com"
		 "/Data/abc.xxh128</Location><Bucket>farm-ja</Bucket><Key>Data/abc.xxh128</Key>"
		 "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
		 "</CompleteMultipartUploadResult>";
	struct s3_error_info ei;
	char *etag = (char *)1;
	CHECK(xml_parse_complete(doc, strlen(doc), &etag, &ei, &err) == 0);
	CHECK_STR(etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
	free(etag);
	/* an ETag is optional */
	etag = (char *)1;
	CHECK(xml_parse_complete("<CompleteMultipartUploadResult/>", 32, &etag, &ei, &err) == 0);
	CHECK(etag == NULL);
}

TEST(complete_with_error)
{
	/* S3 may answer 200 and put the failure in the body, whitespace first */
	static const char doc[] = DECL
	    "\n\n<Error><Code>InternalError</Code><Message>We encountered an internal "
	    "error. Please try again.</Message><RequestId>656c76696e6727732072657175657374"
	    "</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>"
	    "</Error>";
	struct s3_error_info ei;
	char *etag = (char *)1;
	CHECK(xml_parse_complete(doc, strlen(doc), &etag, &ei, &err) == 1);
	CHECK(etag == NULL);
	CHECK_STR(ei.code, "InternalError");
	CHECK_STR(ei.message, "We encountered an internal error. Please try again.");
	CHECK_STR(ei.request_id, "656c76696e6727732072657175657374");
	CHECK(xml_parse_complete(doc, strlen(doc), &etag, NULL, &err) == 1);

	static const char *const bad[] = {
	    "",
	    "<Error/>",
	    "<CompleteMultipartUploadResult>",
	    "<InitiateMultipartUploadResult/>",
	    "<CompleteMultipartUploadResult><ETag>a</ETag><ETag>b</ETag>"
	    "</CompleteMultipartUploadResult>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		etag = (char *)1;
		memset(&ei, 'z', sizeof(ei));
		CHECK(xml_parse_complete(bad[i], strlen(bad[i]), &etag, &ei, &err) == -1);
		CHECK(etag == NULL && ei.code[0] == 0);
		CHECK(contains(err.msg, "S3 CompleteMultipartUpload response: "));
	}
}

/* ---- the request body --------------------------------------------------------------- */

struct parts {
	int depth, in_etag, in_num, nparts, bad;
	char etag[8][64];
	char num[8][16];
};

static void XMLCALL p_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct parts *ps = ud;
	ps->depth++;
	if (ps->depth == 1 && strcmp(name, "http://s3.amazonaws.com/doc/2006-03-01/|"
					   "CompleteMultipartUpload"))
		ps->bad = 1;
	if (ps->depth == 2 && ps->nparts < 8)
		ps->nparts++;
	ps->in_etag = ps->depth == 3 && strstr(name, "|ETag");
	ps->in_num = ps->depth == 3 && strstr(name, "|PartNumber");
}

static void XMLCALL p_end(void *ud, const XML_Char *name)
{
	struct parts *ps = ud;
	ps->depth--;
	ps->in_etag = ps->in_num = 0;
}

static void XMLCALL p_text(void *ud, const XML_Char *s, int len)
{
	struct parts *ps = ud;
	char *dst = ps->in_etag	 ? ps->etag[ps->nparts - 1]
		    : ps->in_num ? ps->num[ps->nparts - 1]
				 : 0;
	size_t room = (ps->in_etag ? sizeof(ps->etag[0]) : sizeof(ps->num[0])) - 1;
	if (!dst)
		return;
	room -= strlen(dst);
	strncat(dst, s, (size_t)len < room ? (size_t)len : room);
}

/* Parse a body back with expat; returns 0 when well-formed. */
static int read_body(const char *body, struct parts *ps)
{
	XML_Parser p = XML_ParserCreateNS(NULL, '|');
	int ok;
	memset(ps, 0, sizeof(*ps));
	XML_SetUserData(p, ps);
	XML_SetElementHandler(p, p_start, p_end);
	XML_SetCharacterDataHandler(p, p_text);
	ok = XML_Parse(p, body, (int)strlen(body), XML_TRUE) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok && !ps->bad ? 0 : -1;
}

TEST(complete_body)
{
	static const char *const etags[] = {"\"9b2cf535f27731c974343645a3985328\"", "\"a\"",
					    "&<>\"'", "\t\n\r", "caf\xC3\xA9"};
	struct parts ps;
	char *body = xml_complete_body(etags, 2);
	CHECK_STR(body,
		  "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		  "<Part><PartNumber>1</PartNumber><ETag>&quot;9b2cf535f27731c974343645a3985328"
		  "&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;a&quot;"
		  "</ETag></Part></CompleteMultipartUpload>");
	free(body);

	body = xml_complete_body(etags, 5);
	CHECK(contains(body, "<ETag>&amp;&lt;&gt;&quot;&apos;</ETag>"));
	CHECK(read_body(body, &ps) == 0);
	CHECK(ps.nparts == 5);
	for (int i = 0; i < 5 && i < ps.nparts; i++) {
		char n[16];
		snprintf(n, sizeof(n), "%d", i + 1);
		CHECK_STR(ps.num[i], n);
		CHECK_STR(ps.etag[i], etags[i]);
	}
	free(body);

	body = xml_complete_body(NULL, 0);
	CHECK(read_body(body, &ps) == 0 && ps.nparts == 0);
	free(body);
}

TEST(complete_body_unrepresentable)
{
	/* control characters, broken UTF-8, surrogates, U+FFFE: all become U+FFFD */
	static const char *const etags[] = {
	    "a\x01z",		"\xff", "\xC3", "\xED\xA0\x80", "\xEF\xBF\xBE", "\xC0\xAF",
	    "\xF4\x90\x80\x80", NULL};
	static const char *const want[] = {"a\xEF\xBF\xBDz",
					   "\xEF\xBF\xBD",
					   "\xEF\xBF\xBD",
					   "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
					   "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
					   "\xEF\xBF\xBD\xEF\xBF\xBD",
					   "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
					   ""};
	struct parts ps;
	char *body = xml_complete_body(etags, 8);
	CHECK(read_body(body, &ps) == 0);
	CHECK(ps.nparts == 8);
	for (int i = 0; i < 8 && i < ps.nparts; i++)
		CHECK_STR(ps.etag[i], want[i]);
	free(body);
}

/* found by the fuzzer: an empty text field (trimmed in place) must not be written */
TEST(list_empty_size_is_an_error_not_a_crash)
{
	CHECK(strstr(list_err("<ListBucketResult><Contents><Key>k</Key><Size></Size></Contents>"
			      "</ListBucketResult>"),
		     "Size") != NULL);
	CHECK(strstr(list_err("<ListBucketResult><Contents><Key>k</Key><Size> </Size></Contents>"
			      "</ListBucketResult>"),
		     "Size") != NULL);
}

int main(void)
{
	RUN(list_empty_size_is_an_error_not_a_crash);
	RUN(error_all_fields);
	RUN(error_permanent_redirect);
	RUN(error_truncates_on_char_boundary);
	RUN(error_refusals);
	RUN(error_nested_key_ignored);
	RUN(list_page);
	RUN(list_empty);
	RUN(list_namespaces);
	RUN(list_keys_only_in_place);
	RUN(list_escapes_utf8_cdata_split);
	RUN(list_text_limit);
	RUN(list_size);
	RUN(list_structure_errors);
	RUN(list_duplicates);
	RUN(hostile_doctype);
	RUN(hostile_depth);
	RUN(hostile_malformed);
	RUN(hostile_sizes);
	RUN(hostile_object_count);
	RUN(initiate);
	RUN(complete);
	RUN(complete_with_error);
	RUN(complete_body);
	RUN(complete_body_unrepresentable);
	return unit_done();
}
