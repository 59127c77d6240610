/* manifest.c - the manifest model: decode, validate and canonical encode.
 * Formats: spec/FORMATS.md §1 (v2023-03-03) and §2 (v2025-12, generations G1-G3). */
#include "manifest.h"
#include "json.h"
#include "strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MAX_DEPTH    4096		/* directory levels in a v2025 name */
#define EXPAND_SLACK ((size_t)64 << 20) /* expansion budget: 64 MiB + 128 x input */

static const char *const spec_strings[2][2] = {
    {"relative-manifest-snapshot-beta-2025-12", "relative-manifest-diff-beta-2025-12"},
    {"absolute-manifest-snapshot-beta-2025-12", "absolute-manifest-diff-beta-2025-12"},
};

/* A name quoted in a message: escaped, and cut so that the message says what is wrong. */
static const char *msg_name(const char *p)
{
	static char ring[4][208];
	static int next;
	const char *e = esc_name(p);
	char *o;
	size_t n = strlen(e);
	if (n <= 200)
		return e;
	o = ring[next++ & 3];
	for (n = 200; n > 0 && ((unsigned char)e[n] & 0xc0) == 0x80; n--)
		;
	memcpy(o, e, n);
	memcpy(o + n, "...", 4);
	return o;
}

void manifest_init(struct manifest *m, enum mver ver)
{
	memset(m, 0, sizeof(*m));
	m->ver = ver;
	arena_init(&m->arena);
}

void manifest_release(struct manifest *m)
{
	free(m->files);
	free(m->dirs);
	arena_release(&m->arena);
	memset(m, 0, sizeof(*m));
}

const char *manifest_strdup(struct manifest *m, const char *s, size_t len)
{
	return arena_strndup(&m->arena, s, len);
}

struct mfile *manifest_add_file(struct manifest *m, const char *path, size_t len)
{
	struct mfile *f;
	xgrow((void **)&m->files, &m->capfiles, m->nfiles + 1, sizeof(*f));
	f = &m->files[m->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = manifest_strdup(m, path, len);
	f->pathlen = (uint32_t)len;
	f->ord = (uint32_t)m->nfiles++;
	return f;
}

struct mdir *manifest_add_dir(struct manifest *m, const char *path, size_t len, int deleted)
{
	struct mdir *d;
	xgrow((void **)&m->dirs, &m->capdirs, m->ndirs + 1, sizeof(*d));
	d = &m->dirs[m->ndirs++];
	d->path = manifest_strdup(m, path, len);
	d->pathlen = (uint32_t)len;
	d->deleted = (uint8_t) !!deleted;
	return d;
}

const char *manifest_spec_string(const struct manifest *m)
{
	return spec_strings[m->style == MSTYLE_ABSOLUTE][m->type == MTYPE_DIFF];
}

int64_t manifest_sum_sizes(const struct manifest *m)
{
	int64_t t = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		if (!(f->flags & MF_DELETED) && !f->symlink && add_overflow_i64(t, f->size, &t))
			return INT64_MAX;
	}
	return t;
}

void manifest_hash_bytes(const void *p, size_t n, char out[33])
{
	XXH128_hash_t h = XXH3_128bits(p, n);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

size_t manifest_max_input(void)
{
	const char *e = getenv("JA_MAX_MANIFEST_BYTES");
	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 10);
		if (!*end && v > 0)
			return (size_t)v;
	}
	return (size_t)1 << 30;
}

/* ---- UTF-16 order ---------------------------------------------------------------- */

