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

int output_write(const char *path, const void *p, size_t n, struct ja_err *err)
{
	char *tmp;
	size_t len;
	int fd;
	if (!path || !strcmp(path, "-")) {
		if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
			int e = errno;
			/* reported here: drop the rest, or close_stdout reports it again */
			__fpurge(stdout);
			clearerr(stdout);
			return err_set(err, EXIT_FAIL, "write error on stdout: %s", strerror(e));
		}
		return 0;
	}
	len = strlen(path);
	tmp = xmalloc(len + 32);
	snprintf(tmp, len + 32, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		err_set(err, EXIT_FAIL, "%s: %s", esc_name(path), strerror(errno));
		free(tmp);
		return -1;
	}
	if (write_all(fd, p, n) < 0 || fsync(fd) < 0) {
		err_set(err, EXIT_FAIL, "%s: %s", esc_name(path), strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		err_set(err, EXIT_FAIL, "%s: %s", esc_name(path), strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int output_manifest(const char *path, struct manifest *m, struct ja_err *err)
{
	struct buf enc = BUF_INIT;
	int rc = manifest_encode(m, &enc, err);
	if (!rc)
		rc = output_write(path, enc.p, enc.len, err);
	buf_release(&enc);
	return rc;
}
