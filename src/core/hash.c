/* hash.c - XXH3-128 of buffers, streams and files; checksum list lines.
 *
 * Reading, as measured on the 2-core EPYC VM this project targets
 * (bench/hash.sh, bench/RESULTS.md): read(2)/pread(2) in 128 KiB blocks into a
 * page-aligned buffer.  The buffer's alignment matters most: the kernel copies
 * from the page cache into a misaligned buffer (malloc's 16-byte offset, which
 * is what malloc gives for 128 KiB and more) up to 4x slower.  Aligned blocks
 * of 64 KiB to 4 MiB all measured about the same; 128 KiB stays in L2, so the
 * hash reads what the copy just wrote from there.  mmap was slower: page-table
 * setup, and the hash then reads DRAM itself.  One large file can use several
 * threads: each preads its own blocks (the copy is most of the cost) and they
 * take turns feeding the one hash state in file order.
 */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxh_x86dispatch.h>

#define READ_BLOCK	((size_t)128 << 10)  /* see the top comment */
#define SMALL_MAX	((size_t)64 << 10)   /* files below this are read at once, on the stack */
#define PAR_MIN		((uint64_t)16 << 20) /* smaller files are not worth a second thread */
#define PAR_MAX_THREADS 16
#define SPIN_TURNS	4000 /* polls before sleeping while waiting for our turn */

/* --- digests ----------------------------------------------------------- */

void hash_format(XXH128_hash_t h, char *hex)
{
	static const char dig[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		hex[i] = dig[(h.high64 >> (60 - 4 * i)) & 15];
		hex[16 + i] = dig[(h.low64 >> (60 - 4 * i)) & 15];
	}
	hex[HASH_HEX_LEN] = 0;
}

int hash_parse(const char *s, size_t n, XXH128_hash_t *h)
{
	uint64_t w[2] = {0, 0};
	if (n != HASH_HEX_LEN)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = hex_value(s[i]);
		if (v < 0)
			return -1;
		w[i / 16] = w[i / 16] << 4 | (uint64_t)v;
	}
	h->high64 = w[0];
	h->low64 = w[1];
	return 0;
}

int hash_equal(XXH128_hash_t a, XXH128_hash_t b)
{
	return a.high64 == b.high64 && a.low64 == b.low64;
}

XXH128_hash_t hash_mem(const void *p, size_t n)
{
	return XXH3_128bits_dispatch(p, n);
}

void hash_mem_hex(const void *p, size_t n, char *hex)
{
	hash_format(hash_mem(p, n), hex);
}

/* --- streaming --------------------------------------------------------- */

void hash_stream_init(struct hash_stream *s)
{
	s->st = XXH3_createState();
	if (!s->st)
		xmalloc(SIZE_MAX); /* does not return: out of memory is fatal (util.h) */
	hash_stream_reset(s);
}

void hash_stream_reset(struct hash_stream *s)
{
	XXH3_128bits_reset(s->st);
	s->len = 0;
}

void hash_stream_update(struct hash_stream *s, const void *p, size_t n)
{
	XXH3_128bits_update_dispatch(s->st, p, n);
	s->len += n;
}

XXH128_hash_t hash_stream_digest(const struct hash_stream *s)
{
	return XXH3_128bits_digest(s->st);
}

void hash_stream_release(struct hash_stream *s)
{
	XXH3_freeState(s->st);
	s->st = NULL;
	s->len = 0;
}

XXH128_hash_t hash_stream_final(struct hash_stream *s)
{
	XXH128_hash_t h = hash_stream_digest(s);
	hash_stream_release(s);
	return h;
}

/* --- chunk arithmetic -------------------------------------------------- */

uint64_t hash_chunk_count(uint64_t size, uint64_t chunk_size)
{
	if (!chunk_size || size <= chunk_size)
		return 1;
	return size / chunk_size + (size % chunk_size != 0);
}

void hash_chunk_range(uint64_t size, uint64_t chunk_size, uint64_t i, uint64_t *off, uint64_t *len)
{
	if (hash_chunk_count(size, chunk_size) == 1) {
		*off = 0;
		*len = size;
		return;
	}
	*off = i * chunk_size;
	*len = size - *off < chunk_size ? size - *off : chunk_size;
}

