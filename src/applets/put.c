/* put.c - ja-put: upload a manifest's content objects, then the manifest. */
#include "core/buf.h"
#include "core/checkcache.h"
#include "core/hash.h"
#include "core/jakeys.h"
#include "core/json.h"
#include "core/manifest.h"
#include "core/opt.h"
#include "core/progress.h"
#include "core/put.h"
#include "core/util.h"
#include "core/walk.h"
#include "s3cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	OPT_ROOT = 'C',
	OPT_FARM = 1301,
	OPT_QUEUE,
	OPT_JOB,
	OPT_STEP,
	OPT_TASK,
	OPT_SACTION,
	OPT_MKEY,
	OPT_NOMANIFEST,
	OPT_ASSETROOT,
	OPT_FSLOC,
	OPT_ATTACH,
	OPT_NOCC,
	OPT_OUTDIR,
};

const struct opt applet_put_opts[] = {
    {OPT_ROOT, 'C', "root", "DIR", "the tree the manifest describes (default: .)", "dir"},
    OPT_STORE,
    {OPT_FARM, 0, "farm", "ID", "input manifest key: farm id (with --queue)", NULL},
    {OPT_QUEUE, 0, "queue", "ID", "input manifest key: queue id", NULL},
    {OPT_JOB, 0, "job", "ID", "output manifest key: job id (default: $DEADLINE_JOB_ID)", NULL},
    {OPT_STEP, 0, "step", "ID", "output manifest key: step id", NULL},
    {OPT_TASK, 0, "task", "ID", "output manifest key: task id", NULL},
    {OPT_SACTION, 0, "session-action", "ID", "output manifest key: session action id", NULL},
    {OPT_MKEY, 0, "manifest-key", "KEY", "store the manifest under this key", NULL},
    {OPT_NOMANIFEST, 0, "no-manifest", NULL, "upload the content only", NULL},
    {OPT_ASSETROOT, 0, "asset-root", "PATH", "asset-root metadata (default: the root)", NULL},
    {OPT_FSLOC, 0, "file-system-location", "NAME", "file-system-location-name metadata", NULL},
    {OPT_OUTDIR, 0, "output-dir", "DIR",
     "attachments: an output directory relative to the root (repeatable)", NULL},
    {OPT_ATTACH, 0, "attachments", NULL, "print the CreateJob attachments JSON instead", NULL},
    {OPT_NOCC, 0, "no-check-cache", NULL,
     "ask the store about every object: trust no cached existence", NULL},
    OPT_JOBS,
    OPT_PROGRESS,
    OPT_S3,
    OPT_END,
};

struct putcli {
	const char *root, *store_url, *manifest_key, *asset_root, *fsloc;
	struct jakeys_ids ids;
	const char **outdirs;
	size_t noutdirs;
	int no_manifest, attachments, no_cc, jobs;
	enum progress_mode pmode;
	struct s3_config cfg;
};

static void report(void *ctx, const struct ja_err *e)
{
	(void)ctx;
	errorx("%s", e->msg);
}

static void warn_cc(void *ctx, const char *msg)
{
	(void)ctx;
	warnx("%s", msg);
}

static void parse_opts(struct putcli *pc, struct optstate *st)
{
	size_t cap = 0;
	int id;
	while ((id = opt_next(st))) {
		if (s3cli_option(&pc->cfg, id, st->arg))
			continue;
		switch (id) {
		case OPT_ROOT:
			pc->root = st->arg;
			break;
		case OPT_ID_STORE:
			pc->store_url = st->arg;
			break;
		case OPT_FARM:
			pc->ids.farm = st->arg;
			break;
		case OPT_QUEUE:
			pc->ids.queue = st->arg;
			break;
		case OPT_JOB:
			pc->ids.job = st->arg;
			break;
		case OPT_STEP:
			pc->ids.step = st->arg;
			break;
		case OPT_TASK:
			pc->ids.task = st->arg;
			break;
		case OPT_SACTION:
			pc->ids.session_action = st->arg;
			break;
		case OPT_MKEY:
			pc->manifest_key = st->arg;
			break;
		case OPT_NOMANIFEST:
			pc->no_manifest = 1;
			break;
		case OPT_ASSETROOT:
			pc->asset_root = st->arg;
			break;
		case OPT_FSLOC:
			pc->fsloc = st->arg;
			break;
		case OPT_OUTDIR:
			xgrow((void **)&pc->outdirs, &cap, pc->noutdirs + 1, sizeof(*pc->outdirs));
			pc->outdirs[pc->noutdirs++] = st->arg;
			break;
		case OPT_ATTACH:
			pc->attachments = 1;
			break;
		case OPT_NOCC:
			pc->no_cc = 1;
			break;
		case OPT_ID_PROGRESS:
			pc->pmode = opt_progress_mode(st->arg);
			break;
		}
	}
	if (st->npos > 1)
		opt_usage_error("one MANIFEST at most");
	if (!pc->ids.farm != !pc->ids.queue)
		opt_usage_error("--farm and --queue go together");
	if (pc->attachments && pc->no_manifest)
		opt_usage_error("--attachments needs the manifest uploaded (not --no-manifest)");
	/* the worker's environment names an output manifest unless the command line
	 * asked for an input one */
	if (!pc->ids.farm || pc->ids.job)
		jakeys_from_env(&pc->ids);
}

