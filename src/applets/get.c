/* get.c - ja-get: download the files of one or more manifests into a directory. */
#include "core/buf.h"
#include "core/checkcache.h"
#include "core/dest.h"
#include "core/get.h"
#include "core/jakeys.h"
#include "core/manifest.h"
#include "core/opt.h"
#include "core/output.h"
#include "core/progress.h"
#include "core/util.h"
#include "s3cli.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
	OPT_DEST = 'C',
	OPT_CONFLICT = 1401,
	OPT_VERIFY,
	OPT_NOSPACE,
	OPT_FARM,
	OPT_QUEUE,
	OPT_JOB,
	OPT_STEP,
	OPT_TASK,
	OPT_MONLY,
	OPT_MINRATE,
	OPT_MINWIN,
	OPT_GROUP,
	OPT_FMODE,
	OPT_DMODE,
};

const struct opt applet_get_opts[] = {
    {OPT_DEST, 'C', "dest", "DIR", "where the files go (default: .)", "dir"},
    OPT_STORE,
    {OPT_CONFLICT, 0, "conflict", "WHAT",
     "a different file at a name: copy (default, 'name (1).ext'), skip or overwrite",
     "copy skip overwrite"},
    {OPT_VERIFY, 0, "verify-existing", NULL, "hash files already in place before keeping them",
     NULL},
    {OPT_NOSPACE, 0, "no-space-check", NULL, "do not check the free space first", NULL},
    {OPT_FARM, 0, "farm", "ID", "output discovery: farm id", NULL},
    {OPT_QUEUE, 0, "queue", "ID", "output discovery: queue id", NULL},
    {OPT_JOB, 0, "job", "ID", "output discovery: job id", NULL},
    {OPT_STEP, 0, "step", "ID", "output discovery: only this step", NULL},
    {OPT_TASK, 0, "task", "ID", "output discovery: only this task", NULL},
    {OPT_MONLY, 0, "manifest-only", NULL, "write the (merged) manifest to stdout, fetch nothing",
     NULL},
    {OPT_MINRATE, 0, "min-rate", "BYTES/S", "give up when the transfer rate stays below this",
     NULL},
    {OPT_MINWIN, 0, "min-rate-window", "SECONDS", "how long it may stay below (default 60)", NULL},
    {OPT_GROUP, 0, "group", "GROUP", "give files and directories this group", NULL},
    {OPT_FMODE, 0, "file-mode", "MODE", "mode bits (octal) added to every file", NULL},
    {OPT_DMODE, 0, "dir-mode", "MODE", "mode bits (octal) added to every directory", NULL},
    OPT_JOBS,
    OPT_PROGRESS,
    OPT_S3,
    OPT_END,
};

struct getcli {
	const char *dest, *store_url;
	struct jakeys_ids ids;
	struct dest_opts dopts;
	int verify, no_space, manifest_only;
	uint64_t min_rate;
	double min_window;
	enum progress_mode pmode;
	struct s3_config cfg;
};

static void report(void *ctx, const struct ja_err *e)
{
	(void)ctx;
	errorx("%s", e->msg);
}

static mode_t parse_mode(const char *arg, const char *name)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 8);
	if (!*arg || *end || errno || v > 07777)
		opt_usage_error("%s: an octal mode expected, not '%s'", name, esc_name(arg));
	return (mode_t)v;
}

static long parse_group(const char *arg)
{
	struct group *g = getgrnam(arg);
	if (g)
		return (long)g->gr_gid;
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 0)
		opt_usage_error("--group: no such group '%s'", esc_name(arg));
	return v;
}

