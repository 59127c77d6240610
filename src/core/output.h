/* output.h - writing results: stdout or a file replaced atomically. */
#ifndef JA_OUTPUT_H
#define JA_OUTPUT_H
#include <stddef.h>
#include "util.h"

/* Write p[0..n) to path ("-" or NULL = stdout).  A file is written to a temporary
 * name beside it, fsynced and renamed, so readers never see a partial manifest. */
int output_write(const char *path, const void *p, size_t n, struct ja_err *err);
struct manifest;
/* Canonical bytes of m (sorted in place) to path, as output_write. */
int output_manifest(const char *path, struct manifest *m, struct ja_err *err);
#endif
