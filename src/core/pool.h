/* pool.h - a parallel for-loop whose results are consumed in order.
 *
 * pool_for() runs work(ctx, i, w) for every item i in [0, n) on a few
 * threads, and calls done(ctx, i) on the calling thread for i = 0, 1, 2 ...
 * in that order, each as soon as work(i) and every earlier done() have
 * returned.  So a tool can hash files in parallel and still print them in
 * argument order (like xxhsum), or a snapshot can hash in parallel and add
 * entries in walk order.  Results travel through the caller's ctx (typically
 * an array of n result slots): work(i) writes slot i, done(i) reads it.
 *
 * work() runs on a worker thread (or on the caller's when nthreads <= 1) and
 * must only touch slot i and thread-safe state; w in [0, nthreads) names the
 * worker, for per-worker scratch memory.  done() runs on the caller's thread,
 * so it may print, use stdio and non-thread-safe helpers (esc_name).
 *
 * Nothing here prints or exits (apart from out-of-memory, via xmalloc).
 */
#ifndef JA_POOL_H
#define JA_POOL_H

#include <stddef.h>

typedef void pool_work_fn(void *ctx, size_t i, int w);
typedef int pool_done_fn(void *ctx, size_t i);

/* Run the loop on up to nthreads worker threads (never more than n; <= 1 or
 * a failure to start threads: everything on the caller's thread).  When a
 * done() returns non-zero, no further work starts, the items already started
 * finish (without their done()), and pool_for returns that value; else 0.
 * done may be NULL.  ctx is borrowed. */
int pool_for(size_t n, int nthreads, pool_work_fn *work, pool_done_fn *done, void *ctx);

/* The number of CPUs this process may run on (sched affinity), at least 1. */
int pool_cpu_count(void);

#endif
