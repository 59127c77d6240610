/* walk.c - directory tree walk with openat(), for snapshots and diffs. */
#include "walk.h"
#include "buf.h"
#include "json.h"
#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *path_absolute(const char *path)
{
	struct buf b = BUF_INIT;
	char *cwd, *out, *o;
	const char *p;
	if (path[0] != '/') {
		cwd = getcwd(NULL, 0);
		buf_adds(&b, cwd ? cwd : ".");
		free(cwd);
		buf_addc(&b, '/');
	}
	buf_adds(&b, path);
	/* lexical normalisation: collapse "//", drop ".", pop ".." (never above "/") */
	out = xmalloc(b.len + 2);
	o = out;
	for (p = b.p; *p;) {
		const char *e;
		size_t n;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > out && *--o != '/')
				;
		} else {
			*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	if (o == out)
		*o++ = '/';
	*o = 0;
	buf_release(&b);
	return out;
}

int walk_open(int dirfd, const char *path, int follow_last, struct ja_err *err)
{
	int fd, cur = dirfd;
	const char *p = path;
	if (strlen(path) < PATH_MAX - 1) {
		fd = openat(dirfd, path,
			    O_RDONLY | O_CLOEXEC | O_NOCTTY | (follow_last ? 0 : O_NOFOLLOW));
		if (fd < 0)
			return err_set(err, EXIT_FAIL, "%s", strerror(errno));
		return fd;
	}
	/* too long for one call: one component at a time */
	for (;;) {
		const char *e = strchr(p, '/');
		char name[NAME_MAX + 1];
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n > NAME_MAX) {
			if (cur != dirfd)
				close(cur);
			return err_set(err, EXIT_FAIL, "%s", strerror(ENAMETOOLONG));
		}
		memcpy(name, p, n);
		name[n] = 0;
		fd = openat(cur, name,
			    O_RDONLY | O_CLOEXEC | O_NOCTTY |
				(e ? O_DIRECTORY | O_NOFOLLOW : (follow_last ? 0 : O_NOFOLLOW)));
		if (cur != dirfd)
			close(cur);
		if (fd < 0)
			return err_set(err, EXIT_FAIL, "%s", strerror(errno));
		if (!e)
			return fd;
		cur = fd;
		p = e + 1;
	}
}

struct frame {
	DIR *d;
	size_t plen;  /* length of the path prefix of this directory ("" for the root) */
	int nonempty; /* had any entry at all */
};

struct walker {
	const struct walk_opts *o;
	struct walk *w;
	struct ja_err *err;
	struct buf path; /* current relative path */
	struct frame *st;
	size_t depth, cap;
	size_t mindepth; /* frames deeper than this may be listed as empty directories */
	char *realroot;	 /* the root with symlinks resolved (WALK_PRESERVE), or NULL */
	int defer;	 /* collect the root's subdirectories instead of entering them */
	char **subdirs;
	size_t nsub, capsub;
};

static void warn(struct walker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct walker *k, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	k->w->nwarnings++;
	if (k->o->warn)
		k->o->warn(k->o->warn_ctx, msg);
}

/* An entry that cannot be read: -1 with err, or 0 after a warning (--skip-unreadable). */
static int unreadable(struct walker *k, int e)
{
	if (k->o->skip_unreadable) {
		warn(k, "%s: %s: skipped", esc_name(k->path.p), strerror(e));
		return 0;
	}
	return err_set(k->err, EXIT_FAIL, "%s: %s", esc_name(k->path.p), strerror(e));
}

/* A selected entry needs a UTF-8 path (manifests hold UTF-8): 0 when it has one, 1 when
 * it is skipped with a warning, -1 with err.  The whole path is checked, so a bad name
 * matters only for what the selection takes (the Python tool fails only on those). */
