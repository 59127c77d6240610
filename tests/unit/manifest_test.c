/* manifest_test.c - the manifest model: golden vectors, decode validation (FORMATS §1.3,
 * §2.4), the v2025 generations G1/G2/G3, canonical encoding (§1.2, §2.3), merge and
 * compose (§7.4, §7.5) and version conversion.  Run from the repository root. */
#include "core/json.h"
#include "core/manifest.h"
#include "unit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC "tests/vectors/"

/* ---- helpers ------------------------------------------------------------------------ */

/* Test documents are written with ' for " to keep them readable; J() swaps them. */
static const char *J(const char *s)
{
	static char ring[8][8192];
	static int next;
	char *o = ring[next++ & 7];
	size_t i;
	for (i = 0; s[i] && i < sizeof(ring[0]) - 1; i++)
		o[i] = s[i] == '\'' ? '"' : s[i];
	o[i] = 0;
	return o;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;
	if (!f) {
		printf("# cannot open %s (run from the repository root)\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	if (fread(p, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	p[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return p;
}

static struct ja_err err;

/* Decode doc into m (initialised here); 0 or -1 with err.  The bytes are given from an
 * exact-size copy without a NUL, so that ASan catches a read past the end; the model
 * must not point into the input (it is freed before m is used). */
static int decode(struct manifest *m, const char *doc)
{
	size_t n = strlen(doc);
	char *copy = malloc(n ? n : 1);
	int rc;
	memcpy(copy, doc, n);
	memset(&err, 0, sizeof(err));
	manifest_init(m, MVER_2023);
	rc = manifest_decode(m, copy, n, &err);
	memset(copy, '#', n);
	free(copy);
	return rc;
}

/* Encode m; returns a malloc'd string or NULL with err. */
static char *encode(struct manifest *m)
{
	struct buf b = BUF_INIT;
	memset(&err, 0, sizeof(err));
	if (manifest_encode(m, &b, &err) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* decode + encode: the canonical form of doc, or NULL with err. */
static char *canon(const char *doc)
{
	struct manifest m;
	char *r = NULL;
	if (decode(&m, doc) == 0)
		r = encode(&m);
	manifest_release(&m);
	return r;
}

/* The decode error of doc, or "(accepted)". */
static const char *decode_err(const char *doc)
{
	struct manifest m;
	int rc = decode(&m, doc);
	manifest_release(&m);
	if (rc == 0)
		return "(accepted)";
	if (err.code != EXIT_USAGE)
		printf("# error code %d for: %s\n", err.code, err.msg);
	return err.msg;
}

static int starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix))) {
		printf("# '%s' does not start with '%s'\n", s, prefix);
		return 0;
	}
	return 1;
}

static void check_canon(const char *doc, const char *want, int line)
{
	char *got = canon(doc);
	if (!got || strcmp(got, want)) {
		printf("# line %d: %s\n#   got  %s\n#   want %s\n", line, got ? "" : err.msg,
		       got ? got : "(error)", want);
		unit_cur_failed = 1;
	}
	free(got);
}
#define CHECK_CANON(doc, want) check_canon(doc, want, __LINE__)

static void shuffle(struct manifest *m, unsigned seed)
{
	uint64_t x = seed * 2654435761u + 1;
	for (size_t i = m->nfiles; i > 1; i--) {
		size_t j;
		struct mfile t;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (size_t)(x % i);
		t = m->files[i - 1];
		m->files[i - 1] = m->files[j];
		m->files[j] = t;
	}
	for (size_t i = m->ndirs; i > 1; i--) {
		size_t j;
		struct mdir t;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (size_t)(x % i);
		t = m->dirs[i - 1];
		m->dirs[i - 1] = m->dirs[j];
		m->dirs[j] = t;
	}
}

/* A v2023 document with the given paths entries. */
static const char *v23(const char *entries)
{
	static char b[16][8192];
	static int next;
	char *o = b[next++ & 15];
	snprintf(o, sizeof(b[0]),
		 "{\"hashAlg\":\"xxh128\",\"manifestVersion\":\"2023-03-03\",\"paths\":[%s],"
		 "\"totalSize\":1}",
		 J(entries));
	return o;
}

#define E1 "{'hash':'a1','mtime':1,'path':'x','size':1}"

/* A G2 document: relative snapshot or diff. */
static const char *v25(int diff, const char *dirs, const char *files)
{
	static char b[16][8192];
	static int next;
	char *o = b[next++ & 15];
	snprintf(o, sizeof(b[0]),
		 "{\"dirs\":[%s],\"files\":[%s],\"hashAlg\":\"xxh128\",%s\"specificationVersion\":"
		 "\"relative-manifest-%s-beta-2025-12\",\"totalSize\":0}",
		 J(dirs), J(files), diff ? "\"parentManifestHash\":\"p0\"," : "",
		 diff ? "diff" : "snapshot");
	return o;
}

/* ---- golden vectors ----------------------------------------------------------------- */

static const char *const vectors[] = {
    VEC "python-tests/manifest_v2023_03_03.json",
    VEC "golden/v2023-golden.manifest",
    VEC "fixture/expected-v2023.manifest",
    VEC "v2025/snapshot.manifest",
    VEC "v2025/diff.manifest",
    VEC "v2025/expected-composed.manifest",
    VEC "v2025/absolute-snapshot.manifest",
    VEC "v2025/sort-and-escape.manifest",
};
#define NVEC (sizeof(vectors) / sizeof(vectors[0]))

TEST(golden_built_in_memory)
{
	/* FORMATS §13.2: given unsorted, hashes computed from the contents */
	static const struct {
		const char *path, *content;
		int64_t mtime;
	} e[] = {
	    {"sub/\xc3\xa9.txt", "", 1700000000000000},
	    {"a.txt", "hello world", 1700000000123456},
	    {"Z\x7f\"q\\.txt", "a", 1},
	};
	struct manifest m;
	size_t glen;
	char *golden = slurp(VEC "golden/v2023-golden.manifest", &glen), *out, hash[33];
	manifest_init(&m, MVER_2023);
	for (size_t i = 0; i < 3; i++) {
		struct mfile *f = manifest_add_file(&m, e[i].path, strlen(e[i].path));
		manifest_hash_bytes(e[i].content, strlen(e[i].content), hash);
		f->hash = manifest_strdup(&m, hash, 32);
		f->size = (int64_t)strlen(e[i].content);
		f->mtime = e[i].mtime;
	}
	m.total_size = manifest_sum_sizes(&m);
	CHECK(m.total_size == 12);
	out = encode(&m);
	CHECK(golden && out && glen == 361);
	if (golden && out)
		CHECK_STR(out, golden);
	if (out) {
		manifest_hash_bytes(out, strlen(out), hash);
		CHECK_STR(hash, "87ba30eb34f378a3b94e98ad51bde48e");
	}
	free(out);
	free(golden);
	manifest_release(&m);
}

TEST(vectors_decode_encode_byte_exact)
{
	for (size_t i = 0; i < NVEC; i++) {
		size_t len;
		char *doc = slurp(vectors[i], &len), *out;
		CHECK(doc != NULL);
		if (!doc)
			continue;
		out = canon(doc);
		if (!out || strcmp(out, doc))
			printf("# %s: %s\n", vectors[i], out ? "differs" : err.msg);
		CHECK(out && !strcmp(out, doc));
		free(out);
		free(doc);
	}
}

TEST(vectors_shuffled_encode_byte_exact)
{
	for (size_t i = 0; i < NVEC; i++) {
		char *doc = slurp(vectors[i], NULL);
		if (!doc) {
			CHECK(0);
			continue;
		}
		for (unsigned seed = 1; seed <= 5; seed++) {
			struct manifest m;
			char *out;
			CHECK(decode(&m, doc) == 0);
			shuffle(&m, seed);
			out = encode(&m);
			if (!out || strcmp(out, doc))
				printf("# %s seed %u differs\n", vectors[i], seed);
			CHECK(out && !strcmp(out, doc));
			free(out);
			manifest_release(&m);
		}
		free(doc);
	}
}

