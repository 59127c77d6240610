/* dest.c - the destination directory of a download: safe paths, cached directory
 * handles, temporaries renamed into place under a conflict policy. */
#include "dest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define TMP_TRIES 100

void dest_opts_init(struct dest_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->conflict = DEST_COPY;
	o->group = -1;
	o->umask = -1;
	o->sweep_age = DEST_SWEEP_AGE;
}

/* --- paths ------------------------------------------------------------- */

static int bad_path(struct ja_err *err, const char *path, const char *why)
{
	return err_set(err, EXIT_FAIL, "%s: %s", esc_name(path), why);
}

int dest_check_path(const char *path, size_t len, struct ja_err *err)
{
	const size_t plen = strlen(DEST_TMP_PREFIX);
	if (len == 0)
		return err_set(err, EXIT_FAIL, "empty path");
	if (memchr(path, 0, len))
		return bad_path(err, path, "NUL byte in path");
	if (len > DEST_PATH_MAX)
		return bad_path(err, path, "path longer than 32767 bytes");
	if (path[0] == '/')
		return bad_path(err, path, "absolute path");
	for (const char *s = path, *end = path + len; s <= end;) {
		const char *e = memchr(s, '/', (size_t)(end - s));
		size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
		if (n == 0)
			return bad_path(err, path, "empty path component");
		if (n == 1 && s[0] == '.')
			return bad_path(err, path, "'.' path component");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return bad_path(err, path, "'..' path component");
		if (n > NAME_MAX)
			return bad_path(err, path, "path component longer than 255 bytes");
		if (n >= plen && !memcmp(s, DEST_TMP_PREFIX, plen))
			return bad_path(err, path,
					"names starting with " DEST_TMP_PREFIX " are reserved");
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

int dest_check_link(const char *relpath, const char *target, struct ja_err *err)
{
	size_t depth = 0; /* directories between DEST and the link */
	int named = 0;
	for (const char *p = relpath; *p; p++)
		depth += *p == '/';
	if (!*target)
		return bad_path(err, relpath, "empty symlink target");
	if (target[0] == '/')
		return bad_path(err, relpath, "absolute symlink target");
	if (strlen(target) >= PATH_MAX)
		return bad_path(err, relpath, "symlink target too long");
	/* A ".." after a name could climb out of whatever that name (a link) points at,
	 * so only a leading run is allowed; it walks up through the real directories
	 * that hold the link, which dest_mkdirs made without following anything. */
	for (const char *s = target; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (named)
				return bad_path(err, relpath,
						"symlink target has '..' after a name");
			if (depth-- == 0)
				return bad_path(err, relpath,
						"symlink target leaves the destination");
		} else if (n > NAME_MAX) {
			return bad_path(err, relpath, "symlink target component too long");
		} else if (n && !(n == 1 && s[0] == '.')) {
			named = 1;
		}
		s += n;
		s += *s == '/';
	}
	return 0;
}

/* Split relpath at its last '/': the directory part's length and the last component. */
static const char *split(const char *relpath, size_t *dirlen)
{
	const char *slash = strrchr(relpath, '/');
	*dirlen = slash ? (size_t)(slash - relpath) : 0;
	return slash ? slash + 1 : relpath;
}

/* rel[0..n) for a message (DEST itself when empty); esc_name shows 1 KiB at most. */
static const char *shown(const struct dest *d, const char *rel, size_t n)
{
	char buf[1024];
	if (n == 0)
		return esc_name(d->root_path);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, rel, n);
	buf[n] = 0;
	return esc_name(buf);
}

/* --- opening DEST -------------------------------------------------------- */

/* umask(2) can only be read by setting it, which races with other threads creating
 * files; Linux shows it in /proc (since 4.7). */
static mode_t process_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned m = 0;
	int found = 0;
	mode_t old;
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "Umask: %o", &m) == 1;
	if (f)
		fclose(f);
	if (found)
		return (mode_t)m & 0777;
	old = umask(022);
	umask(old);
	return old;
}

