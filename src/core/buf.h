/* buf.h - growable byte buffer with a size cap.
 *
 * Invariants: p is never NULL (an empty buf points at a static ""), p[len] == 0,
 * len <= max.  Adding past max is refused (buf_* return -1 and set b->over),
 * so an oversized input is an error, not an OOM kill.
 */
#ifndef JA_BUF_H
#define JA_BUF_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct buf {
	char *p;
	size_t len, cap, max;
	int over; /* set once an add was refused for exceeding max */
};

#define BUF_UNLIMITED SIZE_MAX
#define BUF_INIT                                                                                   \
	{                                                                                          \
		.p = (char *)buf_empty, .max = BUF_UNLIMITED                                       \
	}
extern const char buf_empty[1];

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b); /* frees and re-inits (keeps max) */
/* Detach the bytes: caller frees the result (NUL-terminated); b is re-inited. */
char *buf_detach(struct buf *b, size_t *len);
int buf_reserve(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b); /* len = 0, keeps memory */
/* Append all of fd; -1 with err on read error or when max is exceeded (what names the input). */
int buf_read_fd(struct buf *b, int fd, const char *what, struct ja_err *err);
/* Read a whole file ("-" = stdin). */
int buf_read_file(struct buf *b, const char *path, struct ja_err *err);

/* A whole input, mapped when it is a regular file, read into a buf otherwise
 * (pipes, terminals).  p[0..len) is valid until fmap_release; p[len] is NOT
 * guaranteed to be NUL for a mapped file. */
struct fmap {
	const char *p;
	size_t len;
	void *addr;
	size_t maplen;
	struct buf b;
};
/* path "-" = stdin.  Inputs over max bytes are an error (code 2). */
int fmap_open(struct fmap *m, const char *path, size_t max, struct ja_err *err);
void fmap_release(struct fmap *m);

#endif
