/* progress.c - bar, OpenJD and JSON progress reports. */
#include "progress.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum progress_mode progress_resolve(enum progress_mode m)
{
	const char *env = getenv("JA_PROGRESS");
	if (m != PROG_AUTO)
		return m;
	if (env && !strcmp(env, "openjd"))
		return PROG_OPENJD;
	if (isatty(2))
		return PROG_BAR;
	return PROG_NONE;
}

void progress_init(struct progress *p, enum progress_mode mode, const char *verb,
		   const char *ratename)
{
	memset(p, 0, sizeof(*p));
	p->mode = progress_resolve(mode);
	if (ja_verbose < 0 && p->mode == PROG_BAR)
		p->mode = PROG_NONE;
	p->verb = verb;
	p->ratename = ratename;
	p->start = p->last = now_s();
	p->out = p->mode == PROG_OPENJD ? stdout : stderr;
	pthread_mutex_init(&p->lock, NULL);
}

void progress_set_total(struct progress *p, uint64_t bytes, uint64_t files)
{
	pthread_mutex_lock(&p->lock);
	p->total_bytes = bytes;
	p->total_files = files;
	pthread_mutex_unlock(&p->lock);
}

/* Python str(float) of a value already rounded to d decimals: shortest form, at
 * least one decimal ("100.0", "12.5", "1.23"). */
static void py_float(char *out, size_t n, double v, int d)
{
	size_t len;
	snprintf(out, n, "%.*f", d, v);
	len = strlen(out);
	while (len > 2 && out[len - 1] == '0' && out[len - 2] != '.')
		out[--len] = 0;
}

void progress_size(char *out, size_t n, double bytes)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
	char num[64];
	for (int i = 0; i < 6; i++) {
		/* Python: round(bytes, 2) < 1000 -> print, else divide by 1000 */
		snprintf(num, sizeof(num), "%.2f", bytes);
		if (strtod(num, NULL) < 1000 || i == 5) {
			py_float(num, sizeof(num), bytes, 2);
			snprintf(out, n, "%s %s", num, units[i]);
			return;
		}
		bytes /= 1000;
	}
}

void progress_percent(char *out, size_t n, uint64_t done, uint64_t total)
{
	if (!total) {
		snprintf(out, n, "0");
		return;
	}
	py_float(out, n, (double)done / (double)total * 100.0, 1);
}

void progress_message(const struct progress *p, char *out, size_t n, double now)
{
	char a[32], b[32], r[32];
	double el = now - p->start;
	progress_size(a, sizeof(a), (double)p->done_bytes);
	progress_size(b, sizeof(b), (double)p->total_bytes);
	progress_size(r, sizeof(r), el > 0 ? (double)p->done_bytes / el : 0);
	snprintf(out, n, "%s %s / %s of %llu file%s (%s: %s/s)", p->verb, a, b,
		 (unsigned long long)p->total_files, p->total_files == 1 ? "" : "s", p->ratename,
		 r);
}

static void report(struct progress *p, double now, int final)
{
	char pct[32], msg[256];
	p->last_full = p->done_bytes >= p->total_bytes && p->done_files >= p->total_files;
	progress_percent(pct, sizeof(pct), final ? p->total_bytes : p->done_bytes, p->total_bytes);
	progress_message(p, msg, sizeof(msg), now);
	switch (p->mode) {
	case PROG_OPENJD:
		fprintf(p->out, "openjd_progress: %s\nopenjd_status: %s\n", pct, msg);
		fflush(p->out);
		break;
	case PROG_JSON:
		fprintf(p->out,
			"{\"event\":\"%s\",\"bytes\":%llu,\"totalBytes\":%llu,\"files\":%llu,"
			"\"totalFiles\":%llu,\"percent\":%s,\"seconds\":%.3f}\n",
			final ? "done" : "progress", (unsigned long long)p->done_bytes,
			(unsigned long long)p->total_bytes, (unsigned long long)p->done_files,
			(unsigned long long)p->total_files, pct, now - p->start);
		fflush(p->out);
		break;
	case PROG_BAR: {
		char bar[31];
		int w = p->total_bytes ? (int)(p->done_bytes * 30 / p->total_bytes) : 30;
		if (w > 30)
			w = 30;
		memset(bar, '#', (size_t)w);
		memset(bar + w, ' ', (size_t)(30 - w));
		bar[30] = 0;
		fprintf(p->out, "\r[%s] %5s%% %s\033[K", bar, pct, msg);
		if (final)
			fputs("\r\033[K", p->out);
		fflush(p->out);
		break;
	}
	default:
		break;
	}
}

void progress_add(struct progress *p, uint64_t bytes, uint64_t files)
{
	double now, gap;
	uint64_t k;
	if (p->mode == PROG_NONE) {
		__atomic_add_fetch(&p->done_bytes, bytes, __ATOMIC_RELAXED);
		__atomic_add_fetch(&p->done_files, files, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->done_bytes += bytes;
	p->done_files += files;
	now = now_s();
	gap = p->mode == PROG_BAR ? 0.1 : 1.0;
	k = p->total_files >= 50 ? 50 : 1;
	/* the Python cadence for OpenJD: a second passed, or K more files (spec §10.2),
	 * but never more than one line a second on big trees */
	if (now - p->last >= gap ||
	    (p->mode != PROG_OPENJD && p->done_files - p->files_at_last >= k)) {
		report(p, now, 0);
		p->last = now;
		p->files_at_last = p->done_files;
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_finish(struct progress *p)
{
	pthread_mutex_lock(&p->lock);
	/* the last regular OpenJD line may already have said 100; the bar still clears and
	 * a JSON stream always ends with its "done" event */
	if (!p->reported_final && p->mode != PROG_NONE &&
	    (p->mode != PROG_OPENJD || !p->last_full)) {
		report(p, now_s(), 1);
		p->reported_final = 1;
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_release(struct progress *p)
{
	pthread_mutex_destroy(&p->lock);
}