/* The hash of every vector equals its checksum file (xxhsum -H2 format). */
TEST(vector_checksums)
{
	static const char *const sums[] = {
	    VEC "python-tests/checksums.xxh128",
	    VEC "golden/v2023-golden.xxh128",
	    VEC "fixture/expected.xxh128",
	    VEC "v2025/checksums.xxh128",
	};
	int n = 0;
	for (size_t i = 0; i < 4; i++) {
		char *list = slurp(sums[i], NULL), *line, *save = NULL;
		char dir[256];
		snprintf(dir, sizeof(dir), "%s", sums[i]);
		*strrchr(dir, '/') = 0;
		for (line = list ? strtok_r(list, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			char path[512], hash[33], *doc;
			size_t len;
			snprintf(path, sizeof(path), "%s/%s", dir, line + 34);
			doc = slurp(path, &len);
			CHECK(doc != NULL);
			if (!doc)
				continue;
			manifest_hash_bytes(doc, len, hash);
			line[32] = 0;
			CHECK_STR(hash, line);
			free(doc);
			n++;
		}
		free(list);
	}
	CHECK(n == 9);
}

TEST(diff_parent_hash_is_hash_of_snapshot)
{
	size_t len;
	char *snap = slurp(VEC "v2025/snapshot.manifest", &len), hash[33];
	char *diffdoc = slurp(VEC "v2025/diff.manifest", NULL);
	struct manifest m;
	CHECK(snap && diffdoc);
	if (!snap || !diffdoc)
		goto out;
	manifest_hash_bytes(snap, len, hash);
	CHECK(decode(&m, diffdoc) == 0);
	CHECK(m.type == MTYPE_DIFF);
	CHECK_STR(m.parent_hash, hash);
	CHECK_STR(hash, "2dac7f43682216ec776be21e99776cd2");
	manifest_release(&m);
out:
	free(snap);
	free(diffdoc);
}

TEST(bados_rejected)
{
	char *doc = slurp(VEC "python-tests/manifest_bados.json", NULL);
	CHECK(doc != NULL);
	if (doc)
		CHECK_STR(decode_err(doc),
			  "not a manifest: missing the required \"manifestVersion\" field");
	free(doc);
}

/* Every proper prefix of a valid manifest is an error (and never a crash). */
TEST(truncated_at_every_length)
{
	static const char *const v[] = {
	    VEC "golden/v2023-golden.manifest",
	    VEC "v2025/snapshot.manifest",
	    VEC "v2025/diff.manifest",
	};
	for (size_t i = 0; i < 3; i++) {
		size_t len, bad = 0;
		char *doc = slurp(v[i], &len);
		if (!doc) {
			CHECK(0);
			continue;
		}
		for (size_t k = 0; k < len; k++) {
			char *p = malloc(k ? k : 1); /* exact size, no NUL */
			struct manifest m;
			memcpy(p, doc, k);
			manifest_init(&m, MVER_2023);
			memset(&err, 0, sizeof(err));
			if (manifest_decode(&m, p, k, &err) == 0 || !err.msg[0])
				bad++;
			manifest_release(&m);
			free(p);
		}
		CHECK(bad == 0);
		free(doc);
	}
}

/* ---- v2023 decode validation -------------------------------------------------------- */

TEST(v2023_entry_errors_name_the_entry)
{
	CHECK_STR(decode_err(v23(E1 "," E1)), "paths[1]: duplicate path \"x\"");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':'a','size':1},"
				 "{'hash':'a','mtime':1,'path':'b','size':1},"
				 "{'hash':'a','mtime':1,'path':'c','size':1},"
				 "{'hash':'a','mtime':1,'path':'d','size':'1'}")),
		  "paths[3].size: not an integer");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':'x','size':1.0}")),
		  "paths[0].size: not an integer");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':'x','size':1e3}")),
		  "paths[0].size: not an integer");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':true,'path':'x','size':1}")),
		  "paths[0].mtime: not an integer");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':'x','size':false}")),
		  "paths[0].size: not an integer");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':null,'path':'x','size':1}")),
		  "paths[0].mtime: not an integer");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':'x','size':-1}")),
		  "paths[0].size: negative size");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':'x','size':"
				 "123456789012345678901234567890}")),
		  "paths[0].size: integer out of range");
	CHECK_STR(decode_err(v23("{'hash':'a-b','mtime':1,'path':'x','size':1}")),
		  "paths[0].hash: not an alphanumeric hash");
	CHECK_STR(decode_err(v23("{'hash':'','mtime':1,'path':'x','size':1}")),
		  "paths[0].hash: not an alphanumeric hash");
	CHECK_STR(decode_err(v23("{'hash':'ab\\u00e9','mtime':1,'path':'x','size':1}")),
		  "paths[0].hash: not an alphanumeric hash");
	CHECK_STR(decode_err(v23("{'hash':5,'mtime':1,'path':'x','size':1}")),
		  "paths[0].hash: not a string (found a number)");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':['x'],'size':1}")),
		  "paths[0].path: not a string (found an array)");
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'path':'','size':1}")),
		  "paths[0].path: empty");
	CHECK_STR(decode_err(v23("7")), "paths[0]: not an object (found a number)");
}

TEST(v2023_missing_fields)
{
	CHECK_STR(decode_err(v23("{'hash':'a','mtime':1,'size':1}")), "paths[0]: missing \"path\"");
	CHECK_STR(decode_err(v23("{'mtime':1,'path':'x','size':1}")), "paths[0]: missing \"hash\"");
	CHECK_STR(decode_err(v23(E1 ",{'hash':'a','mtime':1,'path':'y'}")),
		  "paths[1]: missing \"size\"");
	CHECK_STR(decode_err(v23("{'hash':'a','path':'x','size':1}")),
		  "paths[0]: missing \"mtime\"");
	CHECK_STR(decode_err(v23("")), "paths: empty (a v2023 manifest lists at least one file)");
	CHECK_STR(
	    decode_err(J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','totalSize':1}")),
	    "missing the required \"paths\" field");
	CHECK_STR(decode_err(J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':{},"
			       "'totalSize':1}")),
		  "paths: not an array (found an object)");
	CHECK_STR(decode_err(J("{'manifestVersion':'2023-03-03','paths':[" E1 "],'totalSize':1}")),
		  "missing the required \"hashAlg\" field");
	CHECK_STR(
	    decode_err(J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[" E1 "]}")),
	    "missing the required \"totalSize\" field");
	CHECK_STR(decode_err(J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[" E1
			       "],'totalSize':'1'}")),
		  "totalSize: not an integer");
	CHECK_STR(decode_err(J("{'hashAlg':'xxh128','paths':[" E1 "],'totalSize':1}")),
		  "not a manifest: missing the required \"manifestVersion\" field");
}

TEST(v2023_version_and_hash_algorithm)
{
	CHECK_STR(decode_err(J("{'hashAlg':'xxh128','manifestVersion':'2024-01-01','paths':[" E1
			       "],'totalSize':1}")),
		  "manifestVersion: unknown manifest version \"2024-01-01\" (ja reads 2023-03-03, "
		  "2025-12-04-beta and the 2025-12 specificationVersion forms)");
	CHECK_STR(decode_err(J("{'hashAlg':'xxh128','manifestVersion':2023,'paths':[" E1
			       "],'totalSize':1}")),
		  "manifestVersion: not a string (found a number)");
	CHECK_STR(decode_err(J("{'hashAlg':'sha256','manifestVersion':'2023-03-03','paths':[" E1
			       "],'totalSize':1}")),
		  "hashAlg: unsupported \"sha256\" (only xxh128)");
	CHECK_STR(decode_err(J("{'hashAlg':'XXH128','manifestVersion':'2023-03-03','paths':[" E1
			       "],'totalSize':1}")),
		  "hashAlg: unsupported \"XXH128\" (only xxh128)");
	/* user text in messages is escaped: one line, no control characters */
	{
		const char *m =
		    decode_err(J("{'hashAlg':'xxh128','manifestVersion':'2023\\n\\u001b[1m',"
				 "'paths':[" E1 "],'totalSize':1}"));
		CHECK(strstr(m, "unknown manifest version") != NULL);
		CHECK(!strchr(m, '\n') && !strchr(m, '\x1b'));
		m = decode_err(J("{'hashAlg':'x\\ny','manifestVersion':'2023-03-03','paths':[" E1
				 "],'totalSize':1}"));
		CHECK(strstr(m, "hashAlg: unsupported") != NULL);
		CHECK(!strchr(m, '\n'));
	}
}

TEST(v2023_document_level_errors)
{
	CHECK_STR(decode_err("[]"), "not a manifest (found an array, expected an object)");
	CHECK_STR(decode_err("\"x\""), "not a manifest (found a string, expected an object)");
	CHECK_STR(decode_err("\xef\xbb\xbf{}"), "starts with a UTF-8 byte-order mark");
	CHECK(strstr(decode_err(""), "unexpected end of input") != NULL);
	CHECK(strstr(decode_err(v23(E1 "] ,x")), "line 1") != NULL);
	CHECK(starts(decode_err(v23(E1 ",{'hash':'a','mtime':1,'path':'x\\ud83d','size':1}")),
		     "paths[1].path: line 1, column "));
	CHECK(strstr(decode_err(v23("{'hash':'a','mtime':1,'path':'x\\ud83d','size':1}")),
		     "lone surrogate \\ud83d") != NULL);
	CHECK(starts(decode_err(v23("{'hash':'a','mtime':1,'path':'\xff','size':1}")),
		     "paths[0].path: line 1, column "));
	CHECK(strstr(decode_err(v23("{'hash':'a','mtime':1,'path':'\xff','size':1}")),
		     "invalid UTF-8 in string") != NULL);
	CHECK(strstr(decode_err(v23("{'hash':'a','mtime':1,'path':'x','size':1,'size':2}")),
		     "duplicate key \"size\"") != NULL);
	CHECK(strstr(decode_err(v23("{'hash':'a','mtime':1,'path':'x','size':NaN}")),
		     "paths[0].size: ") != NULL);
	CHECK(strstr(decode_err(v23("{'hash':'a','mtime':Infinity,'path':'x','size':1}")),
		     "paths[0].mtime: ") != NULL);
	CHECK(strstr(decode_err(J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[" E1
				  "],'totalSize':1} x")),
		     "unexpected data after the JSON value") != NULL);
}

