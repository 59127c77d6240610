/* progress.h - progress reporting in the modes of CLI.md: a bar on a terminal,
 * OpenJD lines on stdout, JSON events on stderr, or nothing.
 *
 * The core calls progress_add() from any thread; output is rate-limited (at most
 * about one OpenJD line per second, ten bar redraws per second) and never mixed
 * into a manifest written to stdout: OpenJD lines go to stdout only because the
 * OpenJD session reads them there, so applets that write a manifest to stdout in
 * OpenJD mode must write it to -o FILE (progress_stdout_conflict tells them).
 */
#ifndef JA_PROGRESS_H
#define JA_PROGRESS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "opt.h"

struct progress {
	enum progress_mode mode;
	const char *verb;     /* "Hashed", "Uploaded", "Downloaded" */
	const char *ratename; /* "Hashing speed" or "Transfer rate" */
	uint64_t total_bytes, total_files;
	uint64_t done_bytes, done_files;
	double start, last;	/* monotonic seconds */
	uint64_t files_at_last; /* done_files at the last report */
	int reported_final;
	int last_full; /* the last report was at 100% */
	FILE *out;     /* where the mode writes */
	pthread_mutex_t lock;
};

/* Resolve PROG_AUTO (terminal -> bar; JA_PROGRESS=openjd -> openjd; else none). */
enum progress_mode progress_resolve(enum progress_mode m);
void progress_init(struct progress *p, enum progress_mode mode, const char *verb,
		   const char *ratename);
void progress_set_total(struct progress *p, uint64_t bytes, uint64_t files);
/* Account work done; reports when due. Thread-safe. */
void progress_add(struct progress *p, uint64_t bytes, uint64_t files);
/* Final report (100%), clears the bar. */
void progress_finish(struct progress *p);
void progress_release(struct progress *p);

/* Python-compatible size text (spec §10.2): 0 -> "0.0 B", 1234567 -> "1.23 MB". */
void progress_size(char *out, size_t n, double bytes);
/* Python-compatible percent text: round(x, 1) printed like str(float): "12.5", "100.0". */
void progress_percent(char *out, size_t n, uint64_t done, uint64_t total);
/* The OpenJD status message: "Hashed 1.0 KB / 2.0 KB of 3 files (Hashing speed: 1.0 KB/s)". */
void progress_message(const struct progress *p, char *out, size_t n, double now);

#endif
