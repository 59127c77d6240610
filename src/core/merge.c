/* merge.c - merging (v2023, later wins), composing (v2025 snapshot + diffs, §7.4)
 * and lossless version conversion. */
#include "manifest.h"
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

struct state {
	struct manifest *m;
	struct strmap dirs; /* path -> index in m->dirs */
};

/* Entries are copied by value; their strings stay owned by the inputs. */
static void put_dir(struct state *s, const struct mdir *d)
{
	int found;
	size_t *slot = strmap_put(&s->dirs, d->path, d->pathlen, &found);
	if (found) {
		s->m->dirs[*slot] = *d;
		return;
	}
	xgrow((void **)&s->m->dirs, &s->m->capdirs, s->m->ndirs + 1, sizeof(*d));
	*slot = s->m->ndirs;
	s->m->dirs[s->m->ndirs++] = *d;
}

/* 1 if some proper ancestor of p (or p itself when self) is in set. */
static int under(const struct strmap *set, const char *p, uint32_t len, int self)
{
	if (self && strmap_get(set, p, len))
		return 1;
	for (uint32_t k = len; k-- > 1;)
		if (p[k] == '/' && strmap_get(set, p, k))
			return 1;
	return 0;
}

/* under(del, p, len, 0) for the files of a sorted list: that depends only on the
 * directory part of p, which neighbours share, so the last answer is kept. */
struct under_cache {
	const char *dir;
	uint32_t dirlen;
	int known, yes;
};

static int file_under(struct under_cache *c, const struct strmap *del, const char *p, uint32_t len)
{
	const char *slash = memrchr(p, '/', len);
	uint32_t dl = slash ? (uint32_t)(slash - p) + 1 : 0;
	if (!c->known || dl != c->dirlen || memcmp(p, c->dir, dl)) {
		c->known = 1;
		c->dir = p;
		c->dirlen = dl;
		c->yes = under(del, p, len, 0);
	}
	return c->yes;
}

static int same_path(const struct mfile *a, const struct mfile *b)
{
	return a->pathlen == b->pathlen && !memcmp(a->path, b->path, a->pathlen);
}

/* One diff applied to the files of a state, both sorted: a merge into out (room for
 * both).  The state loses what lies below a directory the diff deletes (del, or NULL),
 * then takes the diff's entries: on equal paths the diff wins; a delete marker removes
 * the path, or with keep_markers stays as the entry.  Within one list the last of equal
 * paths counts.  Returns the number of entries written. */
static size_t apply_files(const struct mfile *st, size_t sn, const struct manifest *diff,
			  const struct strmap *del, int keep_markers, struct mfile *out)
{
	const struct mfile *df = diff->files;
	size_t i = 0, j = 0, n = 0, dn = diff->nfiles;
	struct under_cache uc = {0};
	while (i < sn || j < dn) {
		const struct mfile *a = NULL, *b = NULL;
		int c;
		if (i < sn) {
			a = &st[i];
			while (i + 1 < sn && same_path(&st[i + 1], a))
				a = &st[++i];
		}
		if (j < dn) {
			b = &df[j];
			while (j + 1 < dn && same_path(&df[j + 1], b))
				b = &df[++j];
		}
		c = !a ? 1 : !b ? -1 : utf16_cmp(a->path, a->pathlen, b->path, b->pathlen);
		if (c < 0) {
			i++;
			if (!del || !file_under(&uc, del, a->path, a->pathlen))
				out[n++] = *a;
			continue;
		}
		i += c == 0;
		j++;
		if ((b->flags & MF_DELETED) && !keep_markers)
			continue;
		out[n++] = *b;
	}
	return n;
}

/* The deleted directories of diff (NULL when none); release with strmap_release. */
static struct strmap *deleted_dirs(const struct manifest *diff, struct strmap *del)
{
	size_t ndel = 0;
	int found;
	for (size_t i = 0; i < diff->ndirs; i++)
		ndel += diff->dirs[i].deleted;
	if (!ndel)
		return NULL;
	strmap_init(del, ndel);
	for (size_t i = 0; i < diff->ndirs; i++)
		if (diff->dirs[i].deleted)
			strmap_put(del, diff->dirs[i].path, diff->dirs[i].pathlen, &found);
	return del;
}

/* Apply one diff: its deletions first, then its additions.  Directories go through the
 * state's map; files are merged as sorted lists into a new array (no map of a million
 * paths, no sort afterwards). */
static void apply_diff(struct state *s, const struct mfile *st, size_t sn,
		       const struct manifest *diff, int keep_markers)
{
	struct strmap delmap, *del = deleted_dirs(diff, &delmap);
	if (del)
		for (size_t i = 0; i < s->m->ndirs; i++) {
			struct mdir *d = &s->m->dirs[i];
			if (d->deleted != 2 && under(del, d->path, d->pathlen, 1))
				d->deleted = 2; /* gone */
		}
	for (size_t i = 0; i < diff->ndirs; i++) {
		const struct mdir *d = &diff->dirs[i];
		if (!d->deleted || keep_markers)
			put_dir(s, d);
	}
	s->m->nfiles = apply_files(st, sn, diff, del, keep_markers, s->m->files);
	if (del)
		strmap_release(del);
}