static void parse_opts(struct getcli *gc, struct optstate *st)
{
	int id;
	while ((id = opt_next(st))) {
		if (s3cli_option(&gc->cfg, id, st->arg))
			continue;
		switch (id) {
		case OPT_DEST:
			gc->dest = st->arg;
			break;
		case OPT_ID_STORE:
			gc->store_url = st->arg;
			break;
		case OPT_CONFLICT:
			if (!strcmp(st->arg, "copy"))
				gc->dopts.conflict = DEST_COPY;
			else if (!strcmp(st->arg, "skip"))
				gc->dopts.conflict = DEST_SKIP;
			else if (!strcmp(st->arg, "overwrite"))
				gc->dopts.conflict = DEST_OVERWRITE;
			else
				opt_usage_error("--conflict: copy, skip or overwrite, not '%s'",
						esc_name(st->arg));
			break;
		case OPT_VERIFY:
			gc->verify = 1;
			break;
		case OPT_NOSPACE:
			gc->no_space = 1;
			break;
		case OPT_FARM:
			gc->ids.farm = st->arg;
			break;
		case OPT_QUEUE:
			gc->ids.queue = st->arg;
			break;
		case OPT_JOB:
			gc->ids.job = st->arg;
			break;
		case OPT_STEP:
			gc->ids.step = st->arg;
			break;
		case OPT_TASK:
			gc->ids.task = st->arg;
			break;
		case OPT_MONLY:
			gc->manifest_only = 1;
			break;
		case OPT_MINRATE:
			gc->min_rate = (uint64_t)opt_long(st->arg, "--min-rate", 1, 1L << 50);
			break;
		case OPT_MINWIN:
			gc->min_window = (double)opt_long(st->arg, "--min-rate-window", 1, 86400);
			break;
		case OPT_GROUP:
			gc->dopts.group = parse_group(st->arg);
			break;
		case OPT_FMODE:
			gc->dopts.file_mode = parse_mode(st->arg, "--file-mode");
			break;
		case OPT_DMODE:
			gc->dopts.dir_mode = parse_mode(st->arg, "--dir-mode");
			break;
		case OPT_ID_PROGRESS:
			gc->pmode = opt_progress_mode(st->arg);
			break;
		}
	}
}

/* A manifest from a file, stdin, or a key in the store. */
static int load_one(struct manifest *m, struct store *s, const char *arg, struct ja_err *err)
{
	struct stat sb;
	if (!strcmp(arg, "-") || stat(arg, &sb) == 0)
		return manifest_load(m, arg, err);
	struct store_op op = {.kind = STORE_GET, .key = arg};
	struct buf k = BUF_INIT;
	int rc = store_do(s, &op);
	if (rc < 0 && op.not_found &&
	    strncmp(arg, STORE_MANIFEST_DIR, strlen(STORE_MANIFEST_DIR))) {
		/* the inputManifestPath form: relative to Manifests/ */
		store_op_release(&op);
		buf_addf(&k, "%s%s", STORE_MANIFEST_DIR, arg);
		op = (struct store_op){.kind = STORE_GET, .key = k.p};
		rc = store_do(s, &op);
	}
	if (rc < 0) {
		if (op.not_found)
			err_set(err, EXIT_FAIL, "%s: no such file, and no such manifest in %s",
				esc_name(arg), store_url(s));
		else
			*err = op.err;
	} else if ((rc = manifest_decode(m, op.out_buf, op.out_len, err)) < 0) {
		err_prefix(err, "%s", esc_name(arg));
	}
	store_op_release(&op);
	buf_release(&k);
	return rc;
}

/* Output discovery: the latest output manifests of every task, oldest first. */
static int discover(struct getcli *gc, struct store *s, char ***keys, size_t *n, struct ja_err *err)
{
	char *prefix = jakeys_output_prefix(&gc->ids, err);
	if (!prefix)
		return -1;
	struct store_op op = {.kind = STORE_LIST, .key = prefix};
	int rc = store_do(s, &op);
	if (rc < 0)
		*err = op.err;
	else {
		size_t *sel = NULL;
		*n = jakeys_select_outputs((const char *const *)op.keys, op.nkeys, &sel);
		*keys = xcalloc(*n + 1, sizeof(**keys));
		for (size_t i = 0; i < *n; i++)
			(*keys)[i] = xstrdup(op.keys[sel[i]]);
		free(sel);
	}
	store_op_release(&op);
	free(prefix);
	return rc;
}