static int bad_name(struct walker *k)
{
	if (utf8_valid(k->path.p, k->path.len))
		return 0;
	if (k->o->skip_unreadable) {
		warn(k, "%s: name is not valid UTF-8: skipped", esc_name(k->path.p));
		return 1;
	}
	return err_set(k->err, EXIT_FAIL,
		       "%s: file name is not valid UTF-8 (manifests hold UTF-8; rename it "
		       "or use --skip-unreadable)",
		       esc_name(k->path.p));
}

static struct went *add(struct walker *k, int type)
{
	struct walk *w = k->w;
	struct went *e;
	xgrow((void **)&w->v, &w->cap, w->n + 1, sizeof(*e));
	e = &w->v[w->n++];
	memset(e, 0, sizeof(*e));
	e->path = arena_strndup(&w->arena, k->path.p, k->path.len);
	e->len = (uint32_t)k->path.len;
	e->name = e->path + e->len;
	while (e->name > e->path && e->name[-1] != '/')
		e->name--;
	e->type = (uint8_t)type;
	return e;
}

static int selected(struct walker *k)
{
	return !k->o->globs || globset_selects(k->o->globs, k->path.p, k->path.len);
}

static void set_stat(struct went *e, const struct stat *st)
{
	e->size = st->st_size;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	e->exec = (st->st_mode & 0111) != 0;
}

/* Where the kernel takes the absolute path p: its parent directory with every symlink
 * resolved, plus the last name (itself a link is an entry of its own).  NULL when the
 * parent does not exist (a dangling target) or the path is too long.  Caller frees. */
static char *real_location(const char *p)
{
	const char *slash = strrchr(p, '/'), *last = slash + 1;
	char *dir, *rd, *out;
	if (!*last || !strcmp(last, ".") || !strcmp(last, ".."))
		return realpath(p, NULL);
	dir = xstrndup(p, slash == p ? 1 : (size_t)(slash - p));
	rd = realpath(dir, NULL);
	free(dir);
	if (!rd)
		return NULL;
	out = xmalloc(strlen(rd) + strlen(last) + 2);
	sprintf(out, "%s%s%s", rd, strcmp(rd, "/") ? "/" : "", last);
	free(rd);
	return out;
}

/* The target of a link relative to the root, NULL when it leaves the root.  Resolved
 * where it exists (a target that is inside only on paper, through a directory link
 * that leaves the tree, escapes), lexically where it does not.  Caller frees. */
static char *inside_target(struct walker *k, const char *target)
{
	struct buf b = BUF_INIT;
	char *abs, *r = NULL;
	const char *root = k->w->root;
	size_t rl;
	if (target[0] == '/') {
		buf_adds(&b, target);
	} else {
		buf_adds(&b, k->w->root);
		buf_addc(&b, '/');
		/* the link's directory */
		buf_add(&b, k->path.p, k->st[k->depth - 1].plen);
		buf_adds(&b, target);
	}
	abs = k->realroot ? real_location(b.p) : NULL;
	if (abs)
		root = k->realroot;
	else
		abs = path_absolute(b.p);
	rl = strlen(root);
	if (!strcmp(root, "/"))
		r = abs[1] ? xstrdup(abs + 1) : NULL;
	else if (!strncmp(abs, root, rl) && abs[rl] == '/' && abs[rl + 1])
		r = xstrdup(abs + rl + 1);
	free(abs);
	buf_release(&b);
	return r;
}

