/* snapshot.c - manifests of real trees. */
#include "snapshot.h"
#include "hash.h"
#include "pool.h"
#include "strmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRIES 4 /* a file that changes while hashed is hashed again, this many times */

struct job {
	const struct went *e;
	int64_t size, mtime_ns, ctime_ns;
	char hash[HASH_HEX_SIZE];
	char **chunks;
	size_t nchunks;
	int err;      /* failed: errmsg says why */
	int skipped;  /* unreadable with --skip-unreadable */
	char *errmsg; /* owned; only for failed files, so a big tree costs no message space */
};

struct ctx {
	const struct snap_opts *o;
	struct walk *w;
	struct job *jobs;
	struct strmap reuse;
	char **bufs; /* per worker */
	size_t rootlen;
	int failed;
};

static int64_t mtime_us(int64_t ns)
{
	/* floor division, as the Python tool's st_mtime_ns // 1000 */
	return ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
}

static int reuse_hit(struct ctx *c, struct job *j)
{
	const struct manifest *b = c->o->reuse;
	const struct mfile *f;
	size_t *slot;
	int64_t d;
	if (!b)
		return 0;
	slot = strmap_get(&c->reuse, j->e->path, j->e->len);
	if (!slot)
		return 0;
	f = &b->files[*slot];
	d = f->mtime - mtime_us(j->mtime_ns);
	if (f->symlink || (f->flags & MF_DELETED) || f->size != j->size || d < -1 || d > 1)
		return 0;
	if (f->hash) {
		snprintf(j->hash, sizeof(j->hash), "%s", f->hash);
	} else {
		j->chunks = xcalloc(f->nchunks, sizeof(char *));
		for (uint32_t i = 0; i < f->nchunks; i++)
			j->chunks[i] = xstrdup(f->chunks[i]);
		j->nchunks = f->nchunks;
	}
	return 1;
}

static void cache_value(struct job *j, struct buf *b)
{
	if (!j->nchunks) {
		buf_adds(b, j->hash);
		return;
	}
	for (size_t i = 0; i < j->nchunks; i++) {
		if (i)
			buf_addc(b, ',');
		buf_adds(b, j->chunks[i]);
	}
}

static int cache_hit(struct ctx *c, struct job *j, const char *abs, int chunked)
{
	const char *v;
	if (c->o->rehash ||
	    !hashcache_get(c->o->cache, abs, j->size, j->mtime_ns, j->ctime_ns, chunked, &v))
		return 0;
	if (!chunked) {
		if (strlen(v) != HASH_HEX_LEN)
			return 0;
		memcpy(j->hash, v, HASH_HEX_SIZE);
		return 1;
	}
	{
		size_t n = 1, k = 0;
		for (const char *p = v; *p; p++)
			n += *p == ',';
		if (n != hash_chunk_count((uint64_t)j->size, HASH_CHUNK_SIZE))
			return 0;
		j->chunks = xcalloc(n, sizeof(char *));
		for (const char *p = v;; k++) {
			const char *e = strchr(p, ',');
			j->chunks[k] = xstrndup(p, e ? (size_t)(e - p) : strlen(p));
			if (!e)
				break;
			p = e + 1;
		}
		j->nchunks = n;
	}
	return 1;
}

#define SMALL_FILE (1u << 20) /* read whole into the worker's buffer and hash at once */

static int same_stat(const struct stat *a, int64_t size, int64_t mtime_ns, int64_t ctime_ns)
{
	return a->st_size == size &&
	       (int64_t)a->st_mtim.tv_sec * 1000000000 + a->st_mtim.tv_nsec == mtime_ns &&
	       (int64_t)a->st_ctim.tv_sec * 1000000000 + a->st_ctim.tv_nsec == ctime_ns;
}

/* Read and hash one small file in one pread (plus one to see EOF). */
static int hash_small(int fd, char *buf, int64_t size, char *hex, struct ja_err *err)
{
	size_t got = 0;
	for (;;) {
		ssize_t n = pread(fd, buf + got, SMALL_FILE + 1 - got, (off_t)got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(err, EXIT_FAIL, "%s", strerror(errno));
		}
		if (n == 0)
			break;
		got += (size_t)n;
		/* a short read of a regular file is its end: no second call to see EOF */
		if (got > (size_t)size || (size_t)n < SMALL_FILE + 1 - (got - (size_t)n))
			break;
	}
	if (got != (size_t)size)
		return 1; /* changed size under us */
	hash_mem_hex(buf, got, hex);
	return 0;
}

