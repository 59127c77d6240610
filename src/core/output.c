/* output.c - results to stdout or atomically to a file. */
#include "output.h"
#include "buf.h"
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* An output being written: stdout, or a temporary file beside path, created at the
 * first write (so an encoding error leaves nothing behind and is reported first). */
struct out {
	const char *path; /* NULL: stdout */
	char *tmp;
	int fd;
};

static void out_init(struct out *o, const char *path)
{
	o->path = path && strcmp(path, "-") ? path : NULL;
	o->tmp = NULL;
	o->fd = -1;
}

static int out_fail(struct out *o, struct ja_err *err)
{
	err_set(err, EXIT_FAIL, "%s: %s", esc_name(o->path), strerror(errno)); /* before close */
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return -1;
}

static int out_write(void *ctx, const void *p, size_t n, struct ja_err *err)
{
	struct out *o = ctx;
	if (!o->path) {
		if (fwrite(p, 1, n, stdout) != n) {
			int e = errno;
			/* reported here: drop the rest, or close_stdout reports it again */
			__fpurge(stdout);
			clearerr(stdout);
			return err_set(err, EXIT_FAIL, "write error on stdout: %s", strerror(e));
		}
		return 0;
	}
	if (!o->tmp) {
		size_t len = strlen(o->path);
		o->tmp = xmalloc(len + 32);
		snprintf(o->tmp, len + 32, "%s.tmp.%ld", o->path, (long)getpid());
		o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (o->fd < 0) {
			err_set(err, EXIT_FAIL, "%s: %s", esc_name(o->path), strerror(errno));
			free(o->tmp); /* not ours to unlink */
			o->tmp = NULL;
			return -1;
		}
	}
	if (write_all(o->fd, p, n) < 0)
		return out_fail(o, err);
	return 0;
}

/* Make what was written visible: flush stdout, or fsync and rename the file. */
static int out_commit(struct out *o, struct ja_err *err)
{
	if (!o->path) {
		if (fflush(stdout) != 0) {
			int e = errno;
			__fpurge(stdout);
			clearerr(stdout);
			return err_set(err, EXIT_FAIL, "write error on stdout: %s", strerror(e));
		}
		return 0;
	}
	if (!o->tmp && out_write(o, "", 0, err) < 0) /* nothing written: still a file */
		return -1;
	if (fsync(o->fd) < 0)
		return out_fail(o, err);
	if (close(o->fd) < 0) {
		o->fd = -1;
		return out_fail(o, err);
	}
	o->fd = -1;
	if (rename(o->tmp, o->path) < 0)
		return out_fail(o, err);
	free(o->tmp);
	o->tmp = NULL;
	return 0;
}

/* Drop a half-written file after an error. */
static void out_abort(struct out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
}

int output_write(const char *path, const void *p, size_t n, struct ja_err *err)
{
	struct out o;
	out_init(&o, path);
	if (out_write(&o, p, n, err) < 0 || out_commit(&o, err) < 0) {
		out_abort(&o);
		return -1;
	}
	return 0;
}

int output_manifest(const char *path, struct manifest *m, struct ja_err *err)
{
	struct out o;
	out_init(&o, path);
	/* streamed: a big manifest is never whole in memory */
	if (manifest_encode_to(m, out_write, &o, err) < 0 || out_commit(&o, err) < 0) {
		out_abort(&o);
		return -1;
	}
	return 0;
}