int dest_open(struct dest *d, const char *dir, const struct dest_opts *o, struct ja_err *err)
{
	memset(d, 0, sizeof(*d));
	d->root = -1;
	if (o)
		d->o = *o;
	else
		dest_opts_init(&d->o);
	if (!*dir)
		return err_set(err, EXIT_FAIL, "empty destination directory");
	d->root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->root < 0 && errno == ENOENT) {
		if (mkdir_p(dir, 0) < 0)
			return err_set(err, EXIT_FAIL, "%s: %s", esc_name(dir), strerror(errno));
		d->root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (d->root < 0)
		return err_set(err, EXIT_FAIL, "%s: %s", esc_name(dir), strerror(errno));
	d->umask = d->o.umask < 0 ? process_umask() : (mode_t)d->o.umask & 0777;
	d->root_path = xstrdup(dir);
	pthread_mutex_init(&d->mu, NULL);
	strmap_init(&d->prepared, 64);
	arena_init(&d->keys);
	return 0;
}

void dest_close(struct dest *d)
{
	if (d->root < 0)
		return;
	for (size_t i = 0; i < d->ncache; i++) {
		close(d->cache[i].fd);
		free(d->cache[i].path);
	}
	close(d->root);
	d->root = -1;
	free(d->root_path);
	strmap_release(&d->prepared);
	arena_release(&d->keys);
	pthread_mutex_destroy(&d->mu);
}

/* --- the directory cache (callers hold d->mu) ----------------------------- */

static int cache_find(struct dest *d, const char *p, size_t n)
{
	for (size_t i = 0; i < d->ncache; i++)
		if (d->cache[i].len == n && !memcmp(d->cache[i].path, p, n)) {
			d->cache[i].used = ++d->tick;
			return d->cache[i].fd;
		}
	return -1;
}

/* Takes ownership of fd.  The victim is the least recently used entry, never the one
 * just added, so the handle a walk goes on from stays open. */
static void cache_put(struct dest *d, const char *p, size_t n, int fd)
{
	struct dest_dir *e = &d->cache[d->ncache];
	if (d->ncache == DEST_CACHE) {
		e = &d->cache[0];
		for (size_t i = 1; i < DEST_CACHE; i++)
			if (d->cache[i].used < e->used)
				e = &d->cache[i];
		close(e->fd);
		free(e->path);
	} else {
		d->ncache++;
	}
	e->path = xstrndup(p, n);
	e->len = n;
	e->fd = fd;
	e->used = ++d->tick;
}

/* Is directory k[0..kn) p[0..n) or below it? */
static int below(const char *k, size_t kn, const char *p, size_t n)
{
	return kn >= n && !memcmp(k, p, n) && (kn == n || k[n] == '/');
}

/* Forget p and everything below it (after an rmdir). */
static void cache_drop(struct dest *d, const char *p, size_t n)
{
	for (size_t i = 0; i < d->ncache;) {
		struct dest_dir *e = &d->cache[i];
		if (below(e->path, e->len, p, n)) {
			close(e->fd);
			free(e->path);
			*e = d->cache[--d->ncache];
		} else {
			i++;
		}
	}
}

static int is_prepared(struct dest *d, const char *p, size_t n)
{
	size_t *v = strmap_get(&d->prepared, p, n);
	return v && *v;
}

static void mark_prepared(struct dest *d, const char *p, size_t n)
{
	int found;
	size_t *v = strmap_get(&d->prepared, p, n);
	if (!v)
		v = strmap_put(&d->prepared, arena_strndup(&d->keys, p, n), n, &found);
	*v = 1;
}

/* Forget that p and everything below it were prepared: a directory made again gets its
 * mode, group and sweep again. */
static void unprepare(struct dest *d, const char *p, size_t n)
{
	for (size_t i = 0; i < d->prepared.cap; i++) {
		struct strmap_slot *s = &d->prepared.slots[i];
		if (s->key && below(s->key, s->len, p, n))
			s->val = 0;
	}
}

/* --- stale temporaries ---------------------------------------------------- */

/* A regular temporary is stale when nobody holds its flock (a live writer always
 * does; the kernel drops it when the writer dies, even by kill -9). */