/* Decode the code point at s (valid UTF-8). */
static uint32_t cp_at(const unsigned char *s, size_t left)
{
	if (s[0] < 0x80 || left < 2)
		return s[0];
	if (s[0] < 0xe0)
		return (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu);
	if (s[0] < 0xf0 || left < 4)
		return (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
	return (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
}

/* A key whose order equals UTF-16 code-unit order: astral characters (surrogate pairs,
 * D800-DBFF) sort between U+D7FF and U+E000. */
static uint32_t utf16_key(uint32_t cp)
{
	return cp >= 0xe000 && cp <= 0xffff ? cp + 0x110000 : cp;
}

/* Length of the common prefix of a and b (n bytes each at most). */
static size_t common_prefix(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* eight bytes at a time: sibling paths share long prefixes */
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return i + (size_t)__builtin_ctzll(x ^ y) / 8;
	}
#endif
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

int utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i;
	const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;
	uint32_t ka, kb;
	i = common_prefix(ua, ub, n);
	if (i == n)
		return alen < blen ? -1 : alen > blen;
	if (ua[i] < 0x80 && ub[i] < 0x80)
		return ua[i] < ub[i] ? -1 : 1;
	while (i > 0 && (ua[i] & 0xc0) == 0x80)
		i--;
	ka = utf16_key(cp_at(ua + i, alen - i));
	kb = utf16_key(cp_at(ub + i, blen - i));
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return ua[i] < ub[i] ? -1 : 1; /* unreachable for valid UTF-8 */
}

static int file_cmp(const void *x, const void *y)
{
	const struct mfile *a = x, *b = y;
	int c = utf16_cmp(a->path, a->pathlen, b->path, b->pathlen);
	if (c)
		return c;
	return a->ord < b->ord ? -1 : a->ord > b->ord;
}

/* 1 if m's files are in file_cmp order.  *dup = the first i whose path equals that of
 * i - 1 (0 if none; meaningful only when sorted). */
static int files_sorted(const struct manifest *m, size_t *dup)
{
	*dup = 0;
	for (size_t i = 1; i < m->nfiles; i++) {
		const struct mfile *a = &m->files[i - 1], *b = &m->files[i];
		int c = utf16_cmp(a->path, a->pathlen, b->path, b->pathlen);
		if (c > 0 || (c == 0 && a->ord > b->ord))
			return 0;
		if (c == 0 && !*dup)
			*dup = i;
	}
	return 1;
}

/* Sort files (one pass when they already are); *dup as files_sorted. */
static void sort_files(struct manifest *m, size_t *dup)
{
	if (!files_sorted(m, dup)) {
		qsort(m->files, m->nfiles, sizeof(*m->files), file_cmp);
		files_sorted(m, dup);
	}
}

void manifest_sort_files(struct manifest *m)
{
	size_t dup;
	sort_files(m, &dup);
}

/* ---- decode ---------------------------------------------------------------------- */

/* Key presence bits of a file entry while parsing. */
enum {
	K_PATH = 1 << 0,
	K_NAME = 1 << 1,
	K_HASH = 1 << 2,
	K_CHUNKS = 1 << 3,
	K_SYMLINK = 1 << 4,
	K_SIZE = 1 << 5,
	K_MTIME = 1 << 6,
	K_RUNNABLE = 1 << 7,
	K_DELETE = 1 << 8,
	K_SYMG3 = 1 << 9, /* the symlink target came as {"target": ...} */
	K_OWNED = 1 << 10 /* the unexpanded name is a copy in the arena, not a slice of the input */
};

struct dec {
	struct manifest *m;
	struct jp jp;
	struct ja_err *err;
	const char *mver, *sver, *halg, *parent;
	int has_total, has_paths, has_files, has_dirs, parent_null;
	int64_t total, chunk_size;
	unsigned *raw; /* K_* per file, parallel to m->files */
	size_t capraw;
	uint32_t *ddepth;  /* number of '/' in each expanded dir name */
	unsigned *dirkeys; /* K_PATH/K_NAME/K_DELETE per dir */
	size_t capdirkeys;
	const char *arr;	 /* "paths" or "files" */
	size_t expanded, budget; /* bytes of names made by $N/ expansion, and their cap */
};

static int entry_fail(struct dec *d, const char *arr, size_t i, const char *key)
{
	if (key)
		err_prefix(d->err, "%s[%zu].%s", arr, i, key);
	else
		err_prefix(d->err, "%s[%zu]", arr, i);
	return -1;
}

/* The next value as a string (s is the parser's: borrowed or scratch), or -1 naming
 * what was there instead. */
static int next_str(struct dec *d, const char **s, size_t *n)
{
	enum jtype t = jp_peek(&d->jp);
	if (t != J_STR && t != J_NONE)
		return err_set(d->err, EXIT_USAGE, "not a string (found %s)", jp_type_name(t));
	return jp_str(&d->jp, s, n);
}

static int get_str(struct dec *d, const char **out, size_t *len)
{
	const char *s;
	size_t n;
	if (next_str(d, &s, &n) < 0)
		return -1;
	*out = manifest_strdup(d->m, s, n);
	if (len)
		*len = n;
	return 0;
}

/* A string value borrowed from the input where it is one (no escapes), else copied. The
 * file names of a big manifest are expanded (copied) later, so they are not copied twice. */
static int get_slice(struct dec *d, const char **out, size_t *len, unsigned *keys)
{
	const char *s;
	size_t n;
	if (next_str(d, &s, &n) < 0)
		return -1;
	if (s == d->jp.str.p) { /* the decoder's scratch space */
		s = manifest_strdup(d->m, s, n);
		*keys |= K_OWNED;
	} else {
		*keys &= ~(unsigned)K_OWNED;
	}
	*out = s;
	*len = n;
	return 0;
}

static const unsigned char alnum_tab[256] = {
    ['0' ... '9'] = 1,
    ['A' ... 'Z'] = 1,
    ['a' ... 'z'] = 1,
};

static int alnum(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (!*p)
		return 0;
	for (; *p; p++)
		if (!alnum_tab[*p])
			return 0;
	return 1;
}

static int parse_chunks(struct dec *d, struct mfile *f)
{
	const char **v = NULL;
	size_t n = 0, cap = 0;
	int r;
	if (jp_peek(&d->jp) != J_ARR) {
		enum jtype t = jp_peek(&d->jp);
		if (t == J_NONE)
			return jp_arr_begin(&d->jp);
		return err_set(d->err, EXIT_USAGE, "not an array (found %s)", jp_type_name(t));
	}
	if (jp_arr_begin(&d->jp) < 0)
		return -1;
	while ((r = jp_arr_next(&d->jp)) > 0) {
		const char *s;
		xgrow((void **)&v, &cap, n + 1, sizeof(*v));
		if (get_str(d, &s, NULL) < 0) {
			free(v);
			return err_prefix(d->err, "%zu", n), -1;
		}
		if (!alnum(s)) {
			free(v);
			return err_set(d->err, EXIT_USAGE, "%zu: not an alphanumeric hash", n);
		}
		v[n++] = s;
	}
	if (r < 0) {
		free(v);
		return -1;
	}
	if (n == 0) {
		free(v);
		return err_set(d->err, EXIT_USAGE, "empty chunk list");
	}
	f->chunks = arena_alloc(&d->m->arena, n * sizeof(*v), sizeof(void *));
	memcpy(f->chunks, v, n * sizeof(*v));
	f->nchunks = (uint32_t)n;
	free(v);
	return 0;
}

/* The unexpanded target goes to f->symlink (an arena copy) until validation expands it. */
static int parse_symlink(struct dec *d, struct mfile *f, unsigned *keys)
{
	const char *k, *s;
	size_t n, len;
	int r;
	if (jp_peek(&d->jp) == J_STR) { /* G1 "symlink_target": "..." */
		if (get_str(d, &s, &len) < 0)
			return -1;
		f->symlink = s;
		return 0;
	}
	if (jp_peek(&d->jp) != J_OBJ) {
		enum jtype t = jp_peek(&d->jp);
		if (t == J_NONE)
			return jp_obj_begin(&d->jp);
		return err_set(d->err, EXIT_USAGE, "not an object (found %s)", jp_type_name(t));
	}
	if (jp_obj_begin(&d->jp) < 0)
		return -1;
	while ((r = jp_obj_key(&d->jp, &k, &n)) > 0) {
		int isname = n == 4 && !memcmp(k, "name", 4);
		int istarget = n == 6 && !memcmp(k, "target", 6);
		if (isname || istarget) {
			if (f->symlink)
				return err_set(d->err, EXIT_USAGE, "both name and target");
			if (get_str(d, &s, &len) < 0)
				return err_prefix(d->err, "%s", isname ? "name" : "target"), -1;
			f->symlink = s;
			if (istarget)
				*keys |= K_SYMG3;
		} else if (jp_skip(&d->jp) < 0) {
			return -1;
		}
	}
	if (r < 0)
		return -1;
	if (!f->symlink)
		return err_set(d->err, EXIT_USAGE, "missing name");
	return 0;
}

static int key_is(const char *k, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(k, lit, n);
}

/* One object of "paths" (v2023 keys) or "files" (v2025 keys). */
static int parse_file(struct dec *d, int v2023, size_t idx)
{
	struct manifest *m = d->m;
	struct mfile *f;
	unsigned *keys;
	const char *k;
	size_t n;
	int r;
	if (m->nfiles == m->capfiles)
		xgrow((void **)&m->files, &m->capfiles, m->nfiles + 1, sizeof(*f));
	if (m->nfiles == d->capraw)
		xgrow((void **)&d->raw, &d->capraw, m->nfiles + 1, sizeof(*keys));
	f = &m->files[m->nfiles];
	keys = &d->raw[m->nfiles];
	memset(f, 0, sizeof(*f));
	*keys = 0;
	f->ord = (uint32_t)m->nfiles++;
	if (jp_peek(&d->jp) != J_OBJ && jp_peek(&d->jp) != J_NONE)
		return err_set(d->err, EXIT_USAGE, "not an object (found %s)",
			       jp_type_name(jp_peek(&d->jp))),
		       entry_fail(d, d->arr, idx, NULL);
	if (jp_obj_begin(&d->jp) < 0)
		return -1;
	while ((r = jp_obj_key(&d->jp, &k, &n)) > 0) {
		const char *kn = NULL;
		int rc = 0, b;
		size_t len = 0;
		if (v2023 && key_is(k, n, "path")) {
			kn = "path";
			*keys |= K_PATH;
			rc = get_str(d, &f->path, &len);
			f->pathlen = (uint32_t)len;
		} else if (!v2023 && (key_is(k, n, "name") || key_is(k, n, "path"))) {
			/* borrowed until validate_2025 expands it into the arena */
			kn = k[0] == 'n' ? "name" : "path";
			*keys |= k[0] == 'n' ? K_NAME : K_PATH;
			rc = get_slice(d, &f->path, &len, keys);
			f->pathlen = (uint32_t)len;
		} else if (key_is(k, n, "hash")) {
			kn = "hash";
			*keys |= K_HASH;
			rc = get_str(d, &f->hash, NULL);
			if (!rc && !alnum(f->hash))
				rc = err_set(d->err, EXIT_USAGE, "not an alphanumeric hash");
		} else if (key_is(k, n, "size")) {
			kn = "size";
			*keys |= K_SIZE;
			rc = jp_int(&d->jp, &f->size);
			if (!rc && f->size < 0)
				rc = err_set(d->err, EXIT_USAGE, "negative size");
		} else if (key_is(k, n, "mtime")) {
			kn = "mtime";
			*keys |= K_MTIME;
			rc = jp_int(&d->jp, &f->mtime);
		} else if (!v2023 && key_is(k, n, "chunkhashes")) {
			kn = "chunkhashes";
			*keys |= K_CHUNKS;
			rc = parse_chunks(d, f);
		} else if (!v2023 && (key_is(k, n, "symlink") || key_is(k, n, "symlink_target"))) {
			kn = "symlink";
			if (*keys & K_SYMLINK)
				rc = err_set(d->err, EXIT_USAGE, "given twice");
			*keys |= K_SYMLINK;
			if (!rc)
				rc = parse_symlink(d, f, keys);
		} else if (!v2023 && key_is(k, n, "runnable")) {
			kn = "runnable";
			*keys |= K_RUNNABLE;
			rc = jp_bool(&d->jp, &b);
			if (!rc && !b)
				rc = err_set(d->err, EXIT_USAGE, "must be true when present");
			if (!rc)
				f->flags |= MF_RUNNABLE;
		} else if (!v2023 && (key_is(k, n, "delete") || key_is(k, n, "deleted"))) {
			kn = n == 6 ? "delete" : "deleted";
			if (*keys & K_DELETE)
				rc = err_set(d->err, EXIT_USAGE, "given twice");
			*keys |= K_DELETE;
			if (!rc)
				rc = jp_bool(&d->jp, &b);
			if (!rc && b)
				f->flags |= MF_DELETED;
		} else {
			rc = jp_skip(&d->jp);
		}
		if (rc < 0)
			return entry_fail(d, d->arr, idx, kn);
	}
	if (r < 0)
		return entry_fail(d, d->arr, idx, NULL);
	return 0;
}

static int parse_dir(struct dec *d, size_t idx)
{
	struct manifest *m = d->m;
	struct mdir *dir;
	const char *k;
	size_t n;
	int r;
	xgrow((void **)&m->dirs, &m->capdirs, m->ndirs + 1, sizeof(*dir));
	xgrow((void **)&d->dirkeys, &d->capdirkeys, m->ndirs + 1, sizeof(unsigned));
	dir = &m->dirs[m->ndirs];
	memset(dir, 0, sizeof(*dir));
	d->dirkeys[m->ndirs++] = 0;
	if (jp_peek(&d->jp) != J_OBJ && jp_peek(&d->jp) != J_NONE)
		return err_set(d->err, EXIT_USAGE, "not an object (found %s)",
			       jp_type_name(jp_peek(&d->jp))),
		       entry_fail(d, "dirs", idx, NULL);
	if (jp_obj_begin(&d->jp) < 0)
		return -1;
	while ((r = jp_obj_key(&d->jp, &k, &n)) > 0) {
		int rc = 0, b;
		const char *kn = NULL;
		size_t len = 0;
		if (key_is(k, n, "name") || key_is(k, n, "path")) {
			kn = n == 4 && k[0] == 'n' ? "name" : "path";
			if (d->dirkeys[idx] & (K_NAME | K_PATH))
				rc = err_set(d->err, EXIT_USAGE, "both name and path");
			d->dirkeys[idx] |= kn[0] == 'n' ? K_NAME : K_PATH;
			if (!rc)
				rc = get_str(d, &dir->path, &len);
			dir->pathlen = (uint32_t)len;
		} else if (key_is(k, n, "delete") || key_is(k, n, "deleted")) {
			kn = n == 6 ? "delete" : "deleted";
			if (d->dirkeys[idx] & K_DELETE)
				rc = err_set(d->err, EXIT_USAGE, "given twice");
			d->dirkeys[idx] |= K_DELETE;
			if (!rc)
				rc = jp_bool(&d->jp, &b);
			if (!rc)
				dir->deleted = (uint8_t)b;
		} else {
			rc = jp_skip(&d->jp);
		}
		if (rc < 0)
			return entry_fail(d, "dirs", idx, kn);
	}
	if (r < 0)
		return entry_fail(d, "dirs", idx, NULL);
	return 0;
}

static int parse_array(struct dec *d, const char *name)
{
	int r, v2023 = !strcmp(name, "paths"), dirs = !strcmp(name, "dirs");
	size_t i = 0;
	enum jtype t = jp_peek(&d->jp);
	if (t != J_ARR) {
		if (t == J_NONE)
			return jp_arr_begin(&d->jp);
		err_set(d->err, EXIT_USAGE, "%s: not an array (found %s)", name, jp_type_name(t));
		return -1;
	}
	d->arr = name;
	if (jp_arr_begin(&d->jp) < 0)
		return -1;
	while ((r = jp_arr_next(&d->jp)) > 0) {
		if ((dirs ? parse_dir(d, i) : parse_file(d, v2023, i)) < 0)
			return -1;
		i++;
	}
	return r;
}

static int parse_top(struct dec *d)
{
	const char *k;
	size_t n;
	int r;
	if (jp_peek(&d->jp) != J_OBJ) {
		enum jtype t = jp_peek(&d->jp);
		if (t == J_NONE)
			return jp_obj_begin(&d->jp);
		return err_set(d->err, EXIT_USAGE, "not a manifest (found %s, expected an object)",
			       jp_type_name(t));
	}
	if (jp_obj_begin(&d->jp) < 0)
		return -1;
	while ((r = jp_obj_key(&d->jp, &k, &n)) > 0) {
		int rc = 0;
		const char *kn = NULL;
		if (key_is(k, n, "manifestVersion")) {
			rc = get_str(d, &d->mver, NULL);
			kn = "manifestVersion";
		} else if (key_is(k, n, "specificationVersion")) {
			rc = get_str(d, &d->sver, NULL);
			kn = "specificationVersion";
		} else if (key_is(k, n, "hashAlg")) {
			rc = get_str(d, &d->halg, NULL);
			kn = "hashAlg";
		} else if (key_is(k, n, "totalSize")) {
			kn = "totalSize";
			d->has_total = 1;
			rc = jp_int(&d->jp, &d->total);
		} else if (key_is(k, n, "parentManifestHash")) {
			kn = "parentManifestHash";
			if (jp_peek(&d->jp) == J_NULL) {
				rc = jp_skip(&d->jp);
				d->parent_null = 1;
			} else {
				rc = get_str(d, &d->parent, NULL);
			}
		} else if (key_is(k, n, "fileChunkSizeBytes")) {
			kn = "fileChunkSizeBytes";
			rc = jp_int(&d->jp, &d->chunk_size);
			if (!rc && d->chunk_size != CHUNK_SIZE && d->chunk_size != -1)
				rc = err_set(
				    d->err, EXIT_USAGE,
				    "unsupported chunk size %lld (ja reads 268435456 or -1)",
				    (long long)d->chunk_size);
		} else if (key_is(k, n, "paths")) {
			if (d->has_files)
				return err_set(d->err, EXIT_USAGE, "both \"paths\" and \"files\"");
			d->has_paths = 1;
			if (parse_array(d, "paths") < 0)
				return -1;
		} else if (key_is(k, n, "files")) {
			if (d->has_paths)
				return err_set(d->err, EXIT_USAGE, "both \"paths\" and \"files\"");
			d->has_files = 1;
			if (parse_array(d, "files") < 0)
				return -1;
		} else if (key_is(k, n, "dirs")) {
			d->has_dirs = 1;
			if (parse_array(d, "dirs") < 0)
				return -1;
		} else {
			rc = jp_skip(&d->jp);
		}
		if (rc < 0) {
			if (kn)
				err_prefix(d->err, "%s", kn);
			return -1;
		}
	}
	return r;
}

static int set_version(struct dec *d)
{
	struct manifest *m = d->m;
	if (d->mver) {
		if (!strcmp(d->mver, "2023-03-03")) {
			m->ver = MVER_2023;
			return 0;
		}
		if (!strcmp(d->mver, "2025-12-04-beta")) {
			m->ver = MVER_2025;
			m->gen = 1;
			m->type = d->parent ? MTYPE_DIFF : MTYPE_SNAPSHOT;
			m->style = MSTYLE_RELATIVE;
			return 0;
		}
		return err_set(d->err, EXIT_USAGE,
			       "manifestVersion: unknown manifest version \"%s\" (ja reads "
			       "2023-03-03, 2025-12-04-beta and the 2025-12 specificationVersion "
			       "forms)",
			       msg_name(d->mver));
	}
	if (d->sver) {
		static const char *const pre[2] = {"relative-manifest-", "absolute-manifest-"};
		for (int s = 0; s < 2; s++) {
			size_t pl = strlen(pre[s]);
			const char *rest = d->sver + pl, *tail;
			int type;
			if (strncmp(d->sver, pre[s], pl))
				continue;
			if (!strncmp(rest, "snapshot-", 9)) {
				type = MTYPE_SNAPSHOT;
				tail = rest + 9;
			} else if (!strncmp(rest, "diff-", 5)) {
				type = MTYPE_DIFF;
				tail = rest + 5;
			} else {
				break;
			}
			if (strcmp(tail, "beta-2025-12") && strcmp(tail, "2025-12"))
				break;
			m->ver = MVER_2025;
			m->gen = 2;
			m->type = (enum mtype)type;
			m->style = s ? MSTYLE_ABSOLUTE : MSTYLE_RELATIVE;
			return 0;
		}
		return err_set(d->err, EXIT_USAGE,
			       "specificationVersion: unknown specification \"%s\"",
			       msg_name(d->sver));
	}
	return err_set(d->err, EXIT_USAGE,
		       "not a manifest: missing the required "
		       "\"manifestVersion\" field");
}

enum { NAME_OK, NAME_EMPTY_COMPONENT, NAME_TOO_DEEP };

/* Check p[0..len) as a G2 name, and count its '/' (*depth, when NAME_OK).  An empty
 * component other than a leading "/" ("a//b", "a/", "/") cannot be carried by the G2 form,
 * so it is refused on read as on write; more than MAX_DEPTH levels bounds the work of
 * walking a path's ancestors (one hash per prefix).  One pass, no library calls: it runs
 * for every name of a manifest. */
static int name_scan(const char *p, size_t len, uint32_t *depth)
{
	size_t n = 0, i = 0;
	int empty = !len || p[len - 1] == '/';
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ull, low7 = 0x7f7f7f7f7f7f7f7full;
	for (; i + 8 <= len; i += 8) {
		uint64_t v, z;
		memcpy(&v, p + i, 8);
		v ^= ones * '/';
		z = ~(((v & low7) + low7) | v | low7); /* 0x80 in exactly the '/' bytes */
		if (z) {
			n += ((z >> 7) * ones) >> 56;
			empty |= (z & (z << 8)) || ((z & 0x80) && i && p[i - 1] == '/');
		}
	}
#endif
	for (; i < len; i++)
		if (p[i] == '/') {
			n++;
			empty |= i > 0 && p[i - 1] == '/';
		}
	if (empty)
		return NAME_EMPTY_COMPONENT;
	if (n > MAX_DEPTH)
		return NAME_TOO_DEEP;
	*depth = (uint32_t)n;
	return NAME_OK;
}

static int name_fail(struct ja_err *err, int why, const char *p)
{
	if (why == NAME_EMPTY_COMPONENT)
		return err_set(err, EXIT_USAGE, "\"%s\": empty path component", msg_name(p));
	return err_set(err, EXIT_USAGE, "\"%s\": more than %d directory levels", msg_name(p),
		       MAX_DEPTH);
}

static int name_ok(struct dec *d, const char *p, uint32_t len, uint32_t *depth)
{
	int why = name_scan(p, len, depth);
	return why == NAME_OK ? 0 : name_fail(d->err, why, p);
}

/* Expand a v2025 encoded name against dirs[0..ndirs) into the arena (raw[0..len) is a
 * slice of the input unless owned).  strict = G2 rules (§2.4).  *depth = its '/' count. */
static int expand(struct dec *d, const char *raw, size_t len, int owned, int strict, size_t ndirs,
		  const char **out, uint32_t *outlen, uint32_t *depth)
{
	const char *slash = memchr(raw, '/', len);
	if (!slash || (strict && slash == raw && !memchr(raw + 1, '/', len - 1)) ||
	    (!strict && raw[0] != '$'))
		goto literal;
	if (raw[0] == '$' && slash > raw + 1) {
		size_t idx = 0;
		const char *p;
		for (p = raw + 1; p < slash; p++) {
			if (*p < '0' || *p > '9' || idx > 100000000)
				break;
			idx = idx * 10 + (size_t)(*p - '0');
		}
		if (p == slash && !(slash > raw + 2 && raw[1] == '0')) {
			size_t rl = len - (size_t)(slash + 1 - raw);
			const struct mdir *parent;
			char *s;
			if (idx >= ndirs)
				return err_set(
				    d->err, EXIT_USAGE,
				    "\"%s\" refers to directory %zu, which is not "
				    "listed before it",
				    msg_name(owned ? raw : manifest_strdup(d->m, raw, len)), idx);
			if (!rl || (strict && memchr(slash + 1, '/', rl)))
				goto bad;
			parent = &d->m->dirs[idx];
			d->expanded += parent->pathlen + 1 + rl;
			if (d->expanded > d->budget)
				return err_set(d->err, EXIT_USAGE,
					       "$N/ names expand to more than %zu bytes",
					       d->budget);
			s = arena_alloc(&d->m->arena, parent->pathlen + 1 + rl + 1, 1);
			memcpy(s, parent->path, parent->pathlen);
			s[parent->pathlen] = '/';
			memcpy(s + parent->pathlen + 1, slash + 1, rl);
			s[parent->pathlen + 1 + rl] = 0;
			*out = s;
			*outlen = (uint32_t)(parent->pathlen + 1 + rl);
			if (strict) {
				/* the parent passed name_ok and the last component is not empty
				 * and has no '/': only the depth is left to check */
				*depth = d->ddepth[idx] + 1;
				return *depth > MAX_DEPTH ? name_fail(d->err, NAME_TOO_DEEP, s) : 0;
			}
			return name_ok(d, s, *outlen, depth);
		}
	}
	if (!strict)
		goto literal;
bad:
	return err_set(d->err, EXIT_USAGE,
		       "cannot expand name \"%s\" (expected NAME, /NAME or "
		       "$N/NAME)",
		       msg_name(owned ? raw : manifest_strdup(d->m, raw, len)));
literal:
	*out = owned ? raw : manifest_strdup(d->m, raw, len);
	*outlen = (uint32_t)len;
	if (!len)
		return err_set(d->err, EXIT_USAGE, "empty name");
	return name_ok(d, *out, *outlen, depth);
}

static int validate_2023(struct dec *d)
{
	struct manifest *m = d->m;
	if (!d->has_paths)
		return err_set(d->err, EXIT_USAGE, "missing the required \"paths\" field");
	if (m->nfiles == 0)
		return err_set(d->err, EXIT_USAGE,
			       "paths: empty (a v2023 manifest lists at "
			       "least one file)");
	m->ndirs = 0; /* an unknown key in v2023, parsed before the version was known */
	for (size_t i = 0; i < m->nfiles; i++) {
		struct mfile *f = &m->files[i];
		unsigned k = d->raw[i];
		const char *miss = !(k & K_PATH)    ? "path"
				   : !(k & K_HASH)  ? "hash"
				   : !(k & K_SIZE)  ? "size"
				   : !(k & K_MTIME) ? "mtime"
						    : NULL;
		if (miss)
			return err_set(d->err, EXIT_USAGE, "paths[%zu]: missing \"%s\"", i, miss);
		if (!f->pathlen)
			return err_set(d->err, EXIT_USAGE, "paths[%zu].path: empty", i);
	}
	return 0;
}

static int validate_file_2025(struct dec *d, size_t i, int strict)
{
	struct manifest *m = d->m;
	struct mfile *f = &m->files[i];
	unsigned k = d->raw[i];
	int content = !!(k & K_HASH) + !!(k & K_CHUNKS) + !!(k & K_SYMLINK);
	if (!(k & (K_NAME | K_PATH)))
		return err_set(d->err, EXIT_USAGE, "missing \"name\"");
	if ((k & K_NAME) && (k & K_PATH))
		return err_set(d->err, EXIT_USAGE, "both \"name\" and \"path\"");
	if (f->flags & MF_DELETED) {
		if (m->type != MTYPE_DIFF)
			return err_set(d->err, EXIT_USAGE, "delete marker in a snapshot manifest");
		if (k & ~(K_NAME | K_PATH | K_DELETE | K_OWNED))
			return err_set(d->err, EXIT_USAGE, "a deleted entry carries only its name");
		f->size = f->mtime = 0;
	} else {
		if (content != 1)
			return err_set(d->err, EXIT_USAGE,
				       content
					   ? "more than one of hash, chunkhashes, symlink"
					   : "missing \"hash\", \"chunkhashes\" or \"symlink\"");
		if (k & K_SYMLINK) {
			if (k & (K_SIZE | K_MTIME | K_RUNNABLE))
				return err_set(d->err, EXIT_USAGE,
					       "a symlink carries no size, mtime or runnable");
			uint32_t len, depth;
			if (expand(d, f->symlink, strlen(f->symlink), 1, strict && !(k & K_SYMG3),
				   m->ndirs, &f->symlink, &len, &depth) < 0)
				return err_prefix(d->err, "symlink"), -1;
		} else {
			if (!(k & K_SIZE))
				return err_set(d->err, EXIT_USAGE, "missing \"size\"");
			if (!(k & K_MTIME))
				return err_set(d->err, EXIT_USAGE, "missing \"mtime\"");
			if (k & K_CHUNKS) {
				int64_t want = f->size / CHUNK_SIZE + (f->size % CHUNK_SIZE != 0);
				if (f->size <= CHUNK_SIZE)
					return err_set(d->err, EXIT_USAGE,
						       "chunkhashes on a file of %lld bytes (only "
						       "files over 268435456 bytes are chunked)",
						       (long long)f->size);
				if ((int64_t)f->nchunks != want)
					return err_set(d->err, EXIT_USAGE,
						       "%u chunk hashes for %lld bytes (expected "
						       "%lld)",
						       f->nchunks, (long long)f->size,
						       (long long)want);
			} else if (f->size > CHUNK_SIZE) {
				return err_set(d->err, EXIT_USAGE,
					       "a file of %lld bytes needs chunkhashes, not hash",
					       (long long)f->size);
			}
		}
	}
	return 0;
}

static int validate_2025(struct dec *d)
{
	struct manifest *m = d->m;
	int strict = m->gen == 2;
	if (!d->has_files)
		return err_set(d->err, EXIT_USAGE, "missing the required \"files\" field");
	if (!d->has_dirs && m->gen == 2)
		return err_set(d->err, EXIT_USAGE, "missing the required \"dirs\" field");
	if (d->parent && m->type != MTYPE_DIFF)
		return err_set(d->err, EXIT_USAGE, "parentManifestHash in a snapshot manifest");
	if (d->parent && !alnum(d->parent))
		return err_set(d->err, EXIT_USAGE, "parentManifestHash: not an alphanumeric hash");
	d->ddepth = xmalloc((m->ndirs + 1) * sizeof(*d->ddepth));
	for (size_t i = 0; i < m->ndirs; i++) {
		struct mdir *dir = &m->dirs[i];
		unsigned k = d->dirkeys[i];
		const char *p;
		uint32_t len;
		if (!(k & (K_NAME | K_PATH)))
			return err_set(d->err, EXIT_USAGE, "dirs[%zu]: missing \"name\"", i);
		if (dir->deleted && m->type != MTYPE_DIFF)
			return err_set(d->err, EXIT_USAGE,
				       "dirs[%zu]: delete marker in a snapshot manifest", i);
		if (expand(d, dir->path, dir->pathlen, 1, strict && (k & K_NAME), i, &p, &len,
			   &d->ddepth[i]) < 0)
			return entry_fail(d, "dirs", i, "name");
		dir->path = p;
		dir->pathlen = len;
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		struct mfile *f = &m->files[i];
		const char *p;
		uint32_t len, depth;
		unsigned k = d->raw[i];
		if (validate_file_2025(d, i, strict && (k & K_NAME)) < 0)
			return entry_fail(d, "files", i, NULL);
		if (expand(d, f->path, f->pathlen, !!(k & K_OWNED), strict && (k & K_NAME),
			   m->ndirs, &p, &len, &depth) < 0)
			return entry_fail(d, "files", i, "name");
		f->path = p;
		f->pathlen = len;
	}
	m->parent_hash = d->parent;
	return 0;
}

static int check_dirs_files(struct manifest *m, struct ja_err *err);

/* No two entries may share a path (files and dirs together).  Files are sorted here
 * (canonical input is already sorted, which costs one comparison per entry), so
 * duplicate files are neighbours; directories go through a map. */
static int check_duplicates(struct dec *d)
{
	struct manifest *m = d->m;
	const char *arr = m->ver == MVER_2023 ? "paths" : "files";
	size_t dup;
	sort_files(m, &dup);
	if (dup) {
		const struct mfile *a = &m->files[dup - 1], *b = &m->files[dup];
		return err_set(d->err, EXIT_USAGE, "%s[%u]: duplicate path \"%s\"", arr,
			       b->ord > a->ord ? b->ord : a->ord, esc_name(b->path));
	}
	if (m->ver == MVER_2023)
		return 0;
	/* duplicate directories, and the directories only implied by paths, as the encoder
	 * lists them */
	return check_dirs_files(m, d->err);
}

int manifest_decode(struct manifest *m, const char *buf, size_t len, struct ja_err *err)
{
	struct dec d;
	int rc;
	manifest_release(m);
	manifest_init(m, MVER_2023);
	memset(&d, 0, sizeof(d));
	d.m = m;
	d.err = err;
	/* $N/ chains grow quadratically: a small document must not expand to gigabytes */
	d.budget = len > (SIZE_MAX - EXPAND_SLACK) / 128 ? SIZE_MAX : EXPAND_SLACK + 128 * len;
	jp_init(&d.jp, buf, len, err);
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		rc = err_set(err, EXIT_USAGE, "starts with a UTF-8 byte-order mark");
		goto out;
	}
	rc = parse_top(&d);
	if (!rc)
		rc = jp_finish(&d.jp);
	if (!rc)
		rc = set_version(&d);
	if (!rc && !d.halg)
		rc = err_set(err, EXIT_USAGE, "missing the required \"hashAlg\" field");
	if (!rc && strcmp(d.halg, "xxh128"))
		rc = err_set(err, EXIT_USAGE, "hashAlg: unsupported \"%s\" (only xxh128)",
			     msg_name(d.halg));
	if (!rc && !d.has_total)
		rc = err_set(err, EXIT_USAGE, "missing the required \"totalSize\" field");
	if (!rc)
		rc = m->ver == MVER_2023 ? validate_2023(&d) : validate_2025(&d);
	if (!rc)
		rc = check_duplicates(&d);
	if (!rc)
		m->total_size = d.total;
out:
	jp_release(&d.jp);
	free(d.raw);
	free(d.dirkeys);
	free(d.ddepth);
	if (rc < 0) {
		/* names may still be slices of buf: leave nothing that points into it */
		manifest_release(m);
		manifest_init(m, MVER_2023);
		return -1;
	}
	return 0;
}