/* --- a sink: sequential bytes in, whole or chunk hashes out ------------ */

struct sink {
	struct hash_stream hs;
	uint64_t chunk;	   /* 0: one piece */
	uint64_t in_piece; /* bytes in the current piece */
	uint64_t total;
	XXH128_hash_t *v; /* finished pieces */
	size_t n, cap;
};

static void sink_init(struct sink *k, uint64_t chunk)
{
	memset(k, 0, sizeof(*k));
	hash_stream_init(&k->hs);
	k->chunk = chunk;
}

static void sink_push(struct sink *k)
{
	xgrow((void **)&k->v, &k->cap, k->n + 1, sizeof(*k->v));
	k->v[k->n++] = hash_stream_digest(&k->hs);
	hash_stream_reset(&k->hs);
	k->in_piece = 0;
}

static void sink_add(struct sink *k, const char *p, size_t n)
{
	while (n) {
		size_t take = n;
		if (k->chunk && take > k->chunk - k->in_piece)
			take = (size_t)(k->chunk - k->in_piece);
		hash_stream_update(&k->hs, p, take);
		k->in_piece += take;
		k->total += take;
		p += take;
		n -= take;
		if (k->chunk && k->in_piece == k->chunk)
			sink_push(k);
	}
}

/* Finish into r; a single piece is the whole-content hash (not chunked). */
static void sink_finish(struct sink *k, struct hash_result *r)
{
	if (k->in_piece || !k->n)
		sink_push(k);
	memset(r, 0, sizeof(*r));
	r->size = k->total;
	if (k->n == 1) {
		r->whole = k->v[0];
		free(k->v);
	} else {
		r->chunks = k->v;
		r->nchunks = k->n;
	}
	k->v = NULL;
	hash_stream_release(&k->hs);
}

static void sink_release(struct sink *k)
{
	free(k->v);
	k->v = NULL;
	if (k->hs.st)
		hash_stream_release(&k->hs);
}

/* --- reading ----------------------------------------------------------- */

/* Read buffers are page-aligned: the kernel copies from the page cache into a
 * misaligned buffer (malloc's 16-byte offset) up to 4x slower (measured). */
static char *block_alloc(void)
{
	char *p = aligned_alloc(4096, READ_BLOCK);
	if (!p)
		xmalloc(SIZE_MAX); /* does not return: out of memory is fatal (util.h) */
	return p;
}

static ssize_t pread_full(int fd, char *p, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, (off_t)(off + got));
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int read_error(struct ja_err *err, int e)
{
	return err_set(err, EXIT_FAIL, "%s", strerror(e));
}

/* Everything up to EOF, in blocks (pipes, devices, files that may grow). */
static int hash_stream_fd(int fd, struct sink *k, char *buf, size_t bufsize, struct ja_err *err)
{
	for (;;) {
		ssize_t n = read(fd, buf, bufsize);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return read_error(err, errno);
		}
		sink_add(k, buf, (size_t)n);
	}
}

/* Several threads hash one regular file: each claims the next block, preads
 * it into its own buffer, waits until every earlier block has been fed to the
 * sink, feeds its block and passes the turn on. */