static int unlocked(int dirfd, const char *name, const struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st2;
	int ok;
	if (fd < 0)
		return 0;
	ok = !fstat(fd, &st2) && st2.st_ino == st->st_ino && st2.st_dev == st->st_dev &&
	     !flock(fd, LOCK_EX | LOCK_NB);
	close(fd);
	return ok;
}

/* rfd is a readable handle on the directory (borrowed). */
static size_t sweep_dir(int rfd, int age)
{
	int fd = fcntl(rfd, F_DUPFD_CLOEXEC, 0);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat st;
	size_t removed = 0;
	time_t now = time(NULL);
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, DEST_TMP_PREFIX, strlen(DEST_TMP_PREFIX)) ||
		    fstatat(rfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (age > 0 && now - st.st_ctime < age)) /* time() may lag a fresh ctime */
			continue;
		if ((S_ISLNK(st.st_mode) ||
		     (S_ISREG(st.st_mode) && unlocked(rfd, de->d_name, &st))) &&
		    !unlinkat(rfd, de->d_name, 0))
			removed++;
	}
	closedir(dir);
	return removed;
}

/* --- directories ----------------------------------------------------------- */

static int set_dir_mode(int fd, int rfd, mode_t mode)
{
	char proc[64];
	if (rfd >= 0)
		return fchmod(rfd, mode);
	/* no read permission, so only an O_PATH handle: chmod through /proc */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return chmod(proc, mode);
}

/* Once per directory: group, dir_mode (a directory just made also gets 0777 & ~umask,
 * whatever the process umask was) and the sweep of stale temporaries. */
static int prepare(struct dest *d, int fd, const char *p, size_t n, int created, struct ja_err *err)
{
	struct stat st;
	int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mode_t want;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (d->o.group >= 0 && st.st_gid != (gid_t)d->o.group &&
	    fchownat(fd, "", (uid_t)-1, (gid_t)d->o.group, AT_EMPTY_PATH) < 0)
		goto fail;
	/* set-id bits the kernel gave a new directory (setgid parent) are kept */
	want = created ? (st.st_mode & 07000) | (0777 & ~d->umask) | d->o.dir_mode
		       : (st.st_mode & 07777) | d->o.dir_mode;
	if (want != (st.st_mode & 07777) && set_dir_mode(fd, rfd, want) < 0)
		goto fail;
	if (d->o.sweep_age >= 0 && rfd >= 0)
		sweep_dir(rfd, d->o.sweep_age);
	if (rfd >= 0)
		close(rfd);
	mark_prepared(d, p, n);
	return 0;
fail:
	err_set(err, EXIT_FAIL, "%s: %s", shown(d, p, n), strerror(errno));
	if (rfd >= 0)
		close(rfd);
	return -1;
}

/* Open (create: make) the directory p[0..n) names as a child of parent. */
static int open_child(struct dest *d, int parent, const char *p, size_t start, size_t n, int create,
		      int *created, int *absent, struct ja_err *err)
{
	char name[NAME_MAX + 1];
	int fd;
	memcpy(name, p + start, n - start);
	name[n - start] = 0;
	*created = 0;
	fd = openat(parent, name, DIR_FLAGS);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, 0777) == 0)
			*created = 1;
		else if (errno != EEXIST)
			return err_set(err, EXIT_FAIL, "%s: %s", shown(d, p, n), strerror(errno));
		fd = openat(parent, name, DIR_FLAGS);
	}
	if (fd >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR)
		return err_set(err, EXIT_FAIL, "%s: a symlink or non-directory is in the way",
			       shown(d, p, n));
	if (errno == ENOENT && absent)
		*absent = 1;
	return err_set(err, EXIT_FAIL, "%s: %s", shown(d, p, n), strerror(errno));
}

/* The handle (borrowed from the cache, valid while d->mu is held) of directory
 * dir[0..n).  create: make what is missing and prepare every directory from DEST down
 * that is not yet (prepared implies the ancestors are).  Otherwise a missing one sets
 * *absent.  The walk starts from the deepest cached directory, or DEST. */
