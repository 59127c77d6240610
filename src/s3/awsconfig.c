/* awsconfig.c - ~/.aws/config and ~/.aws/credentials, and the settings taken from them. */
#include "awsconfig.h"
#include "creds.h"
#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Real config files are a few KiB; the cap keeps a mistaken path (a log, a device) harmless. */
#define INI_MAX_BYTES (1u << 20)

enum sec_kind { SEC_PROFILE, SEC_SERVICES, SEC_OTHER };

struct ini_kv {
	char *key, *val;
};

struct ini_sec {
	enum sec_kind kind;
	char *name;   /* profile or services name; the whole header for SEC_OTHER */
	char *header; /* as written between the brackets: configparser's identity */
	struct ini_kv *kv;
	size_t n, cap;
};

struct ini {
	struct ini_sec *sec;
	size_t n, cap;
};

struct aws_files {
	struct ini cfg, cred;
	char *cfg_name, *cred_name;
};

/* One file being parsed. */
struct ini_parse {
	struct ini *ini;
	const char *name;
	int config; /* the config file, where profiles are [profile NAME] */
	size_t line;
	struct ja_err *err;
	long cur;	   /* setting of the last section that indented lines continue; -1 none */
	size_t cur_indent; /* indentation of that setting's line */
	int nested;	   /* it had no value: indented lines are "key = value" sub-settings */
};

const char *aws_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static void ini_free(struct ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		struct ini_sec *s = &ini->sec[i];
		for (size_t j = 0; j < s->n; j++) {
			free(s->kv[j].key);
			if (s->kv[j].val) {
				/* values include secret keys */
				explicit_bzero(s->kv[j].val, strlen(s->kv[j].val));
				free(s->kv[j].val);
			}
		}
		free(s->kv);
		free(s->name);
		free(s->header);
	}
	free(ini->sec);
	memset(ini, 0, sizeof(*ini));
}