/* Hash the file of job j.  The walk's stat is the expected state; the state after
 * reading must match it, else the file changed while read and is read again. */
static int read_file(struct ctx *c, struct job *j, int chunked, char *buf, struct ja_err *jerr)
{
	struct hash_opts ho = {.chunk_size = chunked ? HASH_CHUNK_SIZE : 0, .threads = 1};
	int64_t size = j->size, mt = j->mtime_ns, ct = j->ctime_ns;
	for (int t = 0; t < MAX_TRIES; t++) {
		struct stat b;
		struct hash_result r = {0};
		int fd = walk_open(c->w->rootfd, j->e->path, j->e->via_link, jerr), rc;
		if (fd < 0)
			return -1;
		if (!chunked && size <= SMALL_FILE) {
			rc = hash_small(fd, buf, size, j->hash, jerr);
		} else {
			rc = hash_fd(fd, &ho, &r, jerr);
			if (!rc && r.size != (uint64_t)size)
				rc = 1;
		}
		if (rc < 0 || fstat(fd, &b) < 0) {
			if (rc >= 0)
				err_set(jerr, EXIT_FAIL, "%s", strerror(errno));
			close(fd);
			hash_result_release(&r);
			return -1;
		}
		close(fd);
		if (!S_ISREG(b.st_mode)) {
			hash_result_release(&r);
			return err_set(jerr, EXIT_FAIL, "not a regular file any more");
		}
		if (!rc && same_stat(&b, size, mt, ct)) {
			if (r.nchunks) {
				j->chunks = xcalloc(r.nchunks, sizeof(char *));
				for (size_t i = 0; i < r.nchunks; i++) {
					j->chunks[i] = xmalloc(HASH_HEX_SIZE);
					hash_format(r.chunks[i], j->chunks[i]);
				}
				j->nchunks = r.nchunks;
			} else if (!(!chunked && size <= SMALL_FILE)) {
				hash_format(r.whole, j->hash);
			}
			hash_result_release(&r);
			j->size = size;
			j->mtime_ns = mt;
			j->ctime_ns = ct;
			return 0;
		}
		hash_result_release(&r);
		/* changed while read: expect what it is now and read again */
		size = b.st_size;
		mt = (int64_t)b.st_mtim.tv_sec * 1000000000 + b.st_mtim.tv_nsec;
		ct = (int64_t)b.st_ctim.tv_sec * 1000000000 + b.st_ctim.tv_nsec;
		chunked = c->o->ver == MVER_2025 && size > (int64_t)HASH_CHUNK_SIZE;
		ho.chunk_size = chunked ? HASH_CHUNK_SIZE : 0;
	}
	return err_set(jerr, EXIT_FAIL, "kept changing while it was hashed (%d tries)", MAX_TRIES);
}

static void work(void *vc, size_t i, int w)
{
	struct ctx *c = vc;
	struct job *j = &c->jobs[i];
	int chunked = c->o->ver == MVER_2025 && j->size > (int64_t)HASH_CHUNK_SIZE;
	struct buf abs = BUF_INIT;
	struct ja_err jerr;
	if (reuse_hit(c, j))
		goto done;
	buf_add(&abs, c->w->root, c->rootlen);
	if (c->rootlen > 1)
		buf_addc(&abs, '/');
	buf_add(&abs, j->e->path, j->e->len);
	if (cache_hit(c, j, abs.p, chunked))
		goto done;
	if (!c->bufs[w])
		c->bufs[w] = xmalloc(SMALL_FILE + 1);
	if (read_file(c, j, chunked, c->bufs[w], &jerr) < 0) {
		j->err = 1;
		j->errmsg = xstrdup(jerr.msg);
		goto done;
	}
	if (c->o->cache) {
		struct buf v = BUF_INIT;
		cache_value(j, &v);
		hashcache_put(c->o->cache, abs.p, j->size, j->mtime_ns, j->ctime_ns, chunked, v.p);
		buf_release(&v);
	}
done:
	buf_release(&abs);
	if (c->o->progress)
		progress_add(c->o->progress, (uint64_t)j->size, 1);
}

static int done(void *vc, size_t i)
{
	struct ctx *c = vc;
	struct job *j = &c->jobs[i];
	if (!j->err)
		return 0;
	if (c->o->skip_unreadable) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s: %s: skipped", esc_name(j->e->path), j->errmsg);
		if (c->o->warn)
			c->o->warn(c->o->warn_ctx, msg);
		j->skipped = 1;
		return 0;
	}
	return 1;
}

