/* opt.c - table-driven option parsing and help. */
#include "opt.h"
#include "util.h"

const struct applet *ja_current_applet;

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_HELP	   2001
#define ID_VERSION 2002
#define ID_QUIET   2003
#define ID_VERBOSE 2004

static const struct opt common_opts[] = {
    {ID_HELP, 'h', "help", NULL, "show this help and exit", NULL},
    {ID_VERSION, 0, "version", NULL, "show the version and exit", NULL},
    {ID_QUIET, 'q', "quiet", NULL, "print only errors", NULL},
    {ID_VERBOSE, 'v', "verbose", NULL, "say more (repeatable)", NULL},
    OPT_END,
};

void opt_usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "%s: %s (see %s --help)\n", ja_progname, msg, ja_progname);
	exit(EXIT_USAGE);
}

void opt_init(struct optstate *st, const struct applet *app, int argc, char **argv)
{
	memset(st, 0, sizeof(*st));
	st->app = app ? app : ja_current_applet;
	st->argc = argc;
	st->argv = argv;
	st->i = 1;
	st->pos = xcalloc((size_t)argc + 1, sizeof(char *));
}

void opt_release(struct optstate *st)
{
	free(st->pos);
	st->pos = NULL;
}

static const struct opt *find_long(const struct opt *t, const char *name, size_t n)
{
	for (; t && t->id; t++)
		if (t->lng && strlen(t->lng) == n && !strncmp(t->lng, name, n))
			return t;
	return NULL;
}

static const struct opt *find_short(const struct opt *t, char c)
{
	for (; t && t->id; t++)
		if (t->sh == c)
			return t;
	return NULL;
}

/* Handle an option found in either table; returns its id for the applet, or 0 if consumed. */
static int take(struct optstate *st, const struct opt *o)
{
	switch (o->id) {
	case ID_HELP:
		opt_print_help(st->app);
		exit(close_stdout(EXIT_OK));
	case ID_VERSION:
		printf("%s (ja) %s\n", ja_progname, JA_VERSION);
		exit(close_stdout(EXIT_OK));
	case ID_QUIET:
		ja_verbose = -1;
		return 0;
	case ID_VERBOSE:
		if (ja_verbose < 0)
			ja_verbose = 0;
		ja_verbose++;
		return 0;
	}
	return o->id;
}

int opt_next(struct optstate *st)
{
	for (;;) {
		const struct opt *o;
		char *a;
		if (st->sp && *st->sp) {
			char c = *st->sp++;
			o = find_short(st->app->opts, c);
			if (!o)
				o = find_short(common_opts, c);
			if (!o)
				opt_usage_error("unknown option '-%c'", c);
			st->arg = NULL;
			if (o->arg) {
				if (*st->sp) {
					st->arg = (char *)st->sp;
				} else if (st->i < st->argc) {
					st->arg = st->argv[st->i++];
				} else {
					opt_usage_error("option '-%c' needs an argument %s", c,
							o->arg);
				}
				st->sp = NULL;
			}
			int id = take(st, o);
			if (id)
				return id;
			continue;
		}
		st->sp = NULL;
		if (st->i >= st->argc)
			return 0;
		a = st->argv[st->i++];
		if (st->dashdash || a[0] != '-' || !a[1]) {
			st->pos[st->npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			st->dashdash = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			o = find_long(st->app->opts, name, n);
			if (!o)
				o = find_long(common_opts, name, n);
			if (!o)
				opt_usage_error("unknown option '--%.*s'", (int)n, name);
			st->arg = NULL;
			if (o->arg) {
				if (eq)
					st->arg = (char *)eq + 1;
				else if (st->i < st->argc)
					st->arg = st->argv[st->i++];
				else
					opt_usage_error("option '--%s' needs an argument %s",
							o->lng, o->arg);
			} else if (eq) {
				opt_usage_error("option '--%s' takes no argument", o->lng);
			}
			int id = take(st, o);
			if (id)
				return id;
			continue;
		}
		st->sp = a + 1;
	}
}

long opt_long(const char *arg, const char *name, long min, long max)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		opt_usage_error("%s: '%s' is not a number from %ld to %ld", name, arg, min, max);
	return v;
}

static void print_opts(const struct opt *t)
{
	for (; t && t->id; t++) {
		char left[96];
		int n = 0;
		if (t->sh && t->lng)
			n = snprintf(left, sizeof(left), "-%c, --%s", t->sh, t->lng);
		else if (t->sh)
			n = snprintf(left, sizeof(left), "-%c", t->sh);
		else
			n = snprintf(left, sizeof(left), "    --%s", t->lng);
		if (t->arg && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", t->arg);
		printf("  %-28s %s\n", left, t->help);
	}
}

void opt_print_help(const struct applet *app)
{
	printf("usage: ja-%s %s\n%s\n\noptions:\n", app->name, app->synopsis, app->summary);
	print_opts(app->opts);
	print_opts(common_opts);
	printf("\nSee ja-%s(1).\n", app->name);
}

enum progress_mode opt_progress_mode(const char *arg)
{
	static const char *names[] = {"auto", "bar", "openjd", "json", "none"};
	const char *env = getenv("JA_PROGRESS");
	if (!arg && env && *env) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(env, names[i]))
				return (enum progress_mode)i;
		warnx("JA_PROGRESS: unknown mode '%s' ignored (auto, bar, openjd, json, none)",
		      env);
		return PROG_AUTO;
	}
	if (!arg)
		return PROG_AUTO;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(arg, names[i]))
			return (enum progress_mode)i;
	opt_usage_error("--progress: unknown mode '%s' (auto, bar, openjd, json, none)", arg);
}

/* Completion support lives here too, so it reads the same tables. */
const struct opt *opt_common_table(void);
const struct opt *opt_common_table(void)
{
	return common_opts;
}
