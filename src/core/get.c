/* get.c - a manifest's files from a store into a directory.
 *
 * First pass: check every path, see what is already in place (a rerun
 * resumes), add up what must be written and check the free space.  v2025 diff
 * deletions and directories come next.  Then a feeder hands the store a few
 * files at a time; each file's pieces (one, or its 256 MiB chunks) are fetched
 * at once, written at their offsets into a temporary and hashed on arrival;
 * when the last piece is in and every hash matches, dest_finish gives the file
 * its mtime and mode and renames it into place.  Symlinks are made last, so no
 * file is ever written through one.
 */
#include "get.h"
#include "hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FEED_FILES 48

enum { ST_TODO, ST_INPLACE, ST_BAD, ST_SKIP };

struct gpiece {
	struct gfile *gf;
	struct store_op op;
	struct hash_stream hs;
	const char *hash;
	uint64_t off, len, got;
	int io_failed;
	char key[48];
};

struct gfile {
	const struct mfile *f;
	struct dest_file *df;
	struct gpiece *pieces;
	uint32_t npieces, left;
	int failed;
	struct ja_err err;
	struct grun *run;
};

struct grun {
	const struct get_opts *o;
	struct get_stats *stats;
	const struct manifest *m;
	uint8_t *state; /* per file entry */
	size_t next;
	/* --min-rate */
	pthread_mutex_t mu;
	double win_start;
	uint64_t win_bytes, bytes;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int is_file(const struct mfile *f)
{
	return !(f->flags & MF_DELETED) && !f->symlink;
}

static void report(struct grun *r, const struct ja_err *e)
{
	r->stats->failed++;
	if (r->o->report)
		r->o->report(r->o->report_ctx, e);
}

/* Bytes arrived: progress, and the floor on the rate (--min-rate). */
static void account(struct grun *r, uint64_t n)
{
	if (r->o->prog && n)
		progress_add(r->o->prog, n, 0);
	if (!r->o->min_rate)
		return;
	pthread_mutex_lock(&r->mu);
	r->bytes += n;
	double now = mono(), el = now - r->win_start;
	if (el >= r->o->min_rate_window) {
		if ((double)(r->bytes - r->win_bytes) / el < (double)r->o->min_rate &&
		    !r->stats->too_slow) {
			r->stats->too_slow = 1;
			store_interrupted = 1; /* stop every transfer now */
		}
		r->win_start = now;
		r->win_bytes = r->bytes;
	}
	pthread_mutex_unlock(&r->mu);
}

/* ---- first pass ---- */

static int verify_existing(const struct mfile *f, int fd)
{
	struct hash_opts ho = {.chunk_size = f->nchunks ? (uint64_t)CHUNK_SIZE : 0, .threads = 2};
	struct hash_result hr;
	struct ja_err e;
	if (hash_fd(fd, &ho, &hr, &e) < 0)
		return 0;
	int ok = 1;
	char hex[HASH_HEX_SIZE];
	if (f->nchunks) {
		ok = hr.nchunks == f->nchunks;
		for (size_t i = 0; ok && i < hr.nchunks; i++) {
			hash_format(hr.chunks[i], hex);
			ok = !strcmp(hex, f->chunks[i]);
		}
	} else {
		hash_format(hr.whole, hex);
		ok = f->hash && !strcmp(hex, f->hash);
	}
	hash_result_release(&hr);
	return ok;
}

/* What each file entry needs; returns the bytes to write. */
static uint64_t survey(struct grun *r)
{
	const struct get_opts *o = r->o;
	uint64_t need = 0;
	for (size_t i = 0; i < r->m->nfiles; i++) {
		const struct mfile *f = &r->m->files[i];
		struct ja_err e = {0};
		if (dest_check_path(f->path, f->pathlen, &e) < 0) {
			r->state[i] = ST_BAD;
			report(r, &e);
			continue;
		}
		if (!is_file(f))
			continue;
		r->stats->files++;
		int fd = -1;
		int st = dest_existing(o->dest, f->path, f->size, f->mtime,
				       o->verify_existing ? &fd : NULL, &e);
		if (st == DEST_MATCH && (!o->verify_existing || verify_existing(f, fd))) {
			r->state[i] = ST_INPLACE;
		} else if (st == DEST_DIFFERENT && o->dest->o.conflict == DEST_SKIP) {
			r->state[i] = ST_SKIP;
		} else {
			need += (uint64_t)f->size;
		}
		if (fd >= 0)
			close(fd);
	}
	return need;
}

static int check_space(struct grun *r, uint64_t need, struct ja_err *err)
{
	uint64_t avail;
	if (r->o->no_space_check || !need || dest_free_bytes(r->o->dest, &avail, err) < 0)
		return 0;
	if (need <= avail)
		return 0;
	char a[32], b[32];
	progress_size(a, sizeof(a), (double)need);
	progress_size(b, sizeof(b), (double)avail);
	return err_set(err, EXIT_FAIL,
		       "total file size required for download (%s) is larger than available "
		       "disk space (%s) in %s",
		       a, b, esc_name(r->o->dest->root_path));
}

/* v2025: deletions of a diff, then the directories it lists. */
static void dirs_and_deletions(struct grun *r)
{
	struct dest *d = r->o->dest;
	struct ja_err e = {0};
	for (size_t i = 0; i < r->m->nfiles; i++) {
		const struct mfile *f = &r->m->files[i];
		if (r->state[i] != ST_BAD && (f->flags & MF_DELETED)) {
			if (dest_delete(d, f->path, &e) < 0)
				report(r, &e);
			else
				r->stats->deleted++;
		}
	}
	for (size_t i = 0; i < r->m->ndirs; i++) {
		const struct mdir *md = &r->m->dirs[i];
		if (dest_check_path(md->path, md->pathlen, &e) < 0) {
			report(r, &e);
		} else if (md->deleted) {
			if (dest_rmdir(d, md->path, &e) < 0)
				report(r, &e);
		} else if (dest_mkdirs(d, md->path, &e) < 0) {
			report(r, &e);
		}
	}
}

/* ---- files ---- */

static void file_release(struct gfile *g)
{
	for (uint32_t i = 0; i < g->npieces; i++) {
		if (g->pieces[i].hs.st)
			hash_stream_release(&g->pieces[i].hs);
		store_op_release(&g->pieces[i].op);
	}
	free(g->pieces);
	free(g);
}

static void file_done(struct gfile *g)
{
	struct grun *r = g->run;
	struct ja_err e = {0};
	if (g->failed) {
		dest_abort(r->o->dest, g->df);
		if (!store_interrupted) /* an interrupt is reported once, by the caller */
			report(r, &g->err);
		file_release(g);
		return;
	}
	int res =
	    dest_finish(r->o->dest, g->df, g->f->mtime, !!(g->f->flags & MF_RUNNABLE), NULL, &e);
	if (res < 0) {
		report(r, &e);
	} else {
		r->stats->downloaded++;
		r->stats->bytes_downloaded += (uint64_t)g->f->size;
		if (res == DEST_COPIED)
			r->stats->copied++;
		if (r->o->prog)
			progress_add(r->o->prog, 0, 1);
	}
	file_release(g);
}

static void piece_fail(struct gpiece *p, const char *fmt, const char *detail)
{
	struct gfile *g = p->gf;
	if (g->failed)
		return;
	g->failed = 1;
	char *url = store_key_url(g->run->o->store, p->key);
	err_set(&g->err, EXIT_FAIL, fmt, esc_name(g->f->path), url, detail);
	free(url);
}

static int on_data(struct store_op *op, const char *b, size_t n, uint64_t off)
{
	struct gpiece *p = op->ctx;
	struct gfile *g = p->gf;
	size_t done = 0;
	if (off + n > p->len) {
		struct ja_err e = {EXIT_FAIL, "object larger than its manifest entry"};
		store_op_fail(op, &e);
		return -1;
	}
	while (done < n) {
		ssize_t w = pwrite(g->df->fd, b + done, n - done, (off_t)(p->off + off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			struct ja_err e;
			err_set(&e, EXIT_FAIL, "%s: %s", esc_name(g->f->path),
				w < 0 ? strerror(errno) : "short write");
			p->io_failed = 1;
			store_op_fail(op, &e);
			return -1;
		}
		done += (size_t)w;
	}
	hash_stream_update(&p->hs, b, n);
	p->got += n;
	account(g->run, n);
	return 0;
}

static void piece_done(struct store_op *op)
{
	struct gpiece *p = op->ctx;
	struct gfile *g = p->gf;
	struct grun *r = g->run;
	if (!op->ok) {
		if (op->not_found) {
			piece_fail(p, "%s: object %s is missing from the store%s",
				   r->o->cc
				       ? " (if it was uploaded with a check cache, upload again "
					 "with --no-check-cache)"
				       : "");
			if (r->o->cc) {
				struct buf k = BUF_INIT;
				buf_addf(&k, "%s/%s", store_cache_id(r->o->store), p->key);
				checkcache_forget(r->o->cc, k.p);
				buf_release(&k);
			}
		} else if (p->io_failed && !g->failed) {
			g->failed = 1;
			g->err = op->err;
		} else {
			piece_fail(p, "%s: %s: %s", op->err.msg);
		}
	} else {
		char hex[HASH_HEX_SIZE];
		hash_format(hash_stream_digest(&p->hs), hex);
		if (p->got != p->len || strcmp(hex, p->hash))
			piece_fail(p, "%s: object %s does not match its hash%s",
				   " (corrupted in the store, or changed after upload)");
	}
	if (--g->left == 0)
		file_done(g);
}

/* 1 when store ops were submitted for f, 0 when it was settled at once */
static int start_file(struct grun *r, const struct mfile *f)
{
	struct ja_err e = {0};
	struct gfile *g = xcalloc(1, sizeof(*g));
	g->f = f;
	g->run = r;
	if (dest_tmp_create(r->o->dest, f->path, &g->df, &e) < 0) {
		report(r, &e);
		free(g);
		return 0;
	}
	if (f->size == 0) { /* nothing to fetch: the hash must be that of no bytes */
		char hex[HASH_HEX_SIZE];
		hash_mem_hex("", 0, hex);
		if (!f->hash || strcmp(hex, f->hash))
			err_set(&g->err, EXIT_FAIL,
				"%s: an empty file with the hash of a non-empty one",
				esc_name(f->path)),
			    g->failed = 1;
		file_done(g);
		return 0;
	}
	uint32_t n = f->nchunks ? f->nchunks : 1;
	g->pieces = xcalloc(n, sizeof(*g->pieces));
	g->npieces = g->left = n;
	if (ftruncate(g->df->fd, (off_t)f->size) < 0 && errno != EINVAL) {
		err_set(&g->err, EXIT_FAIL, "%s: %s", esc_name(f->path), strerror(errno));
		g->failed = 1;
		g->left = 0;
		file_done(g);
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct gpiece *p = &g->pieces[i];
		p->gf = g;
		p->hash = f->nchunks ? f->chunks[i] : f->hash;
		if (f->nchunks)
			hash_chunk_range((uint64_t)f->size, (uint64_t)CHUNK_SIZE, i, &p->off,
					 &p->len);
		else
			p->len = (uint64_t)f->size;
		snprintf(p->key, sizeof(p->key), "%s%s.xxh128", STORE_DATA_DIR, p->hash);
		hash_stream_init(&p->hs);
		p->op = (struct store_op){.kind = STORE_GET,
					  .key = p->key,
					  .on_data = on_data,
					  .on_done = piece_done,
					  .ctx = p};
	}
	for (uint32_t i = 0; i < n; i++)
		store_submit(r->o->store, &g->pieces[i].op);
	return 1;
}

static void feed(void *ctx)
{
	struct grun *r = ctx;
	int started = 0;
	while (started < FEED_FILES && r->next < r->m->nfiles) {
		size_t i = r->next++;
		const struct mfile *f = &r->m->files[i];
		if (!is_file(f) || r->state[i] == ST_BAD)
			continue;
		if (r->state[i] == ST_INPLACE || r->state[i] == ST_SKIP) {
			r->stats->skipped++;
			r->stats->bytes_skipped += (uint64_t)f->size;
			if (r->o->prog)
				progress_add(r->o->prog, 0, 1);
			continue;
		}
		started += start_file(r, f);
	}
}

static void symlinks(struct grun *r)
{
	struct ja_err e = {0};
	for (size_t i = 0; i < r->m->nfiles; i++) {
		const struct mfile *f = &r->m->files[i];
		if (!f->symlink || (f->flags & MF_DELETED) || r->state[i] == ST_BAD)
			continue;
		if (f->symlink[0] == '/') {
			err_set(&e, EXIT_FAIL, "%s: refusing a symlink to an absolute path",
				esc_name(f->path));
			report(r, &e);
			continue;
		}
		/* manifest targets are relative to the root; the link's text is relative to
		 * its own directory */
		struct buf t = BUF_INIT;
		for (const char *s = strchr(f->path, '/'); s; s = strchr(s + 1, '/'))
			buf_adds(&t, "../");
		buf_adds(&t, f->symlink);
		if (dest_symlink(r->o->dest, f->path, t.p, NULL, &e) < 0)
			report(r, &e);
		else
			r->stats->links++;
		buf_release(&t);
	}
}

int get_files(const struct manifest *m, const struct get_opts *o, struct get_stats *stats,
	      struct ja_err *err)
{
	struct grun r = {.o = o, .stats = stats, .m = m};
	memset(stats, 0, sizeof(*stats));
	r.state = xcalloc(m->nfiles + 1, 1);
	pthread_mutex_init(&r.mu, NULL);
	uint64_t need = survey(&r);
	int rc = 0;
	if (check_space(&r, need, err) < 0) {
		rc = -1;
		goto out;
	}
	if (o->prog) {
		uint64_t total = 0;
		for (size_t i = 0; i < m->nfiles; i++)
			if (is_file(&m->files[i]))
				total += (uint64_t)m->files[i].size;
		progress_set_total(o->prog, total, stats->files);
		progress_add(o->prog, total - need, 0);
	}
	dirs_and_deletions(&r);
	r.win_start = mono();
	store_set_feeder(o->store, feed, &r);
	do /* a run that ends with files left (nothing was in flight) goes on */
		rc = store_run(o->store, err);
	while (rc == 0 && r.next < m->nfiles && !store_interrupted);
	store_set_feeder(o->store, NULL, NULL);
	if (stats->too_slow) {
		char b[32];
		progress_size(b, sizeof(b), (double)o->min_rate);
		err_set(err, EXIT_FAIL, "the transfer rate stayed below %s/s for %.0f s: giving up",
			b, o->min_rate_window);
		rc = -1;
		goto out;
	}
	if (rc == 0)
		symlinks(&r);
	if (rc == 0 && stats->failed)
		rc = -1;
out:
	pthread_mutex_destroy(&r.mu);
	free(r.state);
	return rc;
}