/* The manifest's key: explicit, input layout, output layout, or by content. */
static char *manifest_key(struct putcli *pc, const char *hash, const char *root, struct ja_err *err)
{
	if (pc->manifest_key)
		return xstrdup(pc->manifest_key);
	char nh[HASH_HEX_SIZE];
	jakeys_name_hash(pc->fsloc, root, nh);
	if (pc->ids.farm && pc->ids.queue && !pc->ids.job) {
		char guid[JAKEYS_GUID_SIZE];
		if (jakeys_guid(guid, err) < 0)
			return NULL;
		return jakeys_input_manifest_key(pc->ids.farm, pc->ids.queue, guid, nh, err);
	}
	if (pc->ids.job) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		return jakeys_output_manifest_key(&pc->ids, us, nh, err);
	}
	struct buf k = BUF_INIT;
	buf_addf(&k, "%s%s", STORE_MANIFEST_DIR, hash);
	return buf_detach(&k, NULL);
}

static void print_result(const char *key, const char *hash, const struct put_stats *s, double secs)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"manifestKey\":");
	if (key)
		json_put_str(&b, key, strlen(key));
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"manifestHash\":");
	if (hash)
		json_put_str(&b, hash, strlen(hash));
	else
		buf_adds(&b, "null");
	buf_addf(&b,
		 ",\"files\":%" PRIu64 ",\"uploaded\":%" PRIu64 ",\"skipped\":%" PRIu64
		 ",\"bytesUploaded\":%" PRIu64 ",\"bytesSkipped\":%" PRIu64 ",\"seconds\":%.3f}\n",
		 s->files, s->uploaded, s->skipped, s->bytes_uploaded, s->bytes_skipped, secs);
	fwrite(b.p, 1, b.len, stdout);
	buf_release(&b);
}

/* A manifest, or nothing at all: what ja-diff writes when a v2023 tree did not
 * change (only whitespace) means there is nothing to upload. */
