/* glob.c - pathlib-compatible glob matching on relative paths. */
#include "glob.h"
#include "buf.h"
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Next code point of a UTF-8 string (s < end); advances *s.  A byte that does not start
 * a valid sequence is one code point, U+DC00 + byte, as Python's surrogateescape
 * decoding of a file name makes it. */
static uint32_t next_cp(const char **s, const char *end)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	size_t k = c < 0x80 ? 1 : c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
	if ((size_t)(end - *s) < k)
		k = 0;
	for (size_t i = 1; i < k; i++)
		if ((p[i] & 0xc0) != 0x80)
			k = 0;
	if (k == 0) {
		*s += 1;
		return 0xdc00 + c;
	}
	if (k == 2)
		c = (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu);
	else if (k == 3)
		c = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
	else if (k == 4)
		c = (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 |
		    (p[3] & 0x3fu);
	*s += k;
	return c;
}

/* Python fnmatch bracket: "[!...]" negates; ']' first is literal; "a-z" ranges; no
 * escapes.  *pp points after '['.  Returns 1/0 for a match, -1 when the bracket is not
 * closed (then '[' is a literal character, as in fnmatch.translate). */
static int bracket(const char **pp, const char *pend, uint32_t c)
{
	const char *p = *pp;
	int neg = 0, hit = 0, first = 1;
	if (p < pend && *p == '!') {
		neg = 1;
		p++;
	}
	for (;;) {
		uint32_t lo, hi;
		if (p >= pend)
			return -1;
		if (*p == ']' && !first)
			break;
		first = 0;
		lo = next_cp(&p, pend);
		hi = lo;
		if (p + 1 < pend && *p == '-' && p[1] != ']') {
			p++;
			hi = next_cp(&p, pend);
		}
		if (lo <= c && c <= hi)
			hit = 1;
	}
	*pp = p + 1;
	return hit != neg;
}

/* Match one component: pattern pat[0..pl) against name s[0..sl). */
static int match_comp(const char *pat, const char *pend, const char *s, const char *send)
{
	const char *star_p = NULL, *star_s = NULL;
	while (s < send) {
		if (pat < pend && *pat == '*') {
			while (pat < pend && *pat == '*')
				pat++;
			star_p = pat;
			star_s = s;
			continue;
		}
		if (pat < pend) {
			const char *p2 = pat, *s2 = s;
			uint32_t c = next_cp(&s2, send);
			int ok;
			if (*p2 == '?') {
				p2++;
				ok = 1;
			} else if (*p2 == '[') {
				const char *q = p2 + 1;
				int r = bracket(&q, pend, c);
				if (r < 0) {
					ok = c == '[';
					p2++;
				} else {
					ok = r;
					p2 = q;
				}
			} else {
				ok = next_cp(&p2, pend) == c;
			}
			if (ok) {
				pat = p2;
				s = s2;
				continue;
			}
		}
		if (!star_p)
			return 0;
		/* backtrack: let the last '*' eat one more character */
		next_cp(&star_s, send);
		s = star_s;
		pat = star_p;
	}
	while (pat < pend && *pat == '*')
		pat++;
	return pat == pend;
}

static int is_dstar(const char *part)
{
	return part[0] == '*' && part[1] == '*' && !part[2];
}

int glob_compile(struct glob_pat *g, const char *pattern, struct ja_err *err)
{
	const char *p = pattern;
	memset(g, 0, sizeof(*g));
	if (!*pattern)
		return err_set(err, EXIT_USAGE, "empty glob pattern");
	if (*pattern == '/')
		return err_set(err, EXIT_USAGE, "glob '%s': patterns are relative to the root",
			       esc_name(pattern));
	g->text = xstrdup(pattern);
	g->parts = xcalloc(strlen(pattern) + 1, sizeof(char *));
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && !(n == 1 && *p == '.')) {
			g->parts[g->n] = xstrndup(p, n);
			if (strstr(g->parts[g->n], "**") && strcmp(g->parts[g->n], "**")) {
				g->n++;
				glob_release(g);
				return err_set(err, EXIT_USAGE,
					       "glob '%s': '**' can only be a whole path component",
					       esc_name(pattern));
			}
			g->n++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (!g->n) {
		glob_release(g);
		return err_set(err, EXIT_USAGE, "glob '%s' selects nothing", esc_name(pattern));
	}
	g->dironly = pattern[strlen(pattern) - 1] == '/' || is_dstar(g->parts[g->n - 1]);
	return 0;
}