int manifest_load(struct manifest *m, const char *path, struct ja_err *err)
{
	struct fmap in;
	int rc = fmap_open(&in, path, manifest_max_input(), err);
	/* the name is escaped when used: esc_name's few buffers are reused by decode */
	if (!rc && in.len == 0)
		rc = err_set(err, EXIT_USAGE, "%s: empty input (not a manifest)",
			     strcmp(path, "-") ? esc_name(path) : "stdin");
	else if (!rc && (rc = manifest_decode(m, in.p, in.len, err)) < 0)
		err_prefix(err, "%s", strcmp(path, "-") ? esc_name(path) : "stdin");
	fmap_release(&in);
	return rc;
}

/* ---- encode ---------------------------------------------------------------------- */

/* Output: bytes go to e->o; with a sink, they are handed on whenever FLUSH_AT bytes are
 * waiting, so a big manifest is never whole in memory.  Each entry reserves room for
 * its worst case once and is written with plain stores. */
#define FLUSH_AT ((size_t)1 << 20)

struct emit {
	struct buf *o;
	manifest_write_fn *write; /* NULL: everything stays in o */
	void *ctx;
	struct ja_err *err;
};

#define PUT(w, lit) (memcpy((w), (lit), sizeof(lit) - 1), (w) + sizeof(lit) - 1)

