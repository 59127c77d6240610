/* dest.h - writing downloaded files into a destination directory safely (spec §8,
 * decisions (c), (d), (e)).
 *
 * The flow of a download (ja-get):
 *   dest_opts_init(&o); o.conflict = ...; dest_open(&d, DIR, &o, &err);
 *   dest_free_bytes(&d, &free, &err): the caller compares it with totalSize;
 *   dest_check_path(path, len, &err) for every manifest path before writing anything;
 *   v2025 diff: dest_delete / dest_rmdir, before anything is written;
 *   v2025 directories (empty ones too): dest_mkdirs(&d, path, &err);
 *   each file: dest_existing(...) - MATCH: nothing to do (resume); with DEST_SKIP and
 *     anything there: skip the download;
 *     dest_tmp_create(&d, path, &f, &err) - a locked 0600 temporary beside the target;
 *     pwrite(f->fd, ...) - the caller streams and hashes;
 *     dest_finish(&d, f, mtime_us, runnable, &final, &err), or dest_abort(&d, f);
 *   v2025 symlinks: dest_symlink(&d, path, target, &final, &err);
 *   dest_close(&d).
 *
 * Safety (decision d).  Paths are '/'-separated and relative to DEST; dest_check_path
 * refuses absolute paths, empty, "." and ".." components, NUL bytes, components over
 * NAME_MAX (255) bytes, paths over DEST_PATH_MAX bytes and names starting with
 * DEST_TMP_PREFIX (they would look like stale temporaries to a later sweep).  A
 * backslash, a drive-like "C:" and control characters are legal POSIX name bytes and
 * are kept (a manifest always uses '/'; messages escape names through esc_name).
 * Directories are walked one component at a time with openat(O_NOFOLLOW|O_DIRECTORY)
 * from DEST, so paths longer than PATH_MAX work and nothing is ever resolved through a
 * symlink below DEST: an existing symlink or non-directory where a directory is
 * needed is an error ("PATH: a symlink or non-directory is in the way"), a symlink at
 * a file's own name is replaced (OVERWRITE) or counted as a conflict, never written
 * through.  DEST itself (the user's choice) may be or lie under a symlink.
 *
 * Every function but dest_open and dest_close may be called from several threads at
 * once on the same struct dest: a mutex guards the directory cache (up to DEST_CACHE
 * open directory handles, least recently used evicted) and the set of prepared
 * directories; the rest is system calls on handles of the caller's own.  A dest_file
 * is used by one thread at a time.
 *
 * Nothing here prints or exits; errors fill a struct ja_err (code EXIT_FAIL) naming
 * the relative path.
 */
#ifndef JA_DEST_H
#define JA_DEST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"
#include "strmap.h"
#include "util.h"

#define DEST_PATH_MAX	32767 /* bytes; the Windows extended-length limit: no real tree has more */
#define DEST_TMP_PREFIX ".ja-tmp-"
#define DEST_CACHE	64	  /* open directory handles kept */
#define DEST_COPY_MAX	10000	  /* highest N tried for "stem (N).ext" */
#define DEST_SWEEP_AGE	5	  /* default seconds before an unlocked temporary is stale */
#define DEST_MTIME_NONE INT64_MIN /* dest_finish: keep the write time */

/* What happens when the target name is taken by a file, a symlink or anything else that
 * is not a directory (a directory in the way is an error under every policy). */
enum dest_conflict {
	DEST_COPY,	/* place the new file at "stem (N).ext", N = 1, 2, 3 ... (decision e) */
	DEST_SKIP,	/* keep what is there, discard the new file */
	DEST_OVERWRITE, /* replace the directory entry (a symlink is replaced, not followed) */
};

struct dest_opts {
	enum dest_conflict conflict;
	mode_t file_mode; /* OR-ed into every file's mode (the worker's 020, §8.1) */
	mode_t dir_mode;  /* OR-ed into every directory from a file's parent up to DEST */
	long group;	  /* gid given to those files and directories; -1: leave */
	int umask;	  /* applied to 0666 / 0777; -1: the process's umask */
	/* Seconds an unlocked temporary must have been unchanged (ctime) before a sweep
	 * removes it; < 0: never sweep.  Temporaries of a running ja-get are flock()ed and
	 * never removed; the age covers the instants they are not (between create and
	 * lock, and in dest_finish between close and rename). */
	int sweep_age;
	/* Tests only: 1 = behave as if RENAME_NOREPLACE were unsupported (link + unlink),
	 * 2 = as if hard links were too (exclusive create of the name, then rename). */
	int compat_test;
};

/* conflict DEST_COPY, no extra mode bits, group -1, umask -1, sweep_age DEST_SWEEP_AGE. */
void dest_opts_init(struct dest_opts *o);

struct dest_dir {
	char *path; /* relative to DEST, owned */
	size_t len;
	int fd; /* O_PATH|O_DIRECTORY */
	uint64_t used;
};

/* Internals; use through the functions below. */
struct dest {
	int root; /* O_PATH|O_DIRECTORY on DEST */
	char *root_path;
	struct dest_opts o;
	mode_t umask;
	pthread_mutex_t mu;
	struct dest_dir cache[DEST_CACHE];
	size_t ncache;
	uint64_t tick;
	struct strmap prepared; /* dir path -> 1 once mode, group and sweep were applied */
	struct arena keys;	/* the prepared set's keys */
};

/* Open DEST (dir, borrowed), creating it and its parents if missing; o NULL = defaults
 * (copied).  Release with dest_close. */
