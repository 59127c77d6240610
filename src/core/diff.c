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

/* Every directory of m: explicit ones and ancestors of files (not "/" alone). */
static void dir_set(const struct manifest *m, struct strmap *set)
{
	int found;
	strmap_init(set, m->ndirs + 64);
	for (size_t i = 0; i < m->ndirs; i++)
		if (!m->dirs[i].deleted)
			strmap_put(set, m->dirs[i].path, m->dirs[i].pathlen, &found);
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		if (f->flags & MF_DELETED)
			continue;
		for (uint32_t k = f->pathlen; k-- > 1;)
			if (f->path[k] == '/') {
				strmap_put(set, f->path, k, &found);
				if (found)
					break;
			}
	}
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
			if (modified(a, b, by_hash))
				PUSH(d->modified, d->nmodified, b);
			i++;
			j++;
		}
	}
	if (base->ver == MVER_2025) {
		struct strmap bs, cs;
		dir_set(base, &bs);
		dir_set(cur, &cs);
		for (size_t k = 0; k < cs.cap; k++)
			if (cs.slots[k].key && !strmap_get(&bs, cs.slots[k].key, cs.slots[k].len)) {
				struct mdir *nd = xmalloc(sizeof(*nd));
				nd->path = cs.slots[k].key;
				nd->pathlen = (uint32_t)cs.slots[k].len;
				nd->deleted = 0;
				PUSH(d->dirs_added, d->ndirs_added, nd);
			}
		for (size_t k = 0; k < bs.cap; k++)
			if (bs.slots[k].key && !strmap_get(&cs, bs.slots[k].key, bs.slots[k].len)) {
				PUSH(d->dirs_deleted, d->ndirs_deleted, bs.slots[k].key);
				d->dirs_deleted_len = xrealloc(d->dirs_deleted_len,
							       d->ndirs_deleted * sizeof(uint32_t));
				d->dirs_deleted_len[d->ndirs_deleted - 1] =
				    (uint32_t)bs.slots[k].len;
			}
		strmap_release(&bs);
		strmap_release(&cs);
	}
	return 0;
}

void diff_release(struct diff_lists *d)
{
	for (size_t k = 0; k < d->ndirs_added; k++)
		free((void *)d->dirs_added[k]);
	free(d->added);
	free(d->modified);
	free(d->deleted);
	free(d->dirs_added);
	free(d->dirs_deleted);
	free(d->dirs_deleted_len);
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
			manifest_add_dir(out, d->dirs_deleted[k], d->dirs_deleted_len[k], 1);
	}
	(void)base;
	(void)err;
	out->total_size = manifest_sum_sizes(out);
	return 0;
}
