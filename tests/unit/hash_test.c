/* hash_test.c - hash core (digests, streams, chunks, files, list lines) and the pool. */
#include "core/hash.h"
#include "core/pool.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MIB ((uint64_t)1 << 20)

static char *hex_of(XXH128_hash_t h)
{
	static char ring[4][HASH_HEX_SIZE];
	static int k;
	char *s = ring[k++ & 3];
	hash_format(h, s);
	return s;
}

/* Deterministic pseudo-random bytes (xorshift). */
static void fill(char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (char)(x >> 24);
	}
}

/* A temporary file holding n bytes of p (or a hole of n bytes when p is NULL). */
static int tmpfile_with(const char *p, size_t n, char *path)
{
	const char *dir = getenv("TMPDIR");
	int fd;
	snprintf(path, 256, "%s/ja-hash-test-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (p ? write(fd, p, n) != (ssize_t)n : ftruncate(fd, (off_t)n) < 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* C-style escapes of hashes.tsv: \\ \t \n \r \xHH. */
static size_t unescape_tsv(const char *s, char *out)
{
	size_t o = 0;
	while (*s) {
		if (*s != '\\') {
			out[o++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 't':
			out[o++] = '\t';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 'x': {
			char h[3] = {s[1], s[2], 0};
			out[o++] = (char)strtol(h, NULL, 16);
			s += 2;
			break;
		}
		default:
			out[o++] = *s;
		}
		s++;
	}
	return o;
}

TEST(golden_vectors)
{
	FILE *f = fopen("tests/vectors/golden/hashes.tsv", "r");
	char line[4096], in[4096], hex[HASH_HEX_SIZE];
	int rows = 0;
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), *want;
		size_t n;
		CHECK(tab != NULL);
		if (!tab)
			continue;
		*tab = 0;
		want = tab + 1;
		want[strcspn(want, "\n")] = 0;
		n = unescape_tsv(line, in);
		hash_mem_hex(in, n, hex);
		CHECK_STR(hex, want);
		rows++;
	}
	fclose(f);
	CHECK(rows >= 10);
}

TEST(spec_vectors)
{
	char hex[HASH_HEX_SIZE];
	hash_mem_hex("", 0, hex);
	CHECK_STR(hex, "99aa06d3014798d86001c324468d497f");
	hash_mem_hex("Share/mnt/p", 11, hex);
	CHECK_STR(hex, "0cbcb283c25b52e19550634dc1e903e9");
}

TEST(format_parse)
{
	XXH128_hash_t h = {.low64 = 0x0123456789abcdefull, .high64 = 0xfedcba9876543210ull}, g;
	CHECK_STR(hex_of(h), "fedcba98765432100123456789abcdef");
	CHECK(hash_parse("FEDCBA98765432100123456789ABCDEF", 32, &g) == 0 && hash_equal(g, h));
	CHECK(hash_parse("fedcba98765432100123456789abcdef", 31, &g) < 0);
	CHECK(hash_parse("fedcba98765432100123456789abcdeg", 32, &g) < 0);
	CHECK(hash_parse(" edcba98765432100123456789abcdef", 32, &g) < 0);
	/* the canonical form is the same big-endian bytes */
	XXH128_canonical_t c;
	char viacanon[HASH_HEX_SIZE];
	h = hash_mem("abc", 3);
	XXH128_canonicalFromHash(&c, h);
	for (int i = 0; i < 16; i++)
		snprintf(viacanon + 2 * i, 3, "%02x", c.digest[i]);
	CHECK_STR(hex_of(h), viacanon);
	CHECK_STR(hex_of(h), "06b05ab6733a618578af5f94892f3950");
}

TEST(stream_vs_oneshot)
{
	static const size_t lens[] = {0,   1,	 15,   16,   17,   128,	  129,	  240,
				      241, 1023, 1024, 4095, 4096, 65537, 1000003};
	static const size_t steps[] = {1, 3, 7, 64, 239, 4097, 65536};
	char *data = malloc(1000003);
	fill(data, 1000003, 42);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		XXH128_hash_t want = hash_mem(data, lens[li]);
		for (size_t si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
			struct hash_stream s;
			size_t step = steps[si];
			if (lens[li] > 100000 && step < 64)
				continue;
			hash_stream_init(&s);
			for (size_t off = 0; off < lens[li]; off += step)
				hash_stream_update(&s, data + off,
						   lens[li] - off < step ? lens[li] - off : step);
			CHECK(s.len == lens[li]);
			CHECK(hash_equal(hash_stream_digest(&s), want));
			hash_stream_reset(&s);
			CHECK(hash_equal(hash_stream_digest(&s), hash_mem("", 0)));
			hash_stream_update(&s, data, lens[li]);
			CHECK(hash_equal(hash_stream_final(&s), want));
			CHECK(s.st == NULL);
		}
	}
	free(data);
}

