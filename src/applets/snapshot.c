/* snapshot.c - ja-snapshot: the manifest of a directory tree. */
#include "core/buf.h"
#include "core/manifest.h"
#include "core/opt.h"
#include "core/output.h"
#include "core/snapcli.h"
#include "core/util.h"

#include <string.h>

const struct opt applet_snapshot_opts[] = {
    {SNAPCLI_FORMAT, 0, "format", "FMT", "v2023 (default, as deadline-cloud) or v2025",
     "v2023 v2025"},
    SNAPCLI_OPTS,
    {OPT_ID_OUTPUT, 'o', "output", "FILE", "write the manifest to FILE (atomically)", "file"},
    OPT_END,
};

int applet_snapshot_main(int argc, char **argv)
{
	struct optstate st;
	struct snapcli c;
	struct manifest m;
	struct ja_err err = {0};
	const char *out = NULL;
	enum mver ver = MVER_2023;
	int id, rc = EXIT_OK;

	snapcli_init(&c);
	opt_init(&st, NULL, argc, argv);
	while ((id = opt_next(&st)))
		if (id == SNAPCLI_FORMAT)
			ver = snapcli_parse_format(st.arg);
		else if (id == OPT_ID_OUTPUT)
			out = st.arg;
		else
			snapcli_option(&c, id, st.arg);
	if (st.npos != 1)
		opt_usage_error(st.npos ? "one DIR only" : "missing DIR");
	snapcli_ready(&c, ver, !out || !strcmp(out, "-"));

	if (snapshot_tree(st.pos[0], &c.so, &m, &err) < 0)
		goto fail;
	if (m.ver == MVER_2023 && m.nfiles == 0) {
		err_set(&err, EXIT_FAIL,
			"%s: no files selected (a v2023 manifest needs at least one; "
			"--format v2025 allows an empty one)",
			esc_name(st.pos[0]));
		goto fail;
	}
	if (output_manifest(out, &m, &err) < 0)
		goto fail;
	goto done;
fail:
	errorx("%s", err.msg);
	rc = err.code ? err.code : EXIT_FAIL;
done:
	snapcli_release(&c);
	manifest_release(&m);
	opt_release(&st);
	return rc;
}
