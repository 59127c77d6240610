/* hash.h - XXH3-128 (seed 0) of buffers, streams and files, whole or in chunks.
 *
 * The hex form is 32 lowercase hex digits, high64 then low64: the XXH128
 * canonical form that `xxhsum -H2`, deadline-cloud and every manifest use.
 * All hashing goes through libxxhash's _dispatch entry points (AVX2 when the
 * CPU has it).
 *
 * Chunks (v2025 manifests): a file of more than chunk_size bytes (normally
 * HASH_CHUNK_SIZE = 2^28; exactly 2^28 is NOT chunked) is hashed as
 * ceil(size / chunk_size) independent pieces, piece i covering bytes
 * [i*chunk_size, min((i+1)*chunk_size, size)).  The whole-file hash of such a
 * file is not computed (a v2025 manifest holds only the chunk hashes).
 *
 * This module also reads and writes the lines of checksum lists
 * (`HASH  NAME`, the GNU escaped form `\HASH  NAME`, and the BSD form
 * `XXH128 (NAME) = HASH`).
 *
 * Nothing here prints or exits; errors fill a struct ja_err.  Every function
 * is safe to call from several threads at once on different objects.
 */
#ifndef JA_HASH_H
#define JA_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#include "buf.h"
#include "util.h"

#define HASH_HEX_LEN	32
#define HASH_HEX_SIZE	33 /* with the NUL */
#define HASH_CHUNK_SIZE ((uint64_t)1 << 28)

/* --- digests ----------------------------------------------------------- */

/* Write the 32 hex digits and a NUL to hex (HASH_HEX_SIZE bytes). */
void hash_format(XXH128_hash_t h, char *hex);
/* Parse exactly n == 32 hex digits (either case) at s; 0, or -1 if not a digest. */
int hash_parse(const char *s, size_t n, XXH128_hash_t *h);
int hash_equal(XXH128_hash_t a, XXH128_hash_t b);

/* One-shot hash of n bytes at p (borrowed). */
XXH128_hash_t hash_mem(const void *p, size_t n);
/* The same, formatted into hex (HASH_HEX_SIZE bytes). */
void hash_mem_hex(const void *p, size_t n, char *hex);

/* --- streaming --------------------------------------------------------- */

/* Hash data that arrives in pieces (a download, a pipe).  Feeding the same
 * bytes in any split gives hash_mem() of their concatenation. */
struct hash_stream {
	XXH3_state_t *st; /* owned; freed by hash_stream_release */
	uint64_t len;	  /* bytes fed since init/reset */
};

void hash_stream_init(struct hash_stream *s); /* allocates; pair with hash_stream_release */
void hash_stream_reset(struct hash_stream *s);
void hash_stream_update(struct hash_stream *s, const void *p, size_t n); /* p borrowed */
/* Digest of what was fed so far; the stream can go on being updated. */
XXH128_hash_t hash_stream_digest(const struct hash_stream *s);
void hash_stream_release(struct hash_stream *s);
/* hash_stream_digest, then hash_stream_release: the usual end of a stream. */
XXH128_hash_t hash_stream_final(struct hash_stream *s);

/* --- chunk arithmetic -------------------------------------------------- */

/* Number of hashes a file of size bytes gets: 1 when size <= chunk_size (or
 * chunk_size == 0: one whole-file hash), else ceil(size / chunk_size). */
uint64_t hash_chunk_count(uint64_t size, uint64_t chunk_size);
/* Byte range of piece i (i < hash_chunk_count(size, chunk_size)). */
void hash_chunk_range(uint64_t size, uint64_t chunk_size, uint64_t i, uint64_t *off, uint64_t *len);

/* --- files ------------------------------------------------------------- */

struct hash_opts {
	uint64_t chunk_size; /* 0: whole content only; HASH_CHUNK_SIZE for v2025 */
	int threads;	     /* threads one large regular file may use (<= 1: the caller's only) */
};

struct hash_result {
	uint64_t size;	       /* bytes hashed */
	XXH128_hash_t whole;   /* whole-content hash; valid when nchunks == 0 */
	size_t nchunks;	       /* 0: not chunked; else the number of chunk hashes */
	XXH128_hash_t *chunks; /* nchunks hashes, owned; free with hash_result_release */
};

/* Hash everything readable from fd (borrowed, not closed) from its current
 * position on, and leave the position at the end, as a reader would.  A
 * regular file is hashed up to the size fstat reports at the start (the last
 * bytes of a file that grows meanwhile are not); a small one to EOF.  0, or -1 with err
 * filled (the message does not name the file: prefix it, e.g. "Is a directory").
 * r must be released with hash_result_release on success. */
int hash_fd(int fd, const struct hash_opts *o, struct hash_result *r, struct ja_err *err);
/* hash_fd of the file at path ("-" is not special here).  The message on
 * error does not name the file either. */
int hash_file(const char *path, const struct hash_opts *o, struct hash_result *r,
	      struct ja_err *err);
/* Hash len bytes of fd (a regular file, borrowed) at offset off, on up to
 * threads threads; the file position is not used.  -1 with err if the file is
 * shorter than off + len. */
int hash_fd_range(int fd, uint64_t off, uint64_t len, int threads, XXH128_hash_t *h,
		  struct ja_err *err);
/* Piece i of fd's content split by o->chunk_size (what hash_fd would put in
 * chunks[i], or whole when there is one piece) without hashing the rest of a
 * regular file.  *count gets the number of pieces; when i >= *count, *h is not
 * set and the result is 0 all the same.  hash_file_piece opens path first.
 * Messages on error do not name the file. */
int hash_fd_piece(int fd, const struct hash_opts *o, uint64_t i, uint64_t *count, XXH128_hash_t *h,
		  struct ja_err *err);
int hash_file_piece(const char *path, const struct hash_opts *o, uint64_t i, uint64_t *count,
		    XXH128_hash_t *h, struct ja_err *err);
void hash_result_release(struct hash_result *r);

/* --- checksum list lines ----------------------------------------------- */

/* Does name need the escaped form (it holds '\\', '\n' or '\r')? */
int hash_name_needs_escape(const char *name);
/* Append one list line and its '\n' to out: "HASH  NAME", or when piece is not
 * NULL "HASH  PIECE  NAME" (PIECE like "0/2").  A name that needs escaping
 * is written GNU coreutils style: the line starts with '\\' and '\\', LF and
 * CR in the name become "\\\\", "\\n" and "\\r".  Returns buf_add's result. */
int hash_list_add(struct buf *out, const char *hex, const char *piece, const char *name);

struct hash_list_entry {
	XXH128_hash_t hash;
	char *name;	  /* unescaped, NUL-terminated; points into the line passed */
	int has_piece;	  /* a "I/N" field was present (with_piece set) */
	uint64_t piece_i; /* chunk index, 0-based */
	uint64_t piece_n; /* number of pieces (1: whole file) */
};

/* Parse one list line (without its '\n'), in place: line[0..len) is modified
 * and line[len] must be writable (it becomes the name's NUL).  Accepts
 * "HASH  NAME", "HASH *NAME", "XXH128 (NAME) = HASH" and their escaped forms
 * (leading '\\').  with_piece: expect "HASH  I/N  NAME" (the --chunks form)
 * instead.  0, or -1 when the line is not in one of these forms. */
int hash_list_parse(char *line, size_t len, int with_piece, struct hash_list_entry *e);

#endif