void glob_release(struct glob_pat *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->parts[i]);
	free(g->parts);
	free(g->text);
	memset(g, 0, sizeof(*g));
}

/* Components are matched like characters in match_comp: every part but '**' matches
 * exactly one component, so when a part fails only the last '**' needs to take one
 * more directory.  Linear in the path for any number of '**' (no split is retried). */
int glob_match(const struct glob_pat *g, const char *p, size_t len)
{
	const char *s = p, *end = p + len, *star_s = NULL;
	size_t pi = 0, star_pi = 0;
	int done = 0, star = 0; /* done: every component consumed */
	if (g->dironly || !len)
		return 0;
	for (;;) {
		const char *e;
		if (pi < g->n && is_dstar(g->parts[pi])) {
			star = 1;
			star_pi = ++pi;
			star_s = s;
			continue;
		}
		if (done && pi == g->n)
			return 1;
		if (!done && pi < g->n) {
			e = memchr(s, '/', (size_t)(end - s));
			if (!e)
				e = end;
			if (match_comp(g->parts[pi], g->parts[pi] + strlen(g->parts[pi]), s, e)) {
				pi++;
				if (e == end)
					done = 1;
				else
					s = e + 1;
				continue;
			}
		}
		/* a '**' matches directories only: it never takes the last component */
		if (!star || !(e = memchr(star_s, '/', (size_t)(end - star_s))))
			return 0;
		s = star_s = e + 1;
		pi = star_pi;
		done = 0;
	}
}

void globset_init(struct globset *s)
{
	memset(s, 0, sizeof(*s));
}

void globset_release(struct globset *s)
{
	for (size_t i = 0; i < s->ninc; i++)
		glob_release(&s->inc[i]);
	for (size_t i = 0; i < s->nexc; i++)
		glob_release(&s->exc[i]);
	free(s->inc);
	free(s->exc);
	globset_init(s);
}

int globset_add(struct globset *s, int exclude, const char *pattern, struct ja_err *err)
{
	struct glob_pat g;
	if (glob_compile(&g, pattern, err) < 0)
		return -1;
	if (exclude) {
		s->exc = xrealloc(s->exc, (s->nexc + 1) * sizeof(g));
		s->exc[s->nexc++] = g;
	} else {
		s->inc = xrealloc(s->inc, (s->ninc + 1) * sizeof(g));
		s->inc[s->ninc++] = g;
	}
	return 0;
}

static int add_list(struct globset *s, struct jp *jp, int exclude, struct ja_err *err)
{
	int r;
	if (jp_arr_begin(jp) < 0)
		return -1;
	while ((r = jp_arr_next(jp)) > 0) {
		const char *v;
		size_t n;
		char *pat;
		if (jp_str(jp, &v, &n) < 0)
			return -1;
		pat = xstrndup(v, n);
		r = globset_add(s, exclude, pat, err);
		free(pat);
		if (r < 0)
			return -1;
	}
	return r;
}

int globset_add_config(struct globset *s, const char *arg, struct ja_err *err)
{
	struct buf b = BUF_INIT;
	struct jp jp;
	const char *k, *what = "include/exclude config";
	size_t n;
	int r, rc = 0;
	const char *p = arg;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p != '{') {
		b.max = 1 << 20;
		if (buf_read_file(&b, arg, err) < 0)
			return -1;
		p = b.p;
		what = esc_name(arg);
	}
	jp_init(&jp, p, strlen(p), err);
	if (jp_obj_begin(&jp) < 0) {
		rc = -1;
		goto out;
	}
	while ((r = jp_obj_key(&jp, &k, &n)) > 0) {
		if (n == 7 && !memcmp(k, "include", 7))
			r = add_list(s, &jp, 0, err);
		else if (n == 7 && !memcmp(k, "exclude", 7))
			r = add_list(s, &jp, 1, err);
		else
			r = jp_skip(&jp);
		if (r < 0)
			break;
	}
	if (r < 0 || jp_finish(&jp) < 0)
		rc = -1;
out:
	if (rc < 0)
		err_prefix(err, "%s", what);
	jp_release(&jp);
	buf_release(&b);
	return rc;
}

int globset_selects(const struct globset *s, const char *p, size_t len)
{
	int in = !s->ninc; /* no include patterns: every file */
	for (size_t i = 0; i < s->ninc && !in; i++)
		in = glob_match(&s->inc[i], p, len);
	if (!in)
		return 0;
	for (size_t i = 0; i < s->nexc; i++)
		if (glob_match(&s->exc[i], p, len))
			return 0;
	return 1;
}