static int dir_walk(struct dest *d, const char *dir, size_t n, int create, int *absent,
		    struct ja_err *err)
{
	int full = create && !is_prepared(d, dir, n), fd = d->root, cfd, created;
	size_t start = 0;
	if (full && !is_prepared(d, "", 0) && prepare(d, d->root, "", 0, 0, err) < 0)
		return -1;
	if (n == 0)
		return d->root;
	if (!full)
		for (size_t e = n; e > 0;) {
			if ((cfd = cache_find(d, dir, e)) >= 0) {
				if (e == n)
					return cfd;
				fd = cfd;
				start = e + 1;
				break;
			}
			while (e > 0 && dir[e - 1] != '/')
				e--;
			e -= e > 0;
		}
	while (start <= n) {
		const char *slash = memchr(dir + start, '/', n - start);
		size_t e = slash ? (size_t)(slash - dir) : n;
		if ((cfd = cache_find(d, dir, e)) >= 0) {
			created = 0;
		} else {
			cfd = open_child(d, fd, dir, start, e, create, &created, absent, err);
			if (cfd < 0)
				return -1;
			cache_put(d, dir, e, cfd);
		}
		if (full && !is_prepared(d, dir, e) && prepare(d, cfd, dir, e, created, err) < 0)
			return -1;
		fd = cfd;
		start = e + 1;
	}
	return fd;
}

/* A handle of the caller's own (close it) on directory dir[0..n), as dir_walk. */
static int dir_get(struct dest *d, const char *dir, size_t n, int create, int *absent,
		   struct ja_err *err)
{
	int fd;
	pthread_mutex_lock(&d->mu);
	fd = dir_walk(d, dir, n, create, absent, err);
	if (fd >= 0 && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		err_set(err, EXIT_FAIL, "%s: %s", shown(d, dir, n), strerror(errno));
	pthread_mutex_unlock(&d->mu);
	return fd;
}

int dest_mkdirs(struct dest *d, const char *reldir, struct ja_err *err)
{
	size_t n = strlen(reldir);
	int fd;
	if (n && dest_check_path(reldir, n, err) < 0)
		return -1;
	pthread_mutex_lock(&d->mu);
	fd = dir_walk(d, reldir, n, 1, NULL, err);
	pthread_mutex_unlock(&d->mu);
	return fd < 0 ? -1 : 0;
}

/* The directory handle (caller closes) and last component of a checked relpath. */
static int parent_of(struct dest *d, const char *relpath, int create, int *absent,
		     const char **name, struct ja_err *err)
{
	size_t dirlen;
	if (dest_check_path(relpath, strlen(relpath), err) < 0)
		return -1;
	*name = split(relpath, &dirlen);
	return dir_get(d, relpath, dirlen, create, absent, err);
}

/* --- temporaries and placement ------------------------------------------- */

static void tmp_name(char out[32])
{
	static _Atomic uint64_t counter;
	uint64_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		uint64_t seed[4];
		clock_gettime(CLOCK_REALTIME, &ts);
		seed[0] = (uint64_t)ts.tv_sec;
		seed[1] = (uint64_t)ts.tv_nsec;
		seed[2] = (uint64_t)getpid();
		seed[3] = counter++;
		r = XXH3_64bits(seed, sizeof(seed));
	}
	snprintf(out, 32, DEST_TMP_PREFIX "%016llx", (unsigned long long)r);
}

/* "stem (N).ext", split like Python's pathlib suffix: at the last dot unless it is the
 * first or the last byte (".bashrc (1)", "x.tar (1).gz", "a. (1)"). */
static int copy_name(const char *name, unsigned n, char out[NAME_MAX + 1])
{
	const char *dot = strrchr(name, '.');
	size_t len = strlen(name);
	size_t stem = dot && dot > name && dot < name + len - 1 ? (size_t)(dot - name) : len;
	int w = snprintf(out, NAME_MAX + 1, "%.*s (%u)%s", (int)stem, name, n, name + stem);
	return w < 0 || w > NAME_MAX ? -1 : 0;
}

static int is_dir_at(int dirfd, const char *name)
{
	struct stat st;
	return !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
}