static int load_all(struct getcli *gc, struct store *s, struct optstate *st, struct manifest *out,
		    struct ja_err *err)
{
	char **keys = NULL;
	size_t n = 0;
	const char *stdin_arg = "-";
	int disc = !st->npos && gc->ids.job;
	if (disc) {
		if (discover(gc, s, &keys, &n, err) < 0)
			return -1;
		if (!n) {
			infox(0, "no output manifests found for job %s", gc->ids.job);
			manifest_init(out, MVER_2023);
			return 1;
		}
	} else {
		n = st->npos ? (size_t)st->npos : 1;
		keys = (char **)(st->npos ? st->pos : (char **)&stdin_arg);
	}
	struct manifest *in = xcalloc(n, sizeof(*in));
	struct manifest **ptrs = xcalloc(n, sizeof(*ptrs));
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		manifest_init(&in[i], MVER_2023);
		ptrs[i] = &in[i];
		rc = load_one(&in[i], s, keys[i], err);
	}
	manifest_init(out, MVER_2023);
	if (!rc)
		rc = manifest_merge_consume(out, ptrs, n, err);
	for (size_t i = 0; i < n; i++)
		manifest_release(&in[i]);
	free(in);
	free(ptrs);
	if (disc) {
		for (size_t i = 0; i < n; i++)
			free(keys[i]);
		free(keys);
	}
	return rc;
}

int applet_get_main(int argc, char **argv)
{
	struct optstate st;
	struct getcli gc = {.dest = ".", .pmode = PROG_AUTO, .min_window = 60};
	struct ja_err err = {0};
	struct manifest m;
	struct get_stats stats = {0};
	struct progress prog;
	struct dest d;
	struct checkcache *cc = NULL;
	int rc = EXIT_OK;

	dest_opts_init(&gc.dopts);
	/* temporaries of a killed run are unlocked: one second covers the instant
	 * between a live run's create and lock */
	gc.dopts.sweep_age = 1;
	opt_init(&st, NULL, argc, argv);
	parse_opts(&gc, &st);
	if (gc.ids.job) /* discovery: the rest of the ids may come from the worker */
		jakeys_from_env(&gc.ids);
	struct store *s = s3cli_store(gc.store_url, &gc.cfg, 0);
	int lr = load_all(&gc, s, &st, &m, &err);
	if (lr < 0) {
		errorx("%s", err.msg);
		rc = err.code ? err.code : EXIT_FAIL;
		goto out;
	}
	if (gc.manifest_only) {
		if (m.nfiles && output_manifest(NULL, &m, &err) < 0) {
			errorx("%s", err.msg);
			rc = EXIT_FAIL;
		}
		goto out;
	}
	if (dest_open(&d, gc.dest, &gc.dopts, &err) < 0) {
		errorx("%s", err.msg);
		rc = err.code ? err.code : EXIT_FAIL;
		goto out;
	}
	if (store_is_remote(s) && checkcache_open(&cc, NULL, NULL, NULL, &err) < 0) {
		cc = NULL;
		err.msg[0] = 0;
	}
	enum progress_mode pm = progress_resolve(gc.pmode);
	progress_init(&prog, pm, "Downloaded", "Transfer rate");
	struct get_opts go = {.store = s,
			      .dest = &d,
			      .verify_existing = gc.verify,
			      .no_space_check = gc.no_space,
			      .cc = cc,
			      .prog = &prog,
			      .min_rate = gc.min_rate,
			      .min_rate_window = gc.min_window,
			      .report = report};
	int grc = get_files(&m, &go, &stats, &err);
	progress_finish(&prog);
	progress_release(&prog);
	if (grc < 0 && err.msg[0]) {
		if (pm == PROG_OPENJD && stats.too_slow) {
			printf("openjd_fail: %s\n", err.msg);
			fflush(stdout);
		}
		errorx("%s", err.msg);
		rc = err.code ? err.code : EXIT_FAIL;
	} else if (grc < 0) {
		errorx("%" PRIu64 " of %" PRIu64 " entries failed", stats.failed, stats.files);
		rc = EXIT_FAIL;
	}
	infox(1, "%" PRIu64 " files downloaded (%" PRIu64 " bytes), %" PRIu64 " already in place",
	      stats.downloaded, stats.bytes_downloaded, stats.skipped);
	if (cc)
		checkcache_close(cc);
	dest_close(&d);
out:
	if (lr >= 0)
		manifest_release(&m);
	store_close(s);
	opt_release(&st);
	return rc;
}
