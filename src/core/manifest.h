/* manifest.h - one in-memory model for job-attachment manifests, v2023-03-03 and v2025-12.
 *
 * Paths, hashes and symlink targets are UTF-8 strings owned by the manifest's arena.
 * The model keeps what both versions can say; encode writes the canonical bytes of
 * the manifest's version (spec/FORMATS.md §1.2, §2.3).
 */
#ifndef JA_MANIFEST_H
#define JA_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "buf.h"
#include "util.h"

#define CHUNK_SIZE ((int64_t)1 << 28) /* v2025: files larger than this carry chunk hashes */

enum mver { MVER_2023 = 1, MVER_2025 = 2 };
enum mtype { MTYPE_SNAPSHOT, MTYPE_DIFF };
enum mstyle { MSTYLE_RELATIVE, MSTYLE_ABSOLUTE };

enum {
	MF_RUNNABLE = 1, /* v2025 "runnable": true */
	MF_DELETED = 2,	 /* v2025 diff delete marker */
};

struct mfile {
	const char *path;
	const char *hash;    /* whole-file hash; NULL when chunked, a symlink or deleted */
	const char **chunks; /* v2025 chunk hashes (nchunks > 0) */
	const char *symlink; /* v2025 symlink target (root-relative or absolute), or NULL */
	int64_t size, mtime; /* bytes, microseconds since the epoch */
	uint32_t pathlen;
	uint32_t nchunks;
	uint32_t ord; /* input order, for messages and stable merges */
	uint8_t flags;
};

struct mdir {
	const char *path;
	uint32_t pathlen;
	uint8_t deleted;
};

struct manifest {
	enum mver ver;
	enum mtype type;
	enum mstyle style;
	int gen; /* v2025 wire generation read (1, 2, 3); 0 for v2023 or new */
	struct mfile *files;
	size_t nfiles, capfiles;
	struct mdir *dirs;
	size_t ndirs, capdirs;
	int64_t total_size;
	const char *parent_hash; /* v2025 diff: xxh128 of the parent's canonical bytes */
	struct arena arena;
};

void manifest_init(struct manifest *m, enum mver ver);
void manifest_release(struct manifest *m);

/* Append entries; strings are copied into the arena.  Returned pointers stay valid
 * until the next add. */
struct mfile *manifest_add_file(struct manifest *m, const char *path, size_t len);
struct mdir *manifest_add_dir(struct manifest *m, const char *path, size_t len, int deleted);
const char *manifest_strdup(struct manifest *m, const char *s, size_t len);

/* Decode and validate buf[0..len) (need not be NUL-terminated).  The version is detected from the
 * document.  Errors name the entry: "paths[3].size: not an integer" (code 2). */
int manifest_decode(struct manifest *m, const char *buf, size_t len, struct ja_err *err);
/* Read and decode a file ("-" = stdin) with the input size limit. */
int manifest_load(struct manifest *m, const char *path, struct ja_err *err);

/* Canonical bytes (appended to out).  Sorts m's entries; fails for a model that the
 * version cannot express (e.g. an empty v2023 manifest). */
int manifest_encode(struct manifest *m, struct buf *out, struct ja_err *err);
/* Where manifest_encode_to sends bytes: 0, or -1 with err. */
typedef int manifest_write_fn(void *ctx, const void *p, size_t n, struct ja_err *err);
/* As manifest_encode, but the bytes go to write(ctx, ...) in pieces of about 1 MiB as
 * they are made, so a big manifest is never whole in memory.  Every check of the model
 * comes first: when it fails, write has not been called. */
int manifest_encode_to(struct manifest *m, manifest_write_fn *write, void *ctx, struct ja_err *err);

/* Sum of the sizes of files that are neither deleted nor symlinks. */
int64_t manifest_sum_sizes(const struct manifest *m);

/* Compare two UTF-8 strings by UTF-16 code units (the v2023 path order). */
int utf16_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Sort files by UTF-16 order of their path (stable on ord). */
void manifest_sort_files(struct manifest *m);

/* xxh128 hex of bytes (33 bytes with the NUL). */
void manifest_hash_bytes(const void *p, size_t n, char out[33]);

/* Merge inputs into out (initialised by the call, caller releases).
 * v2023: later wins per path.  v2025: a snapshot followed by diffs composes into a
 * snapshot, diffs alone compose into a diff (spec §7.4).  totalSize is recomputed. */
int manifest_merge(struct manifest *out, struct manifest *const *in, size_t n, struct ja_err *err);
/* The same for a caller that is done with the inputs: a single input moves into out
 * (no copy), and out adopts the strings of several; each in[i] is left empty (releasing
 * it is still allowed).  The inputs' entry arrays are freed before this returns. */
int manifest_merge_consume(struct manifest *out, struct manifest *const *in, size_t n,
			   struct ja_err *err);

/* Convert m to version ver in place where nothing is lost; an error names what
 * the target cannot express. */
int manifest_convert(struct manifest *m, enum mver ver, struct ja_err *err);

/* Largest manifest accepted as input (bytes); JA_MAX_MANIFEST_BYTES overrides. */
size_t manifest_max_input(void);

const char *manifest_spec_string(const struct manifest *m);

#endif
