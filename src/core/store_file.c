/* store_file.c - the file:// store: a pool of worker threads runs the ops
 * (store_file_ops.c says what each does on disk).
 *
 * on_data and on_seen run on the workers.  A worker hands a finished op to the
 * store_run thread through a queue; that thread runs before_commit (and then
 * renames the PUT's temporary into place itself: cheap), on_done and the
 * feeder, so callers never need locks of their own.
 */
#include "store_file_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_DEFAULT_JOBS 8
#define FILE_MAX_THREADS  256

static int f_check(struct store *s, const struct store_op *op, struct ja_err *err)
{
	const char *k = op->key ? op->key : "";
	const char *why = fs_key_problem(k, op->kind == STORE_LIST);
	if (!why)
		return 0;
	char *u = store_key_url(s, k);
	err_set(err, EXIT_FAIL, "%s %.600s: %s", store_kind_name(op->kind), esc_name(u), why);
	free(u);
	return -1;
}

static void push(struct fjob **head, struct fjob **tail, struct fjob *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *worker(void *arg)
{
	struct fstore *f = arg;
	char *scratch = xmalloc(FILE_CHUNK);
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->todo && !f->quit)
			pthread_cond_wait(&f->work_cv, &f->mu);
		if (f->quit)
			break;
		struct fjob *j = f->todo;
		f->todo = j->next;
		if (!f->todo)
			f->todo_tail = NULL;
		pthread_mutex_unlock(&f->mu);
		fs_execute(f, j, scratch);
		pthread_mutex_lock(&f->mu);
		push(&f->done, &f->done_tail, j);
		pthread_cond_signal(&f->done_cv);
	}
	pthread_mutex_unlock(&f->mu);
	free(scratch);
	return NULL;
}

static void start_threads(struct fstore *f)
{
	f->started = 1;
	f->threads = xcalloc((size_t)f->jobs, sizeof(*f->threads));
	while (f->nthreads < f->jobs &&
	       pthread_create(&f->threads[f->nthreads], NULL, worker, f) == 0)
		f->nthreads++;
	if (!f->nthreads)
		f->scratch = xmalloc(FILE_CHUNK);
}

static void f_submit(struct store *s, struct store_op *op)
{
	struct fstore *f = s->be;
	struct fjob *j = xcalloc(1, sizeof(*j));
	j->op = op;
	j->dirfd = -1;
	op->internal = j;
	if (!f->started)
		start_threads(f);
	f->pending++;
	pthread_mutex_lock(&f->mu);
	push(&f->todo, &f->todo_tail, j);
	pthread_cond_signal(&f->work_cv);
	pthread_mutex_unlock(&f->mu);
}

static void drop_job(struct fjob *j)
{
	if (j->tmp[0])
		unlinkat(j->dirfd, j->tmp, 0);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j);
}

/* On the store_run thread: the commit of a PUT that asked for it, then on_done. */
static void finish(struct fstore *f, struct fjob *j)
{
	struct store_op *op = j->op;
	if (j->commit)
		fs_commit(f, j);
	drop_job(j); /* removes the temporary of a failed PUT */
	op->internal = NULL;
	f->pending--;
	if (op->on_done)
		op->on_done(op);
}

/* Wait for finished ops and take them all. */
static struct fjob *take_done(struct fstore *f)
{
	struct fjob *d;
	pthread_mutex_lock(&f->mu);
	if (!f->nthreads && f->todo) { /* no workers: run one here */
		d = f->todo;
		f->todo = d->next;
		if (!f->todo)
			f->todo_tail = NULL;
		pthread_mutex_unlock(&f->mu);
		fs_execute(f, d, f->scratch);
		d->next = NULL;
		return d;
	}
	while (!f->done)
		pthread_cond_wait(&f->done_cv, &f->mu);
	d = f->done;
	f->done = f->done_tail = NULL;
	pthread_mutex_unlock(&f->mu);
	return d;
}

static int f_run(struct store *s, struct ja_err *err)
{
	struct fstore *f = s->be;
	size_t room = (size_t)f->jobs * 2;
	int starved = 0; /* the feeder gave nothing since the last op finished */
	for (;;) {
		if (store_finish_failed(s))
			starved = 0;
		if (s->feed && !starved && !store_interrupted && store_pending(s) < room) {
			size_t before = store_pending(s);
			s->feed(s->feed_ctx);
			starved = store_pending(s) == before;
			continue;
		}
		if (!f->pending) {
			if (!s->nfailed)
				break;
			continue;
		}
		for (struct fjob *j = take_done(f), *next; j; j = next) {
			next = j->next;
			finish(f, j);
			starved = 0;
		}
	}
	if (store_interrupted)
		return err_set(err, 130, "interrupted");
	return 0;
}

static size_t f_pending(const struct store *s)
{
	return ((const struct fstore *)s->be)->pending;
}

static void f_close(struct store *s)
{
	struct fstore *f = s->be;
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_broadcast(&f->work_cv);
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < f->nthreads; i++)
		pthread_join(f->threads[i], NULL);
	/* ops submitted and never run: the caller's bug, but leave no temporaries */
	for (struct fjob *lists[2] = {f->todo, f->done}, **l = lists; l < lists + 2; l++)
		for (struct fjob *j = *l, *n; j; j = n) {
			n = j->next;
			j->op->internal = NULL;
			drop_job(j);
		}
	close(f->rootfd);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->work_cv);
	pthread_cond_destroy(&f->done_cv);
	free(f->threads);
	free(f->scratch);
	free(f);
}

static const struct store_vt file_vt = {
    .check = f_check,
    .submit = f_submit,
    .run = f_run,
    .pending = f_pending,
    .close = f_close,
};

int store_file_open(struct store *s, const struct store_opts *o, struct ja_err *err)
{
	int fd;
	if (mkdir_p(s->root, 0) < 0 || (fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return err_set(err, EXIT_FAIL, "store %s: %s", esc_name(s->url), strerror(errno));
	struct fstore *f = xcalloc(1, sizeof(*f));
	f->s = s;
	f->rootfd = fd;
	f->jobs = o->jobs > 0 ? (o->jobs < FILE_MAX_THREADS ? o->jobs : FILE_MAX_THREADS)
			      : FILE_DEFAULT_JOBS;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->work_cv, NULL);
	pthread_cond_init(&f->done_cv, NULL);
	s->be = f;
	s->vt = &file_vt;
	return 0;
}
