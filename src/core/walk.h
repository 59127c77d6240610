/* walk.h - read a directory tree into a flat list of entries (spec §7.1, §7.6).
 *
 * The walk descends with openat() from open directory handles, never resolving a
 * long path again, so trees deeper than PATH_MAX work.  Directory symlinks are
 * never descended.  What happens to other symlinks is the caller's choice:
 *   WALK_FOLLOW    a link to a regular file is listed under the link's path with
 *                  the target's size and mtime (the Python tool's v2023 rule);
 *                  links to directories, dangling links and loops are skipped; a
 *                  target that cannot be reached (EACCES) is an unreadable entry.
 *   WALK_PRESERVE  a link whose target stays inside the root (resolved as far as it
 *                  exists, so a detour through a directory link that leaves the
 *                  tree counts as leaving) is listed as a link with its target
 *                  relative to the root; a link that escapes is followed when it
 *                  points at a file (and reported), else skipped and reported.
 *   WALK_SKIP      symlinks are ignored.
 */
#ifndef JA_WALK_H
#define JA_WALK_H

#include <stdint.h>
#include <sys/types.h>
#include "arena.h"
#include "glob.h"
#include "util.h"

enum walk_links { WALK_FOLLOW, WALK_PRESERVE, WALK_SKIP };
enum went_type { WENT_FILE, WENT_LINK, WENT_DIR };

struct went {
	const char *path;   /* relative to the root, '/'-separated, in the walk's arena */
	const char *target; /* WENT_LINK: target relative to the root */
	const char *name;   /* last component of path (points into path) */
	int64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns; /* inode change time: part of the hash cache key */
	uint32_t len;
	uint32_t dir; /* index of the parent directory handle (internal) */
	uint8_t type;
	uint8_t exec;	  /* any x bit set (v2025 runnable) */
	uint8_t via_link; /* a followed symlink */
};

struct walk_opts {
	enum walk_links links;
	int empty_dirs;		     /* list empty directories (v2025) */
	int skip_unreadable;	     /* unreadable entries and non-UTF-8 names: warn, go on */
	const struct globset *globs; /* selection; NULL = everything */
	int jobs;		     /* threads for the top-level subdirectories */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
};

struct walk {
	struct arena arena;
	struct went *v;
	size_t n, cap;
	char *root; /* absolute, normalised (no symlinks resolved) */
	int rootfd; /* open on the root, O_PATH|O_DIRECTORY */
	size_t nwarnings;
};

/* Walk root into w (initialised here; release with walk_release).  -1 with err on an
 * unreadable root, an unreadable entry, or a selected path that is not UTF-8 (unless
 * skip_unreadable). */
int walk_tree(const char *root, const struct walk_opts *o, struct walk *w, struct ja_err *err);
void walk_release(struct walk *w);

/* Open path (relative to dirfd, '/'-separated, any length) for reading, following a
 * symlink only in the last component when follow_last. */
int walk_open(int dirfd, const char *path, int follow_last, struct ja_err *err);

/* The absolute, lexically normalised form of path (cwd-relative allowed); caller frees. */
char *path_absolute(const char *path);

#endif