/* Rename from to `to` unless `to` exists (EEXIST), atomically on any file system that
 * has RENAME_NOREPLACE or hard links; else by reserving `to` with an exclusive create
 * and renaming over the reservation. */
static int rename_noreplace(const struct dest *d, int dirfd, const char *from, const char *to)
{
	int fd;
	if (d->o.compat_test < 1) {
		if (!renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE))
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
	}
	if (d->o.compat_test < 2) {
		if (!linkat(dirfd, from, dirfd, to, 0)) {
			unlinkat(dirfd, from, 0);
			return 0;
		}
		if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
			return -1;
	}
	fd = openat(dirfd, to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return renameat(dirfd, from, dirfd, to);
}

static int place_err(const char *path, struct ja_err *err)
{
	if (errno == EISDIR || errno == ENOTEMPTY)
		return bad_path(err, path, "a directory is in the way");
	return bad_path(err, path, strerror(errno));
}

/* Move temporary tmp (in dirfd) to name under the conflict policy; out gets the last
 * component it ended up at.  Returns an enum dest_result or -1. */
static int place(const struct dest *d, int dirfd, const char *tmp, const char *name,
		 const char *path, char out[NAME_MAX + 1], struct ja_err *err)
{
	strcpy(out, name);
	if (d->o.conflict == DEST_OVERWRITE)
		return renameat(dirfd, tmp, dirfd, name) ? place_err(path, err) : DEST_PLACED;
	if (!rename_noreplace(d, dirfd, tmp, name))
		return DEST_PLACED;
	if (errno != EEXIST)
		return place_err(path, err);
	if (is_dir_at(dirfd, name))
		return bad_path(err, path, "a directory is in the way");
	if (d->o.conflict == DEST_SKIP)
		return DEST_SKIPPED;
	for (unsigned i = 1; i <= DEST_COPY_MAX; i++) {
		if (copy_name(name, i, out) < 0)
			return bad_path(err, path, "no room for a copy's name");
		if (!rename_noreplace(d, dirfd, tmp, out))
			return DEST_COPIED;
		if (errno != EEXIST)
			return place_err(path, err);
	}
	return bad_path(err, path, "too many copies already");
}

static char *final_path(const char *relpath, const char *name, const char *placed)
{
	size_t dirlen = (size_t)(name - relpath);
	char *p = xmalloc(dirlen + strlen(placed) + 1);
	memcpy(p, relpath, dirlen);
	strcpy(p + dirlen, placed);
	return p;
}

int dest_tmp_create(struct dest *d, const char *relpath, struct dest_file **fp, struct ja_err *err)
{
	struct dest_file *f;
	const char *name;
	char tmp[32];
	int fd = -1, dirfd;
	*fp = NULL;
	if ((dirfd = parent_of(d, relpath, 1, NULL, &name, err)) < 0)
		return -1;
	if (is_dir_at(dirfd, name)) {
		close(dirfd);
		return bad_path(err, relpath, "a directory is in the way");
	}
	for (int i = 0; i < TMP_TRIES && fd < 0; i++) {
		tmp_name(tmp);
		fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		bad_path(err, relpath, strerror(errno));
		close(dirfd);
		return -1;
	}
	/* the sign of a live writer for sweeps; a file system without locks never sweeps */
	flock(fd, LOCK_EX | LOCK_NB);
	f = xcalloc(1, sizeof(*f));
	f->fd = fd;
	f->dirfd = dirfd;
	f->path = xstrdup(relpath);
	f->name = f->path + (name - relpath);
	memcpy(f->tmp, tmp, sizeof(tmp));
	*fp = f;
	return 0;
}

static void file_free(struct dest_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	close(f->dirfd);
	free(f->path);
	free(f);
}

void dest_abort(struct dest *d, struct dest_file *f)
{
	if (!f)
		return;
	unlinkat(f->dirfd, f->tmp, 0);
	file_free(f);
}

/* Microseconds since the epoch (negative before 1970) as a timespec, floored. */
static struct timespec us_to_ts(int64_t us)
{
	struct timespec ts;
	int64_t sec = us / 1000000, rem = us % 1000000;
	if (rem < 0) {
		rem += 1000000;
		sec--;
	}
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)(rem * 1000);
	return ts;
}

