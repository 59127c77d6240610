/* diff.c - manifest differences: new, modified, deleted files and directories. */
#include "diff.h"
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

static int same_content(const struct mfile *a, const struct mfile *b)
{
	if (!!a->symlink != !!b->symlink)
		return 0;
	if (a->symlink)
		return !strcmp(a->symlink, b->symlink);
	if (a->nchunks != b->nchunks)
		return 0;
	if (a->nchunks) {
		for (uint32_t i = 0; i < a->nchunks; i++)
			if (strcmp(a->chunks[i], b->chunks[i]))
				return 0;
		return 1;
	}
	return a->hash && b->hash && !strcmp(a->hash, b->hash);
}

static int modified(const struct mfile *a, const struct mfile *b, int by_hash)
{
	int64_t d = a->mtime - b->mtime;
	if (!same_content(a, b))
		return 1;
	if (by_hash || a->symlink)
		return 0;
	return a->size != b->size || d < -1 || d > 1 ||
	       (a->flags & MF_RUNNABLE) != (b->flags & MF_RUNNABLE);
}

/* Add p[0..len) and every ancestor of it (not "/" alone) to set; stops at the first
 * one already there, whose ancestors are then there too. */
static void put_with_ancestors(struct strmap *set, const char *p, uint32_t len)
{
	int found;
	strmap_put(set, p, len, &found);
	if (found)
		return;
	for (uint32_t k = len; k-- > 1;)
		if (p[k] == '/') {
			strmap_put(set, p, k, &found);
			if (found)
				break;
		}
}

/* Every directory of m: explicit ones, their ancestors and those of files. */
static void dir_set(const struct manifest *m, struct strmap *set)
{
	strmap_init(set, m->ndirs + 64);
	for (size_t i = 0; i < m->ndirs; i++)
		if (!m->dirs[i].deleted)
			put_with_ancestors(set, m->dirs[i].path, m->dirs[i].pathlen);
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		for (uint32_t k = f->pathlen; !(f->flags & MF_DELETED) && k-- > 1;)
			if (f->path[k] == '/') {
				put_with_ancestors(set, f->path, k);
				break;
			}
	}
}

static int dir_cmp(const void *a, const void *b)
{
	const struct mdir *x = *(const struct mdir *const *)a, *y = *(const struct mdir *const *)b;
	return utf16_cmp(x->path, x->pathlen, y->path, y->pathlen);
}

/* The directories of a that b lacks, sorted, as new struct mdir (freed by diff_release). */
static size_t dirs_only_in(const struct strmap *a, const struct strmap *b, const struct mdir ***out)
{
	size_t n = 0;
	for (size_t k = 0; k < a->cap; k++)
		if (a->slots[k].key && !strmap_get(b, a->slots[k].key, a->slots[k].len)) {
			struct mdir *nd = xmalloc(sizeof(*nd));
			nd->path = a->slots[k].key;
			nd->pathlen = (uint32_t)a->slots[k].len;
			nd->deleted = 0;
			*out = xrealloc((void *)*out, (n + 1) * sizeof(**out));
			(*out)[n++] = nd;
		}
	if (n)
		qsort((void *)*out, n, sizeof(**out), dir_cmp);
	return n;
}

#define PUSH(arr, n, v)                                                                            \
	do {                                                                                       \
		arr = xrealloc((void *)arr, ((n) + 1) * sizeof(*arr));                             \
		arr[(n)++] = (v);                                                                  \
	} while (0)

int diff_manifests(struct manifest *base, struct manifest *cur, int by_hash, struct diff_lists *d,
		   struct ja_err *err)
{
	size_t i = 0, j = 0;
	memset(d, 0, sizeof(*d));
	if (base->ver != cur->ver)
		return err_set(err, EXIT_USAGE, "cannot compare a %s manifest with a %s one",
			       base->ver == MVER_2023 ? "v2023" : "v2025",
			       cur->ver == MVER_2023 ? "v2023" : "v2025");
	if (base->type == MTYPE_DIFF || cur->type == MTYPE_DIFF)
		return err_set(err, EXIT_USAGE,
			       "diff compares snapshots (merge a DIFF onto its "
			       "snapshot first)");
	manifest_sort_files(base);
	manifest_sort_files(cur);
	while (i < base->nfiles || j < cur->nfiles) {
		const struct mfile *a = i < base->nfiles ? &base->files[i] : NULL;
		const struct mfile *b = j < cur->nfiles ? &cur->files[j] : NULL;
		int c = !a ? 1 : !b ? -1 : utf16_cmp(a->path, a->pathlen, b->path, b->pathlen);
		if (c < 0) {
			PUSH(d->deleted, d->ndeleted, a);
			i++;
		} else if (c > 0) {
			PUSH(d->added, d->nadded, b);
			j++;
		} else {
			if (modified(a, b, by_hash && base->ver == MVER_2023))
				PUSH(d->modified, d->nmodified, b);
			i++;
			j++;
		}
	}
	if (base->ver == MVER_2025) {
		struct strmap bs, cs;
		dir_set(base, &bs);
		dir_set(cur, &cs);
		d->ndirs_added = dirs_only_in(&cs, &bs, &d->dirs_added);
		d->ndirs_deleted = dirs_only_in(&bs, &cs, &d->dirs_deleted);
		strmap_release(&bs);
		strmap_release(&cs);
	}
	return 0;
}

void diff_release(struct diff_lists *d)
{
	for (size_t k = 0; k < d->ndirs_added; k++)
		free((void *)d->dirs_added[k]);
	for (size_t k = 0; k < d->ndirs_deleted; k++)
		free((void *)d->dirs_deleted[k]);
	free(d->added);
	free(d->modified);
	free(d->deleted);
	free(d->dirs_added);
	free(d->dirs_deleted);
	memset(d, 0, sizeof(*d));
}

static void copy_entry(struct manifest *out, const struct mfile *f)
{
	struct mfile *n;
	xgrow((void **)&out->files, &out->capfiles, out->nfiles + 1, sizeof(*n));
	n = &out->files[out->nfiles];
	*n = *f;
	n->ord = (uint32_t)out->nfiles++;
}

int diff_to_manifest(const struct manifest *base, const struct manifest *cur,
		     const struct diff_lists *d, const char *parent_hex, struct manifest *out,
		     struct ja_err *err)
{
	manifest_init(out, cur->ver);
	out->style = cur->style;
	out->gen = cur->gen;
	for (size_t k = 0; k < d->nadded; k++)
		copy_entry(out, d->added[k]);
	for (size_t k = 0; k < d->nmodified; k++)
		copy_entry(out, d->modified[k]);
	if (cur->ver == MVER_2025) {
		out->type = MTYPE_DIFF;
		out->parent_hash = manifest_strdup(out, parent_hex, strlen(parent_hex));
		for (size_t k = 0; k < d->ndeleted; k++) {
			struct mfile *f =
			    manifest_add_file(out, d->deleted[k]->path, d->deleted[k]->pathlen);
			f->flags = MF_DELETED;
		}
		for (size_t k = 0; k < d->ndirs_added; k++)
			manifest_add_dir(out, d->dirs_added[k]->path, d->dirs_added[k]->pathlen, 0);
		for (size_t k = 0; k < d->ndirs_deleted; k++)
			manifest_add_dir(out, d->dirs_deleted[k]->path, d->dirs_deleted[k]->pathlen,
					 1);
	}
	(void)base;
	(void)err;
	out->total_size = manifest_sum_sizes(out);
	return 0;
}
