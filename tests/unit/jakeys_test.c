/* jakeys_test.c - Deadline layout names, keys, metadata, attachments JSON and output
 * discovery (spec/FORMATS.md §3.2, §4.1, §4.3, §4.5, §5.1; vectors from §13.1). */
#include "core/jakeys.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ------------------------------------------------------------------------ */

static char *hash_of(const char *loc, const char *root)
{
	static char h[JAKEYS_HASH_SIZE];
	jakeys_name_hash(loc, root, h);
	return h;
}

static const char *iso(int64_t us)
{
	static char out[JAKEYS_ISO_SIZE];
	struct ja_err err = {0};
	if (jakeys_iso_time(us, out, &err) < 0)
		return NULL;
	return out;
}

/* jakeys_check_id's result; the message must name the field. */
static int id_ok(const char *id)
{
	struct ja_err err = {0};
	if (jakeys_check_id("step id", id, &err) == 0)
		return 1;
	if (err.code != EXIT_USAGE || !strstr(err.msg, "step id"))
		printf("# unexpected error for '%s': %d %s\n", id ? id : "(null)", err.code,
		       err.msg);
	return 0;
}

static const char *meta_get(const struct store_meta *m, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return m[i].value;
	return NULL;
}

/* The root read back from one metadata list given as name/value pairs (NULL ends). */
static char *root_from(const char *const *pairs, struct ja_err *err)
{
	struct store_meta m[8];
	size_t n = 0;
	char *root = NULL;
	for (; pairs[2 * n]; n++) {
		m[n].name = (char *)pairs[2 * n];
		m[n].value = (char *)pairs[2 * n + 1];
	}
	if (jakeys_asset_root_from_meta(m, n, "Manifests/f/q/j/s/t/x/h_output", &root, err) < 0)
		return NULL;
	return root;
}

/* ---- names -------------------------------------------------------------------------- */

TEST(name_hash_vectors)
{
	CHECK_STR(hash_of(NULL, "/tmp"), "a0271fe0c8b1c1f99b82b442cd878122");
	CHECK_STR(hash_of("", "/tmp"), "a0271fe0c8b1c1f99b82b442cd878122");
	CHECK_STR(hash_of(NULL, "/local/home/test"), "4ab97c97c825551aaa963888278ef9ec");
	CHECK_STR(hash_of(NULL, "/tmp/root"), "be29e876442d7b35d3002f886bcdb717");
	/* location and root concatenated, no separator */
	CHECK_STR(hash_of("Share", "/mnt/p"), "0cbcb283c25b52e19550634dc1e903e9");
	CHECK_STR(hash_of(NULL, "Share/mnt/p"), "0cbcb283c25b52e19550634dc1e903e9");
	CHECK_STR(hash_of("Sha", "re/mnt/p"), "0cbcb283c25b52e19550634dc1e903e9");
	CHECK_STR(hash_of(NULL, ""), "99aa06d3014798d86001c324468d497f");
	CHECK_STR(hash_of("hello", " world"), "df8d09e93f874900a99b8775cc15b6c7");
	{
		char a[JAKEYS_HASH_SIZE];
		strcpy(a, hash_of("Share", "/mnt/p"));
		CHECK(strcmp(a, hash_of("Share ", "/mnt/p")) != 0);
	}
}

TEST(guid)
{
	char a[JAKEYS_GUID_SIZE], b[JAKEYS_GUID_SIZE];
	struct ja_err err = {0};
	int counts[16] = {0};
	CHECK(jakeys_guid(a, &err) == 0);
	CHECK(jakeys_guid(b, &err) == 0);
	CHECK(strlen(a) == 32 && strcmp(a, b) != 0);
	for (int i = 0; i < 2000; i++) {
		CHECK(jakeys_guid(a, &err) == 0);
		CHECK(strspn(a, "0123456789abcdef") == 32 && a[32] == 0);
		CHECK(a[12] == '4');	      /* version 4 */
		CHECK(strchr("89ab", a[16])); /* RFC 4122 variant */
		for (int k = 0; k < 32; k++)
			if (k != 12 && k != 16)
				counts[a[k] <= '9' ? a[k] - '0' : a[k] - 'a' + 10]++;
	}
	/* 60,000 random digits: every value about 3,750 times */
	for (int d = 0; d < 16; d++)
		CHECK(counts[d] > 3300 && counts[d] < 4200);
}

