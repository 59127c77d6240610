/* store_file_ops.c - one file-store op on disk (the pool is in store_file.c).
 *
 * Every access starts at the root's directory fd and goes one component at a
 * time with openat(O_NOFOLLOW), so a symlink planted inside the store never
 * leads outside it.  Keys are checked like S3 keys plus what a file system
 * needs (no "", ".", ".." components); names starting with ".ja" belong to the
 * backend: temporaries ".ja-tmp-*" next to their target, and ROOT/.ja/meta/KEY.json
 * holding an object's user metadata.
 *
 * A PUT writes a temporary file and renames it into place, so readers never see
 * a partial object.  It does not fsync: a crash may lose recent objects (the
 * next upload HEADs, finds nothing and sends them again), and an fsync per
 * object would make a tree of small files many times slower.
 */
#include "store_file_int.h"
#include "buf.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_COPY_CHUNK ((size_t)64 << 20)  /* copy_file_range step: interrupt checks */
#define FILE_MAX_GET	((uint64_t)1 << 30) /* a GET into memory */
#define FILE_MAX_KEY	1024		    /* as S3 */
#define FILE_META_MAX	((size_t)64 << 10)

/* ---- errors ---- */

/* Messages are "VERB URL: reason"; the URL is cut so a 1 KiB key leaves room for the reason. */
static int op_fail(struct fstore *f, struct store_op *op, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int op_fail(struct fstore *f, struct store_op *op, int code, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	char *u = store_key_url(f->s, op->key);
	err_set(&op->err, code, "%s %.600s: %s", store_kind_name(op->kind), esc_name(u), what);
	free(u);
	return -1;
}

static int op_sys(struct fstore *f, struct store_op *op, const char *what, int e)
{
	const char *why = e == ELOOP ? "a symlink inside the store (not followed)" : strerror(e);
	if (what)
		return op_fail(f, op, EXIT_FAIL, "%s: %s", what, why);
	return op_fail(f, op, EXIT_FAIL, "%s", why);
}

/* A failed lookup: a missing key is not_found, anything else an error. */
static int miss(struct fstore *f, struct store_op *op, int e)
{
	if (e != ENOENT && e != ENOTDIR)
		return op_sys(f, op, NULL, e);
	op->not_found = 1;
	return op_fail(f, op, EXIT_FAIL, "no such object");
}

static int interrupted(struct store_op *op)
{
	return err_set(&op->err, 130, "interrupted");
}

/* A callback said -1: its reason (store_op_fail), else a generic one. */
static int refused(struct fstore *f, struct store_op *op, const char *what)
{
	if (op->err.msg[0])
		return -1;
	return op_fail(f, op, EXIT_FAIL, "%s", what);
}

/* ---- keys and paths ---- */

/* Why key cannot name an object here, or NULL.  For a LIST prefix the last part
 * is only a name prefix and may be anything. */
const char *fs_key_problem(const char *k, int prefix)
{
	if (strlen(k) > FILE_MAX_KEY)
		return "a key longer than 1024 bytes";
	if (k[0] == '/')
		return "an absolute key";
	for (const char *p = k;;) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (!e && prefix)
			return NULL;
		if (!l)
			return "an empty path component";
		if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return "a '.' or '..' component";
		if (l >= 3 && !strncmp(p, ".ja", 3))
			return "a component starting with .ja (the store's own)";
		if (!e)
			return NULL;
		p = e + 1;
	}
}

/* Open the directory that holds path's last component (*leaf), walking from the
 * root without following any symlink (one met is ELOOP); create missing
 * directories when create.  The fd is O_PATH: fine for the *at calls. */
