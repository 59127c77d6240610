/* opt.h - one option table per applet drives parsing, --help and completions.
 *
 * Every applet also gets the common options -h/--help, --version, -q/--quiet and
 * -v/--verbose, handled here.  Options and operands may be mixed (GNU style);
 * "--" ends options.
 */
#ifndef JA_OPT_H
#define JA_OPT_H

struct opt {
	int id;		      /* returned by opt_next(): the short letter, or >= 256 */
	char sh;	      /* short letter, or 0 */
	const char *lng;      /* long name without "--", or NULL */
	const char *arg;      /* argument name ("FILE"), NULL for a flag */
	const char *help;     /* one line */
	const char *complete; /* argument completion: "file", "dir", or space-separated words */
};

/* Options most applets share; include the ones that apply in an applet's table. */
#define OPT_ID_PROGRESS 1001
#define OPT_ID_JOBS	'j'
#define OPT_ID_OUTPUT	'o'
#define OPT_PROGRESS                                                                               \
	{                                                                                          \
		OPT_ID_PROGRESS, 0, "progress", "MODE",                                            \
		    "progress: auto, bar, openjd, json or none", "auto bar openjd json none"       \
	}
#define OPT_JOBS                                                                                   \
	{                                                                                          \
		OPT_ID_JOBS, 'j', "jobs", "N", "parallel jobs (default: CPU count)", NULL          \
	}
#define OPT_END                                                                                    \
	{                                                                                          \
		0, 0, NULL, NULL, NULL, NULL                                                       \
	}

struct applet {
	const char *name; /* "hash" */
	int (*main)(int argc, char **argv);
	const char *synopsis; /* after the command name, as the man page SYNOPSIS renders it */
	const char *summary;  /* one line */
	const struct opt *opts;
	const char *operands; /* completion of operands: "file", "dir", "none", or words */
};

struct optstate {
	const struct applet *app;
	int argc;
	char **argv;
	int i;		/* next argv index */
	const char *sp; /* inside a bundle of short options */
	int dashdash;
	char *arg;  /* argument of the option just returned */
	char **pos; /* operands collected so far (caller-owned argv strings) */
	int npos;
};

/* The applet being run (set by the dispatcher). */
extern const struct applet *ja_current_applet;

/* app NULL = ja_current_applet. */
void opt_init(struct optstate *st, const struct applet *app, int argc, char **argv);
/* Next option id, or 0 when argv is exhausted (operands are in st->pos).  The common
 * options are handled internally; errors exit with status 2. */
int opt_next(struct optstate *st);
void opt_release(struct optstate *st);

/* Usage error: "ja-APPLET: MSG (see --help)" and exit 2. */
void opt_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Parse helpers for option arguments (exit 2 on a bad value). */
long opt_long(const char *arg, const char *name, long min, long max);

void opt_print_help(const struct applet *app);

/* Progress mode from --progress or JA_PROGRESS. */
enum progress_mode { PROG_AUTO, PROG_BAR, PROG_OPENJD, PROG_JSON, PROG_NONE };
enum progress_mode opt_progress_mode(const char *arg);

#endif
