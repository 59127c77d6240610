/* s3mpu.c - multipart upload of one large S3_PUT: create, parts in parallel
 * (a bounded window, so an interrupt wastes little), complete; abort on any
 * failure or interrupt so no orphaned parts keep costing money. */
#include "s3int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PART_WINDOW 8

struct mpu {
	struct s3_client *c;
	struct s3_op *user;
	struct s3_op create, complete, abort;
	struct s3_op *parts;
	char **etags;
	size_t nparts, next, inflight, done;
	uint64_t part_size;
	int failed;
	struct ja_err err;
};

static void mpu_finish(struct mpu *m)
{
	struct s3_op *u = m->user;
	struct s3_client *c = m->c;
	if (m->failed) {
		u->ok = 0;
		u->err = m->err;
	} else {
		u->ok = 1;
		free(u->etag);
		u->etag = m->complete.etag ? xstrdup(m->complete.etag) : NULL;
	}
	u->attempts = m->create.attempts + m->complete.attempts;
	for (size_t i = 0; i < m->nparts; i++) {
		u->attempts += m->parts[i].attempts;
		s3_op_release(&m->parts[i]);
		free(m->etags[i]);
	}
	s3_op_release(&m->create);
	s3_op_release(&m->complete);
	s3_op_release(&m->abort);
	free(m->parts);
	free(m->etags);
	free(m);
	c->mpu_active--;
	if (u->on_done)
		u->on_done(u);
}

static void abort_done(struct s3_op *op)
{
	struct mpu *m = op->ctx;
	/* the upload already failed; an abort that fails too is only worth a note */
	if (!op->ok)
		s3_log(m->c, 1, "could not abort multipart upload of s3://%s/%s: %s", op->bucket,
		       esc_name(op->key), op->err.msg);
	mpu_finish(m);
}

static void fail(struct mpu *m, const struct ja_err *why)
{
	if (!m->failed) {
		m->failed = 1;
		m->err = *why;
	}
}

static void maybe_abort(struct mpu *m)
{
	if (m->inflight)
		return;
	m->abort.kind = S3_MPU_ABORT;
	m->abort.bucket = m->user->bucket;
	m->abort.key = m->user->key;
	m->abort.upload_id = m->create.upload_id_out;
	m->abort.cleanup = 1;
	m->abort.on_done = abort_done;
	m->abort.ctx = m;
	s3_submit(m->c, &m->abort);
}

static void complete_done(struct s3_op *op)
{
	struct mpu *m = op->ctx;
	if (!op->ok) {
		fail(m, &op->err);
		maybe_abort(m);
		return;
	}
	mpu_finish(m);
}

static void submit_parts(struct mpu *m);

static void part_done(struct s3_op *op)
{
	struct mpu *m = op->ctx;
	size_t i = (size_t)(op - m->parts);
	m->inflight--;
	if (!op->ok)
		fail(m, &op->err);
	else if (!op->etag)
		fail(m, &(struct ja_err){EXIT_FAIL, "UploadPart: the reply has no ETag"});
	else {
		m->etags[i] = xstrdup(op->etag);
		m->done++;
	}
	if (m->failed || s3_interrupted) {
		if (!m->failed)
			fail(m, &(struct ja_err){130, "interrupted"});
		maybe_abort(m);
		return;
	}
	if (m->done == m->nparts && m->user->before_commit) {
		struct s3_op *u = m->user;
		u->internal = NULL;
		if (u->before_commit(u) < 0) {
			fail(m, u->err.msg[0]
				    ? &u->err
				    : &(struct ja_err){EXIT_FAIL, "upload refused before commit"});
			maybe_abort(m);
			return;
		}
	}
	if (m->done == m->nparts) {
		m->complete.kind = S3_MPU_COMPLETE;
		m->complete.bucket = m->user->bucket;
		m->complete.key = m->user->key;
		m->complete.upload_id = m->create.upload_id_out;
		m->complete.etags = (const char *const *)m->etags;
		m->complete.nparts = m->nparts;
		m->complete.on_done = complete_done;
		m->complete.ctx = m;
		s3_submit(m->c, &m->complete);
		return;
	}
	submit_parts(m);
}

static void submit_parts(struct mpu *m)
{
	struct s3_op *u = m->user;
	while (m->next < m->nparts && m->inflight < PART_WINDOW) {
		size_t i = m->next++;
		struct s3_op *p = &m->parts[i];
		uint64_t off = (uint64_t)i * m->part_size;
		p->kind = S3_MPU_PART;
		p->bucket = u->bucket;
		p->key = u->key;
		p->upload_id = m->create.upload_id_out;
		p->part_number = (int)i + 1;
		p->fd = u->fd;
		p->off = u->off + off;
		p->len = u->len - off < m->part_size ? u->len - off : m->part_size;
		p->on_read = NULL;
		p->on_done = part_done;
		p->ctx = m;
		m->inflight++;
		s3_submit(m->c, p);
	}
}

static void create_done(struct s3_op *op)
{
	struct mpu *m = op->ctx;
	if (!op->ok) {
		fail(m, &op->err);
		mpu_finish(m);
		return;
	}
	if (s3_interrupted) {
		fail(m, &(struct ja_err){130, "interrupted"});
		maybe_abort(m);
		return;
	}
	submit_parts(m);
}

uint64_t s3_part_size(uint64_t len, uint64_t configured)
{
	/* at least the configured size, grown in MiB steps to stay under the part limit */
	uint64_t ps = configured < S3_MIN_PART ? S3_MIN_PART : configured;
	uint64_t need = (len + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
	if (need > ps)
		ps = (need + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	return ps;
}

void s3_mpu_start(struct s3_client *c, struct s3_op *u)
{
	struct mpu *m = xcalloc(1, sizeof(*m));
	m->c = c;
	m->user = u;
	uint64_t ps = s3_part_size(u->len, c->part_size);
	m->part_size = ps;
	m->nparts = (size_t)((u->len + ps - 1) / ps);
	m->parts = xcalloc(m->nparts, sizeof(*m->parts));
	m->etags = xcalloc(m->nparts + 1, sizeof(*m->etags));
	c->mpu_active++;
	m->create.kind = S3_MPU_CREATE;
	m->create.bucket = u->bucket;
	m->create.key = u->key;
	m->create.meta = u->meta;
	m->create.nmeta = u->nmeta;
	m->create.content_type = u->content_type;
	m->create.on_done = create_done;
	m->create.ctx = m;
	s3_log(c, 2, "multipart upload of s3://%s/%s: %zu parts of %" PRIu64 " bytes", u->bucket,
	       esc_name(u->key), m->nparts, ps);
	s3_submit(c, &m->create);
}