/* Group, mode and mtime of the open temporary, then close it (the close reports
 * write-back errors of network file systems).  From here to the rename the temporary
 * is unlocked; its ctime, fresh from futimens, keeps sweeps off (sweep_age > 0). */
static int settle(struct dest *d, struct dest_file *f, int64_t mtime_us, int runnable)
{
	mode_t mode = 0666 & ~d->umask;
	struct timespec ts[2];
	int fd = f->fd, e;
	if (runnable)
		mode |= (mode & 0444) >> 2;
	mode |= d->o.file_mode;
	ts[0] = ts[1] = us_to_ts(mtime_us);
	f->fd = -1;
	/* chown first: it may clear set-id bits that file_mode asks for */
	if ((d->o.group >= 0 && fchown(fd, (uid_t)-1, (gid_t)d->o.group) < 0) ||
	    fchmod(fd, mode & 07777) < 0 || (mtime_us != DEST_MTIME_NONE && futimens(fd, ts) < 0)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int dest_finish(struct dest *d, struct dest_file *f, int64_t mtime_us, int runnable, char **final,
		struct ja_err *err)
{
	char out[NAME_MAX + 1];
	int r;
	if (final)
		*final = NULL;
	if (settle(d, f, mtime_us, runnable) < 0)
		r = bad_path(err, f->path, strerror(errno));
	else
		r = place(d, f->dirfd, f->tmp, f->name, f->path, out, err);
	if (r < 0 || r == DEST_SKIPPED)
		unlinkat(f->dirfd, f->tmp, 0);
	else if (final)
		*final = final_path(f->path, f->name, out);
	file_free(f);
	return r;
}

/* --- what is there already ------------------------------------------------- */

/* |mtime of st in µs (floored) - us| <= 1, without overflow. */
static int mtime_close(const struct stat *st, int64_t us)
{
	int64_t sec = (int64_t)st->st_mtim.tv_sec, fus, diff;
	if (__builtin_mul_overflow(sec, 1000000, &fus) ||
	    __builtin_add_overflow(fus, st->st_mtim.tv_nsec / 1000, &fus) ||
	    __builtin_sub_overflow(fus, us, &diff))
		return 0;
	return diff >= -1 && diff <= 1;
}

int dest_existing(struct dest *d, const char *relpath, int64_t size, int64_t mtime_us, int *fdp,
		  struct ja_err *err)
{
	const char *name;
	struct stat st, st2;
	int absent = 0, dirfd, fd = -1, r;
	if (fdp)
		*fdp = -1;
	if ((dirfd = parent_of(d, relpath, 0, &absent, &name, err)) < 0)
		return absent ? DEST_ABSENT : -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = errno == ENOENT ? DEST_ABSENT : bad_path(err, relpath, strerror(errno));
	} else if (!S_ISREG(st.st_mode) || st.st_size != size || !mtime_close(&st, mtime_us)) {
		r = DEST_DIFFERENT;
	} else if (!fdp) {
		r = DEST_MATCH;
	} else if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		r = errno == ELOOP || errno == ENOENT ? DEST_DIFFERENT
						      : bad_path(err, relpath, strerror(errno));
	} else if (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
		close(fd); /* replaced since the fstatat: look again next run */
		r = DEST_DIFFERENT;
	} else {
		*fdp = fd;
		r = DEST_MATCH;
	}
	close(dirfd);
	return r;
}

int dest_free_bytes(struct dest *d, uint64_t *out, struct ja_err *err)
{
	struct statvfs sv;
	if (fstatvfs(d->root, &sv) < 0)
		return err_set(err, EXIT_FAIL, "%s: %s", esc_name(d->root_path), strerror(errno));
	if (__builtin_mul_overflow((uint64_t)sv.f_bavail, (uint64_t)sv.f_frsize, out))
		*out = UINT64_MAX;
	return 0;
}

/* --- v2025: symlinks and deletions ----------------------------------------- */

static int same_link(int dirfd, const char *name, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf));
	return n >= 0 && (size_t)n == strlen(target) && !memcmp(buf, target, (size_t)n);
}

