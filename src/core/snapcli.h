/* snapcli.h - the tree-reading options ja-snapshot and ja-diff share: one set of
 * option rows and one handler, so the two applets cannot drift. */
#ifndef JA_SNAPCLI_H
#define JA_SNAPCLI_H

#include "glob.h"
#include "opt.h"
#include "progress.h"
#include "snapshot.h"

enum {
	SNAPCLI_FORMAT = 3001,
	SNAPCLI_CONFIG,
	SNAPCLI_SYMLINKS,
	SNAPCLI_NOCACHE,
	SNAPCLI_REHASH,
	SNAPCLI_CACHEDIR,
	SNAPCLI_SKIP,
};

/* Option rows for the table of an applet that reads trees. */
#define SNAPCLI_OPTS                                                                                \
	{'i', 'i', "include", "GLOB", "select files matching GLOB (repeatable)", NULL},             \
	    {'e', 'e', "exclude", "GLOB", "leave out files matching GLOB (repeatable)", NULL},      \
	    {SNAPCLI_CONFIG,                                                                        \
	     0,                                                                                     \
	     "include-exclude-config",                                                              \
	     "CONFIG",                                                                              \
	     "JSON {\"include\":[...],\"exclude\":[...]} or a file holding it",                     \
	     "file"},                                                                               \
	    {SNAPCLI_SYMLINKS,	    0, "symlinks", "MODE", "follow, preserve or skip symlinks",     \
	     "follow preserve skip"},                                                               \
	    {SNAPCLI_NOCACHE, 0, "no-cache", NULL, "do not use the hash cache", NULL},              \
	    {SNAPCLI_REHASH, 0, "rehash", NULL, "hash every file again (refresh the cache)", NULL}, \
	    {SNAPCLI_CACHEDIR,                                                                      \
	     0,                                                                                     \
	     "cache-dir",                                                                           \
	     "DIR",                                                                                 \
	     "hash cache directory (default $XDG_CACHE_HOME/ja)",                                   \
	     "dir"},                                                                                \
	    {SNAPCLI_SKIP, 0, "skip-unreadable", NULL, "warn about unreadable files, go on", NULL}, \
	    OPT_JOBS, OPT_PROGRESS

struct snapcli {
	struct snap_opts so;
	struct globset globs;
	struct progress prog;
	const char *links, *cachedir, *pmode;
	int nocache, have_format;
};

void snapcli_init(struct snapcli *c);
/* 1 if id was one of the shared options (handled), 0 otherwise. Exits 2 on bad values. */
int snapcli_option(struct snapcli *c, int id, const char *arg);
/* After parsing: resolve defaults for version ver, open the cache, start progress.
 * stdout_busy: the manifest goes to stdout (OpenJD lines then go to stderr). */
void snapcli_ready(struct snapcli *c, enum mver ver, int stdout_busy);
void snapcli_release(struct snapcli *c);
enum mver snapcli_parse_format(const char *s);

#endif
