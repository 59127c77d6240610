/* store_file_int.h - the two halves of the file backend: store_file.c runs the
 * pool of threads and the store_run loop, store_file_ops.c does one op on disk. */
#ifndef JA_STORE_FILE_INT_H
#define JA_STORE_FILE_INT_H

#include "store_int.h"

#include <pthread.h>
#include <stdatomic.h>

#define FILE_CHUNK   ((size_t)1 << 20)
#define FILE_TMP_LEN 64

/* One op while the backend has it (op->internal). */
struct fjob {
	struct store_op *op;
	struct fjob *next;
	int dirfd;		/* PUT: the key's directory, for the rename */
	const char *leaf;	/* PUT: the key's last component */
	char tmp[FILE_TMP_LEN]; /* PUT: the temporary in dirfd; "" when none */
	int commit;		/* PUT: written, waits for before_commit */
};

struct fstore {
	struct store *s;
	int rootfd;
	int jobs, nthreads, started;
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct fjob *todo, *todo_tail, *done, *done_tail; /* under mu */
	int quit;					  /* under mu */
	size_t pending;					  /* store_run thread only */
	atomic_uint seq;				  /* temporary names */
	char *scratch; /* when no thread could start: ops run on the caller's */
};

/* Why key cannot name an object here (for a LIST prefix: its directories), or NULL. */
const char *fs_key_problem(const char *key, int prefix);
/* Do j's op (on a worker thread; scratch holds FILE_CHUNK bytes).  Sets op->ok,
 * or op->err; a PUT with before_commit stops short of publishing (j->commit). */
void fs_execute(struct fstore *f, struct fjob *j, char *scratch);
/* On the store_run thread: before_commit of a written PUT, then publish it. */
void fs_commit(struct fstore *f, struct fjob *j);

#endif
