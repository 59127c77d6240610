/* hash.c - ja-hash: print or check XXH3-128 hashes, `xxhsum -H2` compatible.
 *
 * Files are hashed in parallel (pool_for) and printed in argument order.  With
 * -c the operands are checksum lists; every entry is checked the same way. */
#include "core/buf.h"
#include "core/hash.h"
#include "core/opt.h"
#include "core/pool.h"
#include "core/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_CHUNKS 256
#define LIST_MAX   ((size_t)1 << 30) /* a checksum list larger than this is refused */
#define OUT_FLUSH  ((size_t)64 << 10)

const struct opt applet_hash_opts[] = {
    {'c', 'c', "check", NULL, "read checksum lists from the FILEs and check them", NULL},
    {OPT_CHUNKS, 0, "chunks", NULL, "print (with -c: check) 256 MiB chunk hashes", NULL},
    OPT_JOBS,
    OPT_END,
};

struct item {
	const char *path;	     /* borrowed: argv or a list line; "-" is stdin */
	struct hash_list_entry want; /* -c: the expected hash */
	struct hash_result r;
	char *err; /* owned: why hashing failed */
	int bad;   /* -c: hash or chunk count differs */
};

struct run {
	struct item *it;
	struct hash_opts ho;
	int check, chunks;
	struct buf out;
	size_t failed, unreadable;
};

static int flush_out(struct run *ru)
{
	if (ru->out.len && fwrite(ru->out.p, 1, ru->out.len, stdout) != ru->out.len)
		return -1;
	buf_reset(&ru->out);
	return ferror(stdout) ? -1 : 0;
}

static void work(void *ctx, size_t i, int w)
{
	struct run *ru = ctx;
	struct item *it = &ru->it[i];
	const struct hash_list_entry *e = &it->want;
	int in = !strcmp(it->path, "-"), rc;
	struct ja_err err;
	if (e->has_piece) { /* -c --chunks: hash just that chunk */
		uint64_t count = 0;
		XXH128_hash_t h = {0, 0};
		rc = in ? hash_fd_piece(0, &ru->ho, e->piece_i, &count, &h, &err)
			: hash_file_piece(it->path, &ru->ho, e->piece_i, &count, &h, &err);
		it->bad = rc == 0 && (count != e->piece_n || !hash_equal(h, e->hash));
	} else {
		rc = in ? hash_fd(0, &ru->ho, &it->r, &err)
			: hash_file(it->path, &ru->ho, &it->r, &err);
		it->bad = rc == 0 && ru->check && !hash_equal(it->r.whole, e->hash);
	}
	if (rc < 0)
		it->err = xstrdup(err.msg);
}

/* Names in OK/FAILED lines: control characters and '\' escaped, with a leading
 * '\' to say so (the GNU convention). */
static void add_shown(struct buf *out, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			buf_addc(out, '\\');
			buf_adds(out, esc_name(name));
			return;
		}
	buf_adds(out, name);
}

static int done(void *ctx, size_t i)
{
	struct run *ru = ctx;
	struct item *it = &ru->it[i];
	char hex[HASH_HEX_SIZE], piece[48];
	if (it->err) {
		if (flush_out(ru) < 0)
			return 1;
		errorx("%s: %s", esc_name(it->path), it->err);
		if (ru->check) {
			add_shown(&ru->out, it->path);
			buf_adds(&ru->out, ": FAILED open or read\n");
		}
		ru->unreadable++;
	} else if (ru->check) {
		if (it->bad || ja_verbose >= 0) {
			add_shown(&ru->out, it->path);
			if (it->want.has_piece)
				buf_addf(&ru->out, " [%" PRIu64 "/%" PRIu64 "]", it->want.piece_i,
					 it->want.piece_n);
			buf_adds(&ru->out, it->bad ? ": FAILED\n" : ": OK\n");
		}
		ru->failed += it->bad != 0;
	} else {
		const char *name = strcmp(it->path, "-") ? it->path : "stdin";
		if (!ru->chunks) {
			hash_format(it->r.whole, hex);
			hash_list_add(&ru->out, hex, NULL, name);
		}
		for (size_t c = 0; ru->chunks && c < (it->r.nchunks ? it->r.nchunks : 1); c++) {
			hash_format(it->r.nchunks ? it->r.chunks[c] : it->r.whole, hex);
			snprintf(piece, sizeof(piece), "%zu/%zu", c,
				 it->r.nchunks ? it->r.nchunks : 1);
			hash_list_add(&ru->out, hex, piece, name);
		}
	}
	hash_result_release(&it->r);
	free(it->err);
	it->err = NULL;
	return ru->out.len >= OUT_FLUSH && flush_out(ru) < 0;
}