/* Where the next n bytes go; NULL (err set) when the output may not grow. */
static char *em_room(struct emit *e, size_t n)
{
	if (buf_reserve(e->o, n) < 0) {
		err_set(e->err, EXIT_FAIL, "manifest too large to encode");
		return NULL;
	}
	return e->o->p + e->o->len;
}

static int em_flush(struct emit *e)
{
	if (e->o->len && e->write(e->ctx, e->o->p, e->o->len, e->err) < 0)
		return -1;
	buf_reset(e->o);
	return 0;
}

/* The bytes up to w are written. */
static int em_done(struct emit *e, char *w)
{
	e->o->len = (size_t)(w - e->o->p);
	e->o->p[e->o->len] = 0;
	return e->write && e->o->len >= FLUSH_AT ? em_flush(e) : 0;
}

/* Room for a JSON string of n bytes of UTF-8, with its quotes. */
static size_t str_room(size_t n)
{
	return 6 * n + 2;
}

static int encode_2023(struct manifest *m, struct emit *e)
{
	struct ja_err *err = e->err;
	size_t dup;
	char *w;
	if (m->nfiles == 0)
		return err_set(err, EXIT_USAGE,
			       "an empty v2023 manifest is invalid (the format "
			       "requires at least one file)");
	sort_files(m, &dup);
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		if ((f->flags & MF_DELETED) || f->symlink || !f->hash)
			return err_set(err, EXIT_USAGE, "%s: %s cannot be expressed in v2023",
				       esc_name(f->path),
				       f->flags & MF_DELETED ? "a deletion"
				       : f->symlink	     ? "a symlink"
				       : f->nchunks	     ? "a chunked file"
							     : "a file without a hash");
		if (!utf8_valid(f->path, f->pathlen))
			return err_set(err, EXIT_USAGE, "%s: path is not valid UTF-8",
				       esc_name(f->path));
		if (dup && i == dup)
			return err_set(err, EXIT_USAGE, "duplicate path \"%s\"", esc_name(f->path));
	}
	if (!(w = em_room(e, 80)))
		return -1;
	w = PUT(w, "{\"hashAlg\":\"xxh128\",\"manifestVersion\":\"2023-03-03\",\"paths\":[");
	if (em_done(e, w) < 0)
		return -1;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		size_t hl = strlen(f->hash);
		/* 35 bytes of keys and punctuation, two numbers of up to 20 */
		if (!(w = em_room(e, 80 + str_room(hl) + str_room(f->pathlen))))
			return -1;
		w = i ? PUT(w, ",{\"hash\":") : PUT(w, "{\"hash\":");
		w = json_esc(w, f->hash, hl);
		w = PUT(w, ",\"mtime\":");
		w = json_itoa(w, f->mtime);
		w = PUT(w, ",\"path\":");
		w = json_esc(w, f->path, f->pathlen);
		w = PUT(w, ",\"size\":");
		w = json_itoa(w, f->size);
		*w++ = '}';
		if (em_done(e, w) < 0)
			return -1;
	}
	if (!(w = em_room(e, 40)))
		return -1;
	w = PUT(w, "],\"totalSize\":");
	w = json_itoa(w, m->total_size);
	*w++ = '}';
	return em_done(e, w);
}

