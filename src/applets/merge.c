/* merge.c - ja-merge: merge manifests; with one input, a canonical formatter. */
#include "core/buf.h"
#include "core/manifest.h"
#include "core/opt.h"
#include "core/output.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { OPT_FORMAT = 256, OPT_BYMTIME };

const struct opt applet_merge_opts[] = {
    {OPT_FORMAT, 0, "format", "FMT", "write v2023 or v2025 (converting where lossless)",
     "v2023 v2025"},
    {OPT_ID_OUTPUT, 'o', "output", "FILE", "write to FILE (atomically) instead of stdout", "file"},
    {OPT_BYMTIME, 0, "by-mtime", NULL, "order the inputs by file modification time first", NULL},
    OPT_END,
};

struct byt {
	const char *name;
	struct timespec t;
	size_t i;
};

static int byt_cmp(const void *x, const void *y)
{
	const struct byt *a = x, *b = y;
	if (a->t.tv_sec != b->t.tv_sec)
		return a->t.tv_sec < b->t.tv_sec ? -1 : 1;
	if (a->t.tv_nsec != b->t.tv_nsec)
		return a->t.tv_nsec < b->t.tv_nsec ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i; /* stable: equal times keep argument order */
}

/* Reorder names oldest first (--by-mtime). */
static void order_by_mtime(const char **names, size_t n)
{
	struct byt *v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (!strcmp(names[i], "-"))
			opt_usage_error("--by-mtime needs files, not stdin");
		if (stat(names[i], &sb) < 0)
			die(EXIT_FAIL, "%s: %s", esc_name(names[i]), strerror(errno));
		v[i].name = names[i];
		v[i].t = sb.st_mtim;
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), byt_cmp);
	for (size_t i = 0; i < n; i++)
		names[i] = v[i].name;
	free(v);
}

static enum mver parse_format(const char *s)
{
	if (!strcmp(s, "v2023") || !strcmp(s, "2023-03-03"))
		return MVER_2023;
	if (!strcmp(s, "v2025"))
		return MVER_2025;
	opt_usage_error("--format: unknown format '%s' (v2023 or v2025)", s);
}

int applet_merge_main(int argc, char **argv)
{
	struct optstate st;
	struct manifest *in, out, **ptrs;
	struct ja_err err = {0};
	const char *outpath = NULL, *stdin_arg[] = {"-"};
	const char **files;
	enum mver fmt = 0;
	size_t n;
	int id, rc = EXIT_OK, bymtime = 0;

	opt_init(&st, NULL, argc, argv);
	while ((id = opt_next(&st)))
		if (id == OPT_FORMAT)
			fmt = parse_format(st.arg);
		else if (id == OPT_ID_OUTPUT)
			outpath = st.arg;
		else if (id == OPT_BYMTIME)
			bymtime = 1;
	n = st.npos ? (size_t)st.npos : 1;
	files = st.npos ? (const char **)st.pos : stdin_arg;
	if (bymtime)
		order_by_mtime(files, n);
	in = xcalloc(n, sizeof(*in));
	ptrs = xcalloc(n, sizeof(*ptrs));
	manifest_init(&out, MVER_2023);
	for (size_t i = 0; i < n; i++) {
		manifest_init(&in[i], MVER_2023);
		ptrs[i] = &in[i];
		if (manifest_load(&in[i], files[i], &err) < 0)
			goto fail;
	}
	if (manifest_merge_consume(&out, ptrs, n, &err) < 0)
		goto fail;
	if (fmt && manifest_convert(&out, fmt, &err) < 0)
		goto fail;
	if (output_manifest(outpath, &out, &err) < 0)
		goto fail;
	goto done;
fail:
	errorx("%s", err.msg);
	rc = err.code ? err.code : EXIT_FAIL;
done:
	manifest_release(&out);
	for (size_t i = 0; i < n; i++)
		manifest_release(&in[i]);
	free(in);
	free(ptrs);
	opt_release(&st);
	return rc;
}