struct par {
	int fd;
	uint64_t start, size, nblocks;
	struct sink *sink;
	atomic_uint_fast64_t next; /* next block to claim */
	atomic_uint_fast64_t turn; /* next block to feed */
	atomic_int failed;	   /* errno of the first failure (-1: file shrank) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void par_wait_turn(struct par *p, uint64_t k)
{
	for (int i = 0; i < SPIN_TURNS; i++) {
		if (atomic_load_explicit(&p->turn, memory_order_acquire) == k)
			return;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
	pthread_mutex_lock(&p->mu);
	while (atomic_load_explicit(&p->turn, memory_order_acquire) != k)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void par_pass_turn(struct par *p, uint64_t k)
{
	pthread_mutex_lock(&p->mu);
	atomic_store_explicit(&p->turn, k + 1, memory_order_release);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void *par_worker(void *arg)
{
	struct par *p = arg;
	char *buf = block_alloc();
	for (;;) {
		uint64_t k = atomic_fetch_add(&p->next, 1);
		uint64_t off = k * READ_BLOCK;
		size_t want;
		ssize_t n = 0;
		if (k >= p->nblocks)
			break;
		want = p->size - off < READ_BLOCK ? (size_t)(p->size - off) : READ_BLOCK;
		if (!atomic_load(&p->failed)) {
			n = pread_full(p->fd, buf, want, p->start + off);
			if (n < 0 || (size_t)n != want) {
				int expect = 0;
				atomic_compare_exchange_strong(&p->failed, &expect,
							       n < 0 ? (errno ? errno : EIO) : -1);
			}
		}
		par_wait_turn(p, k);
		if (!atomic_load(&p->failed))
			sink_add(p->sink, buf, want);
		par_pass_turn(p, k);
	}
	free(buf);
	return NULL;
}

static int hash_parallel(int fd, uint64_t start, uint64_t size, int threads, struct sink *k,
			 struct ja_err *err)
{
	struct par p = {.fd = fd, .start = start, .size = size, .sink = k};
	pthread_t th[PAR_MAX_THREADS];
	int nth = 0, failed;
	p.nblocks = size / READ_BLOCK + (size % READ_BLOCK != 0);
	atomic_init(&p.next, 0);
	atomic_init(&p.turn, 0);
	atomic_init(&p.failed, 0);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	if (threads > PAR_MAX_THREADS)
		threads = PAR_MAX_THREADS;
	/* The caller's thread is one of the workers; if no thread can be
	 * started it does all the blocks itself. */
	while (nth < threads - 1 && !pthread_create(&th[nth], NULL, par_worker, &p))
		nth++;
	par_worker(&p);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	failed = atomic_load(&p.failed);
	if (failed > 0)
		return read_error(err, failed);
	if (failed < 0)
		return err_set(err, EXIT_FAIL, "file shrank while being read");
	return 0;
}

static int hash_regular(int fd, uint64_t start, uint64_t size, const struct hash_opts *o,
			struct sink *k, char *buf, struct ja_err *err)
{
	uint64_t off = 0;
	if (o->threads > 1 && size >= PAR_MIN)
		return hash_parallel(fd, start, size, o->threads, k, err);
	if (size >= PAR_MIN)
		posix_fadvise(fd, (off_t)start, (off_t)size, POSIX_FADV_SEQUENTIAL);
	while (off < size) {
		size_t want = size - off < READ_BLOCK ? (size_t)(size - off) : READ_BLOCK;
		ssize_t n = pread_full(fd, buf, want, start + off);
		if (n < 0)
			return read_error(err, errno);
		if (n == 0)
			break; /* shrank: hash what is there, like a reader to EOF */
		sink_add(k, buf, (size_t)n);
		off += (size_t)n;
	}
	return 0;
}

/* A small regular file: one read of one byte more than fstat said, into a
 * buffer on the stack; getting exactly the size means EOF without a second
 * read (4 system calls a file with open, fstat and close; xxhsum makes 7). */