TEST(chunk_arithmetic)
{
	const uint64_t C = HASH_CHUNK_SIZE;
	uint64_t off, len;
	CHECK(C == 268435456);
	CHECK(hash_chunk_count(0, C) == 1);
	CHECK(hash_chunk_count(C - 1, C) == 1);
	CHECK(hash_chunk_count(C, C) == 1); /* exactly 2^28 is not chunked */
	CHECK(hash_chunk_count(C + 1, C) == 2);
	CHECK(hash_chunk_count(2 * C, C) == 2);
	CHECK(hash_chunk_count(2 * C + 1, C) == 3);
	CHECK(hash_chunk_count(314572800, C) == 2);
	CHECK(hash_chunk_count(UINT64_MAX, C) == UINT64_MAX / C + 1);
	CHECK(hash_chunk_count(C * 10, 0) == 1);
	hash_chunk_range(C, C, 0, &off, &len);
	CHECK(off == 0 && len == C);
	hash_chunk_range(C + 1, C, 1, &off, &len);
	CHECK(off == C && len == 1);
	hash_chunk_range(314572800, C, 1, &off, &len);
	CHECK(off == C && len == 46137344);
	hash_chunk_range(100, 0, 0, &off, &len);
	CHECK(off == 0 && len == 100);
}

/* hash_fd with a tiny chunk size against hash_mem of the pieces. */
TEST(small_chunks)
{
	static const size_t sizes[] = {0, 1, 6, 7, 8, 20, 21, 22, 5000, 200000};
	char *data = malloc(200000), path[256];
	fill(data, 200000, 7);
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (uint64_t cs = 7; cs <= 70001; cs += 69994) {
			size_t n = sizes[si];
			struct hash_opts o = {.chunk_size = cs, .threads = 1};
			struct hash_result r;
			struct ja_err err;
			uint64_t cnt = hash_chunk_count(n, cs);
			int fd = tmpfile_with(data, n, path);
			CHECK(fd >= 0);
			if (fd < 0)
				continue;
			CHECK(hash_fd(fd, &o, &r, &err) == 0);
			CHECK(r.size == n);
			if (cnt == 1) {
				CHECK(r.nchunks == 0);
				CHECK(hash_equal(r.whole, hash_mem(data, n)));
			} else {
				CHECK(r.nchunks == cnt);
				for (uint64_t i = 0; i < cnt && i < r.nchunks; i++) {
					uint64_t off, len;
					XXH128_hash_t h;
					hash_chunk_range(n, cs, i, &off, &len);
					CHECK(hash_equal(r.chunks[i], hash_mem(data + off, len)));
					CHECK(hash_fd_range(fd, off, len, 1, &h, &err) == 0);
					CHECK(hash_equal(h, r.chunks[i]));
				}
			}
			for (uint64_t i = 0; i <= cnt; i++) { /* one piece at a time */
				uint64_t count = 0, off, len;
				XXH128_hash_t h = {0, 0};
				CHECK(hash_fd_piece(fd, &o, i, &count, &h, &err) == 0);
				CHECK(count == cnt);
				if (i == cnt)
					CHECK(h.low64 == 0 && h.high64 == 0); /* not set */
				if (i == cnt)
					break;
				hash_chunk_range(n, cs, i, &off, &len);
				CHECK(hash_equal(h, hash_mem(data + off, len)));
			}
			hash_result_release(&r);
			close(fd);
			unlink(path);
		}
	}
	free(data);
}