/* The directories the G2 form lists (§2.3 step 1): the explicit ones plus every ancestor
 * of every directory, file and symlink target, each with the index of its parent. */
#define NOPAR UINT32_MAX

struct dnode {
	const char *path;
	uint32_t pathlen;
	uint8_t deleted;
	uint8_t sub;	/* some directory lies directly in this one */
	uint32_t par;	/* index of the parent directory, NOPAR at the top */
	uint32_t order; /* the directory at this position of the sorted list */
};

struct dirset {
	struct dnode *v;
	size_t n, cap;
	struct strmap map; /* path -> index in v */
	uint32_t *fpar;	   /* per file: index of its parent directory, or NOPAR */
	uint32_t *newidx;  /* index in v -> index in the sorted list (NULL: the same) */
	int rootsub;	   /* some directory is at the top */
};

/* Find or add p[0..len): 1 found, 0 added, -1 for an explicit entry contradicting an
 * earlier one (dup_arr set: any repeated explicit entry, named dup_arr[i]).  *idx = its
 * index. */
static int dirset_add(struct dirset *s, const char *p, uint32_t len, int deleted, int explicit_,
		      const char *dup_arr, size_t i, uint32_t *idx, struct ja_err *err)
{
	int found;
	size_t *slot = strmap_put(&s->map, p, len, &found);
	if (found) {
		*idx = (uint32_t)*slot;
		if (explicit_ && dup_arr)
			return err_set(err, EXIT_USAGE, "%s[%zu]: duplicate directory \"%s\"",
				       dup_arr, i, esc_name(p));
		if (explicit_ && s->v[*slot].deleted != (uint8_t) !!deleted)
			return err_set(err, EXIT_USAGE,
				       "directory \"%s\" is listed both deleted and not deleted",
				       esc_name(p));
		return 1;
	}
	if (s->n == s->cap)
		xgrow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));
	*slot = s->n;
	*idx = (uint32_t)s->n;
	s->v[s->n] = (struct dnode){.path = p,
				    .pathlen = len,
				    .deleted = (uint8_t) !!deleted,
				    .par = NOPAR,
				    .order = (uint32_t)s->n};
	s->n++;
	return 0;
}