TEST(v2023_accepted_leniencies)
{
	/* uppercase and non-hex alphanumeric hashes, negative mtime, unknown keys (dropped),
	 * any key order, whitespace, trailing whitespace; totalSize kept as given */
	CHECK_CANON(J(" {\n 'zzz': [1, {'q': null}], 'paths' : [ {'size':2, 'extra':'x',"
		      " 'path':'b', 'mtime':-5, 'hash':'ABCdef0'},{'path':'a','hash':'One',"
		      "'size':0,'mtime':0,'more':{}} ], 'totalSize':99, 'hashAlg':'xxh128',"
		      " 'manifestVersion':'2023-03-03' } \n\t\r "),
		    J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'One',"
		      "'mtime':0,'path':'a','size':0},{'hash':'ABCdef0','mtime':-5,'path':'b',"
		      "'size':2}],'totalSize':99}"));
	/* -0 is 0; escapes are normalised to the canonical form */
	CHECK_CANON(v23("{'hash':'a','mtime':-0,'path':'\\u0041\\/\\u00E9','size':0}"),
		    J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'a',"
		      "'mtime':0,'path':'A/\\u00e9','size':0}],'totalSize':1}"));
	/* int64 bounds */
	CHECK_CANON(v23("{'hash':'a','mtime':-9223372036854775808,'path':'x',"
			"'size':9223372036854775807}"),
		    J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'a',"
		      "'mtime':-9223372036854775808,'path':'x','size':9223372036854775807}],"
		      "'totalSize':1}"));
	/* keys only v2025 knows are unknown (ignored) in v2023 */
	CHECK_CANON(J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':'a1',"
		      "'mtime':1,'path':'x','size':1,'runnable':false,'delete':1,'name':7}],"
		      "'totalSize':1,'dirs':[{'name':'$9/q'}]}"),
		    v23(E1));
}

/* An unknown "dirs" key in a v2023 document does not leak into the model. */
TEST(v2023_ignores_dirs_key)
{
	struct manifest m;
	char *out;
	CHECK(decode(&m, J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','dirs':"
			   "[{'name':'q'},{'name':'$0/z'}],'paths':[" E1 "],'totalSize':1}")) == 0);
	CHECK(m.ndirs == 0);
	CHECK(manifest_convert(&m, MVER_2025, &err) == 0);
	out = encode(&m);
	CHECK_STR(out, J("{'dirs':[],'files':[{'hash':'a1','mtime':1,'name':'x','size':1}],"
			 "'hashAlg':'xxh128','specificationVersion':"
			 "'relative-manifest-snapshot-beta-2025-12','totalSize':1}"));
	free(out);
	manifest_release(&m);
}

/* ---- v2025: generations G1, G2, G3 -------------------------------------------------- */

TEST(g1_snapshot_to_g2)
{
	CHECK_CANON(J("{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128','dirs':[{'name':"
		      "'d'},{'name':'$0/e'}],'files':[{'name':'$1/f','hash':'aa','size':2,'mtime':"
		      "3},{'name':'top','hash':'bb','size':1,'mtime':4,'runnable':true},{'name':"
		      "'ln','symlink_target':'$1/f'}],'totalSize':3}"),
		    J("{'dirs':[{'name':'d'},{'name':'$0/e'}],'files':[{'hash':'aa','mtime':3,"
		      "'name':'$1/f','size':2},{'name':'ln','symlink':{'name':'$1/f'}},{'hash':"
		      "'bb','mtime':4,'name':'top','runnable':true,'size':1}],'hashAlg':'xxh128',"
		      "'specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
		      "'totalSize':3}"));
	/* parentManifestHash null: still a snapshot; dirs optional in G1; G1 names are
	 * expanded like G3 (only a leading $N/), so a literal a/b/c is read as is */
	CHECK_CANON(J("{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128','files':[{'name':"
		      "'a/b/c','hash':'aa','size':2,'mtime':3,'x':1}],'parentManifestHash':null,"
		      "'totalSize':2}"),
		    J("{'dirs':[{'name':'a'},{'name':'$0/b'}],'files':[{'hash':'aa','mtime':3,"
		      "'name':'$1/c','size':2}],'hashAlg':'xxh128','specificationVersion':"
		      "'relative-manifest-snapshot-beta-2025-12','totalSize':2}"));
}

TEST(g1_diff_iff_parent_hash)
{
	const char *diff = J("{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128',"
			     "'parentManifestHash':'ff00','dirs':[{'name':'d'},{'name':'old',"
			     "'delete':true}],'files':[{'name':'$0/f','hash':'aa','size':2,'mtime':"
			     "3},{'name':'gone','delete':true},{'name':'ln','symlink':{'name':"
			     "'$0/f'}}],'totalSize':2}");
	struct manifest m;
	CHECK(decode(&m, diff) == 0);
	CHECK(m.ver == MVER_2025 && m.gen == 1 && m.type == MTYPE_DIFF);
	manifest_release(&m);
	CHECK_CANON(diff, J("{'dirs':[{'name':'d'},{'delete':true,'name':'old'}],'files':[{"
			    "'hash':'aa','mtime':3,'name':'$0/f','size':2},{'delete':true,'name':"
			    "'gone'},{'name':'ln','symlink':{'name':'$0/f'}}],'hashAlg':'xxh128',"
			    "'parentManifestHash':'ff00','specificationVersion':"
			    "'relative-manifest-diff-beta-2025-12','totalSize':2}"));
	/* without parentManifestHash the same document is a snapshot: markers rejected */
	CHECK_STR(decode_err(J("{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128','files':"
			       "[{'name':'gone','delete':true}],'totalSize':0}")),
		  "files[0]: delete marker in a snapshot manifest");
	CHECK(decode(&m, J("{'manifestVersion':'2025-12-04-beta','hashAlg':'xxh128','files':"
			   "[{'name':'a','hash':'b','size':1,'mtime':1}],'totalSize':1}")) == 0);
	CHECK(m.type == MTYPE_SNAPSHOT && m.parent_hash == NULL);
	manifest_release(&m);
}

TEST(g3_to_g2)
{
	CHECK_CANON(J("{'dirs':[{'path':'a'},{'path':'$0/b/c'},{'path':'gone','deleted':true}],"
		      "'files':[{'path':'$1/f.txt','hash':'11','size':3,'mtime':5},{'path':"
		      "'x/y/z.txt','hash':'22','size':4,'mtime':6,'runnable':true},{'path':'l',"
		      "'symlink':{'target':'$0/b/c/f.txt'}},{'path':'old.txt','deleted':true},"
		      "{'path':'a/$0/q','hash':'33','size':1,'mtime':7}],'hashAlg':'xxh128',"
		      "'parentManifestHash':'abc','specificationVersion':"
		      "'relative-manifest-diff-beta-2025-12','totalSize':8}"),
		    J("{'dirs':[{'name':'a'},{'name':'$0/$0'},{'name':'$0/b'},{'name':'$2/c'},"
		      "{'delete':true,'name':'gone'},{'name':'x'},{'name':'$5/y'}],'files':[{"
		      "'hash':'33','mtime':7,'name':'$1/q','size':1},{'hash':'11','mtime':5,"
		      "'name':'$3/f.txt','size':3},{'name':'l','symlink':{'name':'$3/f.txt'}},"
		      "{'delete':true,'name':'old.txt'},{'hash':'22','mtime':6,'name':'$6/z.txt',"
		      "'runnable':true,'size':4}],'hashAlg':'xxh128','parentManifestHash':'abc',"
		      "'specificationVersion':'relative-manifest-diff-beta-2025-12',"
		      "'totalSize':8}"));
	/* only a leading $N/ is expanded */
	CHECK_CANON(J("{'dirs':[{'path':'d'}],'files':[{'path':'$0/$0/x','hash':'1','size':1,"
		      "'mtime':1}],'hashAlg':'xxh128','specificationVersion':"
		      "'relative-manifest-snapshot-beta-2025-12','totalSize':1}"),
		    J("{'dirs':[{'name':'d'},{'name':'$0/$0'}],'files':[{'hash':'1','mtime':1,"
		      "'name':'$1/x','size':1}],'hashAlg':'xxh128','specificationVersion':"
		      "'relative-manifest-snapshot-beta-2025-12','totalSize':1}"));
	/* G3 $N must still refer to an earlier directory */
	CHECK(strstr(decode_err(J("{'dirs':[{'path':'$1/x'},{'path':'y'}],'files':[],'hashAlg':"
				  "'xxh128','specificationVersion':"
				  "'relative-manifest-snapshot-beta-2025-12','totalSize':0}")),
		     "dirs[0].name: ") != NULL);
}

