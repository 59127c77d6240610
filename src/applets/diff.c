/* diff.c - ja-diff: what changed between a base manifest and a manifest or a tree. */
#include "core/buf.h"
#include "core/diff.h"
#include "core/json.h"
#include "core/manifest.h"
#include "core/opt.h"
#include "core/output.h"
#include "core/snapcli.h"
#include "core/strmap.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_HASH = 256, OPT_STATUS, OPT_EXITCODE };

const struct opt applet_diff_opts[] = {
    {OPT_HASH, 0, "hash", NULL, "NEW is a tree: compare contents, not size and mtime", NULL},
    {OPT_STATUS, 0, "status", NULL, "print {\"new\",\"modified\",\"deleted\"} path lists", NULL},
    {OPT_EXITCODE, 0, "exit-code", NULL, "exit 1 when there are differences", NULL},
    SNAPCLI_OPTS,
    {OPT_ID_OUTPUT, 'o', "output", "FILE", "write the result to FILE (atomically)", "file"},
    OPT_END,
};

struct pstr {
	const char *p;
	uint32_t len;
	int dir; /* p is ours: a directory with its '/' */
};

static int pstr_cmp(const void *a, const void *b)
{
	const struct pstr *x = a, *y = b;
	return utf16_cmp(x->p, x->len, y->p, y->len);
}

/* "KEY":[...]: the paths of files, and of directories as "dir/", sorted as manifests
 * sort paths. */
static void put_list(struct buf *b, const char *key, const struct mfile *const *f, size_t nf,
		     const struct mdir *const *d, size_t nd)
{
	struct pstr *v = xcalloc(nf + nd + 1, sizeof(*v));
	for (size_t i = 0; i < nf; i++)
		v[i] = (struct pstr){f[i]->path, f[i]->pathlen, 0};
	for (size_t i = 0; i < nd; i++) {
		char *s = xmalloc(d[i]->pathlen + 2);
		memcpy(s, d[i]->path, d[i]->pathlen);
		memcpy(s + d[i]->pathlen, "/", 2);
		v[nf + i] = (struct pstr){s, d[i]->pathlen + 1, 1};
	}
	qsort(v, nf + nd, sizeof(*v), pstr_cmp);
	buf_addf(b, "\"%s\":[", key);
	for (size_t i = 0; i < nf + nd; i++) {
		if (i)
			buf_addc(b, ',');
		json_put_str(b, v[i].p, v[i].len);
		if (v[i].dir)
			free((void *)v[i].p);
	}
	buf_addc(b, ']');
	free(v);
}

/* Drop the entries of m that the selection leaves out, so that files excluded from a
 * tree are not reported as deleted.  A v2025 manifest lists every ancestor of its
 * files as a directory: only a directory that had nothing below it is an entry of its
 * own, and it stays when the walk would list it (no includes, not excluded); the
 * others follow from the files that remain. */
static void filter(struct manifest *m, const struct globset *g)
{
	struct strmap parents;
	size_t k = 0;
	int found;
	if (!g->ninc && !g->nexc)
		return;
	strmap_init(&parents, m->nfiles + m->ndirs + 16);
	for (size_t i = 0; i < m->nfiles + m->ndirs; i++) {
		const char *p = i < m->nfiles ? m->files[i].path : m->dirs[i - m->nfiles].path;
		uint32_t n = i < m->nfiles ? m->files[i].pathlen : m->dirs[i - m->nfiles].pathlen;
		while (n-- > 1)
			if (p[n] == '/')
				strmap_put(&parents, p, n, &found);
	}
	for (size_t i = 0; i < m->ndirs; i++) {
		const struct mdir *d = &m->dirs[i];
		if (!g->ninc && !strmap_get(&parents, d->path, d->pathlen) &&
		    globset_selects(g, d->path, d->pathlen))
			m->dirs[k++] = *d;
	}
	m->ndirs = k;
	strmap_release(&parents);
	k = 0;
	for (size_t i = 0; i < m->nfiles; i++)
		if (globset_selects(g, m->files[i].path, m->files[i].pathlen))
			m->files[k++] = m->files[i];
	m->nfiles = k;
}