/* Add the ancestors of p (not "/" alone), deepest first, up to the first known one;
 * child (a directory, or NOPAR) is p.  Returns the index of p's parent, or NOPAR. */
static uint32_t dirset_walk(struct dirset *s, const char *p, uint32_t len, uint32_t child)
{
	uint32_t par = NOPAR, idx, k = len;
	const char *slash;
	while (k > 1 && (slash = memrchr(p + 1, '/', k - 1))) {
		int r;
		k = (uint32_t)(slash - p);
		r = dirset_add(s, p, k, 0, 0, NULL, 0, &idx, NULL);
		if (par == NOPAR)
			par = idx;
		if (child != NOPAR)
			s->v[child].par = idx;
		child = idx;
		if (r == 1)
			break;
	}
	return par;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Length of the parent part of p (up to its last '/'), 0 if none. */
static uint32_t parent_len(const char *p, uint32_t len)
{
	const char *slash = memrchr(p, '/', len);
	return slash ? (uint32_t)(slash - p) : 0;
}

/* The explicit directories and their ancestors.  exidx[i] = index of m->dirs[i]. */
static void dirset_walk_dirs(struct dirset *s, const struct manifest *m, const uint32_t *exidx)
{
	uint64_t *byl;
	int closed = 1;
	/* a listing closed under ancestors (every G2 manifest) needs one lookup per entry */
	for (size_t i = 0; i < m->ndirs && closed; i++) {
		const struct mdir *d = &m->dirs[i];
		uint32_t pl = parent_len(d->path, d->pathlen);
		size_t *idx = pl ? strmap_get(&s->map, d->path, pl) : NULL;
		if (pl && !idx)
			closed = 0;
		else if (idx)
			s->v[exidx[i]].par = (uint32_t)*idx;
	}
	if (closed)
		return;
	/* shortest first (stable): a known directory then always has its ancestors, so
	 * every walk stops at the first known one (no quadratic walks up long chains) */
	byl = xmalloc(m->ndirs * sizeof(*byl));
	for (size_t i = 0; i < m->ndirs; i++)
		byl[i] = (uint64_t)m->dirs[i].pathlen << 32 | i;
	qsort(byl, m->ndirs, sizeof(*byl), u64_cmp);
	for (size_t i = 0; i < m->ndirs; i++) {
		const struct mdir *d = &m->dirs[(uint32_t)byl[i]];
		dirset_walk(s, d->path, d->pathlen, exidx[(uint32_t)byl[i]]);
	}
	free(byl);
}

/* Build the set for m, whose files must be sorted.  dup_arr: as dirset_add. */
static int dirset_build(struct dirset *s, struct manifest *m, const char *dup_arr,
			struct ja_err *err)
{
	const char *prevp = NULL;
	uint32_t prevpl = 0, prevpar = NOPAR;
	strmap_init(&s->map, m->ndirs + m->nfiles / 16 + 16);
	if (m->ndirs) {
		uint32_t *exidx = xmalloc(m->ndirs * sizeof(*exidx));
		for (size_t i = 0; i < m->ndirs; i++)
			if (dirset_add(s, m->dirs[i].path, m->dirs[i].pathlen, m->dirs[i].deleted,
				       1, dup_arr, i, &exidx[i], err) < 0) {
				free(exidx);
				return -1;
			}
		dirset_walk_dirs(s, m, exidx);
		free(exidx);
	}
	s->fpar = xmalloc((m->nfiles + 1) * sizeof(*s->fpar));
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		uint32_t pl = parent_len(f->path, f->pathlen);
		/* sorted siblings share a parent: one memcmp instead of a lookup */
		if (!prevp || pl != prevpl || memcmp(f->path, prevp, pl))
			prevpar = dirset_walk(s, f->path, f->pathlen, NOPAR);
		s->fpar[i] = prevpar;
		prevp = f->path;
		prevpl = pl;
		if (f->symlink)
			dirset_walk(s, f->symlink, (uint32_t)strlen(f->symlink), NOPAR);
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].par != NOPAR)
			s->v[s->v[i].par].sub = 1;
		else
			s->rootsub = 1;
	return 0;
}