static int hash_small(int fd, uint64_t size, const struct hash_opts *o, struct hash_result *r,
		      struct ja_err *err)
{
	_Alignas(4096) char buf[SMALL_MAX];
	struct sink k;
	ssize_t n;
	int rc = 0;
	do
		n = read(fd, buf, (size_t)size + 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return read_error(err, errno);
	if ((uint64_t)n == size && (!o->chunk_size || size <= o->chunk_size)) {
		r->size = size;
		r->whole = XXH3_128bits_dispatch(buf, (size_t)size);
		return 0;
	}
	sink_init(&k, o->chunk_size);
	sink_add(&k, buf, (size_t)n);
	if ((uint64_t)n != size) /* grew, or a short read: on to EOF */
		rc = hash_stream_fd(fd, &k, buf, sizeof(buf), err);
	if (rc < 0) {
		sink_release(&k);
		return -1;
	}
	sink_finish(&k, r);
	return 0;
}

/* fd is at offset start (a regular file) or a stream; st is its fstat. */
static int hash_open_fd(int fd, const struct stat *st, off_t start, const struct hash_opts *o,
			struct hash_result *r, struct ja_err *err)
{
	static const struct hash_opts dflt = {0, 1};
	char *buf;
	struct sink k;
	int rc;
	if (!o)
		o = &dflt;
	memset(r, 0, sizeof(*r));
	if (S_ISDIR(st->st_mode))
		return read_error(err, EISDIR);
	if (S_ISREG(st->st_mode) && st->st_size - start < (off_t)SMALL_MAX)
		return hash_small(fd, (uint64_t)(st->st_size - start), o, r, err);
	buf = block_alloc();
	sink_init(&k, o->chunk_size);
	if (S_ISREG(st->st_mode)) {
		uint64_t size = (uint64_t)(st->st_size - start);
		rc = hash_regular(fd, (uint64_t)start, size, o, &k, buf, err);
		if (rc == 0) /* pread does not move the offset; a reader would have */
			lseek(fd, (off_t)((uint64_t)start + k.total), SEEK_SET);
	} else {
		rc = hash_stream_fd(fd, &k, buf, READ_BLOCK, err);
	}
	free(buf);
	if (rc < 0) {
		sink_release(&k);
		return -1;
	}
	sink_finish(&k, r);
	return 0;
}

int hash_fd(int fd, const struct hash_opts *o, struct hash_result *r, struct ja_err *err)
{
	struct stat st;
	off_t start = 0;
	memset(r, 0, sizeof(*r));
	if (fstat(fd, &st) < 0)
		return read_error(err, errno);
	if (S_ISREG(st.st_mode)) {
		start = lseek(fd, 0, SEEK_CUR);
		if (start < 0)
			start = 0;
		if (start > st.st_size)
			start = st.st_size;
	}
	return hash_open_fd(fd, &st, start, o, r, err);
}

int hash_file(const char *path, const struct hash_opts *o, struct hash_result *r,
	      struct ja_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;
	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return read_error(err, errno);
	if (fstat(fd, &st) < 0)
		rc = read_error(err, errno);
	else
		rc = hash_open_fd(fd, &st, 0, o, r, err);
	close(fd);
	return rc;
}

int hash_fd_range(int fd, uint64_t off, uint64_t len, int threads, XXH128_hash_t *h,
		  struct ja_err *err)
{
	struct hash_opts o = {.chunk_size = 0, .threads = threads};
	struct sink k;
	char *buf = block_alloc();
	int rc;
	sink_init(&k, 0);
	rc = hash_regular(fd, off, len, &o, &k, buf, err);
	free(buf);
	if (rc == 0 && k.total != len)
		rc = err_set(err, EXIT_FAIL, "file is shorter than %" PRIu64 " bytes", off + len);
	if (rc < 0) {
		sink_release(&k);
		return -1;
	}
	*h = hash_stream_digest(&k.hs);
	sink_release(&k);
	return 0;
}

int hash_fd_piece(int fd, const struct hash_opts *o, uint64_t i, uint64_t *count, XXH128_hash_t *h,
		  struct ja_err *err)
{
	struct stat st;
	struct hash_result r;
	uint64_t off, len;
	if (fstat(fd, &st) < 0)
		return read_error(err, errno);
	if (S_ISDIR(st.st_mode))
		return read_error(err, EISDIR);
	if (S_ISREG(st.st_mode)) {
		*count = hash_chunk_count((uint64_t)st.st_size, o->chunk_size);
		if (i >= *count)
			return 0;
		hash_chunk_range((uint64_t)st.st_size, o->chunk_size, i, &off, &len);
		return hash_fd_range(fd, off, len, o->threads, h, err);
	}
	if (hash_fd(fd, o, &r, err) < 0) /* a stream: hash it all, keep one */
		return -1;
	*count = r.nchunks ? r.nchunks : 1;
	if (i < *count)
		*h = r.nchunks ? r.chunks[i] : r.whole;
	hash_result_release(&r);
	return 0;
}

int hash_file_piece(const char *path, const struct hash_opts *o, uint64_t i, uint64_t *count,
		    XXH128_hash_t *h, struct ja_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;
	if (fd < 0)
		return read_error(err, errno);
	rc = hash_fd_piece(fd, o, i, count, h, err);
	close(fd);
	return rc;
}

void hash_result_release(struct hash_result *r)
{
	free(r->chunks);
	r->chunks = NULL;
	r->nchunks = 0;
}

/* --- checksum list lines ----------------------------------------------- */

int hash_name_needs_escape(const char *name)
{
	return strpbrk(name, "\\\n\r") != NULL;
}

int hash_list_add(struct buf *out, const char *hex, const char *piece, const char *name)
{
	int esc = hash_name_needs_escape(name), rc = 0;
	if (esc)
		rc |= buf_addc(out, '\\');
	rc |= buf_add(out, hex, HASH_HEX_LEN);
	rc |= buf_add(out, "  ", 2);
	if (piece) {
		rc |= buf_adds(out, piece);
		rc |= buf_add(out, "  ", 2);
	}
	if (!esc) {
		rc |= buf_adds(out, name);
	} else {
		for (const char *p = name; *p;) {
			size_t run = strcspn(p, "\\\n\r");
			rc |= buf_add(out, p, run);
			p += run;
			if (!*p)
				break;
			rc |= buf_add(out, *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : "\\r", 2);
			p++;
		}
	}
	rc |= buf_addc(out, '\n');
	return rc ? -1 : 0;
}

/* Undo the escapes of an escaped name in place; -1 on an unknown escape. */
static int unescape(char *s, size_t *len)
{
	size_t o = 0;
	for (size_t i = 0; i < *len; i++) {
		if (s[i] != '\\') {
			s[o++] = s[i];
			continue;
		}
		if (++i == *len)
			return -1;
		switch (s[i]) {
		case '\\':
			s[o++] = '\\';
			break;
		case 'n':
			s[o++] = '\n';
			break;
		case 'r':
			s[o++] = '\r';
			break;
		default:
			return -1;
		}
	}
	*len = o;
	return 0;
}

static int parse_u64(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = x;
	return 0;
}

static int parse_piece(const char **p, const char *end, struct hash_list_entry *e)
{
	const char *s = *p;
	if (parse_u64(&s, end, &e->piece_i) < 0 || s == end || *s++ != '/' ||
	    parse_u64(&s, end, &e->piece_n) < 0 || end - s < 2 || memcmp(s, "  ", 2))
		return -1;
	if (e->piece_n == 0 || e->piece_i >= e->piece_n)
		return -1;
	e->has_piece = 1;
	*p = s + 2;
	return 0;
}

int hash_list_parse(char *line, size_t len, int with_piece, struct hash_list_entry *e)
{
	static const char bsd[] = "XXH128 (";
	const size_t bsdlen = sizeof(bsd) - 1, taillen = 4 + HASH_HEX_LEN; /* ") = " HASH */
	char *name;
	size_t nlen;
	int esc = len > 0 && line[0] == '\\';
	memset(e, 0, sizeof(*e));
	if (esc) {
		line++;
		len--;
	}
	if (!with_piece && len >= bsdlen + 1 + taillen && !memcmp(line, bsd, bsdlen)) {
		char *tail = line + len - taillen;
		if (memcmp(tail, ") = ", 4) || hash_parse(tail + 4, HASH_HEX_LEN, &e->hash) < 0)
			return -1;
		name = line + bsdlen;
		nlen = (size_t)(tail - name);
	} else {
		const char *p = line + HASH_HEX_LEN + 2, *end = line + len;
		if (len < HASH_HEX_LEN + 3 || hash_parse(line, HASH_HEX_LEN, &e->hash) < 0 ||
		    line[HASH_HEX_LEN] != ' ' ||
		    (line[HASH_HEX_LEN + 1] != ' ' && line[HASH_HEX_LEN + 1] != '*'))
			return -1;
		if (with_piece && parse_piece(&p, end, e) < 0)
			return -1;
		name = (char *)p;
		nlen = (size_t)(end - p);
	}
	if (esc && unescape(name, &nlen) < 0)
		return -1;
	if (nlen == 0 || memchr(name, 0, nlen))
		return -1;
	name[nlen] = 0;
	e->name = name;
	return 0;
}