static int is_dir(const char *p)
{
	struct stat st;
	return strcmp(p, "-") && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int applet_diff_main(int argc, char **argv)
{
	struct optstate st;
	struct snapcli c;
	struct manifest base, cur, out;
	struct diff_lists d = {0};
	struct buf enc = BUF_INIT;
	struct ja_err err = {0};
	const char *outpath = NULL, *newarg;
	int id, by_hash = 0, status = 0, exitcode = 0, rc = EXIT_OK, tree;

	snapcli_init(&c);
	manifest_init(&base, MVER_2023);
	manifest_init(&cur, MVER_2023);
	manifest_init(&out, MVER_2023);
	opt_init(&st, NULL, argc, argv);
	while ((id = opt_next(&st)))
		if (id == OPT_HASH)
			by_hash = 1;
		else if (id == OPT_STATUS)
			status = 1;
		else if (id == OPT_EXITCODE)
			exitcode = 1;
		else if (id == OPT_ID_OUTPUT)
			outpath = st.arg;
		else
			snapcli_option(&c, id, st.arg);
	if (st.npos < 1 || st.npos > 2)
		opt_usage_error(st.npos ? "too many operands" : "missing BASE");
	newarg = st.npos == 2 ? st.pos[1] : "-";
	if (!strcmp(newarg, "-") && !strcmp(st.pos[0], "-"))
		opt_usage_error("BASE and NEW cannot both be stdin");
	tree = is_dir(newarg);
	if (by_hash && !tree)
		opt_usage_error("--hash needs NEW to be a directory");
	if (manifest_load(&base, st.pos[0], &err) < 0)
		goto fail;
	if (tree && base.ver == MVER_2025 && base.style == MSTYLE_ABSOLUTE) {
		err_set(&err, EXIT_USAGE,
			"%s: an absolute-path manifest cannot be compared with a directory",
			esc_name(st.pos[0]));
		goto fail;
	}
	filter(&base, &c.globs);
	if (tree) {
		snapcli_ready(&c, base.ver, !outpath || !strcmp(outpath, "-"));
		c.so.reuse = by_hash ? NULL : &base;
		manifest_release(&cur);
		if (snapshot_tree(newarg, &c.so, &cur, &err) < 0)
			goto fail;
	} else if (manifest_load(&cur, newarg, &err) < 0) {
		goto fail;
	} else {
		filter(&cur, &c.globs);
	}
	if (diff_manifests(&base, &cur, by_hash || !tree ? by_hash : 0, &d, &err) < 0)
		goto fail;
	if (ja_verbose > 0 && base.ver == MVER_2023)
		for (size_t i = 0; i < d.ndeleted; i++)
			infox(1, "deleted (not expressible in v2023): %s",
			      esc_name(d.deleted[i]->path));
	if (status) {
		buf_addc(&enc, '{');
		put_list(&enc, "new", d.added, d.nadded, d.dirs_added, d.ndirs_added);
		buf_addc(&enc, ',');
		put_list(&enc, "modified", d.modified, d.nmodified, NULL, 0);
		buf_addc(&enc, ',');
		put_list(&enc, "deleted", d.deleted, d.ndeleted, d.dirs_deleted, d.ndirs_deleted);
		buf_adds(&enc, "}\n");
	} else if (base.ver == MVER_2023 && !d.nadded && !d.nmodified) {
		infox(1, "no new or modified files: nothing written (an empty v2023 manifest is "
			 "invalid)");
	} else {
		char parent[33];
		struct buf pb = BUF_INIT;
		if (manifest_encode(&base, &pb, &err) < 0) {
			buf_release(&pb);
			goto fail;
		}
		manifest_hash_bytes(pb.p, pb.len, parent);
		buf_release(&pb);
		if (diff_to_manifest(&base, &cur, &d, parent, &out, &err) < 0 ||
		    manifest_encode(&out, &enc, &err) < 0)
			goto fail;
	}
	/* nothing to say (v2023, no change): stdout stays empty and -o FILE untouched */
	if (enc.len && output_write(outpath, enc.p, enc.len, &err) < 0)
		goto fail;
	if (exitcode && diff_count(&d))
		rc = EXIT_FAIL;
	goto done;
fail:
	errorx("%s", err.msg);
	rc = err.code ? err.code : EXIT_FAIL;
	if (exitcode)
		rc = EXIT_USAGE; /* as diff(1): 1 means differences, trouble is 2 */
done:
	diff_release(&d);
	snapcli_release(&c);
	buf_release(&enc);
	manifest_release(&out);
	manifest_release(&cur);
	manifest_release(&base);
	opt_release(&st);
	return rc;
}
