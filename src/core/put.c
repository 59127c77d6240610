/* put.c - content objects of a manifest into a store: skip what is there, hash
 * while uploading the rest.
 *
 * A feeder hands the store a bounded number of objects at a time.  Each object
 * goes: check cache -> HEAD -> PUT.  A PUT of up to PUT_STREAM_MAX bytes is one
 * stream whose bytes are hashed as they are read; the hash is compared before
 * the last byte leaves, so a changed file never lands under the old hash.  A
 * larger object is hashed first and uploaded in parts, and the file must be
 * unchanged (size, mtime, ctime) when the parts are committed.
 */
#include "put.h"
#include "hash.h"
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PUT_STREAM_MAX ((uint64_t)256 << 20)
#define FEED_BATCH     64
#define LARGE_INFLIGHT 2 /* multipart uploads at once: an interrupt wastes little */

struct pobj {
	const struct mfile *f; /* the first entry with this content */
	const char *hash;
	uint64_t off, len; /* the piece of the file: a chunk, or all of it */
	struct store_op op;
	struct hash_stream hs;
	int fd;
	int phase; /* what op is doing: P_HEAD, P_PUT, P_CLEAN_HEAD, P_CLEAN_DELETE */
	int known; /* K_UNKNOWN, or what the check cache or a listing already told */
	int refused;
	struct ja_err why;
	struct stat st; /* the file when the upload started */
	XXH128_hash_t want;
	char key[48];
	char *cache_key;
	struct prun *run;
};

enum { P_HEAD, P_PUT, P_CLEAN_HEAD, P_CLEAN_DELETE };
enum { K_UNKNOWN, K_EXISTS, K_CACHED, K_MISSING };

/* With this many objects to ask about, one listing of Data/ beats a HEAD each */
#define LIST_MIN 512

struct prun {
	const struct put_opts *o;
	struct put_stats *stats;
	struct pobj *v;
	size_t n, next;
	int rootfd;
	int large; /* large objects in flight */
	int64_t now;
};

void put_data_key(const char *hash, char out[48])
{
	snprintf(out, 48, "%s%s.xxh128", STORE_DATA_DIR, hash);
}

static int cmp_hash(const void *a, const void *b)
{
	const struct pobj *x = a, *y = b;
	int c = strcmp(x->hash, y->hash);
	return c ? c : (x->f->ord > y->f->ord) - (x->f->ord < y->f->ord);
}

/* Distinct objects, the first file (manifest order) standing for each hash. */
static void collect(const struct manifest *m, struct prun *r)
{
	size_t cap = 0, n = 0;
	struct pobj *v = NULL;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		if ((f->flags & MF_DELETED) || f->symlink)
			continue;
		r->stats->files++;
		uint32_t pieces = f->nchunks ? f->nchunks : 1;
		for (uint32_t k = 0; k < pieces; k++) {
			xgrow((void **)&v, &cap, n + 1, sizeof(*v));
			struct pobj *p = &v[n++];
			memset(p, 0, sizeof(*p));
			p->f = f;
			p->fd = -1;
			p->hash = f->nchunks ? f->chunks[k] : f->hash;
			if (f->nchunks)
				hash_chunk_range((uint64_t)f->size, (uint64_t)CHUNK_SIZE, k,
						 &p->off, &p->len);
			else
				p->len = (uint64_t)f->size;
		}
	}
	qsort(v, n, sizeof(*v), cmp_hash);
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (!w || strcmp(v[w - 1].hash, v[i].hash))
			v[w++] = v[i];
	r->v = v;
	r->n = w;
	r->stats->objects = w;
}

static void fail_obj(struct pobj *p, const struct ja_err *e)
{
	struct prun *r = p->run;
	r->stats->failed++;
	if (r->o->report)
		r->o->report(r->o->report_ctx, e);
	if (r->o->prog)
		progress_add(r->o->prog, p->len, 1);
}

static void skip_obj(struct pobj *p)
{
	p->run->stats->skipped++;
	p->run->stats->bytes_skipped += p->len;
	if (p->run->o->prog)
		progress_add(p->run->o->prog, p->len, 1);
}

static void changed(struct pobj *p, struct ja_err *e)
{
	err_set(e, EXIT_FAIL, "file changed since snapshot: %s", esc_name(p->f->path));
}

static int on_seen(struct store_op *op, const char *b, size_t n, uint64_t off)
{
	struct pobj *p = op->ctx;
	if (off == 0)
		hash_stream_reset(&p->hs);
	hash_stream_update(&p->hs, b, n);
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec && a->st_ino == b->st_ino;
}

