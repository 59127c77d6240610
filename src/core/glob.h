/* glob.h - file selection with the Python tool's rules (pathlib.Path.glob, spec §7.1):
 * '*', '?' and '[...]' match within one path component, a component that is exactly
 * '**' matches zero or more directories, matching is case-sensitive, hidden files are
 * matched, and a pattern ending in '**' or '/' selects no files (directories only). */
#ifndef JA_GLOB_H
#define JA_GLOB_H

#include <stddef.h>
#include "util.h"

struct glob_pat {
	char **parts; /* components, owned */
	size_t n;
	int dironly; /* ends in '**' or '/': pathlib yields directories only */
	char *text;  /* the pattern as given, owned */
};

struct globset {
	struct glob_pat *inc, *exc;
	size_t ninc, nexc;
};

/* Compile one pattern; errors (code 2) for what pathlib refuses: empty or absolute
 * patterns, '**' inside a component. */
int glob_compile(struct glob_pat *g, const char *pattern, struct ja_err *err);
void glob_release(struct glob_pat *g);
/* 1 if the relative file path p[0..len) ('/'-separated) matches. */
int glob_match(const struct glob_pat *g, const char *p, size_t len);

void globset_init(struct globset *s);
void globset_release(struct globset *s);
int globset_add(struct globset *s, int exclude, const char *pattern, struct ja_err *err);
/* Add the patterns of a config: a JSON text {"include":[...],"exclude":[...]} or the
 * name of a file holding one. */
int globset_add_config(struct globset *s, const char *json_or_file, struct ja_err *err);
/* Selected: matches an include (default: every file, as "**" + "/" + "*") and no exclude. */
int globset_selects(const struct globset *s, const char *p, size_t len);

#endif