static void compact_dirs(struct manifest *m)
{
	size_t j = 0;
	for (size_t i = 0; i < m->ndirs; i++)
		if (m->dirs[i].deleted != 2)
			m->dirs[j++] = m->dirs[i];
	m->ndirs = j;
}

/* v2025 with more than one input: in[0] composed with each diff in turn. */
static void compose(struct state *s, struct manifest *const *in, size_t n)
{
	struct manifest *out = s->m;
	int diffs_only = in[0]->type == MTYPE_DIFF;
	const struct mfile *st = in[0]->files;
	struct mfile *prev = NULL;
	size_t sn = in[0]->nfiles;
	for (size_t j = 0; j < in[0]->ndirs; j++)
		put_dir(s, &in[0]->dirs[j]);
	for (size_t i = 0; i < n; i++)
		manifest_sort_files(in[i]);
	for (size_t i = 1; i < n; i++) {
		out->capfiles = sn + in[i]->nfiles + 1;
		out->files = xmalloc(out->capfiles * sizeof(*out->files));
		apply_diff(s, st, sn, in[i], diffs_only);
		free(prev);
		prev = out->files;
		st = out->files;
		sn = out->nfiles;
	}
	for (size_t i = 0; i < out->nfiles; i++)
		out->files[i].ord = (uint32_t)i;
	compact_dirs(out);
	out->type = in[0]->type;
	out->parent_hash = diffs_only ? in[0]->parent_hash : NULL;
}

/* v2023: a k-way merge of the (sorted) inputs; on equal paths the later input wins.
 * The output comes out sorted, so encoding it needs no sort. */
static void merge_sorted(struct manifest *out, struct manifest *const *in, size_t n)
{
	size_t *pos = xcalloc(n, sizeof(*pos)), total = 0;
	for (size_t i = 0; i < n; i++) {
		manifest_sort_files(in[i]);
		total += in[i]->nfiles;
	}
	out->files = xmalloc((total ? total : 1) * sizeof(*out->files));
	out->capfiles = total ? total : 1;
	for (;;) {
		const struct mfile *best = NULL;
		for (size_t i = 0; i < n; i++) {
			const struct mfile *f;
			int c;
			if (pos[i] >= in[i]->nfiles)
				continue;
			f = &in[i]->files[pos[i]];
			c = best ? utf16_cmp(f->path, f->pathlen, best->path, best->pathlen) : -1;
			if (c <= 0)
				best = f; /* equal: the later input wins */
		}
		if (!best)
			break;
		for (size_t i = 0; i < n; i++) {
			/* skip every head equal to best (and inputs' own duplicates) */
			while (pos[i] < in[i]->nfiles &&
			       in[i]->files[pos[i]].pathlen == best->pathlen &&
			       !memcmp(in[i]->files[pos[i]].path, best->path, best->pathlen) &&
			       &in[i]->files[pos[i]] != best)
				pos[i]++;
		}
		out->files[out->nfiles] = *best;
		out->files[out->nfiles].ord = (uint32_t)out->nfiles;
		out->nfiles++;
		for (size_t i = 0; i < n; i++)
			if (pos[i] < in[i]->nfiles && &in[i]->files[pos[i]] == best)
				pos[i]++;
	}
	free(pos);
}

/* totalSize of a result; hostile sizes can make the sum overflow an int64. */
static int set_total(struct manifest *m, struct ja_err *err)
{
	int64_t t = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		if (!(f->flags & MF_DELETED) && !f->symlink && add_overflow_i64(t, f->size, &t))
			return err_set(err, EXIT_USAGE, "total size overflows");
	}
	m->total_size = t;
	return 0;
}

static int check_inputs(struct manifest *const *in, size_t n, struct ja_err *err)
{
	for (size_t i = 1; i < n; i++) {
		if (in[i]->ver != in[0]->ver)
			return err_set(err, EXIT_USAGE,
				       "cannot merge v2023 and v2025 manifests (input %zu is %s, "
				       "input 1 is %s; convert with --format)",
				       i + 1, in[i]->ver == MVER_2023 ? "v2023" : "v2025",
				       in[0]->ver == MVER_2023 ? "v2023" : "v2025");
		if (in[0]->ver == MVER_2025 && in[i]->style != in[0]->style)
			return err_set(err, EXIT_USAGE,
				       "cannot compose relative and absolute manifests (input %zu)",
				       i + 1);
		if (in[0]->ver == MVER_2025 && in[i]->type != MTYPE_DIFF)
			return err_set(err, EXIT_USAGE,
				       "input %zu is a snapshot: only the first input may be a "
				       "snapshot; the rest must be diffs",
				       i + 1);
	}
	return 0;
}