/* The last word before the object appears under its key. */
static int before_commit(struct store_op *op)
{
	struct pobj *p = op->ctx;
	struct ja_err e;
	struct stat now;
	int ok;
	if (p->len <= PUT_STREAM_MAX)
		ok = p->hs.len == p->len && hash_equal(hash_stream_digest(&p->hs), p->want);
	else
		ok = fstat(p->fd, &now) == 0 && same_file(&now, &p->st);
	if (ok)
		return 0;
	changed(p, &e);
	p->refused = 1;
	store_op_fail(op, &e);
	return -1;
}

static void obj_done(struct store_op *op);

static void finish_obj(struct pobj *p)
{
	if (p->len > PUT_STREAM_MAX)
		p->run->large--;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->hs.st)
		hash_stream_release(&p->hs);
	free(p->cache_key);
	p->cache_key = NULL;
	store_op_release(&p->op);
}

static int start_put(struct pobj *p)
{
	struct prun *r = p->run;
	struct ja_err e = {0};
	p->fd = walk_open(r->rootfd, p->f->path, 1, &e);
	if (p->fd < 0) {
		err_prefix(&e, "%s", esc_name(p->f->path));
		fail_obj(p, &e);
		return -1;
	}
	if (fstat(p->fd, &p->st) < 0 || !S_ISREG(p->st.st_mode) ||
	    (uint64_t)p->st.st_size != (uint64_t)p->f->size) {
		changed(p, &e);
		fail_obj(p, &e);
		return -1;
	}
	hash_parse(p->hash, HASH_HEX_LEN, &p->want);
	int64_t mt = (int64_t)p->st.st_mtim.tv_sec * 1000000 + p->st.st_mtim.tv_nsec / 1000;
	if (p->len > PUT_STREAM_MAX || mt - p->f->mtime > 1 || p->f->mtime - mt > 1) {
		/* too big for one stream, or touched since the snapshot: hash it first, so
		 * a changed file sends no byte at all */
		XXH128_hash_t h;
		if (hash_fd_range(p->fd, p->off, p->len, 2, &h, &e) < 0 ||
		    !hash_equal(h, p->want)) {
			changed(p, &e);
			fail_obj(p, &e);
			return -1;
		}
	} else {
		hash_stream_init(&p->hs);
	}
	p->phase = P_PUT;
	p->op = (struct store_op){.kind = STORE_PUT,
				  .key = p->key,
				  .fd = p->fd,
				  .off = p->off,
				  .len = p->len,
				  .on_seen = p->len <= PUT_STREAM_MAX ? on_seen : NULL,
				  .before_commit = before_commit,
				  .on_done = obj_done,
				  .ctx = p};
	store_submit(r->o->store, &p->op);
	return 0;
}

/* A server that keeps what an aborted upload sent (s3rver does; S3 does not) must
 * not be left with it: an object of the wrong size under a content key is junk by
 * definition, so removing it is safe. */
static void start_cleanup(struct pobj *p)
{
	p->phase = P_CLEAN_HEAD;
	store_op_release(&p->op);
	p->op = (struct store_op){.kind = STORE_HEAD, .key = p->key, .on_done = obj_done, .ctx = p};
	store_submit(p->run->o->store, &p->op);
}

static void put_done(struct pobj *p, struct store_op *op)
{
	struct prun *r = p->run;
	if (op->ok) {
		if (r->o->cc)
			checkcache_add(r->o->cc, p->cache_key, r->now);
		r->stats->uploaded++;
		r->stats->bytes_uploaded += p->len;
		if (r->o->prog)
			progress_add(r->o->prog, p->len, 0);
		if (r->o->prog)
			progress_add(r->o->prog, 0, 1);
		finish_obj(p);
		return;
	}
	p->why = op->err;
	if (p->refused && store_is_remote(r->o->store)) {
		start_cleanup(p);
		return;
	}
	fail_obj(p, &p->why);
	finish_obj(p);
}

static void obj_done(struct store_op *op)
{
	struct pobj *p = op->ctx;
	struct prun *r = p->run;
	switch (p->phase) {
	case P_HEAD:
		if (op->ok) {
			if (r->o->cc)
				checkcache_add(r->o->cc, p->cache_key, r->now);
			skip_obj(p);
		} else if (op->not_found) {
			store_op_release(op);
			if (start_put(p) == 0)
				return;
		} else {
			fail_obj(p, &op->err);
		}
		break;
	case P_PUT:
		put_done(p, op);
		return;
	case P_CLEAN_HEAD:
		if (op->ok && op->size != p->len) {
			p->phase = P_CLEAN_DELETE;
			store_op_release(op);
			p->op = (struct store_op){
			    .kind = STORE_DELETE, .key = p->key, .on_done = obj_done, .ctx = p};
			store_submit(r->o->store, &p->op);
			return;
		}
		fail_obj(p, &p->why);
		break;
	case P_CLEAN_DELETE:
		fail_obj(p, &p->why);
		break;
	}
	finish_obj(p);
}