/* Hash or check n items; returns non-zero if writing stdout failed. */
static int run_items(struct run *ru, size_t n, int jobs)
{
	int stdin_twice = 0, rc;
	for (size_t i = 0, seen = 0; i < n; i++)
		if (!strcmp(ru->it[i].path, "-"))
			stdin_twice |= seen++ > 0;
	ru->ho.threads = n && (size_t)jobs > n ? jobs / (int)n : 1;
	rc = pool_for(n, stdin_twice ? 1 : jobs, work, done, ru);
	for (size_t i = 0; i < n; i++) { /* what done() did not get to after a write error */
		hash_result_release(&ru->it[i].r);
		free(ru->it[i].err);
	}
	return flush_out(ru) < 0 || rc;
}

static int plural(size_t n, const char *one, const char *many, const char *what)
{
	if (n)
		errorx("warning: %zu %s %s", n, n == 1 ? one : many, what);
	return n != 0;
}

/* Check one list; returns the exit status for it. */
static int check_list(struct run *ru, const char *list, int jobs)
{
	struct buf b;
	struct ja_err err;
	size_t n = 0, cap = 0, improper = 0;
	int rc = EXIT_OK;
	const char *shown = strcmp(list, "-") ? list : "stdin";
	buf_init(&b, LIST_MAX);
	if (buf_read_file(&b, list, &err) < 0) {
		errorx("%s", err.msg);
		buf_release(&b);
		return err.code;
	}
	ru->it = NULL;
	for (char *line = b.p, *end = b.p + b.len; line < end;) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		struct hash_list_entry e;
		if (hash_list_parse(line, len, ru->chunks, &e) < 0) {
			improper++;
		} else {
			xgrow((void **)&ru->it, &cap, n + 1, sizeof(*ru->it));
			memset(&ru->it[n], 0, sizeof(ru->it[n]));
			ru->it[n].path = e.name;
			ru->it[n++].want = e;
		}
		line += len + 1;
	}
	ru->failed = ru->unreadable = 0;
	if (!n) {
		errorx("%s: no properly formatted checksum lines found", esc_name(shown));
		rc = EXIT_USAGE;
	} else if (run_items(ru, n, jobs)) {
		rc = EXIT_FAIL;
	} else {
		plural(improper, "line is", "lines are", "improperly formatted");
		if (plural(ru->unreadable, "listed file", "listed files", "could not be read") |
		    plural(ru->failed, "computed checksum", "computed checksums", "did not match"))
			rc = EXIT_FAIL;
	}
	free(ru->it);
	buf_release(&b);
	return rc;
}

int applet_hash_main(int argc, char **argv)
{
	struct optstate st;
	struct run ru = {.out = BUF_INIT};
	int jobs = pool_cpu_count(), rc = EXIT_OK, id;
	char *dash[] = {"-"};
	opt_init(&st, NULL, argc, argv);
	while ((id = opt_next(&st)) != 0) {
		if (id == 'c')
			ru.check = 1;
		else if (id == OPT_CHUNKS)
			ru.chunks = 1;
		else if (id == OPT_ID_JOBS)
			jobs = (int)opt_long(st.arg, "-j", 1, 256);
	}
	char **ops = st.npos ? st.pos : dash;
	size_t nops = st.npos ? (size_t)st.npos : 1;
	ru.ho.chunk_size = ru.chunks ? HASH_CHUNK_SIZE : 0;
	if (ru.check) {
		for (size_t i = 0; i < nops; i++) {
			int r = check_list(&ru, ops[i], jobs);
			rc = r > rc ? r : rc;
		}
	} else {
		ru.it = xcalloc(nops, sizeof(*ru.it));
		for (size_t i = 0; i < nops; i++)
			ru.it[i].path = ops[i];
		if (run_items(&ru, nops, jobs) || ru.unreadable)
			rc = EXIT_FAIL;
		free(ru.it);
	}
	buf_release(&ru.out);
	opt_release(&st);
	return rc;
}
