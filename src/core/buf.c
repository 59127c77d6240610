/* buf.c - growable, capped byte buffer. */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->p = (char *)buf_empty;
	b->len = b->cap = 0;
	b->max = max;
	b->over = 0;
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->p);
	buf_init(b, b->max);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *r = b->cap ? b->p : xstrdup("");
	if (len)
		*len = b->len;
	buf_init(b, b->max);
	return r;
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need;
	if (extra > b->max - b->len) {
		b->over = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need > b->cap) {
		size_t c = b->cap ? b->cap : 64;
		c = c > SIZE_MAX / 2 ? need : c * 2;
		if (c < need)
			c = need;
		if (b->cap) {
			b->p = xrealloc(b->p, c);
		} else {
			b->p = xmalloc(c);
			b->p[0] = 0;
		}
		b->cap = c;
	}
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char small[256];
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->cap)
		b->p[0] = 0;
	b->over = 0;
}

int buf_read_fd(struct buf *b, int fd, const char *what, struct ja_err *err)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > b->max - b->len)
			return err_set(err, EXIT_USAGE, "%s: too large (%lld bytes, limit %zu)",
				       what, (long long)st.st_size, b->max);
		buf_reserve(b, (size_t)st.st_size + 1);
	}
	for (;;) {
		ssize_t n;
		size_t room;
		if (b->cap - b->len <= 1 && b->len < b->max) {
			size_t want = b->len < 65536 ? 65536 : b->len;
			if (want > b->max - b->len)
				want = b->max - b->len;
			buf_reserve(b, want);
		}
		/* never read past max: buf_reserve's doubling can leave cap beyond it */
		room = b->cap ? b->cap - b->len - 1 : 0;
		if (room > b->max - b->len)
			room = b->max - b->len;
		if (room == 0) {
			char c;
			do
				n = read(fd, &c, 1);
			while (n < 0 && errno == EINTR);
			if (n == 0)
				return 0;
			if (n < 0)
				return err_set(err, EXIT_FAIL, "%s: read error: %s", what,
					       strerror(errno));
			return err_set(err, EXIT_USAGE, "%s: too large (limit %zu bytes)", what,
				       b->max);
		}
		n = read(fd, b->p + b->len, room);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(err, EXIT_FAIL, "%s: read error: %s", what, strerror(errno));
		}
		b->len += (size_t)n;
		b->p[b->len] = 0;
	}
}

int buf_read_file(struct buf *b, const char *path, struct ja_err *err)
{
	int fd, r;
	if (!strcmp(path, "-"))
		return buf_read_fd(b, 0, "stdin", err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, EXIT_FAIL, "%s: %s", esc_name(path), strerror(errno));
	r = buf_read_fd(b, fd, esc_name(path), err);
	close(fd);
	return r;
}

int fmap_open(struct fmap *m, const char *path, size_t max, struct ja_err *err)
{
	struct stat st;
	int fd, rc;
	const char *what = strcmp(path, "-") ? esc_name(path) : "stdin";
	memset(m, 0, sizeof(*m));
	buf_init(&m->b, max);
	if (!strcmp(path, "-")) {
		fd = 0;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_set(err, EXIT_FAIL, "%s: %s", what, strerror(errno));
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > max) {
			if (fd)
				close(fd);
			return err_set(err, EXIT_USAGE, "%s: too large (%lld bytes, limit %zu)",
				       what, (long long)st.st_size, max);
		}
		m->addr = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m->addr != MAP_FAILED) {
			madvise(m->addr, (size_t)st.st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
			m->maplen = m->len = (size_t)st.st_size;
			m->p = m->addr;
			if (fd)
				close(fd);
			return 0;
		}
		m->addr = NULL;
	}
	rc = buf_read_fd(&m->b, fd, what, err);
	if (fd)
		close(fd);
	m->p = m->b.p;
	m->len = m->b.len;
	return rc;
}

void fmap_release(struct fmap *m)
{
	if (m->addr)
		munmap(m->addr, m->maplen);
	buf_release(&m->b);
	m->addr = NULL;
	m->p = NULL;
	m->len = 0;
}