TEST(iso_time)
{
	struct ja_err err = {0};
	char out[JAKEYS_ISO_SIZE];
	/* the literal of deadline-cloud's test_asset_sync.py for 1689258926.123456 */
	CHECK_STR(iso(1689258926123456LL), "2023-07-13T14:35:26.123456Z");
	CHECK_STR(iso(0), "1970-01-01T00:00:00.000000Z");
	CHECK_STR(iso(1), "1970-01-01T00:00:00.000001Z");
	CHECK_STR(iso(1700000000000000LL), "2023-11-14T22:13:20.000000Z");
	CHECK_STR(iso(951782400999999LL), "2000-02-29T00:00:00.999999Z");
	/* before 1970: floor, not truncation */
	CHECK_STR(iso(-1), "1969-12-31T23:59:59.999999Z");
	CHECK_STR(iso(-1000000), "1969-12-31T23:59:59.000000Z");
	CHECK_STR(iso(-1500000), "1969-12-31T23:59:58.500000Z");
	/* Python datetime's range, and no further */
	CHECK_STR(iso(253402300799999999LL), "9999-12-31T23:59:59.999999Z");
	CHECK_STR(iso(-62135596800000000LL), "0001-01-01T00:00:00.000000Z");
	CHECK(iso(253402300800000000LL) == NULL);
	CHECK(iso(-62135596800000001LL) == NULL);
	CHECK(iso(INT64_MAX) == NULL);
	CHECK(iso(INT64_MIN) == NULL);
	CHECK(jakeys_iso_time(INT64_MIN, out, &err) < 0 && err.code == EXIT_USAGE);
	CHECK(strlen(iso(1689258926123456LL)) == JAKEYS_ISO_SIZE - 1);
}

/* ---- keys --------------------------------------------------------------------------- */

TEST(check_id)
{
	char big[JAKEYS_ID_MAX + 2];
	CHECK(id_ok("farm-0123456789abcdef0123456789abcdef"));
	CHECK(id_ok("task-0123456789abcdef0123456789abcdef-12"));
	CHECK(id_ok("sessionaction-0123456789abcdef0123456789abcdef-0"));
	CHECK(id_ok("test_step4"));
	CHECK(id_ok("session-action-1"));
	CHECK(id_ok("a.b"));
	CHECK(id_ok("with space"));
	CHECK(id_ok("x"));
	CHECK(!id_ok(NULL));
	CHECK(!id_ok(""));
	CHECK(!id_ok("a/b"));
	CHECK(!id_ok("/"));
	CHECK(!id_ok("step/"));
	CHECK(!id_ok("."));
	CHECK(!id_ok(".."));
	CHECK(!id_ok("a..b"));
	CHECK(!id_ok("tab\there"));
	CHECK(!id_ok("nl\n"));
	CHECK(!id_ok("del\x7f"));
	CHECK(!id_ok("caf\xc3\xa9"));
	memset(big, 'a', sizeof(big));
	big[JAKEYS_ID_MAX] = 0;
	CHECK(id_ok(big));
	big[JAKEYS_ID_MAX] = 'a';
	big[JAKEYS_ID_MAX + 1] = 0;
	CHECK(!id_ok(big));
	{
		struct ja_err err = {0};
		CHECK(jakeys_check_id("farm id", "a/b", &err) < 0);
		CHECK_STR(err.msg, "bad farm id 'a/b': '/' is not allowed");
		CHECK(jakeys_check_id("queue id", NULL, &err) < 0);
		CHECK_STR(err.msg, "missing queue id");
		/* control characters do not reach the terminal raw */
		CHECK(jakeys_check_id("job id", "a\033[2Jb", &err) < 0);
		CHECK(!strchr(err.msg, '\033'));
	}
}