/* The line number, never the line: a malformed line may hold a secret key. */
static int ini_fail(struct ini_parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int ini_fail(struct ini_parse *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(ps->err, EXIT_USAGE, "%s line %zu: %s", esc_name(ps->name), ps->line, msg);
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *dup_trim(const char *s, const char *e, int lower)
{
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	char *r = xstrndup(s, (size_t)(e - s));
	for (char *p = r; lower && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/* "profile NAME" / "services NAME" as botocore's shlex.split sees them: exactly two
 * words, the second possibly quoted.  Returns the name (caller frees) or NULL. */
static char *section_word(const char *header, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(header, prefix, n) || !is_space(header[n]))
		return NULL;
	const char *s = header + n, *e = header + strlen(header);
	while (s < e && is_space(*s))
		s++;
	if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s)
		return xstrndup(s + 1, (size_t)(e - s - 2));
	for (const char *p = s; p < e; p++)
		if (is_space(*p) || *p == '"' || *p == '\'')
			return NULL;
	return s < e ? xstrndup(s, (size_t)(e - s)) : NULL;
}

static void classify(struct ini_sec *sec, int config)
{
	char *w;
	sec->kind = SEC_PROFILE;
	if (!config || !strcmp(sec->header, "default")) {
		sec->name = xstrdup(sec->header);
	} else if ((w = section_word(sec->header, "profile"))) {
		sec->name = w;
	} else if ((w = section_word(sec->header, "services"))) {
		sec->kind = SEC_SERVICES;
		sec->name = w;
	} else {
		sec->kind = SEC_OTHER;
		sec->name = xstrdup(sec->header);
	}
}

static int ini_header(struct ini_parse *ps, const char *s, const char *e)
{
	const char *rb = e;
	while (rb > s && rb[-1] != ']')
		rb--;
	if (rb <= s + 1)
		return ini_fail(ps, "section header without ']'");
	char *h = dup_trim(s + 1, rb - 1, 0);
	if (!*h) {
		free(h);
		return ini_fail(ps, "empty section name");
	}
	for (size_t i = 0; i < ps->ini->n; i++) {
		if (!strcmp(ps->ini->sec[i].header, h)) {
			int r = ini_fail(ps, "section [%s] appears twice", esc_name(h));
			free(h);
			return r;
		}
	}
	xgrow((void **)&ps->ini->sec, &ps->ini->cap, ps->ini->n + 1, sizeof(struct ini_sec));
	struct ini_sec *sec = &ps->ini->sec[ps->ini->n++];
	memset(sec, 0, sizeof(*sec));
	sec->header = h;
	classify(sec, ps->config);
	return 0;
}

static long sec_find_key(const struct ini_sec *sec, const char *key)
{
	for (size_t i = 0; i < sec->n; i++)
		if (!strcmp(sec->kv[i].key, key))
			return (long)i;
	return -1;
}

static size_t sec_add(struct ini_sec *sec, char *key, char *val)
{
	xgrow((void **)&sec->kv, &sec->cap, sec->n + 1, sizeof(struct ini_kv));
	sec->kv[sec->n].key = key;
	sec->kv[sec->n].val = val;
	return sec->n++;
}

static int ini_setting(struct ini_parse *ps, const char *s, const char *e, size_t indent)
{
	struct ini_sec *sec = &ps->ini->sec[ps->ini->n - 1];
	const char *d = s;
	while (d < e && *d != '=' && *d != ':')
		d++;
	if (d == e)
		return ini_fail(ps, "expected 'key = value'");
	char *key = dup_trim(s, d, 1);
	if (!*key) {
		free(key);
		return ini_fail(ps, "setting without a name");
	}
	if (sec_find_key(sec, key) >= 0) {
		int r = ini_fail(ps, "'%s' appears twice in [%s]", esc_name(key),
				 esc_name(sec->header));
		free(key);
		return r;
	}
	char *val = dup_trim(d + 1, e, 0);
	ps->nested = !*val;
	ps->cur = (long)sec_add(sec, key, val);
	ps->cur_indent = indent;
	return 0;
}

/* An indented line: a sub-setting ("s3 =" then "  endpoint_url = ...") or, after a
 * value, more of that value (configparser joins the lines with '\n'). */
static int ini_continue(struct ini_parse *ps, const char *s, const char *e)
{
	struct ini_sec *sec = &ps->ini->sec[ps->ini->n - 1];
	struct ini_kv *kv = &sec->kv[ps->cur];
	if (!ps->nested) {
		size_t old = strlen(kv->val), n = (size_t)(e - s);
		kv->val = xrealloc(kv->val, old + n + 2);
		kv->val[old] = '\n';
		memcpy(kv->val + old + 1, s, n);
		kv->val[old + 1 + n] = 0;
		return 0;
	}
	const char *d = memchr(s, '=', (size_t)(e - s));
	if (!d)
		return ini_fail(ps, "expected 'key = value' under '%s'", esc_name(kv->key));
	char *sub = dup_trim(s, d, 1);
	size_t n = strlen(kv->key) + 1 + strlen(sub) + 1;
	char *key = xmalloc(n);
	snprintf(key, n, "%s.%s", kv->key, sub);
	free(sub);
	char *val = dup_trim(d + 1, e, 0);
	long i = sec_find_key(sec, key);
	if (i >= 0) { /* botocore keeps the last of a repeated sub-setting */
		free(key);
		free(sec->kv[i].val);
		sec->kv[i].val = val;
	} else {
		sec_add(sec, key, val);
	}
	return 0;
}

static int ini_line(struct ini_parse *ps, const char *s, const char *e)
{
	size_t indent = 0;
	while (s < e && is_space(*s)) {
		s++;
		indent++;
	}
	while (e > s && is_space(e[-1]))
		e--;
	if (s == e || *s == '#' || *s == ';')
		return 0;
	if (ps->cur >= 0 && indent > ps->cur_indent)
		return ini_continue(ps, s, e);
	ps->cur = -1;
	if (*s == '[')
		return ini_header(ps, s, e);
	if (!ps->ini->n)
		return ini_fail(ps, "setting before any [section]");
	return ini_setting(ps, s, e, indent);
}

static int ini_parse(struct ini *ini, const char *p, size_t len, int config, const char *name,
		     struct ja_err *err)
{
	struct ini_parse ps = {.ini = ini, .name = name, .config = config, .err = err, .cur = -1};
	const char *end = p + len;
	if (memchr(p, 0, len))
		return err_set(err, EXIT_USAGE, "%s: contains a NUL byte", esc_name(name));
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		ps.line++;
		if (ini_line(&ps, p, eol) < 0)
			return -1;
		p = eol + (eol < end);
	}
	return 0;
}

static char *expand_home(const char *path)
{
	if (path[0] != '~' || (path[1] && path[1] != '/'))
		return xstrdup(path);
	const char *home = aws_env("HOME");
	if (!home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw && pw->pw_dir ? pw->pw_dir : "";
	}
	size_t n = strlen(home) + strlen(path);
	char *r = xmalloc(n);
	snprintf(r, n, "%s%s", home, path + 1);
	return r;
}

static int ini_load(struct ini *ini, const char *shown, int config, struct ja_err *err)
{
	char *path = expand_home(shown);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(err, EXIT_USAGE, "cannot read %s: %s", esc_name(shown),
			       strerror(errno));
	}
	struct buf b;
	buf_init(&b, INI_MAX_BYTES);
	int r = buf_read_fd(&b, fd, esc_name(shown), err);
	close(fd);
	if (r == 0)
		r = ini_parse(ini, b.p, b.len, config, shown, err);
	if (b.len)
		explicit_bzero(b.p, b.len);
	buf_release(&b);
	if (r < 0 && err)
		err->code = EXIT_USAGE;
	return r;
}