TEST(g2_spec_strings)
{
	struct manifest m;
	CHECK(decode(&m, J("{'dirs':[],'files':[],'hashAlg':'xxh128','specificationVersion':"
			   "'absolute-manifest-diff-2025-12','totalSize':0}")) == 0);
	CHECK(m.style == MSTYLE_ABSOLUTE && m.type == MTYPE_DIFF && m.gen == 2);
	CHECK_STR(manifest_spec_string(&m), "absolute-manifest-diff-beta-2025-12");
	manifest_release(&m);
	CHECK_STR(decode_err(J("{'dirs':[],'files':[],'hashAlg':'xxh128','specificationVersion':"
			       "'relative-manifest-snapshot-beta-2026-01','totalSize':0}")),
		  "specificationVersion: unknown specification "
		  "\"relative-manifest-snapshot-beta-2026-01\"");
	CHECK_STR(decode_err(J("{'dirs':[],'files':[],'hashAlg':'xxh128','specificationVersion':"
			       "'relative-manifest-','totalSize':0}")),
		  "specificationVersion: unknown specification \"relative-manifest-\"");
	CHECK_STR(decode_err(J("{'files':[],'hashAlg':'xxh128','specificationVersion':"
			       "'relative-manifest-snapshot-beta-2025-12','totalSize':0}")),
		  "missing the required \"dirs\" field");
	CHECK_STR(decode_err(J("{'dirs':[],'hashAlg':'xxh128','specificationVersion':"
			       "'relative-manifest-snapshot-beta-2025-12','totalSize':0}")),
		  "missing the required \"files\" field");
	CHECK_STR(decode_err(J("{'dirs':[],'files':[],'hashAlg':'md5','specificationVersion':"
			       "'relative-manifest-snapshot-beta-2025-12','totalSize':0}")),
		  "hashAlg: unsupported \"md5\" (only xxh128)");
}

/* §2.4 validation */
TEST(g2_validation)
{
	const char *F = "{'name':'f','hash':'aa','size':1,'mtime':1}";
	(void)F;
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','delete':true}")),
		  "files[0]: delete marker in a snapshot manifest");
	CHECK_STR(decode_err(v25(0, "{'name':'d','delete':true}", "")),
		  "dirs[0]: delete marker in a snapshot manifest");
	CHECK_STR(decode_err(v25(0, "{'name':'d','delete':false}", "")), "(accepted)");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','hash':'a','size':1,'mtime':1,"
				 "'runnable':false}")),
		  "files[0].runnable: must be true when present");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','hash':'a','size':1,'mtime':1,"
				 "'runnable':1}")),
		  "files[0].runnable: not a boolean (found a number)");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','hash':'a','chunkhashes':['a','b'],"
				 "'size':314572800,'mtime':1}")),
		  "files[0]: more than one of hash, chunkhashes, symlink");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','size':1,'mtime':1}")),
		  "files[0]: missing \"hash\", \"chunkhashes\" or \"symlink\"");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','chunkhashes':['a'],'size':314572800,"
				 "'mtime':1}")),
		  "files[0]: 1 chunk hashes for 314572800 bytes (expected 2)");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','chunkhashes':['a','b','c'],"
				 "'size':536870912,'mtime':1}")),
		  "files[0]: 3 chunk hashes for 536870912 bytes (expected 2)");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','chunkhashes':['a','b'],"
				 "'size':536870913,'mtime':1}")),
		  "files[0]: 2 chunk hashes for 536870913 bytes (expected 3)");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','chunkhashes':['a'],'size':268435456,"
				 "'mtime':1}")),
		  "files[0]: chunkhashes on a file of 268435456 bytes (only files over 268435456 "
		  "bytes are chunked)");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','chunkhashes':[],'size':1,'mtime':1}")),
		  "files[0].chunkhashes: empty chunk list");
	CHECK(strstr(decode_err(v25(0, "",
				    "{'name':'f','chunkhashes':['a','b-'],"
				    "'size':314572800,'mtime':1}")),
		     "files[0].chunkhashes: ") != NULL);
	/* huge sizes: no overflow in the chunk count */
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'f','chunkhashes':['a'],"
				 "'size':9223372036854775807,'mtime':1}")),
		  "files[0]: 1 chunk hashes for 9223372036854775807 bytes (expected 34359738368)");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','hash':'a','size':268435456,'mtime':1}")),
		  "(accepted)");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','hash':'a','size':268435457,'mtime':1}")),
		  "files[0]: a file of 268435457 bytes needs chunkhashes, not hash");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','hash':'a','size':-1,'mtime':1}")),
		  "files[0].size: negative size");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','hash':'a','mtime':1}")),
		  "files[0]: missing \"size\"");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','hash':'a','size':1}")),
		  "files[0]: missing \"mtime\"");
	CHECK_STR(decode_err(v25(0, "", "{'hash':'a','size':1,'mtime':1}")),
		  "files[0]: missing \"name\"");
	CHECK_STR(decode_err(v25(0, "", "{'name':'f','path':'f','hash':'a','size':1,'mtime':1}")),
		  "files[0]: both \"name\" and \"path\"");
	CHECK_STR(decode_err(v25(1, "", "{'name':'f','delete':true,'hash':'a'}")),
		  "files[0]: a deleted entry carries only its name");
	CHECK_STR(decode_err(v25(0, "", "{'name':'l','symlink':{'name':'t'},'size':1}")),
		  "files[0]: a symlink carries no size, mtime or runnable");
	CHECK_STR(decode_err(v25(0, "", "{'name':'l','symlink':{}}")),
		  "files[0].symlink: missing name");
	CHECK_STR(decode_err(v25(0, "", "{'name':'l','symlink':5}")),
		  "files[0].symlink: not an object (found a number)");
	CHECK_STR(decode_err(v25(0, "", "{'name':'l','symlink':{'name':'a','target':'b'}}")),
		  "files[0].symlink: both name and target");
	CHECK_STR(decode_err(v25(0, "{}", "")), "dirs[0]: missing \"name\"");
	CHECK_STR(decode_err(v25(0, "{'name':'d'},{'name':'d'}", "")),
		  "dirs[1]: duplicate directory \"d\"");
	CHECK_STR(decode_err(v25(0, "", "{'name':'','hash':'a','size':1,'mtime':1}")),
		  "files[0].name: empty name");
	CHECK_STR(
	    decode_err(J("{'dirs':[],'files':[],'hashAlg':'xxh128','parentManifestHash':"
			 "'abc','specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
			 "'totalSize':0}")),
	    "parentManifestHash in a snapshot manifest");
	CHECK_STR(decode_err(J("{'dirs':[],'files':[],'hashAlg':'xxh128','parentManifestHash':"
			       "'a-b','specificationVersion':'relative-manifest-diff-beta-2025-12',"
			       "'totalSize':0}")),
		  "parentManifestHash: not an alphanumeric hash");
	CHECK_STR(decode_err(J("{'dirs':[],'files':[],'hashAlg':'xxh128','fileChunkSizeBytes':"
			       "1024,'specificationVersion':'relative-manifest-diff-beta-2025-12',"
			       "'totalSize':0}")),
		  "fileChunkSizeBytes: unsupported chunk size 1024 (ja reads 268435456 or -1)");
}