static void dirset_release(struct dirset *s)
{
	free(s->v);
	free(s->fpar);
	free(s->newidx);
	strmap_release(&s->map);
}

/* A path may not be both a file and a directory, unless one of the two is a deletion
 * (a diff may replace a file by a directory or the reverse).  arr names the entry in
 * a decode error.  Only a file whose parent directory holds directories can be one, and
 * only those are looked up.  With few directories the first one (in set order) that is
 * also a file is named, else the first such file. */
static int dirset_conflicts(const struct dirset *s, const struct manifest *m, const char *arr,
			    struct ja_err *err)
{
	int by_dir = s->n < m->nfiles / 8;
	size_t best = SIZE_MAX, bf = 0;
	const struct mfile *f;
	for (size_t i = 0; i < m->nfiles; i++) {
		uint32_t par = s->fpar[i];
		size_t *idx;
		f = &m->files[i];
		if ((f->flags & MF_DELETED) || !(par == NOPAR ? s->rootsub : s->v[par].sub) ||
		    !(idx = strmap_get(&s->map, f->path, f->pathlen)) || s->v[*idx].deleted)
			continue;
		if (!by_dir) {
			best = 0;
			bf = i;
			break;
		}
		if (*idx < best) {
			best = *idx;
			bf = i;
		}
	}
	if (best == SIZE_MAX)
		return 0;
	f = &m->files[bf];
	if (arr)
		return err_set(err, EXIT_USAGE, "%s[%u]: \"%s\" is both a file and a directory",
			       arr, f->ord, esc_name(f->path));
	return err_set(err, EXIT_USAGE, "\"%s\" is both a file and a directory", esc_name(f->path));
}

static int check_dirs_files(struct manifest *m, struct ja_err *err)
{
	struct dirset s = {0};
	int rc = dirset_build(&s, m, "dirs", err);
	if (!rc)
		rc = dirset_conflicts(&s, m, "files", err);
	dirset_release(&s);
	return rc;
}

static int dnode_cmp(const void *x, const void *y)
{
	const struct dnode *a = x, *b = y;
	size_t n = a->pathlen < b->pathlen ? a->pathlen : b->pathlen;
	int c = memcmp(a->path, b->path, n);
	if (c)
		return c;
	return a->pathlen < b->pathlen ? -1 : a->pathlen > b->pathlen;
}

/* Directory order (§2.3 step 2: UTF-8 byte order): v[i].order lists the set sorted,
 * newidx maps back.  Nothing to do when the set is in order (a decoded G2 manifest). */
static void dirset_sort(struct dirset *s)
{
	struct dnode *t;
	size_t i;
	for (i = 1; i < s->n && dnode_cmp(&s->v[i - 1], &s->v[i]) < 0; i++)
		;
	if (i >= s->n)
		return;
	t = xmalloc(s->n * sizeof(*t));
	memcpy(t, s->v, s->n * sizeof(*t));
	qsort(t, s->n, sizeof(*t), dnode_cmp);
	s->newidx = xmalloc(s->n * sizeof(*s->newidx));
	for (i = 0; i < s->n; i++) {
		s->v[i].order = t[i].order; /* t[i].order = its index in v */
		s->newidx[t[i].order] = (uint32_t)i;
	}
	free(t);
}