static void check_sparse(uint64_t size, int threads, const char *c0, const char *c1)
{
	char path[256];
	struct hash_opts o = {.chunk_size = HASH_CHUNK_SIZE, .threads = threads};
	struct hash_result r;
	struct ja_err err;
	int fd = tmpfile_with(NULL, size, path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(hash_fd(fd, &o, &r, &err) == 0);
	CHECK(r.size == size);
	if (!c1) {
		CHECK(r.nchunks == 0);
		CHECK_STR(hex_of(r.whole), c0);
	} else {
		CHECK(r.nchunks == 2);
		if (r.nchunks == 2) {
			CHECK_STR(hex_of(r.chunks[0]), c0);
			CHECK_STR(hex_of(r.chunks[1]), c1);
		}
	}
	hash_result_release(&r);
	if (c1) { /* the last piece alone, as ja-hash -c --chunks checks it */
		uint64_t count = 0;
		XXH128_hash_t h;
		CHECK(hash_file_piece(path, &o, 1, &count, &h, &err) == 0);
		CHECK(count == 2);
		CHECK_STR(hex_of(h), c1);
	}
	close(fd);
	unlink(path);
}

TEST(sparse_chunk_vectors)
{
	/* tests/vectors/README.md, v2025: 314,572,800 zero bytes */
	check_sparse(314572800, 1, "e7e6e2cfd0fb193c998e510addb2da2d",
		     "9872ce5eb2ae11905d6348f8e683f04b");
	check_sparse(314572800, 3, "e7e6e2cfd0fb193c998e510addb2da2d",
		     "9872ce5eb2ae11905d6348f8e683f04b");
	/* exactly 2^28 is one whole-file hash, equal to the first chunk above */
	check_sparse(HASH_CHUNK_SIZE, 2, "e7e6e2cfd0fb193c998e510addb2da2d", NULL);
	/* 2^28 + 1: two chunks, the second one zero byte */
	char one[HASH_HEX_SIZE];
	hash_mem_hex("", 1, one);
	check_sparse(HASH_CHUNK_SIZE + 1, 1, "e7e6e2cfd0fb193c998e510addb2da2d", one);
}

/* A file big enough for the multi-threaded path, size not a block multiple. */
TEST(parallel_file)
{
	size_t n = 40 * MIB + 12345;
	char *data = malloc(n), path[256];
	fill(data, n, 99);
	XXH128_hash_t want = hash_mem(data, n);
	int fd = tmpfile_with(data, n, path);
	CHECK(fd >= 0);
	for (int t = 1; fd >= 0 && t <= 4; t++) {
		struct hash_opts o = {.chunk_size = 0, .threads = t};
		struct hash_opts oc = {.chunk_size = 16 * MIB + 3, .threads = t};
		struct hash_result r;
		struct ja_err err;
		CHECK(hash_fd(fd, &o, &r, &err) == 0);
		CHECK(r.size == n && r.nchunks == 0 && hash_equal(r.whole, want));
		CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)n); /* left at the end, like a reader */
		lseek(fd, 0, SEEK_SET);
		CHECK(hash_fd(fd, &oc, &r, &err) == 0);
		CHECK(r.nchunks == 3);
		if (r.nchunks == 3)
			CHECK(hash_equal(r.chunks[2], hash_mem(data + 2 * oc.chunk_size,
							       n - 2 * oc.chunk_size)));
		hash_result_release(&r);
		lseek(fd, 0, SEEK_SET);
	}
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(data);
}

TEST(pipe_and_offset)
{
	char data[5000], path[256];
	int p[2];
	struct hash_result r;
	struct hash_opts o = {.chunk_size = 1000, .threads = 2};
	struct ja_err err;
	fill(data, sizeof(data), 3);
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], data, sizeof(data)) == (ssize_t)sizeof(data));
	close(p[1]);
	CHECK(hash_fd(p[0], NULL, &r, &err) == 0);
	CHECK(r.size == sizeof(data) && hash_equal(r.whole, hash_mem(data, sizeof(data))));
	close(p[0]);
	/* chunked through a pipe: 5 pieces of exactly 1000 */
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], data, sizeof(data)) == (ssize_t)sizeof(data));
	close(p[1]);
	CHECK(hash_fd(p[0], &o, &r, &err) == 0);
	CHECK(r.nchunks == 5);
	if (r.nchunks == 5)
		CHECK(hash_equal(r.chunks[4], hash_mem(data + 4000, 1000)));
	hash_result_release(&r);
	close(p[0]);
	/* one piece of a stream */
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], data, sizeof(data)) == (ssize_t)sizeof(data));
	close(p[1]);
	uint64_t count = 0;
	XXH128_hash_t h;
	CHECK(hash_fd_piece(p[0], &o, 3, &count, &h, &err) == 0);
	CHECK(count == 5 && hash_equal(h, hash_mem(data + 3000, 1000)));
	close(p[0]);
	/* a regular file read from its current offset (stdin redirected after a read) */
	int fd = tmpfile_with(data, sizeof(data), path);
	CHECK(fd >= 0);
	lseek(fd, 123, SEEK_SET);
	CHECK(hash_fd(fd, NULL, &r, &err) == 0);
	CHECK(r.size == sizeof(data) - 123 && hash_equal(r.whole, hash_mem(data + 123, r.size)));
	CHECK(hash_fd(fd, NULL, &r, &err) == 0); /* nothing left */
	CHECK(r.size == 0 && hash_equal(r.whole, hash_mem("", 0)));
	close(fd);
	unlink(path);
}