TEST(g2_name_expansion)
{
	/* $N/ must refer to an earlier directory */
	CHECK_STR(decode_err(v25(0, "{'name':'$1/x'},{'name':'y'}", "")),
		  "dirs[0].name: \"$1/x\" refers to directory 1, which is not listed before it");
	CHECK_STR(decode_err(v25(0, "{'name':'$0/x'}", "")),
		  "dirs[0].name: \"$0/x\" refers to directory 0, which is not listed before it");
	CHECK_STR(decode_err(v25(0, "{'name':'d'}",
				 "{'name':'$1/f','hash':'a','size':1,"
				 "'mtime':1}")),
		  "files[0].name: \"$1/f\" refers to directory 1, which is not listed before it");
	CHECK_STR(decode_err(v25(0, "{'name':'d'}",
				 "{'name':'$99999999999999999999/f',"
				 "'hash':'a','size':1,'mtime':1}")),
		  "files[0].name: cannot expand name \"$99999999999999999999/f\" (expected NAME, "
		  "/NAME or $N/NAME)");
	/* literal names with a / are not G2 */
	CHECK_STR(decode_err(v25(0, "", "{'name':'a/b','hash':'a','size':1,'mtime':1}")),
		  "files[0].name: cannot expand name \"a/b\" (expected NAME, /NAME or $N/NAME)");
	CHECK_STR(decode_err(v25(0, "{'name':'d'}",
				 "{'name':'$0/a/b','hash':'a','size':1,"
				 "'mtime':1}")),
		  "files[0].name: cannot expand name \"$0/a/b\" (expected NAME, /NAME or "
		  "$N/NAME)");
	CHECK_STR(decode_err(v25(0, "{'name':'d'}",
				 "{'name':'$0/','hash':'a','size':1,"
				 "'mtime':1}")),
		  "files[0].name: cannot expand name \"$0/\" (expected NAME, /NAME or $N/NAME)");
	CHECK_STR(decode_err(v25(0, "{'name':'/a/b'}", "")),
		  "dirs[0].name: cannot expand name \"/a/b\" (expected NAME, /NAME or $N/NAME)");
	CHECK_STR(decode_err(v25(0, "{'name':'d'}", "{'name':'l','symlink':{'name':'x/y'}}")),
		  "files[0]: symlink: cannot expand name \"x/y\" (expected NAME, /NAME or "
		  "$N/NAME)");
	/* /x literal is fine (absolute root-level name); $N/ expands */
	CHECK_CANON(J("{'dirs':[{'name':'/mnt'},{'name':'$0/a'}],'files':[{'name':'$1/f','hash':"
		      "'a','size':1,'mtime':1},{'name':'/top','hash':'b','size':2,'mtime':2}],"
		      "'hashAlg':'xxh128','specificationVersion':"
		      "'absolute-manifest-snapshot-beta-2025-12','totalSize':3}"),
		    J("{'dirs':[{'name':'/mnt'},{'name':'$0/a'}],'files':[{'hash':'a','mtime':1,"
		      "'name':'$1/f','size':1},{'hash':'b','mtime':2,'name':'/top','size':2}],"
		      "'hashAlg':'xxh128','specificationVersion':"
		      "'absolute-manifest-snapshot-beta-2025-12','totalSize':3}"));
	/* missing ancestors are added by the encoder; $ in a name is literal */
	CHECK_CANON(v25(0, "{'name':'a'},{'name':'$0/b'},{'name':'$1/c'}",
			"{'name':'$10','hash':'a','size':1,'mtime':1}"),
		    J("{'dirs':[{'name':'a'},{'name':'$0/b'},{'name':'$1/c'}],'files':[{'hash':"
		      "'a','mtime':1,'name':'$10','size':1}],'hashAlg':'xxh128',"
		      "'specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
		      "'totalSize':0}"));
}

/* Names the G2 form cannot carry are rejected on decode (any generation), so that
 * whatever decodes also encodes and decodes back to the same model. */
TEST(v2025_unencodable_names_rejected)
{
	static const char *const bad[] = {"a//b", "a/", "/", "//x", "a/b/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char files[256], dirs[256];
		const char *m;
		snprintf(files, sizeof(files), "{'path':'%s','hash':'a','size':1,'mtime':1}",
			 bad[i]);
		m = decode_err(v25(0, "", files));
		if (!strstr(m, "files[0].name: "))
			printf("# file %s: %s\n", bad[i], m);
		CHECK(strstr(m, "files[0].name: ") != NULL);
		snprintf(dirs, sizeof(dirs), "{'path':'%s'}", bad[i]);
		m = decode_err(v25(0, dirs, ""));
		if (!strstr(m, "dirs[0].name: "))
			printf("# dir %s: %s\n", bad[i], m);
		CHECK(strstr(m, "dirs[0].name: ") != NULL);
		snprintf(files, sizeof(files), "{'path':'l','symlink':{'target':'%s'}}", bad[i]);
		m = decode_err(v25(0, "", files));
		CHECK(strstr(m, "files[0]: symlink: ") != NULL);
	}
}

/* Names are scanned eight bytes at a time: an empty component, and the count of '/', are
 * found wherever they fall.  Decoded (a G3 path) and encoded (a model built in memory). */
TEST(v2025_name_checks_at_every_offset)
{
	for (size_t len = 2; len <= 26; len++)
		for (size_t pos = 0; pos + 1 < len; pos++) {
			char name[32], files[128];
			struct manifest m;
			struct mfile *f;
			char *enc;
			memset(name, 'x', len);
			name[len] = 0;
			name[pos] = name[pos + 1] = '/';
			snprintf(files, sizeof(files),
				 "{'path':'%s','hash':'a','size':1,'mtime':1}", name);
			CHECK(strstr(decode_err(v25(0, "", files)), "empty path component") !=
			      NULL);
			manifest_init(&m, MVER_2025);
			m.gen = 2;
			f = manifest_add_file(&m, name, len);
			f->hash = "a";
			enc = encode(&m);
			CHECK(!enc && strstr(err.msg, "empty path component") != NULL);
			free(enc);
			manifest_release(&m);
			/* one '/' inside the name: fine */
			name[pos] = 'x';
			snprintf(files, sizeof(files),
				 "{'path':'%s','hash':'a','size':1,'mtime':1}", name);
			if (pos + 2 < len)
				CHECK_STR(decode_err(v25(0, "", files)), "(accepted)");
			else /* "xx/" */
				CHECK(
				    strstr(decode_err(v25(0, "", files)), "empty path component"));
		}
}

TEST(v2025_file_and_directory_conflicts)
{
	/* a file that is also a listed or implied directory */
	CHECK_STR(decode_err(v25(0, "{'name':'a'}",
				 "{'name':'a','hash':'h','size':1,"
				 "'mtime':1}")),
		  "files[0]: \"a\" is both a file and a directory");
	CHECK_STR(decode_err(J("{'dirs':[],'files':[{'path':'a','hash':'h','size':1,'mtime':1},"
			       "{'path':'a/b','hash':'h','size':1,'mtime':1}],'hashAlg':'xxh128',"
			       "'specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
			       "'totalSize':0}")),
		  "files[0]: \"a\" is both a file and a directory");
	CHECK_STR(decode_err(J("{'dirs':[],'files':[{'path':'a','hash':'h','size':1,'mtime':1},"
			       "{'path':'l','symlink':{'target':'a/x'}}],'hashAlg':'xxh128',"
			       "'specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
			       "'totalSize':0}")),
		  "files[0]: \"a\" is both a file and a directory");
	CHECK_STR(decode_err(v25(0, "",
				 "{'name':'a','hash':'h','size':1,'mtime':1},"
				 "{'name':'a','hash':'h','size':1,'mtime':1}")),
		  "files[1]: duplicate path \"a\"");
	/* a diff may replace a file by a directory and a directory by a file */
	CHECK_CANON(v25(1, "{'name':'a'},{'name':'b','delete':true}",
			"{'name':'a','delete':true},{'name':'$0/x','hash':'h','size':1,'mtime':1},"
			"{'name':'b','hash':'h','size':2,'mtime':2}"),
		    J("{'dirs':[{'name':'a'},{'delete':true,'name':'b'}],'files':[{'delete':true,"
		      "'name':'a'},{'hash':'h','mtime':1,'name':'$0/x','size':1},{'hash':'h',"
		      "'mtime':2,'name':'b','size':2}],'hashAlg':'xxh128','parentManifestHash':"
		      "'p0','specificationVersion':'relative-manifest-diff-beta-2025-12',"
		      "'totalSize':0}"));
}

/* ---- encode ------------------------------------------------------------------------- */

TEST(encode_refuses_what_the_version_cannot_say)
{
	struct manifest m;
	struct mfile *f;
	char *out;
	manifest_init(&m, MVER_2023);
	out = encode(&m);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "an empty v2023 manifest is invalid (the format requires at least "
			   "one file)");
	f = manifest_add_file(&m, "x", 1);
	out = encode(&m);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "x: a file without a hash cannot be expressed in v2023");
	f->hash = "aa";
	f = manifest_add_file(&m, "x", 1);
	f->hash = "bb";
	out = encode(&m);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "duplicate path \"x\"");
	manifest_release(&m);

	/* a path that is not UTF-8 is never written as something else */
	manifest_init(&m, MVER_2023);
	f = manifest_add_file(&m, "bad\xff.txt", 8);
	f->hash = "aa";
	out = encode(&m);
	CHECK(out == NULL);
	CHECK(strstr(err.msg, "path is not valid UTF-8") != NULL);
	m.ver = MVER_2025;
	out = encode(&m);
	CHECK(out == NULL);
	CHECK(strstr(err.msg, "path is not valid UTF-8") != NULL);
	manifest_release(&m);

	/* v2025: a file whose path is also an implied directory */
	manifest_init(&m, MVER_2025);
	f = manifest_add_file(&m, "a", 1);
	f->hash = "aa";
	f = manifest_add_file(&m, "a/b", 3);
	f->hash = "bb";
	out = encode(&m);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "\"a\" is both a file and a directory");
	manifest_release(&m);

	manifest_init(&m, MVER_2025);
	f = manifest_add_file(&m, "a//b", 4);
	f->hash = "aa";
	out = encode(&m);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "\"a//b\": empty path component");
	manifest_release(&m);
}

