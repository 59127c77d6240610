/* util.h - process-wide helpers: allocation, errors, messages.
 *
 * The core never prints and never exits, except through the x* allocators
 * (out of memory is fatal).  It reports problems by filling a struct ja_err
 * that the applet turns into one line on stderr.
 */
#ifndef JA_UTIL_H
#define JA_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define JA_VERSION "0.1.0"

/* Exit codes of the CLI contract. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOAPPLET = 127 };

struct ja_err {
	int code; /* exit code the applet should use: EXIT_FAIL or EXIT_USAGE */
	char msg[1024];
};

/* Fill err (if not NULL) with a formatted message; returns -1 for "return err_set(...)". */
int err_set(struct ja_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the message already in err with "PREFIX: ". */
void err_prefix(struct ja_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The applet name used in messages ("ja-hash"); set by the dispatcher. */
extern const char *ja_progname;
extern int ja_verbose; /* -v count; -1 for -q */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grow *p (an array of elem-sized items with capacity *cap) to hold at least need items. */
void xgrow(void **p, size_t *cap, size_t need, size_t elem);

/* Messages on stderr, prefixed with "ja-APPLET: ".  die() exits with code. */
void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* An error line; printed even with -q. */
void errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void infox(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report err (with its code) and exit. */
void die_err(const struct ja_err *err) __attribute__((noreturn));

/* Escape control characters (and invalid UTF-8) of a file name for terminal output.
 * Returns a static buffer (rotating among four), good for the next few calls. */
const char *esc_name(const char *s);

/* Value of one hex digit (either case), or -1. */
int hex_value(int c);

/* mkdir -p: path and its missing parents (0777 & umask), or with parents_only only
 * the directories above its last component.  0, or -1 with errno set. */
int mkdir_p(const char *path, int parents_only);

/* Checked integer helpers. */
int add_overflow_i64(int64_t a, int64_t b, int64_t *out);

/* Flush and close stdout; a write error (full disk) is fatal, EPIPE is silent.
 * Called by the dispatcher after every applet. Returns the exit code to use. */
int close_stdout(int rc);

#endif