TEST(file_errors)
{
	struct hash_result r;
	struct ja_err err;
	XXH128_hash_t h;
	char path[256];
	int fd;
	CHECK(hash_file("/nonexistent/ja-hash-test", NULL, &r, &err) < 0);
	CHECK_STR(err.msg, strerror(ENOENT));
	CHECK(err.code == EXIT_FAIL);
	CHECK(hash_file("/", NULL, &r, &err) < 0);
	CHECK_STR(err.msg, strerror(EISDIR));
	uint64_t count;
	struct hash_opts o = {HASH_CHUNK_SIZE, 1};
	CHECK(hash_file_piece("/", &o, 0, &count, &h, &err) < 0);
	CHECK_STR(err.msg, strerror(EISDIR));
	CHECK(hash_file_piece("/nonexistent/x", &o, 0, &count, &h, &err) < 0);
	CHECK_STR(err.msg, strerror(ENOENT));
	fd = tmpfile_with("abc", 3, path);
	CHECK(fd >= 0);
	CHECK(hash_fd_range(fd, 1, 5, 1, &h, &err) < 0); /* past the end */
	CHECK(hash_fd_range(fd, 1, 2, 1, &h, &err) == 0 && hash_equal(h, hash_mem("bc", 2)));
	CHECK(hash_file(path, NULL, &r, &err) == 0 && hash_equal(r.whole, hash_mem("abc", 3)));
	close(fd);
	unlink(path);
}

static int parse_str(const char *s, int with_piece, struct hash_list_entry *e, char *store)
{
	size_t n = strlen(s);
	memcpy(store, s, n + 1);
	return hash_list_parse(store, n, with_piece, e);
}

TEST(list_lines)
{
	static const char *names[] = {"plain.txt", "a\\b",	  "new\nline", "cr\rx",
				      "\\\\n\n\\", " lead space", "tab\there", "\xc3\xa9"};
	const char *hex = "df8d09e93f874900a99b8775cc15b6c7";
	char store[512];
	struct hash_list_entry e;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int wp = 0; wp < 2; wp++) {
			buf_reset(&b);
			CHECK(hash_list_add(&b, hex, wp ? "1/3" : NULL, names[i]) == 0);
			CHECK(b.len > 0 && b.p[b.len - 1] == '\n');
			CHECK(memchr(b.p, '\n', b.len) == b.p + b.len - 1); /* one line */
			CHECK((b.p[0] == '\\') == (strpbrk(names[i], "\\\n\r") != NULL));
			CHECK(hash_list_parse(b.p, b.len - 1, wp, &e) == 0);
			CHECK_STR(e.name, names[i]);
			CHECK_STR(hex_of(e.hash), hex);
			CHECK(e.has_piece == wp);
			if (wp)
				CHECK(e.piece_i == 1 && e.piece_n == 3);
		}
	}
	buf_release(&b);
	buf_init(&b, BUF_UNLIMITED);
	hash_list_add(&b, hex, NULL, "x");
	CHECK(b.len == 36 && !memcmp(b.p + 32, "  x\n", 4));
	buf_release(&b);

	CHECK(parse_str("DF8D09E93F874900A99B8775CC15B6C7  up", 0, &e, store) == 0);
	CHECK_STR(hex_of(e.hash), hex);
	CHECK(parse_str("df8d09e93f874900a99b8775cc15b6c7 *bin", 0, &e, store) == 0);
	CHECK_STR(e.name, "bin");
	CHECK(parse_str("XXH128 (a) = b) = df8d09e93f874900a99b8775cc15b6c7", 0, &e, store) == 0);
	CHECK_STR(e.name, "a) = b");
	CHECK(parse_str("\\XXH128 (a\\\\b) = df8d09e93f874900a99b8775cc15b6c7", 0, &e, store) == 0);
	CHECK_STR(e.name, "a\\b");
	/* an unescaped line keeps its backslashes (xxhsum writes them so) */
	CHECK(parse_str("df8d09e93f874900a99b8775cc15b6c7  a\\nb", 0, &e, store) == 0);
	CHECK_STR(e.name, "a\\nb");

	static const char *bad[] = {
	    "",
	    "df8d09e93f874900a99b8775cc15b6c7",
	    "df8d09e93f874900a99b8775cc15b6c7  ",
	    "df8d09e93f874900a99b8775cc15b6c7 x",
	    "df8d09e93f874900a99b8775cc15b6c  xx",
	    "df8d09e93f874900a99b8775cc15b6c7x  x",
	    "zf8d09e93f874900a99b8775cc15b6c7  x",
	    "\\df8d09e93f874900a99b8775cc15b6c7  a\\tb",
	    "\\df8d09e93f874900a99b8775cc15b6c7  a\\",
	    "XXH128 () = df8d09e93f874900a99b8775cc15b6c7",
	    "XXH128 (a) = df8d09e93f874900a99b8775cc15b6c",
	    "XXH64 (a) = df8d09e93f874900",
	    "9b8775cc15b6c7ab  x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_str(bad[i], 0, &e, store);
		if (r == 0)
			printf("# accepted: '%s'\n", bad[i]);
		CHECK(r < 0);
	}
	static const char *badp[] = {
	    "df8d09e93f874900a99b8775cc15b6c7  x",
	    "df8d09e93f874900a99b8775cc15b6c7  2/2  x",
	    "df8d09e93f874900a99b8775cc15b6c7  0/0  x",
	    "df8d09e93f874900a99b8775cc15b6c7  0/1 x",
	    "df8d09e93f874900a99b8775cc15b6c7  /1  x",
	    "df8d09e93f874900a99b8775cc15b6c7  0/99999999999999999999  x",
	    "df8d09e93f874900a99b8775cc15b6c7  0/1  ",
	};
	for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++)
		CHECK(parse_str(badp[i], 1, &e, store) < 0);
	/* a NUL inside the line */
	memcpy(store, "df8d09e93f874900a99b8775cc15b6c7  a\0b", 37);
	CHECK(hash_list_parse(store, 37, 0, &e) < 0);
}