TEST(encode_is_stable_sort_order)
{
	/* sort by UTF-16: 😀 before U+FB33, uppercase before lowercase, prefix first */
	static const char *const in[] = {
	    "\xef\xac\xb3", "b", "\xf0\x9f\x98\x80", "B", "b/c", "a-b", "a.b", "a_b", "a/b"};
	static const char *const want[] = {
	    "B", "a-b", "a.b", "a/b", "a_b", "b", "b/c", "\xf0\x9f\x98\x80", "\xef\xac\xb3"};
	struct manifest m;
	manifest_init(&m, MVER_2023);
	for (size_t i = 0; i < 9; i++) {
		struct mfile *f = manifest_add_file(&m, in[i], strlen(in[i]));
		f->hash = "h";
	}
	manifest_sort_files(&m);
	for (size_t i = 0; i < 9; i++)
		CHECK_STR(m.files[i].path, want[i]);
	manifest_release(&m);
}

/* A manifest_encode_to sink that keeps the bytes and counts the calls. */
struct sink {
	struct buf b;
	int calls;
};

static int sink_write(void *ctx, const void *p, size_t n, struct ja_err *e)
{
	struct sink *k = ctx;
	(void)e;
	k->calls++;
	return buf_add(&k->b, p, n);
}

/* Streamed encoding: the same bytes as manifest_encode, in pieces; nothing written when
 * the model is refused. */
TEST(encode_to_streams_the_same_bytes)
{
	for (int ver = MVER_2023; ver <= MVER_2025; ver++) {
		struct manifest m;
		struct sink k = {BUF_INIT, 0};
		char *whole;
		manifest_init(&m, (enum mver)ver);
		m.gen = ver == MVER_2025 ? 2 : 0;
		for (int i = 60000; i-- > 0;) { /* reverse order: encode sorts */
			char p[64];
			struct mfile *f;
			snprintf(p, sizeof(p), "d%03d/sub%d/file_%06d.\xc3\xa9xr", i % 97, i % 5,
				 i);
			f = manifest_add_file(&m, p, strlen(p));
			f->hash = "0123456789abcdef0123456789abcdef";
			f->size = i;
			f->mtime = 1700000000000000 + i;
			m.total_size += i;
		}
		whole = encode(&m);
		CHECK(whole != NULL);
		memset(&err, 0, sizeof(err));
		CHECK(manifest_encode_to(&m, sink_write, &k, &err) == 0);
		CHECK(k.calls > 2);
		CHECK(whole && k.b.len == strlen(whole) && !memcmp(k.b.p, whole, k.b.len));
		free(whole);
		/* a duplicate path: refused before the first byte */
		buf_release(&k.b);
		k.calls = 0;
		manifest_add_file(&m, m.files[7].path, m.files[7].pathlen)->hash = "ab";
		CHECK(manifest_encode_to(&m, sink_write, &k, &err) < 0);
		CHECK(strstr(err.msg, "duplicate path") != NULL);
		CHECK(k.calls == 0);
		buf_release(&k.b);
		manifest_release(&m);
	}
}

TEST(golden_to_v2025_and_back)
{
	char *doc = slurp(VEC "golden/v2023-golden.manifest", NULL), *out;
	struct manifest m;
	if (!doc) {
		CHECK(0);
		return;
	}
	CHECK(decode(&m, doc) == 0);
	CHECK(manifest_convert(&m, MVER_2025, &err) == 0);
	out = encode(&m);
	CHECK_STR(out, J("{'dirs':[{'name':'sub'}],'files':[{'hash':"
			 "'a96faf705af16834e6c632b61e964e1f','mtime':1,'name':"
			 "'Z\\u007f\\'q\\\\.txt','size':1},{'hash':"
			 "'df8d09e93f874900a99b8775cc15b6c7','mtime':1700000000123456,'name':"
			 "'a.txt','size':11},{'hash':'99aa06d3014798d86001c324468d497f','mtime':"
			 "1700000000000000,'name':'$0/\\u00e9.txt','size':0}],'hashAlg':'xxh128',"
			 "'specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
			 "'totalSize':12}"));
	manifest_release(&m);
	/* decode the v2025 form again, convert back: the golden bytes */
	if (out) {
		CHECK(decode(&m, out) == 0);
		CHECK(manifest_convert(&m, MVER_2023, &err) == 0);
		free(out);
		out = encode(&m);
		CHECK_STR(out, doc);
		manifest_release(&m);
	}
	free(out);
	free(doc);
}

/* ---- convert ------------------------------------------------------------------------ */

static const char *convert_err(const char *doc, enum mver to)
{
	struct manifest m;
	int rc;
	if (decode(&m, doc) < 0) {
		printf("# decode: %s\n", err.msg);
		return "(decode failed)";
	}
	rc = manifest_convert(&m, to, &err);
	manifest_release(&m);
	return rc ? err.msg : "(converted)";
}

TEST(convert_refusals)
{
	const char *snapfile = "{'name':'top','hash':'bb','size':1,'mtime':4}";
	char *snap = slurp(VEC "v2025/snapshot.manifest", NULL);
	char *diffdoc = slurp(VEC "v2025/diff.manifest", NULL);
	CHECK_STR(convert_err(v25(0, "{'name':'d'}",
				  "{'name':'$0/x','hash':'aa','size':1,"
				  "'mtime':1}"),
			      MVER_2023),
		  "(converted)");
	CHECK_STR(convert_err(v25(0, "", "{'name':'l','symlink':{'name':'top'}}"), MVER_2023),
		  "l is a symlink: v2023 cannot express that");
	CHECK_STR(convert_err(v25(0, "",
				  "{'name':'r','hash':'a','size':1,'mtime':1,"
				  "'runnable':true}"),
			      MVER_2023),
		  "r is runnable (v2023 has no mode bits): v2023 cannot express that");
	CHECK_STR(convert_err(v25(0, "",
				  "{'name':'big','chunkhashes':['a','b'],'size':314572800,"
				  "'mtime':1}"),
			      MVER_2023),
		  "big is chunked (over 256 MiB): v2023 cannot express that");
	CHECK_STR(convert_err(v25(0, "{'name':'e'}", snapfile), MVER_2023),
		  "empty directory e: v2023 cannot express that");
	CHECK_STR(convert_err(v25(1, "", snapfile), MVER_2023),
		  "a v2025 diff cannot be expressed in v2023 (merge it onto its snapshot first)");
	CHECK_STR(convert_err(v25(1, "", "{'name':'x','delete':true}"), MVER_2023),
		  "a v2025 diff cannot be expressed in v2023 (merge it onto its snapshot first)");
	CHECK_STR(convert_err(v25(0, "", ""), MVER_2023),
		  "an empty manifest cannot be expressed in v2023");
	CHECK_STR(convert_err(J("{'dirs':[],'files':[{'name':'/x','hash':'a','size':1,'mtime':1}"
				"],'hashAlg':'xxh128','specificationVersion':"
				"'absolute-manifest-snapshot-beta-2025-12','totalSize':1}"),
			      MVER_2023),
		  "absolute-path manifests cannot be expressed in v2023");
	CHECK_STR(
	    convert_err(v23("{'hash':'a','mtime':1,'path':'big','size':268435457}"), MVER_2025),
	    "big: over 256 MiB, so v2025 needs its chunk hashes, which a v2023 manifest "
	    "lacks (snapshot the tree with --format v2025)");
	CHECK_STR(convert_err(v23("{'hash':'a','mtime':1,'path':'/abs','size':1}"), MVER_2025),
		  "/abs: absolute path in a v2023 manifest");
	if (snap)
		CHECK(strstr(convert_err(snap, MVER_2023), "v2023 cannot express that") != NULL);
	if (diffdoc)
		CHECK(strstr(convert_err(diffdoc, MVER_2023), "diff") != NULL);
	free(snap);
	free(diffdoc);
}