TEST(input_key)
{
	struct ja_err err = {0};
	char *k = jakeys_input_manifest_key("farm-1", "queue-2", "0000", "e", &err);
	CHECK_STR(k, "Manifests/farm-1/queue-2/Inputs/0000/e_input");
	CHECK_STR(jakeys_input_manifest_path(k), "farm-1/queue-2/Inputs/0000/e_input");
	free(k);
	k = jakeys_input_manifest_key(
	    "farm-0123456789abcdef0123456789abcdef", "queue-0123456789abcdef0123456789abcdef",
	    "9f0c6b1e4d2a4b7c8e1f2a3b4c5d6e7f", "0cbcb283c25b52e19550634dc1e903e9", &err);
	CHECK_STR(k, "Manifests/farm-0123456789abcdef0123456789abcdef/"
		     "queue-0123456789abcdef0123456789abcdef/Inputs/"
		     "9f0c6b1e4d2a4b7c8e1f2a3b4c5d6e7f/0cbcb283c25b52e19550634dc1e903e9_input");
	free(k);
	CHECK(!jakeys_input_manifest_key("farm-1", "../q", "g", "h", &err));
	CHECK(err.code == EXIT_USAGE && strstr(err.msg, "queue id"));
	CHECK(!jakeys_input_manifest_key(NULL, "q", "g", "h", &err));
	CHECK_STR(err.msg, "missing farm id");
	CHECK(!jakeys_input_manifest_key("f", "q", "g/x", "h", &err));
	CHECK(strstr(err.msg, "guid") != NULL);
	CHECK(!jakeys_input_manifest_key("f", "q", "g", "", &err));
	CHECK_STR(err.msg, "missing name hash");
	CHECK(jakeys_input_manifest_path("Data/x.xxh128") == NULL);
	CHECK(jakeys_input_manifest_path("Manifests/") == NULL);
	CHECK(jakeys_input_manifest_path("Manifests") == NULL);
	CHECK(jakeys_input_manifest_path(NULL) == NULL);
	CHECK_STR(jakeys_input_manifest_path("Manifests/abc"), "abc");
}

TEST(output_key)
{
	struct ja_err err = {0};
	struct jakeys_ids ids = {"farm-1",     "queue-1",    "job-1",
				 "test_step4", "test_task4", "session-action-1"};
	char *k = jakeys_output_manifest_key(&ids, 1689258926123456LL, "hash3", &err);
	/* deadline-cloud test_asset_sync.py, without its root prefix */
	CHECK_STR(k, "Manifests/farm-1/queue-1/job-1/test_step4/test_task4/"
		     "2023-07-13T14:35:26.123456Z_session-action-1/hash3_output");
	free(k);
	/* step level: no task component */
	ids.task = NULL;
	k = jakeys_output_manifest_key(&ids, 1689258926123456LL, "hash3", &err);
	CHECK_STR(k, "Manifests/farm-1/queue-1/job-1/test_step4/"
		     "2023-07-13T14:35:26.123456Z_session-action-1/hash3_output");
	free(k);
	ids.task = "task-1";
	ids.session_action = NULL;
	CHECK(!jakeys_output_manifest_key(&ids, 0, "h", &err));
	CHECK_STR(err.msg, "missing session action id");
	ids.session_action = "sa-1";
	ids.step = NULL;
	CHECK(!jakeys_output_manifest_key(&ids, 0, "h", &err));
	CHECK_STR(err.msg, "missing step id");
	ids.step = "s";
	ids.task = "";
	CHECK(!jakeys_output_manifest_key(&ids, 0, "h", &err));
	CHECK_STR(err.msg, "missing task id");
	ids.task = "t/..";
	CHECK(!jakeys_output_manifest_key(&ids, 0, "h", &err));
	CHECK(strstr(err.msg, "task id") != NULL);
	ids.task = "t";
	CHECK(!jakeys_output_manifest_key(&ids, INT64_MAX, "h", &err));
	CHECK(err.code == EXIT_USAGE);
	ids.job = "job\n";
	CHECK(!jakeys_output_manifest_key(&ids, 0, "h", &err));
	CHECK(strstr(err.msg, "job id") != NULL);
}

TEST(output_prefix)
{
	struct ja_err err = {0};
	struct jakeys_ids ids = {"f", "q", "j", NULL, NULL, "sa-ignored"};
	char *p = jakeys_output_prefix(&ids, &err);
	CHECK_STR(p, "Manifests/f/q/j/");
	free(p);
	ids.step = "s";
	p = jakeys_output_prefix(&ids, &err);
	CHECK_STR(p, "Manifests/f/q/j/s/");
	free(p);
	ids.task = "t";
	p = jakeys_output_prefix(&ids, &err);
	CHECK_STR(p, "Manifests/f/q/j/s/t/");
	free(p);
	ids.step = NULL;
	CHECK(!jakeys_output_prefix(&ids, &err));
	CHECK(strstr(err.msg, "step") != NULL);
	ids.job = NULL;
	CHECK(!jakeys_output_prefix(&ids, &err));
	CHECK_STR(err.msg, "missing job id");
}