int manifest_merge(struct manifest *out, struct manifest *const *in, size_t n, struct ja_err *err)
{
	struct state s;
	manifest_init(out, n ? in[0]->ver : MVER_2023);
	if (!n)
		return err_set(err, EXIT_USAGE, "nothing to merge");
	if (check_inputs(in, n, err) < 0)
		return -1;
	s.m = out;
	strmap_init(&s.dirs, 16);
	out->ver = in[0]->ver;
	out->style = in[0]->style;
	out->gen = in[0]->gen;
	if (out->ver == MVER_2023) {
		merge_sorted(out, in, n);
	} else if (n == 1) {
		/* one input: its entries as they are (formatting) */
		out->files = xmalloc((in[0]->nfiles + 1) * sizeof(*out->files));
		if (in[0]->nfiles) /* memcpy from NULL is undefined even for 0 bytes */
			memcpy(out->files, in[0]->files, in[0]->nfiles * sizeof(*out->files));
		out->nfiles = out->capfiles = in[0]->nfiles;
		out->dirs = xmalloc((in[0]->ndirs + 1) * sizeof(*out->dirs));
		if (in[0]->ndirs)
			memcpy(out->dirs, in[0]->dirs, in[0]->ndirs * sizeof(*out->dirs));
		out->ndirs = out->capdirs = in[0]->ndirs;
		out->type = in[0]->type;
		out->parent_hash = in[0]->parent_hash;
	} else {
		compose(&s, in, n);
	}
	strmap_release(&s.dirs);
	return set_total(out, err);
}

int manifest_merge_consume(struct manifest *out, struct manifest *const *in, size_t n,
			   struct ja_err *err)
{
	int rc;
	if (n == 1) {
		/* one input becomes the output (no copy of a million entries) */
		struct manifest *m = in[0];
		*out = *m;
		memset(m, 0, sizeof(*m));
		manifest_init(m, out->ver);
		if (out->ver == MVER_2023) { /* as merge_sorted makes it */
			manifest_sort_files(out);
			for (size_t i = 0; i < out->nfiles; i++)
				out->files[i].ord = (uint32_t)i;
			out->ndirs = 0;
			out->type = MTYPE_SNAPSHOT;
			out->parent_hash = NULL;
		}
		return set_total(out, err);
	}
	rc = manifest_merge(out, in, n, err);
	for (size_t i = 0; i < n; i++) {
		arena_adopt(&out->arena, &in[i]->arena);
		manifest_release(in[i]);
		manifest_init(in[i], out->ver);
	}
	return rc;
}

int manifest_convert(struct manifest *m, enum mver ver, struct ja_err *err)
{
	if (m->ver == ver)
		return 0;
	if (ver == MVER_2025) {
		for (size_t i = 0; i < m->nfiles; i++) {
			if (m->files[i].size > CHUNK_SIZE)
				return err_set(err, EXIT_USAGE,
					       "%s: over 256 MiB, so v2025 needs its chunk hashes, "
					       "which a v2023 manifest lacks (snapshot the tree "
					       "with --format v2025)",
					       esc_name(m->files[i].path));
			if (m->files[i].path[0] == '/')
				return err_set(err, EXIT_USAGE,
					       "%s: absolute path in a v2023 manifest",
					       esc_name(m->files[i].path));
		}
		m->ver = MVER_2025;
		m->gen = 2;
		m->type = MTYPE_SNAPSHOT;
		m->style = MSTYLE_RELATIVE;
		return 0;
	}
	if (m->type == MTYPE_DIFF)
		return err_set(err, EXIT_USAGE,
			       "a v2025 diff cannot be expressed in v2023 (merge it onto its "
			       "snapshot first)");
	if (m->style == MSTYLE_ABSOLUTE)
		return err_set(err, EXIT_USAGE,
			       "absolute-path manifests cannot be expressed in "
			       "v2023");
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		const char *what = f->symlink		    ? "is a symlink"
				   : f->nchunks		    ? "is chunked (over 256 MiB)"
				   : f->flags & MF_RUNNABLE ? "is runnable (v2023 has no mode bits)"
							    : NULL;
		if (what)
			return err_set(err, EXIT_USAGE, "%s %s: v2023 cannot express that",
				       esc_name(f->path), what);
	}
	if (m->ndirs) {
		struct strmap anc;
		int found, rc = 0;
		strmap_init(&anc, m->nfiles);
		for (size_t i = 0; i < m->nfiles; i++)
			for (uint32_t k = m->files[i].pathlen; k-- > 1;)
				if (m->files[i].path[k] == '/')
					strmap_put(&anc, m->files[i].path, k, &found);
		for (size_t i = 0; i < m->ndirs && !rc; i++)
			if (!strmap_get(&anc, m->dirs[i].path, m->dirs[i].pathlen))
				rc = err_set(err, EXIT_USAGE,
					     "empty directory %s: v2023 cannot express that",
					     esc_name(m->dirs[i].path));
		strmap_release(&anc);
		if (rc)
			return rc;
	}
	if (m->nfiles == 0)
		return err_set(err, EXIT_USAGE, "an empty manifest cannot be expressed in v2023");
	if (set_total(m, err) < 0)
		return -1;
	m->ndirs = 0;
	m->ver = MVER_2023;
	m->gen = 0;
	m->type = MTYPE_SNAPSHOT;
	return 0;
}