static int do_link(struct walker *k, int dfd, const char *name)
{
	struct stat st;
	char *target;
	ssize_t n;
	int r;
	if (k->o->links == WALK_SKIP || !selected(k))
		return 0;
	if ((r = bad_name(k)))
		return r < 0 ? -1 : 0;
	if (k->o->links == WALK_PRESERVE) {
		char buf[PATH_MAX + 1];
		n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
		if (n < 0)
			return unreadable(k, errno);
		buf[n] = 0;
		target = inside_target(k, buf);
		if (target) {
			struct went *e = add(k, WENT_LINK);
			e->target = arena_strndup(&k->w->arena, target, strlen(target));
			free(target);
			return 0;
		}
	}
	if (fstatat(dfd, name, &st, 0) < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			return unreadable(k, errno); /* the Python tool fails there too */
		st.st_mode = 0;			     /* dangling or a loop */
	}
	if (!S_ISREG(st.st_mode)) {
		/* dangling, a loop, or a directory: the Python tool skips these silently */
		if (k->o->links == WALK_PRESERVE)
			warn(k, "%s: symlink leaves the tree and is not a file: skipped",
			     esc_name(k->path.p));
		return 0;
	}
	if (k->o->links == WALK_PRESERVE)
		warn(k, "%s: symlink leaves the tree: stored as a copy of its target",
		     esc_name(k->path.p));
	set_stat(add(k, WENT_FILE), &st);
	k->w->v[k->w->n - 1].via_link = 1;
	return 0;
}

static int push(struct walker *k, int fd)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	xgrow((void **)&k->st, &k->cap, k->depth + 1, sizeof(*k->st));
	k->st[k->depth].d = d;
	k->st[k->depth].plen = k->path.len;
	k->st[k->depth].nonempty = 0;
	k->depth++;
	return 0;
}

static int entry(struct walker *k, struct dirent *de)
{
	struct frame *f = &k->st[k->depth - 1];
	int dfd = dirfd(f->d), type = de->d_type, r;
	struct stat st;
	f->nonempty = 1;
	if (type == DT_UNKNOWN) {
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : unreadable(k, errno);
		type = S_ISDIR(st.st_mode)   ? DT_DIR
		       : S_ISREG(st.st_mode) ? DT_REG
		       : S_ISLNK(st.st_mode) ? DT_LNK
					     : DT_FIFO;
	}
	switch (type) {
	case DT_DIR: {
		int fd;
		if (k->defer && k->depth == 1) {
			/* walked later, in parallel with the others */
			xgrow((void **)&k->subdirs, &k->capsub, k->nsub + 1, sizeof(char *));
			k->subdirs[k->nsub++] = xstrdup(de->d_name);
			return 0;
		}
		fd = openat(dfd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 || push(k, fd) < 0)
			return unreadable(k, errno);
		buf_addc(&k->path, '/');
		k->st[k->depth - 1].plen = k->path.len;
		return 0;
	}
	case DT_REG:
		if (!selected(k))
			return 0;
		if ((r = bad_name(k)))
			return r < 0 ? -1 : 0;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : unreadable(k, errno); /* ENOENT: removed */
		if (!S_ISREG(st.st_mode))
			return 0;
		set_stat(add(k, WENT_FILE), &st);
		return 0;
	case DT_LNK:
		return do_link(k, dfd, de->d_name);
	default:
		if (selected(k))
			warn(k, "%s: not a regular file (fifo, socket or device): skipped",
			     esc_name(k->path.p));
		return 0;
	}
}

/* Walk from the frames on the stack until it is empty. */
static int run(struct walker *k, const char *rootname)
{
	const struct walk_opts *o = k->o;
	int rc = 0;
	while (k->depth && !rc) {
		struct frame *f = &k->st[k->depth - 1];
		struct dirent *de;
		errno = 0;
		de = readdir(f->d);
		if (!de) {
			if (errno) {
				rc = err_set(k->err, EXIT_FAIL, "%s: %s",
					     k->path.len ? esc_name(k->path.p) : esc_name(rootname),
					     strerror(errno));
				break;
			}
			if (!f->nonempty && k->depth > k->mindepth && o->empty_dirs) {
				k->path.len = f->plen - 1; /* the directory, without its '/' */
				k->path.p[k->path.len] = 0;
				/* listed unless includes were given or an exclude matches it */
				if (!o->globs ||
				    (!o->globs->ninc &&
				     globset_selects(o->globs, k->path.p, k->path.len))) {
					int r = bad_name(k);
					if (r < 0) {
						rc = -1;
						break;
					}
					if (!r)
						add(k, WENT_DIR);
				}
				k->path.len++;
			}
			closedir(f->d);
			k->depth--;
			if (k->depth) {
				/* back to the parent's prefix */
				k->path.len = k->st[k->depth - 1].plen;
				k->path.p[k->path.len] = 0;
			}
			continue;
		}
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		k->path.len = f->plen;
		buf_adds(&k->path, de->d_name);
		rc = entry(k, de);
	}
	while (k->depth)
		closedir(k->st[--k->depth].d);
	return rc;
}