/* ---- metadata ----------------------------------------------------------------------- */

TEST(meta_ascii)
{
	struct store_meta *m;
	size_t n;
	struct ja_err err = {0};
	CHECK(jakeys_asset_root_meta("/test/path", "test-location", &m, &n, &err) == 0);
	CHECK(n == 2);
	CHECK_STR(m[0].name, "asset-root");
	CHECK_STR(m[0].value, "/test/path");
	CHECK_STR(m[1].name, "file-system-location-name");
	CHECK_STR(m[1].value, "test-location");
	jakeys_meta_free(m, n);
	CHECK(jakeys_asset_root_meta("C:\\Users\\me\\proj", NULL, &m, &n, &err) == 0);
	CHECK(n == 1);
	CHECK_STR(meta_get(m, n, "asset-root"), "C:\\Users\\me\\proj");
	jakeys_meta_free(m, n);
	CHECK(jakeys_asset_root_meta("/p", "", &m, &n, &err) == 0 && n == 1);
	jakeys_meta_free(m, n);
}

TEST(meta_non_ascii)
{
	struct store_meta *m;
	size_t n;
	struct ja_err err = {0};
	/* deadline-cloud (2025) test_as_output_metadata_non_ascii_path: both keys, same value */
	CHECK(jakeys_asset_root_meta("/test/caf\xc3\xa9/\xe6\xb5\x8b\xe8\xaf\x95", NULL, &m, &n,
				     &err) == 0);
	CHECK(n == 2);
	CHECK_STR(m[0].name, "asset-root");
	CHECK_STR(m[0].value, "\"/test/caf\\u00e9/\\u6d4b\\u8bd5\"");
	CHECK_STR(m[1].name, "asset-root-json");
	CHECK_STR(m[1].value, "\"/test/caf\\u00e9/\\u6d4b\\u8bd5\"");
	jakeys_meta_free(m, n);
	/* a non-ASCII location name: only its -json key */
	CHECK(jakeys_asset_root_meta("/p", "Bureau \xc3\xa9t\xc3\xa9", &m, &n, &err) == 0);
	CHECK(n == 2);
	CHECK_STR(meta_get(m, n, "asset-root"), "/p");
	CHECK(meta_get(m, n, "file-system-location-name") == NULL);
	CHECK_STR(meta_get(m, n, "file-system-location-name-json"), "\"Bureau \\u00e9t\\u00e9\"");
	jakeys_meta_free(m, n);
	/* ASCII that cannot travel verbatim in a header: JSON as well */
	CHECK(jakeys_asset_root_meta("/a\nb", NULL, &m, &n, &err) == 0 && n == 2);
	CHECK_STR(meta_get(m, n, "asset-root-json"), "\"/a\\nb\"");
	jakeys_meta_free(m, n);
	CHECK(jakeys_asset_root_meta("/trailing ", NULL, &m, &n, &err) == 0 && n == 2);
	CHECK_STR(meta_get(m, n, "asset-root-json"), "\"/trailing \"");
	jakeys_meta_free(m, n);
	CHECK(jakeys_asset_root_meta("/del\x7f", NULL, &m, &n, &err) == 0 && n == 2);
	CHECK_STR(meta_get(m, n, "asset-root-json"), "\"/del\\u007f\"");
	jakeys_meta_free(m, n);
	/* astral characters as surrogate pairs, like json.dumps */
	CHECK(jakeys_asset_root_meta("/\xf0\x9f\x98\x80", NULL, &m, &n, &err) == 0);
	CHECK_STR(meta_get(m, n, "asset-root-json"), "\"/\\ud83d\\ude00\"");
	jakeys_meta_free(m, n);
	/* every value is printable ASCII */
	CHECK(jakeys_asset_root_meta("/\xe2\x82\xac\t\"\\", "\xc3\xb6", &m, &n, &err) == 0);
	for (size_t i = 0; i < n; i++)
		for (const char *p = m[i].value; *p; p++)
			CHECK(*p >= 0x20 && *p < 0x7f);
	jakeys_meta_free(m, n);
}

