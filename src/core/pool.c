/* pool.c - parallel for-loop with in-order completion (see pool.h).
 *
 * Workers claim items with one atomic counter, so a slow item (a big file)
 * never holds up the others, and mark them finished in a byte array.  The
 * caller's thread only sleeps until the next item in order is finished, then
 * runs done() for it and every finished successor.  A worker signals only when
 * it finishes the item the caller is waiting for, so there is about one
 * wake-up per out-of-order stretch, not per item.
 */
#include "pool.h"
#include "util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define POOL_MAX_THREADS 256

struct pool {
	size_t n;
	pool_work_fn *work;
	void *ctx;
	atomic_size_t next; /* next item to claim */
	atomic_int stop;    /* set when a done() failed */
	unsigned char *fin; /* fin[i]: work(i) returned (guarded by mu) */
	size_t want;	    /* the item the caller waits for (guarded by mu) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

struct worker {
	struct pool *p;
	int w;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct pool *p = wk->p;
	for (;;) {
		size_t i;
		if (atomic_load_explicit(&p->stop, memory_order_relaxed))
			break;
		i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		p->work(p->ctx, i, wk->w);
		if (!p->fin)
			continue; /* no done(): nobody waits for single items */
		pthread_mutex_lock(&p->mu);
		p->fin[i] = 1;
		if (i == p->want)
			pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static int run_serial(size_t n, pool_work_fn *work, pool_done_fn *done, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		int rc;
		work(ctx, i, 0);
		if (done && (rc = done(ctx, i)) != 0)
			return rc;
	}
	return 0;
}

/* Call done() in order as items finish; returns the first non-zero result. */
static int drain(struct pool *p, pool_done_fn *done)
{
	size_t i = 0;
	while (i < p->n) {
		int rc;
		pthread_mutex_lock(&p->mu);
		p->want = i;
		while (!p->fin[i])
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
		/* every finished item from i on is ready; fin[] only goes 0 -> 1 */
		do {
			if (done && (rc = done(p->ctx, i)) != 0) {
				atomic_store(&p->stop, 1);
				return rc;
			}
			i++;
			if (i >= p->n)
				break;
			pthread_mutex_lock(&p->mu);
			rc = p->fin[i];
			pthread_mutex_unlock(&p->mu);
		} while (rc);
	}
	return 0;
}

int pool_for(size_t n, int nthreads, pool_work_fn *work, pool_done_fn *done, void *ctx)
{
	struct pool p = {.n = n, .work = work, .ctx = ctx};
	pthread_t *th;
	struct worker *wk;
	int started = 0, rc;
	if (nthreads > POOL_MAX_THREADS)
		nthreads = POOL_MAX_THREADS;
	if ((size_t)nthreads > n)
		nthreads = (int)n;
	if (nthreads <= 1)
		return run_serial(n, work, done, ctx);
	atomic_init(&p.next, 0);
	atomic_init(&p.stop, 0);
	p.fin = done ? xcalloc(n, 1) : NULL;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	th = xcalloc((size_t)nthreads, sizeof(*th));
	wk = xcalloc((size_t)nthreads, sizeof(*wk));
	/* without done() the caller's thread is the last worker instead of a waiter */
	for (int t = 0; t < nthreads - !done; t++) {
		wk[t].p = &p;
		wk[t].w = t;
		if (pthread_create(&th[started], NULL, worker_main, &wk[t]) == 0)
			started++;
	}
	if (!done) {
		wk[nthreads - 1].p = &p;
		wk[nthreads - 1].w = nthreads - 1;
		worker_main(&wk[nthreads - 1]);
		for (int t = 0; t < started; t++)
			pthread_join(th[t], NULL);
		rc = 0;
	} else if (started == 0) {
		rc = run_serial(n, work, done, ctx);
	} else {
		rc = drain(&p, done);
		for (int t = 0; t < started; t++)
			pthread_join(th[t], NULL);
	}
	free(wk);
	free(th);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	free(p.fin);
	return rc;
}

int pool_cpu_count(void)
{
	cpu_set_t set;
	long n;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)(n > POOL_MAX_THREADS ? POOL_MAX_THREADS : n) : 1;
}