TEST(convert_round_trip)
{
	const char *g2 = J("{'dirs':[{'name':'d'},{'name':'$0/e'}],'files':[{'hash':'aa','mtime':"
			   "3,'name':'$1/f','size':2},{'hash':'bb','mtime':4,'name':'top','size':"
			   "1}],'hashAlg':'xxh128','specificationVersion':"
			   "'relative-manifest-snapshot-beta-2025-12','totalSize':3}");
	const char *want23 = J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{"
			       "'hash':'aa','mtime':3,'path':'d/e/f','size':2},{'hash':'bb',"
			       "'mtime':4,'path':'top','size':1}],'totalSize':3}");
	struct manifest m;
	char *out;
	CHECK(decode(&m, g2) == 0);
	CHECK(manifest_convert(&m, MVER_2023, &err) == 0);
	out = encode(&m);
	CHECK_STR(out, want23);
	manifest_release(&m);
	if (out) {
		CHECK(decode(&m, out) == 0);
		free(out);
		CHECK(manifest_convert(&m, MVER_2025, &err) == 0);
		out = encode(&m);
		CHECK_STR(out, g2);
		manifest_release(&m);
	}
	free(out);
	/* converting to the same version is a no-op */
	CHECK_STR(convert_err(g2, MVER_2025), "(converted)");
	/* v2023 with a//b: the v2025 form cannot carry it */
	CHECK(decode(&m, v23("{'hash':'a','mtime':1,'path':'a//b','size':1}")) == 0);
	CHECK(manifest_convert(&m, MVER_2025, &err) == 0);
	out = encode(&m);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "\"a//b\": empty path component");
	free(out);
	manifest_release(&m);
}

/* ---- merge and compose -------------------------------------------------------------- */

/* Merge the documents (NULL-terminated list); the canonical result or NULL with err. */
static char *merge_docs(const char *const *docs)
{
	struct manifest in[8], *ptrs[8] = {0}, out;
	size_t n = 0;
	char *r = NULL;
	int ok = 1;
	for (; docs[n]; n++) {
		ptrs[n] = &in[n];
		if (decode(&in[n], docs[n]) < 0) {
			printf("# input %zu: %s\n", n, err.msg);
			ok = 0;
		}
	}
	memset(&out, 0, sizeof(out));
	if (ok && manifest_merge(&out, ptrs, n, &err) == 0)
		r = encode(&out);
	manifest_release(&out);
	for (size_t i = 0; i < n; i++)
		manifest_release(&in[i]);
	return r;
}

#define MERGE(...) merge_docs((const char *const[]){__VA_ARGS__, NULL})

TEST(merge_v2023_later_wins)
{
	char *out = MERGE(v23("{'hash':'a1','mtime':1,'path':'a','size':1},"
			      "{'hash':'b1','mtime':1,'path':'b','size':10}"),
			  v23("{'hash':'c2','mtime':2,'path':'c','size':100},"
			      "{'hash':'b2','mtime':2,'path':'b','size':20}"),
			  v23("{'hash':'a3','mtime':3,'path':'a','size':3}"));
	CHECK_STR(out, J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':"
			 "'a3','mtime':3,'path':'a','size':3},{'hash':'b2','mtime':2,'path':'b',"
			 "'size':20},{'hash':'c2','mtime':2,'path':'c','size':100}],"
			 "'totalSize':123}"));
	free(out);
	/* one input: the canonical form, totalSize recomputed */
	out = MERGE(v23("{'hash':'b','mtime':1,'path':'b','size':5},"
			"{'hash':'a','mtime':1,'path':'a','size':6}"));
	CHECK_STR(out, J("{'hashAlg':'xxh128','manifestVersion':'2023-03-03','paths':[{'hash':"
			 "'a','mtime':1,'path':'a','size':6},{'hash':'b','mtime':1,'path':'b',"
			 "'size':5}],'totalSize':11}"));
	free(out);
}

TEST(merge_total_size_overflow_is_an_error)
{
	char *out = MERGE(v23("{'hash':'a','mtime':1,'path':'a','size':9223372036854775807}"),
			  v23("{'hash':'b','mtime':1,'path':'b','size':1}"));
	CHECK(out == NULL);
	CHECK_STR(err.msg, "total size overflows");
	free(out);
	out = MERGE(v23("{'hash':'a','mtime':1,'path':'a','size':9223372036854775806},"
			"{'hash':'b','mtime':1,'path':'b','size':1}"));
	CHECK(out && strstr(out, "\"totalSize\":9223372036854775807}") != NULL);
	free(out);
}

TEST(merge_rejects_mixed_inputs)
{
	const char *snap = v25(0, "", "{'name':'f','hash':'a','size':1,'mtime':1}");
	const char *diff = v25(1, "", "{'name':'f','hash':'b','size':2,'mtime':2}");
	char *out = MERGE(v23(E1), snap);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "cannot merge v2023 and v2025 manifests (input 2 is v2025, input 1 "
			   "is v2023; convert with --format)");
	free(out);
	out = MERGE(snap, diff, snap);
	CHECK(out == NULL);
	CHECK_STR(err.msg, "input 3 is a snapshot: only the first input may be a snapshot; the "
			   "rest must be diffs");
	free(out);
	out = MERGE(diff, snap);
	CHECK(out == NULL);
	CHECK(strstr(err.msg, "input 2 is a snapshot") != NULL);
	free(out);
	out = MERGE(snap, J("{'dirs':[],'files':[],'hashAlg':'xxh128','specificationVersion':"
			    "'absolute-manifest-diff-beta-2025-12','totalSize':0}"));
	CHECK(out == NULL);
	CHECK_STR(err.msg, "cannot compose relative and absolute manifests (input 2)");
	free(out);
	{
		struct manifest o;
		CHECK(manifest_merge(&o, NULL, 0, &err) < 0);
		CHECK_STR(err.msg, "nothing to merge");
		manifest_release(&o);
	}
}

TEST(compose_vectors)
{
	char *snap = slurp(VEC "v2025/snapshot.manifest", NULL);
	char *diffdoc = slurp(VEC "v2025/diff.manifest", NULL);
	char *want = slurp(VEC "v2025/expected-composed.manifest", NULL), *out;
	if (!snap || !diffdoc || !want) {
		CHECK(0);
		goto out;
	}
	out = MERGE(snap, diffdoc);
	CHECK_STR(out, want);
	free(out);
	/* the composed snapshot composes again with nothing: the same bytes */
	out = MERGE(want);
	CHECK_STR(out, want);
	free(out);
out:
	free(snap);
	free(diffdoc);
	free(want);
}

TEST(compose_deleted_dir_removes_subtree_and_readd)
{
	const char *snap = v25(0, "{'name':'a'},{'name':'$0/b'},{'name':'$1/empty'},{'name':'ab'}",
			       "{'name':'$0/f','hash':'h1','size':1,'mtime':1},"
			       "{'name':'$1/g','hash':'h2','size':2,'mtime':1},"
			       "{'name':'$3/k','hash':'h3','size':4,'mtime':1},"
			       "{'name':'top','hash':'h4','size':8,'mtime':1}");
	const char *d1 = v25(1, "{'name':'a','delete':true}", "");
	const char *d2 =
	    v25(1, "{'name':'a'}", "{'name':'$0/new','hash':'h5','size':16,'mtime':2}");
	const char *d3 = v25(1, "", "{'name':'top','delete':true}");
	char *out = MERGE(snap, d1);
	/* a/ and everything under it is gone; "ab" (a sibling with the same prefix) stays */
	CHECK_STR(out,
		  J("{'dirs':[{'name':'ab'}],'files':[{'hash':'h3','mtime':1,'name':'$0/k',"
		    "'size':4},{'hash':'h4','mtime':1,'name':'top','size':8}],'hashAlg':"
		    "'xxh128','specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
		    "'totalSize':12}"));
	free(out);
	out = MERGE(snap, d1, d2);
	CHECK_STR(out, J("{'dirs':[{'name':'a'},{'name':'ab'}],'files':[{'hash':'h5','mtime':2,"
			 "'name':'$0/new','size':16},{'hash':'h3','mtime':1,'name':'$1/k','size':"
			 "4},{'hash':'h4','mtime':1,'name':'top','size':8}],'hashAlg':'xxh128',"
			 "'specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
			 "'totalSize':28}"));
	free(out);
	/* a deleted file re-added later */
	out = MERGE(snap, d3, v25(1, "", "{'name':'top','hash':'h7','size':64,'mtime':4}"));
	CHECK(out && strstr(out, "\"hash\":\"h7\",\"mtime\":4,\"name\":\"top\",\"size\":64"));
	CHECK(out && strstr(out, "\"totalSize\":71}"));
	free(out);
	out = MERGE(snap, d3);
	CHECK(out && !strstr(out, "top") && strstr(out, "\"totalSize\":7}"));
	free(out);
	/* a file replacing a directory (the directory and its subtree go first) */
	out = MERGE(snap, v25(1, "{'name':'ab','delete':true}",
			      "{'name':'ab','hash':'h6','size':32,'mtime':3}"));
	CHECK_STR(out, J("{'dirs':[{'name':'a'},{'name':'$0/b'},{'name':'$1/empty'}],'files':[{"
			 "'hash':'h2','mtime':1,'name':'$1/g','size':2},{'hash':'h1','mtime':1,"
			 "'name':'$0/f','size':1},{'hash':'h6','mtime':3,'name':'ab','size':32},"
			 "{'hash':'h4','mtime':1,'name':'top','size':8}],'hashAlg':'xxh128',"
			 "'specificationVersion':'relative-manifest-snapshot-beta-2025-12',"
			 "'totalSize':43}"));
	free(out);
}