static int load_or_empty(struct manifest *m, const char *path, int *empty, struct ja_err *err)
{
	struct fmap in;
	if (fmap_open(&in, path, manifest_max_input(), err) < 0)
		return -1;
	size_t i = 0;
	while (i < in.len && strchr(" \t\r\n", in.p[i]))
		i++;
	*empty = i == in.len;
	int rc = *empty ? 0 : manifest_decode(m, in.p, in.len, err);
	if (rc < 0)
		err_prefix(err, "%s", strcmp(path, "-") ? esc_name(path) : "stdin");
	fmap_release(&in);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Upload the manifest bytes with their metadata; *key_out gets the key. */
static int put_manifest(struct putcli *pc, struct store *s, const struct buf *bytes,
			const char *hash, const char *abs_root, char **key_out, struct ja_err *err)
{
	const char *aroot = pc->asset_root ? pc->asset_root : abs_root;
	char *key = manifest_key(pc, hash, aroot, err);
	if (!key)
		return -1;
	struct store_meta *meta = NULL;
	size_t nmeta = 0;
	if (jakeys_asset_root_meta(aroot, pc->fsloc, &meta, &nmeta, err) < 0) {
		free(key);
		return -1;
	}
	struct store_op op = {.kind = STORE_PUT,
			      .key = key,
			      .buf = bytes->p,
			      .len = bytes->len,
			      .meta = meta,
			      .nmeta = nmeta};
	int rc = store_do(s, &op);
	if (rc < 0)
		*err = op.err;
	store_op_release(&op);
	jakeys_meta_free(meta, nmeta);
	if (rc < 0) {
		free(key);
		return -1;
	}
	*key_out = key;
	return 0;
}

static int print_attachments(struct putcli *pc, const char *key, const char *hash,
			     const char *abs_root, struct ja_err *err)
{
	struct buf b = BUF_INIT;
	struct jakeys_manifest_props a = {
	    .root_path = pc->asset_root ? pc->asset_root : abs_root,
	    .file_system_location_name = pc->fsloc,
	    .input_manifest_path = key ? jakeys_input_manifest_path(key) : NULL,
	    .input_manifest_hash = hash,
	    .output_dirs = pc->outdirs,
	    .n_output_dirs = pc->noutdirs,
	};
	int rc = jakeys_attachments_json(&b, &a, 1, NULL, err);
	if (rc == 0) {
		buf_addc(&b, '\n');
		fwrite(b.p, 1, b.len, stdout);
	}
	buf_release(&b);
	return rc;
}

int applet_put_main(int argc, char **argv)
{
	struct optstate st;
	struct putcli pc = {.root = ".", .pmode = PROG_AUTO};
	struct ja_err err = {0};
	struct manifest m;
	struct put_stats stats = {0};
	struct progress prog;
	struct checkcache *cc = NULL;
	struct buf bytes = BUF_INIT;
	char *abs_root = NULL, *key = NULL, hash[HASH_HEX_SIZE] = "";
	int rc = EXIT_OK;
	double t0 = now_s();

	opt_init(&st, NULL, argc, argv);
	parse_opts(&pc, &st);
	const char *mpath = st.npos ? st.pos[0] : "-";
	int empty = 0;
	manifest_init(&m, MVER_2023);
	if (load_or_empty(&m, mpath, &empty, &err) < 0) {
		errorx("%s", err.msg);
		rc = err.code ? err.code : EXIT_USAGE;
		goto out;
	}
	if (empty) {
		infox(0, "nothing to upload: the manifest is empty");
		if (pc.attachments) /* no manifest, so no attachments for CreateJob */
			goto out;
		print_result(NULL, NULL, &stats, now_s() - t0);
		goto out;
	}
	abs_root = path_absolute(pc.root);
	struct store *s = s3cli_store(pc.store_url, &pc.cfg, pc.jobs);
	if (store_is_remote(s) && !pc.no_cc &&
	    checkcache_open(&cc, NULL, warn_cc, NULL, &err) < 0) {
		warnx("check cache unusable, asking the store instead: %s", err.msg);
		cc = NULL;
		err.msg[0] = 0;
	}
	progress_init(&prog, progress_resolve(pc.pmode), "Uploaded", "Transfer rate");
	prog.out = stderr; /* stdout carries the result; OpenJD reads both streams */
	struct put_opts po = {
	    .store = s, .root = pc.root, .cc = cc, .prog = &prog, .report = report};
	int prc = put_objects(&m, &po, &stats, &err);
	progress_finish(&prog);
	progress_release(&prog);
	if (prc < 0 && err.msg[0]) {
		errorx("%s", err.msg);
		rc = err.code ? err.code : EXIT_FAIL;
	} else if (prc < 0) {
		errorx("%" PRIu64 " of %" PRIu64
		       " objects failed to upload; the manifest was not stored",
		       stats.failed, stats.objects);
		rc = EXIT_FAIL;
	} else {
		if (manifest_encode(&m, &bytes, &err) < 0)
			die_err(&err);
		manifest_hash_bytes(bytes.p, bytes.len, hash);
		if (!pc.no_manifest &&
		    put_manifest(&pc, s, &bytes, hash, abs_root, &key, &err) < 0) {
			errorx("%s", err.msg);
			rc = err.code ? err.code : EXIT_FAIL;
		} else if (pc.attachments) {
			if (print_attachments(&pc, key, hash, abs_root, &err) < 0) {
				errorx("%s", err.msg);
				rc = err.code ? err.code : EXIT_FAIL;
			}
		} else {
			print_result(key, hash, &stats, now_s() - t0);
		}
	}
	if (cc)
		checkcache_close(cc);
	store_close(s);
out:
	buf_release(&bytes);
	free(key);
	free(abs_root);
	free(pc.outdirs);
	manifest_release(&m);
	opt_release(&st);
	return rc;
}