struct aws_files *aws_files_load(struct ja_err *err)
{
	struct aws_files *f = xcalloc(1, sizeof(*f));
	const char *c = aws_env("AWS_CONFIG_FILE"), *k = aws_env("AWS_SHARED_CREDENTIALS_FILE");
	f->cfg_name = xstrdup(c ? c : "~/.aws/config");
	f->cred_name = xstrdup(k ? k : "~/.aws/credentials");
	if (ini_load(&f->cfg, f->cfg_name, 1, err) < 0 ||
	    ini_load(&f->cred, f->cred_name, 0, err) < 0) {
		aws_files_free(f);
		return NULL;
	}
	return f;
}

void aws_files_free(struct aws_files *f)
{
	if (!f)
		return;
	ini_free(&f->cfg);
	ini_free(&f->cred);
	free(f->cfg_name);
	free(f->cred_name);
	free(f);
}

const char *aws_files_config_name(const struct aws_files *f)
{
	return f->cfg_name;
}

const char *aws_files_credentials_name(const struct aws_files *f)
{
	return f->cred_name;
}

/* The last section wins, as in botocore's profile map ([default] vs [profile default]). */
static const struct ini_sec *ini_find(const struct ini *ini, enum sec_kind kind, const char *name)
{
	for (size_t i = ini->n; i-- > 0;)
		if (ini->sec[i].kind == kind && !strcmp(ini->sec[i].name, name))
			return &ini->sec[i];
	return NULL;
}

static const char *sec_get(const struct ini_sec *sec, const char *key)
{
	long i = sec ? sec_find_key(sec, key) : -1;
	return i >= 0 && *sec->kv[i].val ? sec->kv[i].val : NULL;
}

int aws_profile_exists(const struct aws_files *f, const char *profile)
{
	return ini_find(&f->cfg, SEC_PROFILE, profile) || ini_find(&f->cred, SEC_PROFILE, profile);
}

const char *aws_profile_get(const struct aws_files *f, enum aws_scope scope, const char *profile,
			    const char *key)
{
	const char *v = NULL;
	if (scope != AWS_SCOPE_CONFIG)
		v = sec_get(ini_find(&f->cred, SEC_PROFILE, profile), key);
	if (!v && scope != AWS_SCOPE_CREDENTIALS)
		v = sec_get(ini_find(&f->cfg, SEC_PROFILE, profile), key);
	return v;
}