/* A name the G2 form can carry: UTF-8, no empty component. */
static int check_name(const char *p, size_t len, struct ja_err *err)
{
	uint32_t depth;
	int why;
	if (!utf8_valid(p, len))
		return err_set(err, EXIT_USAGE, "%s: path is not valid UTF-8", msg_name(p));
	why = name_scan(p, len, &depth);
	return why == NAME_OK ? 0 : name_fail(err, why, p);
}

/* Index of the directory holding p (looked up), or NOPAR. */
static uint32_t dirset_parent(const struct dirset *s, const char *p, uint32_t len)
{
	uint32_t pl = parent_len(p, len);
	size_t *idx = pl ? strmap_get(&s->map, p, pl) : NULL;
	return idx ? (uint32_t)*idx : NOPAR;
}

/* p[0..len) as a G2 name (§2.3 step 4), its parent being directory par (or NOPAR).
 * Room: name_room(len). */
static char *put_name(char *w, const struct dirset *s, uint32_t par, const char *p, uint32_t len)
{
	uint32_t pl;
	if (par == NOPAR)
		return json_esc(w, p, len);
	pl = s->v[par].pathlen;
	*w++ = '"';
	*w++ = '$';
	w = json_itoa(w, s->newidx ? s->newidx[par] : par);
	w = json_esc_chars(w, p + pl, len - pl);
	*w++ = '"';
	return w;
}

static size_t name_room(size_t len)
{
	return str_room(len) + 24;
}

static int emit_2025(struct manifest *m, const struct dirset *s, struct emit *e)
{
	const char *spec;
	char *w;
	if (!(w = em_room(e, 16)))
		return -1;
	w = PUT(w, "{\"dirs\":[");
	if (em_done(e, w) < 0)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct dnode *d = &s->v[s->v[i].order];
		if (!(w = em_room(e, 32 + name_room(d->pathlen))))
			return -1;
		w = i ? PUT(w, ",{") : PUT(w, "{");
		if (d->deleted)
			w = PUT(w, "\"delete\":true,");
		w = PUT(w, "\"name\":");
		w = put_name(w, s, d->par, d->path, d->pathlen);
		*w++ = '}';
		if (em_done(e, w) < 0)
			return -1;
	}
	if (!(w = em_room(e, 16)))
		return -1;
	w = PUT(w, "],\"files\":[");
	if (em_done(e, w) < 0)
		return -1;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		size_t hl = f->hash ? strlen(f->hash) : 0, sl = f->symlink ? strlen(f->symlink) : 0;
		size_t room = 128 + name_room(f->pathlen) + str_room(hl) + name_room(sl);
		for (uint32_t c = 0; c < f->nchunks; c++)
			room += str_room(strlen(f->chunks[c])) + 1;
		if (!(w = em_room(e, room)))
			return -1;
		w = i ? PUT(w, ",{") : PUT(w, "{");
		if (f->flags & MF_DELETED) {
			w = PUT(w, "\"delete\":true,\"name\":");
			w = put_name(w, s, s->fpar[i], f->path, f->pathlen);
		} else if (f->symlink) {
			w = PUT(w, "\"name\":");
			w = put_name(w, s, s->fpar[i], f->path, f->pathlen);
			w = PUT(w, ",\"symlink\":{\"name\":");
			w = put_name(w, s, dirset_parent(s, f->symlink, (uint32_t)sl), f->symlink,
				     (uint32_t)sl);
			*w++ = '}';
		} else {
			if (f->nchunks) {
				w = PUT(w, "\"chunkhashes\":[");
				for (uint32_t c = 0; c < f->nchunks; c++) {
					if (c)
						*w++ = ',';
					w = json_esc(w, f->chunks[c], strlen(f->chunks[c]));
				}
				w = PUT(w, "],");
			} else {
				w = PUT(w, "\"hash\":");
				w = json_esc(w, f->hash, hl);
				*w++ = ',';
			}
			w = PUT(w, "\"mtime\":");
			w = json_itoa(w, f->mtime);
			w = PUT(w, ",\"name\":");
			w = put_name(w, s, s->fpar[i], f->path, f->pathlen);
			if (f->flags & MF_RUNNABLE)
				w = PUT(w, ",\"runnable\":true");
			w = PUT(w, ",\"size\":");
			w = json_itoa(w, f->size);
		}
		*w++ = '}';
		if (em_done(e, w) < 0)
			return -1;
	}
	if (!(w = em_room(e, 200 + (m->parent_hash ? str_room(strlen(m->parent_hash)) : 0))))
		return -1;
	w = PUT(w, "],\"hashAlg\":\"xxh128\",");
	if (m->parent_hash) {
		w = PUT(w, "\"parentManifestHash\":");
		w = json_esc(w, m->parent_hash, strlen(m->parent_hash));
		*w++ = ',';
	}
	w = PUT(w, "\"specificationVersion\":\"");
	spec = manifest_spec_string(m);
	memcpy(w, spec, strlen(spec));
	w += strlen(spec);
	w = PUT(w, "\",\"totalSize\":");
	w = json_itoa(w, m->total_size);
	*w++ = '}';
	return em_done(e, w);
}

static int encode_2025(struct manifest *m, struct emit *e)
{
	struct ja_err *err = e->err;
	struct dirset s = {0};
	size_t dup;
	int rc = 0;
	for (size_t i = 0; i < m->ndirs && !rc; i++)
		rc = check_name(m->dirs[i].path, m->dirs[i].pathlen, err);
	for (size_t i = 0; i < m->nfiles && !rc; i++) {
		rc = check_name(m->files[i].path, m->files[i].pathlen, err);
		if (!rc && m->files[i].symlink)
			rc = check_name(m->files[i].symlink, strlen(m->files[i].symlink), err);
	}
	if (rc)
		return rc;
	sort_files(m, &dup);
	if ((rc = dirset_build(&s, m, NULL, err)) < 0 ||
	    (rc = dirset_conflicts(&s, m, NULL, err)) < 0)
		goto out;
	dirset_sort(&s);
	if (dup) {
		rc =
		    err_set(err, EXIT_USAGE, "duplicate path \"%s\"", esc_name(m->files[dup].path));
		goto out;
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		if (!(f->flags & MF_DELETED) && !f->symlink && !f->nchunks && !f->hash) {
			rc = err_set(err, EXIT_USAGE, "%s: file without a hash", esc_name(f->path));
			goto out;
		}
	}
	rc = emit_2025(m, &s, e);
out:
	dirset_release(&s);
	return rc;
}

static int encode(struct manifest *m, struct emit *e)
{
	int rc = m->ver == MVER_2023 ? encode_2023(m, e) : encode_2025(m, e);
	if (!rc && e->write)
		rc = em_flush(e);
	return rc < 0 ? -1 : 0;
}

int manifest_encode(struct manifest *m, struct buf *out, struct ja_err *err)
{
	struct emit e = {.o = out, .err = err};
	return encode(m, &e);
}

int manifest_encode_to(struct manifest *m, manifest_write_fn *write, void *ctx, struct ja_err *err)
{
	struct buf o = BUF_INIT;
	struct emit e = {.o = &o, .write = write, .ctx = ctx, .err = err};
	int rc = encode(m, &e);
	buf_release(&o);
	return rc;
}
