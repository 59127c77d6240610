/* snapcli.c - shared handling of the tree-reading options. */
#include "snapcli.h"
#include "pool.h"

#include <string.h>

static void warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	warnx("%s", msg);
}

void snapcli_init(struct snapcli *c)
{
	memset(c, 0, sizeof(*c));
	c->so.ver = MVER_2023;
	/* hashing waits on reads: four threads per CPU keep a cold disk busy and cost
	 * nothing when the files are cached (bench/RESULTS.md) */
	c->so.jobs = pool_cpu_count() * 4 > 32 ? 32 : pool_cpu_count() * 4;
	c->so.warn = warn_cb;
	globset_init(&c->globs);
}

enum mver snapcli_parse_format(const char *s)
{
	if (!strcmp(s, "v2023") || !strcmp(s, "2023-03-03"))
		return MVER_2023;
	if (!strcmp(s, "v2025"))
		return MVER_2025;
	opt_usage_error("--format: unknown format '%s' (v2023 or v2025)", s);
}

int snapcli_option(struct snapcli *c, int id, const char *arg)
{
	struct ja_err err = {0};
	switch (id) {
	case 'i':
	case 'e':
		if (globset_add(&c->globs, id == 'e', arg, &err) < 0)
			opt_usage_error("%s", err.msg);
		return 1;
	case SNAPCLI_CONFIG:
		if (globset_add_config(&c->globs, arg, &err) < 0)
			opt_usage_error("--include-exclude-config: %s", err.msg);
		return 1;
	case SNAPCLI_SYMLINKS:
		c->links = arg;
		return 1;
	case SNAPCLI_NOCACHE:
		c->nocache = 1;
		return 1;
	case SNAPCLI_REHASH:
		c->so.rehash = 1;
		return 1;
	case SNAPCLI_CACHEDIR:
		c->cachedir = arg;
		return 1;
	case SNAPCLI_SKIP:
		c->so.skip_unreadable = 1;
		return 1;
	case OPT_ID_JOBS:
		c->so.jobs = (int)opt_long(arg, "-j", 1, 1024);
		return 1;
	case OPT_ID_PROGRESS:
		c->pmode = arg;
		return 1;
	}
	return 0;
}

void snapcli_ready(struct snapcli *c, enum mver ver, int stdout_busy)
{
	c->so.ver = ver;
	c->so.links = ver == MVER_2023 ? WALK_FOLLOW : WALK_PRESERVE;
	if (c->links) {
		if (!strcmp(c->links, "follow"))
			c->so.links = WALK_FOLLOW;
		else if (!strcmp(c->links, "preserve"))
			c->so.links = WALK_PRESERVE;
		else if (!strcmp(c->links, "skip"))
			c->so.links = WALK_SKIP;
		else
			opt_usage_error("--symlinks: unknown mode '%s' (follow, preserve, skip)",
					c->links);
		if (c->so.links == WALK_PRESERVE && ver == MVER_2023)
			opt_usage_error("--symlinks preserve needs v2025 (v2023 has no symlinks)");
	}
	c->so.globs = &c->globs;
	if (!c->nocache)
		c->so.cache = hashcache_open(c->cachedir, warn_cb, NULL);
	progress_init(&c->prog, opt_progress_mode(c->pmode), "Hashed", "Hashing speed");
	if (c->prog.mode == PROG_OPENJD && stdout_busy)
		c->prog.out = stderr; /* the manifest owns stdout */
	c->so.progress = &c->prog;
}

void snapcli_release(struct snapcli *c)
{
	hashcache_close(c->so.cache);
	c->so.cache = NULL;
	if (c->so.progress)
		progress_release(&c->prog);
	globset_release(&c->globs);
}