static void add_file(struct manifest *m, const struct job *j, int v2025)
{
	struct mfile *f = manifest_add_file(m, j->e->path, j->e->len);
	f->size = j->size;
	f->mtime = mtime_us(j->mtime_ns);
	if (j->nchunks) {
		const char **v =
		    arena_alloc(&m->arena, j->nchunks * sizeof(char *), sizeof(void *));
		for (size_t k = 0; k < j->nchunks; k++)
			v[k] = manifest_strdup(m, j->chunks[k], strlen(j->chunks[k]));
		f->chunks = v;
		f->nchunks = (uint32_t)j->nchunks;
	} else {
		f->hash = manifest_strdup(m, j->hash, HASH_HEX_LEN);
	}
	if (v2025 && j->e->exec)
		f->flags |= MF_RUNNABLE;
}

int snapshot_tree(const char *root, const struct snap_opts *o, struct manifest *out,
		  struct ja_err *err)
{
	struct walk w;
	struct walk_opts wo = {.links = o->links,
			       .empty_dirs = o->ver == MVER_2025,
			       .skip_unreadable = o->skip_unreadable,
			       .globs = o->globs,
			       .jobs = o->jobs,
			       .warn = o->warn,
			       .warn_ctx = o->warn_ctx};
	struct ctx c = {.o = o, .w = &w};
	size_t nfiles = 0, k = 0;
	uint64_t bytes = 0;
	int rc = 0;

	manifest_init(out, o->ver);
	if (walk_tree(root, &wo, &w, err) < 0) {
		walk_release(&w);
		return -1;
	}
	c.rootlen = strlen(w.root);
	for (size_t i = 0; i < w.n; i++)
		if (w.v[i].type == WENT_FILE) {
			nfiles++;
			bytes += (uint64_t)w.v[i].size;
		}
	c.jobs = xcalloc(nfiles + 1, sizeof(*c.jobs));
	for (size_t i = 0; i < w.n; i++)
		if (w.v[i].type == WENT_FILE) {
			c.jobs[k].e = &w.v[i];
			c.jobs[k].size = w.v[i].size;
			c.jobs[k].mtime_ns = w.v[i].mtime_ns;
			c.jobs[k].ctime_ns = w.v[i].ctime_ns;
			k++;
		}
	if (o->reuse) {
		int found;
		strmap_init(&c.reuse, o->reuse->nfiles);
		for (size_t i = 0; i < o->reuse->nfiles; i++)
			*strmap_put(&c.reuse, o->reuse->files[i].path, o->reuse->files[i].pathlen,
				    &found) = i;
	}
	if (o->cache)
		hashcache_load(o->cache, w.root);
	if (o->progress)
		progress_set_total(o->progress, bytes, nfiles);
	c.bufs = xcalloc((size_t)(o->jobs > 0 ? o->jobs : 1), sizeof(char *));
	pool_for(nfiles, o->jobs, work, NULL, &c);
	for (size_t i = 0; i < nfiles && !rc; i++)
		if (c.jobs[i].err && done(&c, i))
			rc = err_set(err, EXIT_FAIL, "%s: %s", esc_name(c.jobs[i].e->path),
				     c.jobs[i].errmsg);
	for (int t = 0; t < (o->jobs > 0 ? o->jobs : 1); t++)
		free(c.bufs[t]);
	free(c.bufs);
	if (o->progress)
		progress_finish(o->progress);
	if (!rc) {
		for (size_t i = 0; i < nfiles; i++)
			if (!c.jobs[i].err)
				add_file(out, &c.jobs[i], o->ver == MVER_2025);
		for (size_t i = 0; i < w.n; i++) {
			const struct went *e = &w.v[i];
			if (e->type == WENT_LINK) {
				struct mfile *f = manifest_add_file(out, e->path, e->len);
				f->symlink = manifest_strdup(out, e->target, strlen(e->target));
			} else if (e->type == WENT_DIR) {
				manifest_add_dir(out, e->path, e->len, 0);
			}
		}
		out->total_size = manifest_sum_sizes(out);
		out->type = MTYPE_SNAPSHOT;
		out->style = MSTYLE_RELATIVE;
		out->gen = o->ver == MVER_2025 ? 2 : 0;
	}
	for (size_t i = 0; i < nfiles; i++) {
		for (size_t j = 0; j < c.jobs[i].nchunks; j++)
			free(c.jobs[i].chunks[j]);
		free(c.jobs[i].chunks);
		free(c.jobs[i].errmsg);
	}
	free(c.jobs);
	if (o->reuse)
		strmap_release(&c.reuse);
	walk_release(&w);
	return rc;
}