/* 1 when a store op was submitted for p (0: settled at once from the check cache) */
static int start_obj(struct prun *r, struct pobj *p)
{
	if (p->known == K_CACHED || p->known == K_EXISTS) {
		if (p->known == K_EXISTS && r->o->cc) /* confirmed by the listing */
			checkcache_add(r->o->cc, p->cache_key, r->now);
		skip_obj(p);
		finish_obj(p);
		return 0;
	}
	if (p->known == K_MISSING) {
		if (start_put(p) == 0)
			return 1;
		finish_obj(p);
		return 0;
	}
	p->op = (struct store_op){.kind = STORE_HEAD, .key = p->key, .on_done = obj_done, .ctx = p};
	store_submit(r->o->store, &p->op);
	return 1;
}

/* What the check cache knows, then (for many objects on a remote store) what one
 * listing of Data/ says: a listed object of the right size exists; an absent one
 * is missing (up to where a capped listing stopped); the rest get a HEAD. */
static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void survey(struct prun *r)
{
	size_t unknown = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct pobj *p = &r->v[i];
		p->run = r;
		put_data_key(p->hash, p->key);
		if (r->o->cc) {
			struct buf k = BUF_INIT;
			buf_addf(&k, "%s/%s", store_cache_id(r->o->store), p->key);
			p->cache_key = buf_detach(&k, NULL);
			if (checkcache_has(r->o->cc, p->cache_key, r->now) == 1)
				p->known = K_CACHED;
		}
		unknown += p->known == K_UNKNOWN;
	}
	if (unknown < LIST_MIN || !store_is_remote(r->o->store))
		return;
	struct store_op op = {
	    .kind = STORE_LIST, .key = STORE_DATA_DIR, .max_keys = 4 * unknown + 1000};
	if (store_do(r->o->store, &op) < 0) { /* HEADs will do */
		store_op_release(&op);
		return;
	}
	const char *last = op.truncated && op.nkeys ? op.keys[op.nkeys - 1] : NULL;
	for (size_t i = 0; i < r->n; i++) {
		struct pobj *p = &r->v[i];
		if (p->known != K_UNKNOWN)
			continue;
		const char *want = p->key;
		char **hit =
		    op.nkeys ? bsearch(&want, op.keys, op.nkeys, sizeof(*op.keys), cmp_key) : NULL;
		if (hit && op.sizes[hit - op.keys] == p->len)
			p->known = K_EXISTS;
		else if (hit || !last || strcmp(p->key, last) < 0)
			p->known = K_MISSING; /* a wrong size is junk, replaced by the upload */
	}
	store_op_release(&op);
}

/* Objects settled from the check cache submit nothing: keep going until some op is
 * in flight, or the store would take the silence for the end. */
static void feed(void *ctx)
{
	struct prun *r = ctx;
	int k = 0;
	while (k < FEED_BATCH && r->next < r->n) {
		struct pobj *p = &r->v[r->next];
		if (p->len > PUT_STREAM_MAX) {
			if (r->large >= LARGE_INFLIGHT)
				break; /* fed again when an object finishes */
			r->large++;
		}
		r->next++;
		k += start_obj(r, p);
	}
}

int put_objects(const struct manifest *m, const struct put_opts *o, struct put_stats *stats,
		struct ja_err *err)
{
	struct prun r = {.o = o, .stats = stats, .now = (int64_t)time(NULL)};
	memset(stats, 0, sizeof(*stats));
	r.rootfd = open(o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r.rootfd < 0)
		return err_set(err, EXIT_FAIL, "%s: %s", esc_name(o->root), strerror(errno));
	collect(m, &r);
	survey(&r);
	if (o->prog) {
		uint64_t total = 0;
		for (size_t i = 0; i < r.n; i++)
			total += r.v[i].len;
		progress_set_total(o->prog, total, r.n);
	}
	store_set_feeder(o->store, feed, &r);
	int rc = 0;
	do /* a run that ends with objects left (nothing was in flight) goes on */
		rc = store_run(o->store, err);
	while (rc == 0 && r.next < r.n && !store_interrupted);
	store_set_feeder(o->store, NULL, NULL);
	for (size_t i = r.next; i < r.n; i++) /* never started (interrupted) */
		free(r.v[i].cache_key);
	free(r.v);
	close(r.rootfd);
	if (rc < 0)
		return -1;
	return stats->failed ? -1 : 0;
}