TEST(compose_diffs_only_keeps_markers)
{
	const char *d1 = J("{'dirs':[{'name':'a','delete':true},{'name':'k'}],'files':[{'name':"
			   "'x','delete':true},{'name':'y','hash':'h1','size':1,'mtime':1}],"
			   "'hashAlg':'xxh128','parentManifestHash':'first','specificationVersion':"
			   "'relative-manifest-diff-beta-2025-12','totalSize':1}");
	const char *d2 =
	    J("{'dirs':[],'files':[{'name':'x','hash':'h2','size':2,'mtime':2},{"
	      "'name':'y','delete':true},{'name':'z','hash':'h3','size':4,'mtime':3}],"
	      "'hashAlg':'xxh128','parentManifestHash':'second','specificationVersion':"
	      "'relative-manifest-diff-beta-2025-12','totalSize':6}");
	char *out = MERGE(d1, d2);
	CHECK_STR(out, J("{'dirs':[{'delete':true,'name':'a'},{'name':'k'}],'files':[{'hash':"
			 "'h2','mtime':2,'name':'x','size':2},{'delete':true,'name':'y'},{'hash':"
			 "'h3','mtime':3,'name':'z','size':4}],'hashAlg':'xxh128',"
			 "'parentManifestHash':'first','specificationVersion':"
			 "'relative-manifest-diff-beta-2025-12','totalSize':6}"));
	free(out);
}

TEST(merge_output_independent_of_input_order)
{
	char *doc = slurp(VEC "fixture/expected-v2023.manifest", NULL);
	struct manifest a, b, *ptrs[2] = {&a, &b}, out;
	char *enc1 = NULL, *enc2 = NULL;
	if (!doc) {
		CHECK(0);
		return;
	}
	CHECK(decode(&a, doc) == 0);
	CHECK(decode(&b, doc) == 0);
	shuffle(&a, 7);
	shuffle(&b, 8);
	CHECK(manifest_merge(&out, ptrs, 2, &err) == 0);
	enc1 = encode(&out);
	CHECK_STR(enc1, doc);
	manifest_release(&out);
	shuffle(&a, 9);
	CHECK(manifest_merge(&out, ptrs, 1, &err) == 0);
	enc2 = encode(&out);
	CHECK_STR(enc2, doc);
	manifest_release(&out);
	manifest_release(&a);
	manifest_release(&b);
	free(enc1);
	free(enc2);
	free(doc);
}

TEST(sum_sizes)
{
	struct manifest m;
	CHECK(decode(&m, v25(1, "",
			     "{'name':'a','hash':'h','size':5,'mtime':1},"
			     "{'name':'b','delete':true},"
			     "{'name':'l','symlink':{'name':'a'}},"
			     "{'name':'c','chunkhashes':['x','y'],'size':300000000,'mtime':1}")) ==
	      0);
	CHECK(manifest_sum_sizes(&m) == 300000005);
	manifest_release(&m);
	CHECK(decode(&m, v23("{'hash':'a','mtime':1,'path':'a','size':9223372036854775807},"
			     "{'hash':'a','mtime':1,'path':'b','size':9223372036854775807}")) == 0);
	CHECK(manifest_sum_sizes(&m) == INT64_MAX); /* saturates, no overflow */
	manifest_release(&m);
}

/* Hostile v2025 names: a $N/ chain may not expand without bound, and the number of
 * directory levels of a name is capped (4096), so ancestor walks stay cheap. */
TEST(v2025_expansion_limits)
{
	size_t cap = 1 << 22, n = 0;
	char *doc = malloc(cap);
	const char *m;
	/* a chain of 5000 dirs "d/d/d/..." */
	n += (size_t)sprintf(doc + n, "{\"dirs\":[{\"name\":\"d\"}");
	for (int i = 0; i < 4999; i++)
		n += (size_t)sprintf(doc + n, ",{\"name\":\"$%d/d\"}", i);
	sprintf(doc + n, "],\"files\":[],\"hashAlg\":\"xxh128\",\"specificationVersion\":"
			 "\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}");
	m = decode_err(doc);
	CHECK(starts(m, "dirs[4097].name: \"d/d/d/"));
	CHECK(strstr(m, "\": more than 4096 directory levels") != NULL);
	CHECK(strlen(m) < 300);
	/* 4096 levels are fine */
	n = (size_t)sprintf(doc, "{\"dirs\":[{\"name\":\"d\"}");
	for (int i = 0; i < 4095; i++)
		n += (size_t)sprintf(doc + n, ",{\"name\":\"$%d/d\"}", i);
	sprintf(doc + n, "],\"files\":[{\"name\":\"$4095/f\",\"hash\":\"a\",\"size\":1,"
			 "\"mtime\":1}],\"hashAlg\":\"xxh128\",\"specificationVersion\":"
			 "\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}");
	CHECK_STR(decode_err(doc), "(accepted)");
	/* long names in a chain: the expansion budget (64 MiB + 128 x input) runs out */
	n = (size_t)sprintf(doc, "{\"dirs\":[{\"name\":\"");
	memset(doc + n, 'x', 1000);
	n += 1000;
	n += (size_t)sprintf(doc + n, "\"}");
	for (int i = 0; i < 3000; i++) {
		n += (size_t)sprintf(doc + n, ",{\"name\":\"$%d/", i);
		memset(doc + n, 'y', 1000);
		n += 1000;
		n += (size_t)sprintf(doc + n, "\"}");
	}
	sprintf(doc + n, "],\"files\":[],\"hashAlg\":\"xxh128\",\"specificationVersion\":"
			 "\"relative-manifest-snapshot-beta-2025-12\",\"totalSize\":0}");
	m = decode_err(doc);
	CHECK(strstr(m, "$N/ names expand to more than ") != NULL);
	/* G3 literal names are capped the same way */
	n = (size_t)sprintf(doc, "{\"dirs\":[],\"files\":[{\"path\":\"");
	for (int i = 0; i < 5000; i++)
		n += (size_t)sprintf(doc + n, "a/");
	sprintf(doc + n, "f\",\"hash\":\"a\",\"size\":1,\"mtime\":1}],\"hashAlg\":\"xxh128\","
			 "\"specificationVersion\":\"relative-manifest-snapshot-beta-2025-12\","
			 "\"totalSize\":0}");
	CHECK(strstr(decode_err(doc), "more than 4096 directory levels") != NULL);
	free(doc);
}

TEST(max_input_env)
{
	setenv("JA_MAX_MANIFEST_BYTES", "1000", 1);
	CHECK(manifest_max_input() == 1000);
	setenv("JA_MAX_MANIFEST_BYTES", "12x", 1);
	CHECK(manifest_max_input() == (size_t)1 << 30);
	unsetenv("JA_MAX_MANIFEST_BYTES");
	CHECK(manifest_max_input() == (size_t)1 << 30);
}

int main(void)
{
	RUN(golden_built_in_memory);
	RUN(vectors_decode_encode_byte_exact);
	RUN(vectors_shuffled_encode_byte_exact);
	RUN(vector_checksums);
	RUN(diff_parent_hash_is_hash_of_snapshot);
	RUN(bados_rejected);
	RUN(truncated_at_every_length);
	RUN(v2023_entry_errors_name_the_entry);
	RUN(v2023_missing_fields);
	RUN(v2023_version_and_hash_algorithm);
	RUN(v2023_document_level_errors);
	RUN(v2023_accepted_leniencies);
	RUN(v2023_ignores_dirs_key);
	RUN(g1_snapshot_to_g2);
	RUN(g1_diff_iff_parent_hash);
	RUN(g3_to_g2);
	RUN(g2_spec_strings);
	RUN(g2_validation);
	RUN(g2_name_expansion);
	RUN(v2025_unencodable_names_rejected);
	RUN(v2025_name_checks_at_every_offset);
	RUN(v2025_file_and_directory_conflicts);
	RUN(encode_refuses_what_the_version_cannot_say);
	RUN(encode_is_stable_sort_order);
	RUN(encode_to_streams_the_same_bytes);
	RUN(golden_to_v2025_and_back);
	RUN(convert_refusals);
	RUN(convert_round_trip);
	RUN(merge_v2023_later_wins);
	RUN(merge_total_size_overflow_is_an_error);
	RUN(merge_rejects_mixed_inputs);
	RUN(compose_vectors);
	RUN(compose_deleted_dir_removes_subtree_and_readd);
	RUN(compose_diffs_only_keeps_markers);
	RUN(merge_output_independent_of_input_order);
	RUN(sum_sizes);
	RUN(v2025_expansion_limits);
	RUN(max_input_env);
	return unit_done();
}