/* pool: done() in order, every item once, stop on a non-zero done(). */
struct pctx {
	size_t n;
	atomic_int *worked;
	size_t *order, norder;
	size_t stop_at;
	int nt;		  /* workers allowed */
	atomic_int bad_w; /* a worker index out of [0, nt) was seen */
};

static void pwork(void *ctx, size_t i, int w)
{
	struct pctx *c = ctx;
	struct timespec ts = {0, (long)((i * 7919) % 13) * 20000};
	if (i % 5 == 0)
		nanosleep(&ts, NULL); /* finish out of order */
	atomic_fetch_add(&c->worked[i], 1);
	if (w < 0 || w >= c->nt)
		atomic_store(&c->bad_w, 1);
}

static int pdone(void *ctx, size_t i)
{
	struct pctx *c = ctx;
	CHECK(atomic_load(&c->worked[i]) == 1);
	c->order[c->norder++] = i;
	return i == c->stop_at ? 7 : 0;
}

TEST(pool_order)
{
	static const size_t ns[] = {0, 1, 2, 3, 100, 1000};
	static const int ts[] = {0, 1, 2, 4, 16};
	for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
		for (size_t b = 0; b < sizeof(ts) / sizeof(ts[0]); b++) {
			size_t n = ns[a];
			struct pctx c = {.n = n, .stop_at = SIZE_MAX, .nt = ts[b] > 1 ? ts[b] : 1};
			c.worked = calloc(n + 1, sizeof(*c.worked));
			c.order = calloc(n + 1, sizeof(*c.order));
			CHECK(pool_for(n, ts[b], pwork, pdone, &c) == 0);
			CHECK(c.norder == n);
			for (size_t i = 0; i < c.norder; i++)
				CHECK(c.order[i] == i);
			CHECK(atomic_load(&c.bad_w) == 0);
			/* stop after item n/2 */
			if (n >= 2) {
				memset(c.worked, 0, (n + 1) * sizeof(*c.worked));
				c.norder = 0;
				c.stop_at = n / 2;
				CHECK(pool_for(n, ts[b], pwork, pdone, &c) == 7);
				CHECK(c.norder == n / 2 + 1);
				for (size_t i = 0; i < c.norder; i++)
					CHECK(c.order[i] == i);
				for (size_t i = 0; i < n; i++)
					CHECK(atomic_load(&c.worked[i]) <= 1);
			}
			free(c.worked);
			free(c.order);
		}
	}
	CHECK(pool_cpu_count() >= 1);
}

int main(void)
{
	RUN(golden_vectors);
	RUN(spec_vectors);
	RUN(format_parse);
	RUN(stream_vs_oneshot);
	RUN(chunk_arithmetic);
	RUN(small_chunks);
	RUN(sparse_chunk_vectors);
	RUN(parallel_file);
	RUN(pipe_and_offset);
	RUN(file_errors);
	RUN(list_lines);
	RUN(pool_order);
	return unit_done();
}
