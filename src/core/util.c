/* util.c - allocation, errors and messages shared by every applet. */
#include "util.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ja_progname = "ja";
int ja_verbose;

int err_set(struct ja_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return -1;
}

void err_prefix(struct ja_err *err, const char *fmt, ...)
{
	char pre[512], old[sizeof(err->msg)];
	va_list ap;
	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	size_t n = strlen(pre);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, pre, n);
	memcpy(err->msg + n, ": ", 2);
	n += 2;
	size_t m = strlen(old);
	if (m > sizeof(err->msg) - 1 - n)
		m = sizeof(err->msg) - 1 - n;
	memcpy(err->msg + n, old, m);
	err->msg[n + m] = 0;
}

static void oom(void)
{
	static const char m[] = ": out of memory\n";
	if (write(2, ja_progname, strlen(ja_progname)) < 0 || write(2, m, sizeof(m) - 1) < 0)
		_exit(EXIT_FAIL);
	_exit(EXIT_FAIL);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void xgrow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap;
	if (need <= c)
		return;
	if (c < 16)
		c = 16;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			oom();
		c *= 2;
	}
	*p = xrealloc(*p, c * elem);
	*cap = c;
}

static void vmsg(const char *fmt, va_list ap)
{
	char line[2048];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", ja_progname, line);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(code);
}

void errorx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void warnx(const char *fmt, ...)
{
	va_list ap;
	if (ja_verbose < 0)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void infox(int level, const char *fmt, ...)
{
	va_list ap;
	if (ja_verbose < level)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void die_err(const struct ja_err *err)
{
	die(err->code ? err->code : EXIT_FAIL, "%s", err->msg);
}

const char *esc_name(const char *s)
{
	static __thread char ring[4][1024]; /* per thread: walkers warn from workers */
	static __thread int next;
	char *out = ring[next++ & 3];
	size_t o = 0, cap = sizeof(ring[0]) - 8;
	const unsigned char *p = (const unsigned char *)s;
	for (; *p && o < cap; p++) {
		if (*p >= 0x80) {
			/* valid UTF-8 passes; any other byte is shown as \xNN */
			size_t k = *p >= 0xf0 && *p <= 0xf4 ? 4
				   : *p >= 0xe0		    ? 3
				   : *p >= 0xc2		    ? 2
							    : 0;
			size_t i = 1;
			while (k && i < k && (p[i] & 0xc0) == 0x80)
				i++;
			if (k && i == k && o + k < cap) {
				memcpy(out + o, p, k);
				o += k;
				p += k - 1;
				continue;
			}
			static const char hx[] = "0123456789abcdef";
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hx[*p >> 4];
			out[o++] = hx[*p & 15];
			continue;
		}
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			static const char hex[] = "0123456789abcdef";
			out[o++] = '\\';
			switch (*p) {
			case '\n':
				out[o++] = 'n';
				break;
			case '\t':
				out[o++] = 't';
				break;
			case '\r':
				out[o++] = 'r';
				break;
			case '\\':
				out[o++] = '\\';
				break;
			default:
				out[o++] = 'x';
				out[o++] = hex[*p >> 4];
				out[o++] = hex[*p & 15];
			}
		} else {
			out[o++] = (char)*p;
		}
	}
	if (*p) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int add_overflow_i64(int64_t a, int64_t b, int64_t *out)
{
	return __builtin_add_overflow(a, b, out);
}

int close_stdout(int rc)
{
	int bad = 0;
	if (fflush(stdout) != 0 && errno != EPIPE)
		bad = errno;
	if (ferror(stdout) && errno != EPIPE && !bad)
		bad = errno ? errno : EIO;
	if (fclose(stdout) != 0 && errno != EPIPE && !bad)
		bad = errno;
	if (bad) {
		fprintf(stderr, "%s: write error on stdout: %s\n", ja_progname, strerror(bad));
		return rc ? rc : EXIT_FAIL;
	}
	return rc;
}

int mkdir_p(const char *path, int parents_only)
{
	char *p = xstrdup(path);
	int rc = 0, e = 0;
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		if (!c && parents_only)
			break;
		*s = 0;
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			rc = -1;
			e = errno;
			break;
		}
		if (!(*s = c))
			break;
	}
	free(p);
	if (rc)
		errno = e;
	return rc;
}