int dest_open(struct dest *d, const char *dir, const struct dest_opts *o, struct ja_err *err);
void dest_close(struct dest *d);

/* 0 if path is a safe relative path to write (the rules above), else -1.  path is a C
 * string; len is its length as the manifest gave it, so len > strlen(path) means an
 * embedded NUL (refused). */
int dest_check_path(const char *path, size_t len, struct ja_err *err);

/* 0 if a symlink at relpath may point at target (the literal link text, relative to the
 * link's directory; a manifest's root-relative target is the caller's to convert).
 * Lexical rules that keep it inside DEST even through other links: relative only, ".."
 * only as a leading run and never climbing above DEST, at most PATH_MAX - 1 bytes. */
int dest_check_link(const char *relpath, const char *target, struct ja_err *err);

/* Create directory reldir (mkdir -p below DEST; "" = DEST itself), applying dir_mode
 * and group to it and every directory above it up to DEST, once per directory per
 * struct dest; the first use of a directory also sweeps its stale temporaries.  Used
 * for v2025 empty directories; dest_tmp_create and dest_symlink do it themselves. */
int dest_mkdirs(struct dest *d, const char *reldir, struct ja_err *err);

/* A file being written: fd is open read-write on a temporary (mode 0600, flock()ed)
 * in the target's directory.  The other fields are internal. */
struct dest_file {
	int fd;
	int dirfd;
	char *path;	  /* the target, relative to DEST */
	const char *name; /* its last component (inside path) */
	char tmp[32];
};

/* Check relpath, create its directories (as dest_mkdirs) and a temporary for it.  A
 * directory already at relpath is an error here, before any byte is downloaded.  On
 * success *fp is the caller's until it is passed to dest_finish or dest_abort. */
int dest_tmp_create(struct dest *d, const char *relpath, struct dest_file **fp, struct ja_err *err);

enum dest_result {
	DEST_PLACED,  /* at its own name */
	DEST_SKIPPED, /* DEST_SKIP and the name was taken (or an identical symlink was there) */
	DEST_COPIED,  /* DEST_COPY and the name was taken: placed at "stem (N).ext" */
};

/* Finish f (consumed, even on error) after the last write: group, mode
 * ((0666 & ~umask), runnable adds x where r is set, then | file_mode), the exact mtime
 * (atime = mtime = mtime_us * 1000 ns, decision c; DEST_MTIME_NONE keeps the write
 * time), close, then rename into place under the conflict policy (a name is claimed
 * atomically: RENAME_NOREPLACE, else a hard link, else an exclusive create).  Returns an enum
 * dest_result, or -1 (the temporary is removed).  final (may be NULL) receives the path where the
 * file now is, relative to DEST (caller frees), or NULL when skipped.  No fsync: a caller that
 * needs durability fsyncs f->fd first. */
int dest_finish(struct dest *d, struct dest_file *f, int64_t mtime_us, int runnable, char **final,
		struct ja_err *err);
/* Remove f's temporary and free f. */
void dest_abort(struct dest *d, struct dest_file *f);

enum dest_state {
	DEST_ABSENT,	/* nothing at relpath (or a directory on its way is missing) */
	DEST_DIFFERENT, /* something else: other size or mtime, a symlink, a directory ... */
	DEST_MATCH,	/* a regular file of that size, mtime within ±1 µs (decision c) */
};

/* What is at relpath now (no directory is created).  With fdp (may be NULL) and a
 * MATCH, *fdp is the file opened O_RDONLY|O_NOFOLLOW for the caller's hash check
 * (caller closes), else -1.  Returns an enum dest_state, or -1 (bad path, a symlink or
 * non-directory in the way, I/O error). */
int dest_existing(struct dest *d, const char *relpath, int64_t size, int64_t mtime_us, int *fdp,
		  struct ja_err *err);

/* Bytes available to an unprivileged user on DEST's file system (f_bavail * f_frsize). */
int dest_free_bytes(struct dest *d, uint64_t *out, struct ja_err *err);

/* v2025 symlink: check both (dest_check_path, dest_check_link), create the
 * directories, then place a new link (made at a temporary name) under the conflict
 * policy, like a file.  A link with the same target already there is left alone
 * (DEST_SKIPPED).  Returns an enum dest_result or -1; final as for dest_finish. */
int dest_symlink(struct dest *d, const char *relpath, const char *target, char **final,
		 struct ja_err *err);

/* v2025 diff deletions; links are removed, never followed.  dest_delete removes a
 * non-directory: 1 removed, 0 nothing there, -1 error (a directory is an error). */
int dest_delete(struct dest *d, const char *relpath, struct ja_err *err);

enum dest_rm { DEST_RM_DONE, DEST_RM_ABSENT, DEST_RM_NOTEMPTY };
/* Remove an empty directory: an enum dest_rm (a non-empty one is kept), or -1 (not a
 * directory, I/O error).  Call before writing anything below that path. */
int dest_rmdir(struct dest *d, const char *relpath, struct ja_err *err);

/* Remove stale temporaries (DEST_TMP_PREFIX) in reldir ("" = DEST): regular files no
 * process holds a lock on, and symlinks, unchanged (ctime) for sweep_age seconds
 * (DEST_SWEEP_AGE when sweep_age < 0).  Best effort: an entry that cannot be checked is
 * left alone.  *removed (may be NULL) counts what went.  Normally implicit (the first
 * use of each directory); this is for a caller that wants a directory cleaned without
 * writing to it.  A missing reldir is not an error. */
int dest_sweep_tmp(struct dest *d, const char *reldir, size_t *removed, struct ja_err *err);

#endif