static int open_dirs(struct fstore *f, const char *path, int create, const char **leaf)
{
	char comp[NAME_MAX + 1];
	int cur = -1, e;
	const char *p = path, *slash;
	while ((slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - p);
		int at = cur < 0 ? f->rootfd : cur, nfd;
		struct stat st;
		if (n > NAME_MAX) {
			e = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		if (create && mkdirat(at, comp, 0777) < 0 && errno != EEXIST) {
			e = errno;
			goto fail;
		}
		nfd = openat(at, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			e = errno;
			if ((e == ENOTDIR || e == ELOOP) &&
			    !fstatat(at, comp, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
				e = ELOOP;
			goto fail;
		}
		if (cur >= 0)
			close(cur);
		cur = nfd;
		p = slash + 1;
	}
	*leaf = p;
	if (cur < 0)
		cur = fcntl(f->rootfd, F_DUPFD_CLOEXEC, 0);
	return cur;
fail:
	if (cur >= 0)
		close(cur);
	errno = e;
	return -1;
}

/* A new temporary file in dirfd, its name in name. */
static int make_temp(struct fstore *f, int dirfd, char name[FILE_TMP_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (int i = 0; i < 100; i++) {
		unsigned n = atomic_fetch_add(&f->seq, 1);
		snprintf(name, FILE_TMP_LEN, ".ja-tmp-%ld-%u-%lx", (long)getpid(), n,
			 (unsigned long)ts.tv_nsec);
		int fd =
		    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	name[0] = 0;
	errno = e;
	return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- metadata sidecars: ROOT/.ja/meta/KEY.json ---- */

static void meta_path(const char *key, char *out, size_t n)
{
	snprintf(out, n, ".ja/meta/%s.json", key);
}

static int meta_write(struct fstore *f, struct store_op *op)
{
	char path[FILE_MAX_KEY + 32], tmp[FILE_TMP_LEN];
	const char *leaf;
	meta_path(op->key, path, sizeof(path));
	int d = open_dirs(f, path, op->nmeta > 0, &leaf), fd, rc = 0;
	if (d < 0 && !op->nmeta && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (d < 0)
		return op_sys(f, op, "metadata", errno);
	if (!op->nmeta) {
		if (unlinkat(d, leaf, 0) < 0 && errno != ENOENT)
			rc = op_sys(f, op, "removing the old metadata", errno);
		close(d);
		return rc;
	}
	struct buf b = BUF_INIT;
	buf_addc(&b, '{');
	for (size_t i = 0; i < op->nmeta; i++) {
		if (i)
			buf_addc(&b, ',');
		json_put_str(&b, op->meta[i].name, strlen(op->meta[i].name));
		buf_addc(&b, ':');
		json_put_str(&b, op->meta[i].value, strlen(op->meta[i].value));
	}
	buf_adds(&b, "}\n");
	fd = make_temp(f, d, tmp);
	if (fd < 0)
		rc = op_sys(f, op, "metadata", errno);
	else if (write_all(fd, b.p, b.len) < 0 || close(fd) < 0 || renameat(d, tmp, d, leaf) < 0) {
		rc = op_sys(f, op, "metadata", errno);
		unlinkat(d, tmp, 0);
	}
	buf_release(&b);
	close(d);
	return rc;
}

static int meta_parse(struct fstore *f, struct store_op *op, const char *p, size_t n)
{
	struct ja_err e = {0};
	struct jp jp;
	const char *k, *v;
	size_t kl, vl, cap = 0;
	int r;
	jp_init(&jp, p, n, &e);
	if (jp_obj_begin(&jp) < 0)
		goto bad;
	while ((r = jp_obj_key(&jp, &k, &kl)) > 0) {
		char *name = xstrndup(k, kl);
		if (jp_str(&jp, &v, &vl) < 0) {
			free(name);
			goto bad;
		}
		xgrow((void **)&op->meta_out, &cap, op->nmeta_out + 1, sizeof(*op->meta_out));
		op->meta_out[op->nmeta_out].name = name;
		op->meta_out[op->nmeta_out++].value = xstrndup(v, vl);
	}
	if (r < 0 || jp_finish(&jp) < 0)
		goto bad;
	jp_release(&jp);
	return 0;
bad:
	jp_release(&jp);
	return op_fail(f, op, EXIT_FAIL, "bad metadata file: %s", e.msg);
}

static int meta_read(struct fstore *f, struct store_op *op)
{
	char path[FILE_MAX_KEY + 32];
	const char *leaf;
	struct stat st;
	meta_path(op->key, path, sizeof(path));
	int d = open_dirs(f, path, 0, &leaf), fd;
	if (d < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : op_sys(f, op, "metadata", errno);
	fd = openat(d, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(d);
	if (fd < 0)
		return errno == ENOENT ? 0 : op_sys(f, op, "metadata", errno);
	struct buf b;
	struct ja_err e = {0};
	int rc;
	buf_init(&b, FILE_META_MAX);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = op_fail(f, op, EXIT_FAIL, "metadata: not a regular file");
	else if (buf_read_fd(&b, fd, "metadata", &e) < 0)
		rc = op_fail(f, op, EXIT_FAIL, "%s", e.msg);
	else
		rc = meta_parse(f, op, b.p, b.len);
	close(fd);
	buf_release(&b);
	return rc;
}

/* ---- HEAD, GET ---- */

static int f_head(struct fstore *f, struct store_op *op)
{
	const char *leaf;
	struct stat st;
	int d = open_dirs(f, op->key, 0, &leaf), r, e;
	if (d < 0)
		return miss(f, op, errno);
	r = fstatat(d, leaf, &st, AT_SYMLINK_NOFOLLOW);
	e = errno;
	close(d);
	if (r < 0)
		return miss(f, op, e);
	if (S_ISLNK(st.st_mode))
		return op_sys(f, op, NULL, ELOOP);
	if (S_ISDIR(st.st_mode)) /* "Data" when only "Data/x" exists: no object, as S3 */
		return miss(f, op, ENOENT);
	if (!S_ISREG(st.st_mode))
		return op_fail(f, op, EXIT_FAIL, "not a regular file");
	op->size = (uint64_t)st.st_size;
	return meta_read(f, op);
}

static int f_delete(struct fstore *f, struct store_op *op)
{
	const char *leaf;
	int d = open_dirs(f, op->key, 0, &leaf), r, e;
	if (d < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : op_sys(f, op, NULL, errno);
	r = unlinkat(d, leaf, 0);
	e = errno;
	close(d);
	if (r < 0 && e != ENOENT)
		return op_sys(f, op, NULL, e);
	return 0;
}

static int open_object(struct fstore *f, struct store_op *op, struct stat *st)
{
	const char *leaf;
	int d = open_dirs(f, op->key, 0, &leaf), fd, e;
	if (d < 0)
		return miss(f, op, errno);
	/* O_NONBLOCK: a FIFO planted in the store must not hang the open */
	fd = openat(d, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	close(d);
	if (fd < 0)
		return miss(f, op, e);
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		int dir = S_ISDIR(st->st_mode);
		close(fd);
		return dir ? miss(f, op, ENOENT) : op_fail(f, op, EXIT_FAIL, "not a regular file");
	}
	return fd;
}

/* Read [pos, end) of fd: into dst (dst[0] is the byte at pos) or to on_data. */
static int read_range(struct fstore *f, struct store_op *op, int fd, uint64_t pos, uint64_t end,
		      char *dst, char *scratch)
{
	uint64_t start = pos;
	while (pos < end) {
		if (store_interrupted)
			return interrupted(op);
		size_t n = end - pos < FILE_CHUNK ? (size_t)(end - pos) : FILE_CHUNK;
		char *p = dst ? dst + (pos - start) : scratch;
		ssize_t r = pread(fd, p, n, (off_t)pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return op_sys(f, op, "read", errno);
		if (r == 0)
			return op_fail(f, op, EXIT_FAIL, "the object shrank while it was read");
		if (!dst && op->on_data(op, p, (size_t)r, pos) < 0)
			return refused(f, op, "aborted");
		pos += (uint64_t)r;
	}
	return 0;
}

static int f_get(struct fstore *f, struct store_op *op, char *scratch)
{
	struct stat st;
	int fd = open_object(f, op, &st), rc;
	if (fd < 0)
		return -1;
	uint64_t size = (uint64_t)st.st_size, start = 0, end = size;
	op->size = size;
	if (op->has_range) {
		if (op->range_off && op->range_off >= size) {
			close(fd);
			return op_fail(f, op, EXIT_FAIL,
				       "the range starts at %" PRIu64 ", past the end (%" PRIu64
				       " bytes)",
				       op->range_off, size);
		}
		start = op->range_off;
		if (op->range_len && op->range_len < size - start)
			end = start + op->range_len;
	}
	if (op->on_data) {
		rc = read_range(f, op, fd, start, end, NULL, scratch);
	} else if (end - start > FILE_MAX_GET) {
		rc = op_fail(f, op, EXIT_FAIL, "%" PRIu64 " bytes: too large to read into memory",
			     end - start);
	} else {
		op->out_buf = xmalloc((size_t)(end - start) + 1);
		op->out_len = (size_t)(end - start);
		op->out_buf[op->out_len] = 0;
		rc = read_range(f, op, fd, start, end, op->out_buf, scratch);
	}
	close(fd);
	return rc < 0 ? -1 : meta_read(f, op);
}

/* ---- PUT ---- */

/* copy_file_range when nobody needs to see the bytes: no trip through user space.
 * Returns 1 when the file system cannot do it (then the caller copies). */
static int put_fast(struct fstore *f, struct store_op *op, int out, uint64_t *done)
{
	while (*done < op->len) {
		if (store_interrupted)
			return interrupted(op);
		loff_t in = (loff_t)(op->off + *done);
		size_t n =
		    op->len - *done < FILE_COPY_CHUNK ? (size_t)(op->len - *done) : FILE_COPY_CHUNK;
		ssize_t r = copy_file_range(op->fd, &in, out, NULL, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
			      errno == EOPNOTSUPP || errno == EBADF || errno == ETXTBSY))
			return 1;
		if (r < 0)
			return op_sys(f, op, "copy", errno);
		if (r == 0)
			return op_fail(f, op, EXIT_FAIL,
				       "the source ended %" PRIu64 " bytes short (it shrank?)",
				       op->len - *done);
		*done += (uint64_t)r;
	}
	return 0;
}

static int put_copy(struct fstore *f, struct store_op *op, int out, char *scratch)
{
	uint64_t done = 0;
	if (!op->buf && !op->on_seen) {
		int r = put_fast(f, op, out, &done);
		if (r <= 0)
			return r;
	}
	while (done < op->len) {
		if (store_interrupted)
			return interrupted(op);
		size_t n = op->len - done < FILE_CHUNK ? (size_t)(op->len - done) : FILE_CHUNK;
		const char *p = scratch;
		if (op->buf) {
			p = op->buf + done;
		} else {
			ssize_t r = pread(op->fd, scratch, n, (off_t)(op->off + done));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return op_sys(f, op, "reading the source", errno);
			if (r == 0)
				return op_fail(f, op, EXIT_FAIL,
					       "the source ended %" PRIu64
					       " bytes short (it shrank?)",
					       op->len - done);
			n = (size_t)r;
		}
		if (op->on_seen && op->on_seen(op, p, n, done) < 0)
			return refused(f, op, "aborted");
		if (write_all(out, p, n) < 0)
			return op_sys(f, op, "write", errno);
		done += n;
	}
	return 0;
}

/* Make the written temporary the object: metadata first, so a reader that sees
 * the new bytes also sees their metadata. */
static int publish(struct fstore *f, struct fjob *j)
{
	struct store_op *op = j->op;
	if (meta_write(f, op) < 0)
		return -1;
	if (renameat(j->dirfd, j->tmp, j->dirfd, j->leaf) < 0)
		return op_sys(f, op, NULL, errno);
	j->tmp[0] = 0;
	op->size = op->len;
	return 0;
}

static int f_put(struct fstore *f, struct fjob *j, char *scratch)
{
	struct store_op *op = j->op;
	j->dirfd = open_dirs(f, op->key, 1, &j->leaf);
	if (j->dirfd < 0)
		return op_sys(f, op, NULL, errno);
	int fd = make_temp(f, j->dirfd, j->tmp), rc;
	if (fd < 0)
		return op_sys(f, op, "temporary file", errno);
	rc = put_copy(f, op, fd, scratch);
	if (close(fd) < 0 && rc == 0)
		rc = op_sys(f, op, "write", errno);
	if (rc < 0)
		return -1;
	if (op->before_commit) {
		j->commit = 1; /* the store_run thread has the last word */
		return 0;
	}
	return publish(f, j);
}

/* ---- LIST ---- */

struct lent {
	char *key;
	uint64_t size;
};

struct lvec {
	struct lent *v;
	size_t n, cap;
};

static int list_dir(struct fstore *f, struct store_op *op, int fd, struct buf *path,
		    const char *match, struct lvec *lv);

/* One entry of a listed directory, path holding its key. */
static int list_entry(struct fstore *f, struct store_op *op, int dfd, const char *name,
		      struct buf *path, struct lvec *lv)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : op_sys(f, op, esc_name(path->p), errno);
	if (S_ISREG(st.st_mode)) {
		xgrow((void **)&lv->v, &lv->cap, lv->n + 1, sizeof(*lv->v));
		lv->v[lv->n].key = xstrdup(path->p);
		lv->v[lv->n++].size = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) /* symlinks and the like are no objects */
		return 0;
	int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return errno == ENOENT ? 0 : op_sys(f, op, esc_name(path->p), errno);
	buf_addc(path, '/');
	return list_dir(f, op, sub, path, NULL, lv);
}

/* Every object under the directory fd (taken), whose names start with match. */
static int list_dir(struct fstore *f, struct store_op *op, int fd, struct buf *path,
		    const char *match, struct lvec *lv)
{
	DIR *dir = fdopendir(fd);
	size_t base = path->len, ml = match ? strlen(match) : 0;
	int rc = 0;
	if (!dir) {
		close(fd);
		return op_sys(f, op, "list", errno);
	}
	while (rc == 0) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (!de) {
			if (errno)
				rc = op_sys(f, op, "list", errno);
			break;
		}
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strncmp(name, ".ja", 3) ||
		    (ml && strncmp(name, match, ml)))
			continue;
		if (store_interrupted) {
			rc = interrupted(op);
			break;
		}
		path->len = base;
		path->p[base] = 0;
		buf_adds(path, name);
		if (path->len <= FILE_MAX_KEY) /* longer ones are no keys */
			rc = list_entry(f, op, dirfd(dir), name, path, lv);
	}
	closedir(dir);
	path->len = base;
	path->p[base] = 0;
	return rc;
}

static int lent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lent *)a)->key, ((const struct lent *)b)->key);
}

static int f_list(struct fstore *f, struct store_op *op)
{
	const char *pre = op->key ? op->key : "", *leaf;
	struct lvec lv = {0};
	struct buf path = BUF_INIT;
	int d = open_dirs(f, pre, 0, &leaf), fd, rc;
	if (d < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : op_sys(f, op, NULL, errno);
	fd = openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(d);
	if (fd < 0)
		return op_sys(f, op, NULL, errno);
	buf_add(&path, pre, (size_t)(leaf - pre));
	rc = list_dir(f, op, fd, &path, leaf, &lv);
	buf_release(&path);
	if (rc == 0 && lv.n) {
		qsort(lv.v, lv.n, sizeof(*lv.v), lent_cmp);
		op->keys = xcalloc(lv.n, sizeof(*op->keys));
		op->sizes = xcalloc(lv.n, sizeof(*op->sizes));
	}
	for (size_t i = 0; i < lv.n; i++) {
		if (rc == 0) {
			op->keys[i] = lv.v[i].key;
			op->sizes[i] = lv.v[i].size;
		} else {
			free(lv.v[i].key);
		}
	}
	if (rc == 0)
		op->nkeys = lv.n;
	free(lv.v);
	return rc;
}

/* ---- one op ---- */

void fs_execute(struct fstore *f, struct fjob *j, char *scratch)
{
	struct store_op *op = j->op;
	int rc = -1;
	if (store_interrupted)
		rc = interrupted(op);
	else if (op->kind == STORE_HEAD)
		rc = f_head(f, op);
	else if (op->kind == STORE_GET)
		rc = f_get(f, op, scratch);
	else if (op->kind == STORE_PUT)
		rc = f_put(f, j, scratch);
	else if (op->kind == STORE_LIST)
		rc = f_list(f, op);
	else if (op->kind == STORE_DELETE)
		rc = f_delete(f, op);
	if (rc < 0)
		store_op_release(op); /* keeps err */
	op->ok = rc == 0 && !j->commit;
}

void fs_commit(struct fstore *f, struct fjob *j)
{
	struct store_op *op = j->op;
	int rc;
	if (store_interrupted)
		rc = interrupted(op);
	else if (op->before_commit(op) < 0)
		rc = refused(f, op, "upload refused before commit");
	else
		rc = publish(f, j);
	op->ok = rc == 0;
}