const char *aws_services_get(const struct aws_files *f, const char *name, const char *key)
{
	return sec_get(ini_find(&f->cfg, SEC_SERVICES, name), key);
}

/* ---- settings ------------------------------------------------------------------------ */

static int is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

static const char *endpoint_url(const struct aws_files *f, const char *profile)
{
	const char *ign = aws_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (!ign)
		ign = aws_profile_get(f, AWS_SCOPE_MERGED, profile,
				      "ignore_configured_endpoint_urls");
	if (is_true(ign))
		return NULL;
	const char *v = aws_env("AWS_ENDPOINT_URL_S3");
	if (!v)
		v = aws_env("AWS_ENDPOINT_URL");
	const char *svc = aws_profile_get(f, AWS_SCOPE_MERGED, profile, "services");
	if (!v && svc)
		v = aws_services_get(f, svc, "s3.endpoint_url");
	if (!v)
		v = aws_profile_get(f, AWS_SCOPE_MERGED, profile, "endpoint_url");
	return v;
}

static int max_attempts(const struct aws_files *f, const char *profile, int *out,
			struct ja_err *err)
{
	const char *from = "AWS_MAX_ATTEMPTS", *v = aws_env(from);
	if (!v) {
		from = "max_attempts";
		v = aws_profile_get(f, AWS_SCOPE_MERGED, profile, from);
	}
	*out = 5;
	if (!v)
		return 0;
	long n = 0;
	const char *p = v;
	while (*p >= '0' && *p <= '9' && n <= 100)
		n = n * 10 + (*p++ - '0');
	if (p == v || *p || n < 1 || n > 100)
		return err_set(err, EXIT_USAGE, "%s '%s' is not a number from 1 to 100", from,
			       esc_name(v));
	*out = (int)n;
	return 0;
}

static char *dup_first(const char *a, const char *b, const char *c)
{
	const char *v = a ? a : b ? b : c;
	return v ? xstrdup(v) : NULL;
}

/* Profile choice: the argument, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default".  A named
 * profile must exist even when environment credentials would make it unused, as
 * botocore's ProfileNotFound does: a mistyped name is better reported than ignored. */
int aws_settings_load(struct aws_settings *s, const char *profile, struct ja_err *err)
{
	memset(s, 0, sizeof(*s));
	const char *p = profile && *profile ? profile : aws_env("AWS_PROFILE");
	if (!p)
		p = aws_env("AWS_DEFAULT_PROFILE");
	int named = p != NULL;
	if (!p)
		p = "default";
	struct aws_files *f = aws_files_load(err);
	if (!f)
		return -1;
	int r = 0;
	if (named && !aws_profile_exists(f, p)) {
		r = err_set(err, EXIT_USAGE, "profile '%s' not found in %s or %s", esc_name(p),
			    esc_name(f->cfg_name), esc_name(f->cred_name));
	} else if (max_attempts(f, p, &s->max_attempts, err) < 0) {
		r = -1;
	} else {
		const char *reg = aws_profile_get(f, AWS_SCOPE_MERGED, p, "region");
		const char *ca = aws_profile_get(f, AWS_SCOPE_MERGED, p, "ca_bundle");
		s->profile = xstrdup(p);
		s->region = dup_first(aws_env("AWS_REGION"), aws_env("AWS_DEFAULT_REGION"), reg);
		s->endpoint_url = dup_first(endpoint_url(f, p), NULL, NULL);
		s->ca_bundle = dup_first(aws_env("AWS_CA_BUNDLE"), ca, NULL);
	}
	aws_files_free(f);
	return r;
}

void aws_settings_release(struct aws_settings *s)
{
	free(s->profile);
	free(s->region);
	free(s->endpoint_url);
	free(s->ca_bundle);
	memset(s, 0, sizeof(*s));
}