int dest_symlink(struct dest *d, const char *relpath, const char *target, char **final,
		 struct ja_err *err)
{
	const char *name;
	char tmp[32], out[NAME_MAX + 1];
	int dirfd, r = -1;
	if (final)
		*final = NULL;
	if (dest_check_path(relpath, strlen(relpath), err) < 0 ||
	    dest_check_link(relpath, target, err) < 0 ||
	    (dirfd = parent_of(d, relpath, 1, NULL, &name, err)) < 0)
		return -1;
	if (same_link(dirfd, name, target)) {
		close(dirfd);
		return DEST_SKIPPED;
	}
	for (int i = 0; i < TMP_TRIES && r < 0; i++) {
		tmp_name(tmp);
		r = symlinkat(target, dirfd, tmp);
		if (r < 0 && errno != EEXIST)
			break;
	}
	if (r < 0)
		r = bad_path(err, relpath, strerror(errno));
	else
		r = place(d, dirfd, tmp, name, relpath, out, err);
	if (r < 0 || r == DEST_SKIPPED)
		unlinkat(dirfd, tmp, 0);
	else if (final)
		*final = final_path(relpath, name, out);
	close(dirfd);
	return r;
}

int dest_delete(struct dest *d, const char *relpath, struct ja_err *err)
{
	const char *name;
	int absent = 0, dirfd, r = 1;
	if ((dirfd = parent_of(d, relpath, 0, &absent, &name, err)) < 0)
		return absent ? 0 : -1;
	if (unlinkat(dirfd, name, 0) < 0) {
		int e = errno; /* Linux says EISDIR for a directory, POSIX EPERM */
		if (e == ENOENT)
			r = 0;
		else if ((e == EISDIR || e == EPERM) && is_dir_at(dirfd, name))
			r = bad_path(err, relpath, "is a directory");
		else
			r = bad_path(err, relpath, strerror(e));
	}
	close(dirfd);
	return r;
}

static int rmdir_result(const char *relpath, struct ja_err *err)
{
	if (errno == ENOENT)
		return DEST_RM_ABSENT;
	if (errno == ENOTEMPTY || errno == EEXIST)
		return DEST_RM_NOTEMPTY;
	return bad_path(err, relpath, errno == ENOTDIR ? "not a directory" : strerror(errno));
}

int dest_rmdir(struct dest *d, const char *relpath, struct ja_err *err)
{
	const char *name;
	size_t dirlen, n = strlen(relpath);
	int absent = 0, fd, r = DEST_RM_DONE;
	if (dest_check_path(relpath, n, err) < 0)
		return -1;
	name = split(relpath, &dirlen);
	/* under the lock, so no thread takes the doomed directory's handle from the cache */
	pthread_mutex_lock(&d->mu);
	fd = dir_walk(d, relpath, dirlen, 0, &absent, err);
	if (fd < 0)
		r = absent ? DEST_RM_ABSENT : -1;
	else if (unlinkat(fd, name, AT_REMOVEDIR) < 0)
		r = rmdir_result(relpath, err);
	if (r == DEST_RM_DONE) {
		cache_drop(d, relpath, n);
		unprepare(d, relpath, n);
	}
	pthread_mutex_unlock(&d->mu);
	return r;
}

int dest_sweep_tmp(struct dest *d, const char *reldir, size_t *removed, struct ja_err *err)
{
	size_t n = strlen(reldir), k;
	int absent = 0, fd, rfd;
	if (removed)
		*removed = 0;
	if (n && dest_check_path(reldir, n, err) < 0)
		return -1;
	if ((fd = dir_get(d, reldir, n, 0, &absent, err)) < 0)
		return absent ? 0 : -1;
	rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	if (rfd < 0)
		return err_set(err, EXIT_FAIL, "%s: %s", shown(d, reldir, n), strerror(errno));
	k = sweep_dir(rfd, d->o.sweep_age < 0 ? DEST_SWEEP_AGE : d->o.sweep_age);
	close(rfd);
	if (removed)
		*removed = k;
	return 0;
}