TEST(meta_errors)
{
	struct store_meta *m = (struct store_meta *)&m;
	size_t n = 7;
	struct ja_err err = {0};
	char *big = malloc(3000);
	CHECK(jakeys_asset_root_meta("", NULL, &m, &n, &err) < 0);
	CHECK(m == NULL && n == 0 && err.code == EXIT_USAGE);
	CHECK(jakeys_asset_root_meta(NULL, NULL, &m, &n, &err) < 0);
	CHECK(jakeys_asset_root_meta("/bad\xff", NULL, &m, &n, &err) < 0);
	CHECK(strstr(err.msg, "UTF-8") != NULL);
	CHECK(jakeys_asset_root_meta("/ok", "\xc3", &m, &n, &err) < 0);
	/* S3 allows 2 KB of user metadata */
	memset(big, 'a', 2000);
	big[0] = '/';
	big[2000] = 0;
	CHECK(jakeys_asset_root_meta(big, NULL, &m, &n, &err) == 0);
	jakeys_meta_free(m, n);
	big[2040] = 0;
	memset(big + 2000, 'a', 40);
	CHECK(jakeys_asset_root_meta(big, NULL, &m, &n, &err) < 0);
	CHECK(strstr(err.msg, "too long") != NULL);
	/* 300 x U+00E9: 600 bytes of UTF-8, but 2 x 1,802 once escaped */
	for (int i = 0; i < 300; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	big[600] = 0;
	CHECK(jakeys_asset_root_meta(big, NULL, &m, &n, &err) < 0);
	free(big);
	jakeys_meta_free(NULL, 0);
}

TEST(meta_read)
{
	struct ja_err err = {0};
	char *r;
	static const char *ascii[] = {"asset-root", "/test/path", NULL};
	static const char *both[] = {"asset-root", "\"/x\"", "asset-root-json",
				     "\"/test/caf\\u00e9/\\u6d4b\\u8bd5\"", NULL};
	static const char *json_only[] = {"asset-root-json", " \"/a\\nb\\ud83d\\ude00\" ", NULL};
	static const char *upper[] = {"Asset-Root", "/upper", NULL};
	static const char *other[] = {"file-system-location-name", "x", NULL};
	static const char *empty[] = {"asset-root", "", NULL};
	r = root_from(ascii, &err);
	CHECK_STR(r, "/test/path");
	free(r);
	r = root_from(both, &err); /* asset-root-json wins */
	CHECK_STR(r, "/test/caf\xc3\xa9/\xe6\xb5\x8b\xe8\xaf\x95");
	free(r);
	r = root_from(json_only, &err);
	CHECK_STR(r, "/a\nb\xf0\x9f\x98\x80");
	free(r);
	r = root_from(upper, &err);
	CHECK_STR(r, "/upper");
	free(r);
	CHECK(root_from(other, &err) == NULL);
	CHECK_STR(err.msg, "failed to get asset root from metadata of output manifest: "
			   "Manifests/f/q/j/s/t/x/h_output");
	CHECK(err.code == EXIT_FAIL);
	CHECK(root_from(empty, &err) == NULL);
	CHECK(strstr(err.msg, "failed to get asset root") != NULL);
	{
		static const char *none[] = {NULL};
		CHECK(root_from(none, &err) == NULL);
	}
	/* a hostile asset-root-json */
	static const char *bad[] = {"/plain",	   "\"unterminated", "123",	 "\"a\" \"b\"",
				    "\"\\u0000\"", "\"\\ud800\"",    "[\"/x\"]", "",
				    "null",	   "\"\xff\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *pairs[] = {"asset-root", "/fallback", "asset-root-json", bad[i], NULL};
		memset(&err, 0, sizeof(err));
		r = root_from(pairs, &err);
		CHECK(r == NULL);
		CHECK(err.code == EXIT_FAIL && strstr(err.msg, "asset-root-json"));
		free(r);
	}
}

TEST(meta_round_trip)
{
	static const char *roots[] = {
	    "/mnt/p", "C:\\proj", "/caf\xc3\xa9", "/\xf0\x9f\x98\x80/x", "/q\"b\\s",
	    "/nl\n",  " lead",	  "/tab\t",	  "/\xef\xbf\xbf"};
	for (size_t i = 0; i < sizeof(roots) / sizeof(*roots); i++) {
		struct store_meta *m;
		size_t n;
		struct ja_err err = {0};
		char *back = NULL, *loc = NULL, *none = (char *)"x";
		CHECK(jakeys_asset_root_meta(roots[i], roots[i], &m, &n, &err) == 0);
		CHECK(jakeys_asset_root_from_meta(m, n, "k", &back, &err) == 0);
		CHECK_STR(back, roots[i]);
		CHECK(jakeys_meta_value(m, n, "file-system-location-name", &loc, &err) == 1);
		CHECK_STR(loc, roots[i]);
		CHECK(jakeys_meta_value(m, n, "no-such", &none, &err) == 0 && none == NULL);
		free(back);
		free(loc);
		jakeys_meta_free(m, n);
	}
}

/* ---- attachments -------------------------------------------------------------------- */

TEST(attachments)
{
	struct buf b = BUF_INIT;
	struct ja_err err = {0};
	const char *outs[] = {"renders", "renders/final"};
	struct jakeys_manifest_props full = {
	    .root_path = "/mnt/p",
	    .file_system_location_name = "Share",
	    .root_path_format = "posix",
	    .input_manifest_path =
		"farm-1/queue-1/Inputs/abc/0cbcb283c25b52e19550634dc1e903e9_input",
	    .input_manifest_hash = "87ba30eb34f378a3b94e98ad51bde48e",
	    .output_dirs = outs,
	    .n_output_dirs = 2,
	};
	struct jakeys_manifest_props two[2] = {
	    {.root_path = "C:\\proj", .root_path_format = "windows"},
	    {.root_path = "/caf\xc3\xa9",
	     .file_system_location_name = "",
	     .input_manifest_path = "",
	     .input_manifest_hash = NULL},
	};
	CHECK(jakeys_attachments_json(&b, &full, 1, NULL, &err) == 0);
	CHECK_STR(b.p, "{\"manifests\":[{\"rootPath\":\"/mnt/p\",\"fileSystemLocationName\":"
		       "\"Share\",\"rootPathFormat\":\"posix\",\"inputManifestPath\":"
		       "\"farm-1/queue-1/Inputs/abc/0cbcb283c25b52e19550634dc1e903e9_input\","
		       "\"inputManifestHash\":\"87ba30eb34f378a3b94e98ad51bde48e\","
		       "\"outputRelativeDirectories\":[\"renders\",\"renders/final\"]}],"
		       "\"fileSystem\":\"COPIED\"}");
	buf_reset(&b);
	CHECK(jakeys_attachments_json(&b, two, 2, "VIRTUAL", &err) == 0);
	CHECK_STR(b.p, "{\"manifests\":[{\"rootPath\":\"C:\\\\proj\",\"rootPathFormat\":"
		       "\"windows\"},{\"rootPath\":\"/caf\\u00e9\",\"rootPathFormat\":\"posix\"}],"
		       "\"fileSystem\":\"VIRTUAL\"}");
	buf_reset(&b);
	CHECK(jakeys_attachments_json(&b, NULL, 0, "COPIED", &err) == 0);
	CHECK_STR(b.p, "{\"manifests\":[],\"fileSystem\":\"COPIED\"}");
	buf_release(&b);
}

TEST(attachments_errors)
{
	struct buf b = BUF_INIT;
	struct ja_err err = {0};
	const char *empty_dir[] = {"ok", ""};
	struct jakeys_manifest_props p = {.root_path = "/p"};
	buf_adds(&b, "keep");
	CHECK(jakeys_attachments_json(&b, &p, 1, "copied", &err) < 0);
	CHECK(err.code == EXIT_USAGE && strstr(err.msg, "fileSystem"));
	p.root_path_format = "macos";
	CHECK(jakeys_attachments_json(&b, &p, 1, NULL, &err) < 0);
	CHECK(strstr(err.msg, "rootPathFormat") != NULL);
	p.root_path_format = NULL;
	p.output_dirs = empty_dir;
	p.n_output_dirs = 2;
	CHECK(jakeys_attachments_json(&b, &p, 1, NULL, &err) < 0);
	CHECK(strstr(err.msg, "output directory") != NULL);
	p.n_output_dirs = 0;
	p.root_path = "";
	CHECK(jakeys_attachments_json(&b, &p, 1, NULL, &err) < 0);
	CHECK(strstr(err.msg, "rootPath") != NULL);
	p.root_path = "/p\xc0\xaf";
	CHECK(jakeys_attachments_json(&b, &p, 1, NULL, &err) < 0);
	CHECK(strstr(err.msg, "UTF-8") != NULL);
	p.root_path = "/p";
	p.input_manifest_hash = "\xff";
	CHECK(jakeys_attachments_json(&b, &p, 1, NULL, &err) < 0);
	CHECK_STR(b.p, "keep"); /* nothing half-written */
	buf_release(&b);
}

/* ---- output discovery --------------------------------------------------------------- */

#define P "Manifests/farm-1/queue-1/job-1/"

TEST(select_outputs)
{
	static const char *keys[] = {
	    /* 0 */ P "step-1/task-1-0/2024-01-01T00:00:00.000000Z_sessionaction-a-0/h1_output",
	    /* 1 */ P "step-1/task-1-0/2024-01-02T00:00:00.000000Z_sessionaction-a-1/h1_output",
	    /* 2 */ P "step-1/task-1-0/2024-01-02T00:00:00.000000Z_sessionaction-a-1/h2_output",
	    /* 3 */ P "step-1/task-1-1/2024-01-03T00:00:00.000000Z_sessionaction-b-0/h1_output",
	    /* 4 */ P "step-1/task-1-1/2023-12-31T00:00:00.000000Z_sessionaction-b-1/h1_output",
	    /* 5 */ P "step-2/task-2-0/2024-01-01T12:00:00.000000Z_sessionaction-c-0/h1_output",
	    /* 6: step level, ignored */
	    P "step-1/2024-01-05T00:00:00.000000Z_sessionaction-d-0/h1_output",
	    /* 7: later, but not a manifest: does not hide the real latest */
	    P "step-1/task-1-0/2024-01-09T00:00:00.000000Z_sessionaction-a-9/notes.txt",
	    /* 8: no session folder */
	    P "step-1/task-1-0/h_output",
	    /* 9 */ "Manifests/other",
	    /* 10: empty session folder */
	    P "step-1/task-1-0//h_output",
	    /* 11: one level too deep */
	    P "step-1/task-1-0/2024-01-10T00:00:00.000000Z_sessionaction-a-10/deep/h_output",
	    /* 12: the Rust naming, same session as 1 */
	    P "step-1/task-1-0/2024-01-02T00:00:00.000000Z_sessionaction-a-1/h3_output.json",
	    /* 13: a repeat of 1 */
	    P "step-1/task-1-0/2024-01-02T00:00:00.000000Z_sessionaction-a-1/h1_output",
	    /* 14: unusual but valid names */
	    P "step-1/task-\xc3\xbc 1/2024-01-04T00:00:00.000000Z_sessionaction-e-0/h_output",
	    /* 15, 16 */ "",
	    "/",
	    /* 17: a trailing slash: a "folder", not a manifest */
	    P "step-1/task-1-2/2024-01-01T00:00:00.000000Z_sessionaction-f-0/h_output/",
	    /* 18 */ "task-x/s/output",
	};
	size_t n = sizeof(keys) / sizeof(*keys), *sel = NULL;
	size_t got = jakeys_select_outputs(keys, n, &sel);
	static const size_t want[] = {5, 1, 2, 12, 3, 14, 18};
	CHECK(got == sizeof(want) / sizeof(*want));
	for (size_t i = 0; i < got && i < sizeof(want) / sizeof(*want); i++) {
		if (sel[i] != want[i])
			printf("# [%zu] = %zu (%s), want %zu\n", i, sel[i], keys[sel[i]], want[i]);
		CHECK(sel[i] == want[i]);
	}
	free(sel);
}

TEST(select_outputs_more)
{
	/* the Python test_download.py shape: session-action-9 beats session-action-1 */
	static const char *py[] = {
	    "job-1/step-1/task-1-1/session-action-1/a_output",
	    "job-1/step-1/task-1-1/session-action-9/a_output",
	    "job-1/step-1/task-1-1/session-action-9/b_output",
	    "job-1/step-2/task-1-1/session-action-1/a_output", /* same task id, other step */
	};
	/* the ISO time decides before the session action id */
	static const char *iso[] = {
	    P "s/task-1/2024-05-01T00:00:00.000000Z_sessionaction-x-9/h_output",
	    P "s/task-1/2024-05-01T00:00:00.000001Z_sessionaction-x-10/h_output",
	};
	size_t *sel = NULL, got;
	got = jakeys_select_outputs(py, 4, &sel);
	CHECK(got == 3);
	if (got == 3)
		CHECK(sel[0] == 3 && sel[1] == 1 && sel[2] == 2);
	free(sel);
	got = jakeys_select_outputs(iso, 2, &sel);
	CHECK(got == 1 && sel[0] == 1);
	free(sel);
	got = jakeys_select_outputs(NULL, 0, &sel);
	CHECK(got == 0);
	free(sel);
}

TEST(select_outputs_many)
{
	enum { TASKS = 20000, SESS = 5 };
	char **keys = malloc(TASKS * SESS * sizeof(*keys));
	size_t n = 0, *sel = NULL, got;
	clock_t t0 = clock();
	for (int t = 0; t < TASKS; t++)
		for (int i = 0; i < SESS; i++) {
			char k[256];
			int s = t % 2 ? SESS - 1 - i : i; /* the latest is not always listed last */
			snprintf(k, sizeof(k),
				 P "step-%d/task-%d-%d/"
				   "2024-03-%02dT10:00:%02d.000000Z_sessionaction-%d-%d/"
				   "h_output",
				 t % 3, t, t % 7, 1 + s, t % 60, t, s);
			keys[n++] = strdup(k);
		}
	got = jakeys_select_outputs((const char *const *)keys, n, &sel);
	CHECK(got == TASKS);
	for (size_t i = 0; i < got; i++) {
		CHECK(strstr(keys[sel[i]], "2024-03-05T") != NULL);
		if (i) /* "/2024-03": a task id can hold "2024-" */
			CHECK(strcmp(strstr(keys[sel[i - 1]], "/2024-03"),
				     strstr(keys[sel[i]], "/2024-03")) <= 0);
	}
	printf("# 100,000 keys: %.3f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(sel);
}

/* ---- environment -------------------------------------------------------------------- */

TEST(from_env)
{
	struct jakeys_ids ids = {0};
	setenv("DEADLINE_FARM_ID", "farm-e", 1);
	setenv("DEADLINE_QUEUE_ID", "queue-e", 1);
	setenv("DEADLINE_JOB_ID", "job-e", 1);
	setenv("DEADLINE_STEP_ID", "step-e", 1);
	setenv("DEADLINE_TASK_ID", "", 1);
	setenv("DEADLINE_SESSIONACTION_ID", "sessionaction-e-1", 1);
	ids.job = "job-given";
	jakeys_from_env(&ids);
	CHECK_STR(ids.farm, "farm-e");
	CHECK_STR(ids.queue, "queue-e");
	CHECK_STR(ids.job, "job-given"); /* what is set stays */
	CHECK_STR(ids.step, "step-e");
	CHECK(ids.task == NULL); /* empty = unset */
	CHECK_STR(ids.session_action, "sessionaction-e-1");
	unsetenv("DEADLINE_STEP_ID");
	memset(&ids, 0, sizeof(ids));
	jakeys_from_env(&ids);
	CHECK(ids.step == NULL && ids.task == NULL);
	unsetenv("DEADLINE_FARM_ID");
	unsetenv("DEADLINE_QUEUE_ID");
	unsetenv("DEADLINE_JOB_ID");
	unsetenv("DEADLINE_TASK_ID");
	unsetenv("DEADLINE_SESSIONACTION_ID");
}

int main(void)
{
	RUN(name_hash_vectors);
	RUN(guid);
	RUN(iso_time);
	RUN(check_id);
	RUN(input_key);
	RUN(output_key);
	RUN(output_prefix);
	RUN(meta_ascii);
	RUN(meta_non_ascii);
	RUN(meta_errors);
	RUN(meta_read);
	RUN(meta_round_trip);
	RUN(attachments);
	RUN(attachments_errors);
	RUN(select_outputs);
	RUN(select_outputs_more);
	RUN(select_outputs_many);
	RUN(from_env);
	return unit_done();
}