struct part {
	struct walk w;
	struct ja_err err;
	int rc;
};

struct par {
	struct walker *top;
	struct part *parts;
};

/* One top-level subdirectory, into its own part. */
static void subwork(void *vctx, size_t i, int wi)
{
	struct par *p = vctx;
	struct walker *top = p->top;
	struct part *pt = &p->parts[i];
	struct walker k = {.o = top->o, .w = &pt->w, .err = &pt->err, .realroot = top->realroot};
	const char *name = top->subdirs[i];
	int fd;
	(void)wi;
	arena_init(&pt->w.arena);
	pt->w.root = top->w->root;
	pt->w.rootfd = top->w->rootfd;
	buf_init(&k.path, BUF_UNLIMITED);
	buf_adds(&k.path, name);
	fd = openat(top->w->rootfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || push(&k, fd) < 0) {
		pt->rc = unreadable(&k, errno);
	} else {
		buf_addc(&k.path, '/');
		k.st[0].plen = k.path.len;
		pt->rc = run(&k, name);
	}
	free(k.st);
	buf_release(&k.path);
}

int walk_tree(const char *root, const struct walk_opts *o, struct walk *w, struct ja_err *err)
{
	struct walker k = {.o = o, .w = w, .err = err, .mindepth = 1};
	struct stat st;
	int fd, rc = 0;
	memset(w, 0, sizeof(*w));
	arena_init(&w->arena);
	w->rootfd = -1;
	w->root = path_absolute(root);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(err, errno == ENOTDIR ? EXIT_USAGE : EXIT_FAIL, "%s: %s",
			       esc_name(root), strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(err, EXIT_USAGE, "%s: not a directory", esc_name(root));
	}
	w->rootfd = dup(fd);
	if (o->links == WALK_PRESERVE)
		k.realroot = realpath(root, NULL);
	k.defer = o->jobs > 1;
	buf_init(&k.path, BUF_UNLIMITED);
	if (push(&k, fd) < 0) {
		buf_release(&k.path);
		free(k.realroot);
		return err_set(err, EXIT_FAIL, "%s: %s", esc_name(root), strerror(errno));
	}
	rc = run(&k, root);
	if (!rc && k.nsub) {
		struct par p = {.top = &k, .parts = xcalloc(k.nsub, sizeof(struct part))};
		pool_for(k.nsub, o->jobs, subwork, NULL, &p);
		for (size_t i = 0; i < k.nsub; i++) {
			struct part *pt = &p.parts[i];
			if (pt->rc && !rc) {
				rc = -1;
				*err = pt->err;
			}
			xgrow((void **)&w->v, &w->cap, w->n + pt->w.n, sizeof(*w->v));
			if (pt->w.n)
				memcpy(w->v + w->n, pt->w.v, pt->w.n * sizeof(*w->v));
			w->n += pt->w.n;
			w->nwarnings += pt->w.nwarnings;
			arena_adopt(&w->arena, &pt->w.arena);
			free(pt->w.v);
		}
		free(p.parts);
	}
	for (size_t i = 0; i < k.nsub; i++)
		free(k.subdirs[i]);
	free(k.subdirs);
	free(k.st);
	free(k.realroot);
	buf_release(&k.path);
	return rc;
}

void walk_release(struct walk *w)
{
	if (w->rootfd >= 0)
		close(w->rootfd);
	free(w->v);
	free(w->root);
	arena_release(&w->arena);
	memset(w, 0, sizeof(*w));
	w->rootfd = -1;
}
