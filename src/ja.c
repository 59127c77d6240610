/* ja.c - the multicall dispatcher: "ja-NAME ..." or "ja NAME ...". */
#include "core/opt.h"
#include "core/util.h"
#include "complete.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APPLET(n, syn, sum, ops)                                                                   \
	int applet_##n##_main(int argc, char **argv);                                              \
	extern const struct opt applet_##n##_opts[];
#include "applets.h"
#undef APPLET

const struct applet ja_applets[] = {
#define APPLET(n, syn, sum, ops) {#n, applet_##n##_main, syn, sum, applet_##n##_opts, ops},
#include "applets.h"
#undef APPLET
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct applet *find_applet(const char *name)
{
	for (const struct applet *a = ja_applets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ja APPLET [ARGS...]   or   ja-APPLET [ARGS...]\n"
		   "       ja --list | --version | help APPLET\n\n"
		   "ja is a job-attachments toolkit: content-hashed manifests and stores.\n\n"
		   "applets:\n");
	for (const struct applet *a = ja_applets; a->name; a++)
		fprintf(f, "  %-10s %s\n", a->name, a->summary);
	fprintf(f, "\nSee ja(1) and ja-APPLET(1).\n");
}

static int run(const struct applet *a, int argc, char **argv)
{
	static char prog[64];
	snprintf(prog, sizeof(prog), "ja-%s", a->name);
	ja_progname = prog;
	ja_current_applet = a;
	return close_stdout(a->main(argc, argv));
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	setlocale(LC_CTYPE, "C.UTF-8");

	if (!strncmp(base, "ja-", 3)) {
		const struct applet *a = find_applet(base + 3);
		if (!a) {
			fprintf(stderr, "ja: '%s' is not a ja applet\n", base + 3);
			return EXIT_NOAPPLET;
		}
		return run(a, argc, argv);
	}
	if (argc < 2) {
		usage(stdout);
		return close_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "--list")) {
		for (const struct applet *a = ja_applets; a->name; a++)
			printf("%s\n", a->name);
		return close_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ja %s\n", JA_VERSION);
		return close_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return close_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "__completion")) {
		if (argc != 3 || complete_print(argv[2], ja_applets) < 0) {
			fprintf(stderr, "ja: usage: ja __completion bash|zsh\n");
			return EXIT_USAGE;
		}
		return close_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "help")) {
		const struct applet *a;
		if (argc < 3) {
			usage(stdout);
			return close_stdout(EXIT_OK);
		}
		a = find_applet(argv[2]);
		if (!a) {
			fprintf(stderr, "ja: '%s' is not a ja applet\n", argv[2]);
			return EXIT_NOAPPLET;
		}
		ja_progname = "ja";
		opt_print_help(a);
		return close_stdout(EXIT_OK);
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "ja: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	{
		const struct applet *a = find_applet(argv[1]);
		if (!a) {
			fprintf(stderr, "ja: '%s' is not a ja applet\n", argv[1]);
			return EXIT_NOAPPLET;
		}
		return run(a, argc - 1, argv + 1);
	}
}
