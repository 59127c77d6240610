/* glob_test.c - pathlib-compatible glob matching (spec §7.1): one component per '*',
 * '**' spans directories, fnmatch brackets, case, hidden files, compile errors, sets
 * and include/exclude configs.  tests/bats/snapshot.bats compares whole selections
 * against Python's own pathlib on a real tree. */
#include "core/glob.h"
#include "unit.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* 1/0 for a match, -1 when the pattern does not compile. */
static int m(const char *pat, const char *path)
{
	struct glob_pat g;
	struct ja_err err = {0};
	int r;
	if (glob_compile(&g, pat, &err) < 0)
		return -1;
	r = glob_match(&g, path, strlen(path));
	glob_release(&g);
	return r;
}

#define MATCH(p, s)    CHECK(m(p, s) == 1)
#define NO_MATCH(p, s) CHECK(m(p, s) == 0)

TEST(star_stays_in_one_component)
{
	MATCH("*", "a.txt");
	MATCH("*", ".hidden"); /* pathlib matches hidden files */
	NO_MATCH("*", "sub/a.txt");
	MATCH("*.txt", "a.txt");
	MATCH("*.txt", ".txt");
	NO_MATCH("*.txt", "sub/a.txt");
	NO_MATCH("*.txt", "a.txt.bak");
	MATCH("sub/*", "sub/a");
	NO_MATCH("sub/*", "sub/deep/a");
	NO_MATCH("sub/*", "sub");
	NO_MATCH("sub/*", "subx/a");
	MATCH("*/*", "sub/a");
	NO_MATCH("*/*", "a");
	MATCH("a*b*c", "abc");
	MATCH("a*b*c", "aXbYbZc");
	NO_MATCH("a*b*c", "aXbYcZ");
	MATCH("**/a*a*a*a*b", "x/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	NO_MATCH("a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

TEST(double_star_spans_directories)
{
	MATCH("**/*.txt", "a.txt"); /* zero directories */
	MATCH("**/*.txt", "sub/a.txt");
	MATCH("**/*.txt", "sub/deep/er/a.txt");
	NO_MATCH("**/*.txt", "sub/a.md");
	MATCH("**/nested_file", "nested_file");
	MATCH("**/nested_file", "nested/nested_file");
	NO_MATCH("**/nested_file", "nested/nested_file/x");
	NO_MATCH("**/nested_file", "not_nested_file");
	MATCH("sub/**/x", "sub/x");
	MATCH("sub/**/x", "sub/a/b/x");
	NO_MATCH("sub/**/x", "other/sub/x");
	MATCH("**/sub/**/*", "a/sub/b/c");
	MATCH("**/**/*.txt", "a.txt");
	MATCH("**/**/*.txt", "a/b/c.txt");
	MATCH("**/.hid/*", ".hid/e.txt");
	MATCH("**/*", "a");
	MATCH("**/*", "a/b/c");
}

TEST(trailing_double_star_selects_no_files)
{
	/* Python <= 3.12: a pattern ending in '**' yields directories only */
	NO_MATCH("**", "a");
	NO_MATCH("**", "a/b");
	NO_MATCH("sub/**", "sub/a");
	NO_MATCH("sub/**", "sub/a/b");
	NO_MATCH("**/**", "a/b");
}

TEST(question_mark_and_brackets)
{
	MATCH("?.txt", "a.txt");
	NO_MATCH("?.txt", "ab.txt");
	NO_MATCH("?.txt", ".txt");
	MATCH("?.txt", "\xc3\xa9.txt"); /* one code point, two bytes */
	MATCH("caf?", "caf\xc3\xa9");
	NO_MATCH("caf??", "caf\xc3\xa9");
	MATCH("[ab]*", "a.txt");
	MATCH("[ab]*", "b");
	NO_MATCH("[ab]*", "c.txt");
	NO_MATCH("[ab]*", "A.txt");
	MATCH("[!ab]*", "c");
	NO_MATCH("[!ab]*", "a");
	MATCH("[a-c]", "b");
	NO_MATCH("[a-c]", "d");
	MATCH("[]]", "]"); /* ']' first is literal */
	MATCH("[!]]", "a");
	NO_MATCH("[!]]", "]");
	MATCH("[a-]", "-"); /* '-' last is literal */
	MATCH("[a-]", "a");
	MATCH("[-a]", "-");
	MATCH("[a-c-e]", "-");
	MATCH("[a-c-e]", "e");
	NO_MATCH("[a-c-e]", "d");
	NO_MATCH("[z-a]", "m"); /* an empty range never matches ... */
	MATCH("[!z-a]", "m");	/* ... and its negation matches anything */
	MATCH("[", "[");	/* unclosed: a literal '[' */
	MATCH("a[b", "a[b");
	NO_MATCH("a[b", "ab");
	MATCH("[\xc3\xa9]", "\xc3\xa9");
	/* a byte that is not UTF-8 is one character (Python's surrogateescape) */
	MATCH("*.bin", "bad\xff.bin");
	MATCH("bad?.bin", "bad\xff.bin");
	MATCH("?", "\xc3");
	NO_MATCH("?", "\xc3\xc3");
	MATCH("??", "\xe6\x97");
	MATCH("*.txt", "\xf0\x9f.txt");
	MATCH("x-[\xef\xbc\xa1]", "x-\xef\xbc\xa1");
	MATCH("\\*", "\\x"); /* no escapes: backslash is literal */
	NO_MATCH("\\*", "*");
	NO_MATCH("[/]", "/");
	NO_MATCH("a?b", "a/b");
}

TEST(case_sensitive)
{
	NO_MATCH("*.txt", "A.TXT");
	MATCH("*.TXT", "A.TXT");
	NO_MATCH("readme", "README");
	NO_MATCH("[A-Z]*", "a");
}

TEST(literal_components_and_dots)
{
	MATCH("a.txt", "a.txt");
	NO_MATCH("a.txt", "sub/a.txt");
	MATCH("sub/a.txt", "sub/a.txt");
	MATCH("./sub/a.txt", "sub/a.txt"); /* '.' components are dropped, as pathlib does */
	MATCH("sub/./a.txt", "sub/a.txt");
	MATCH("sub//a.txt", "sub/a.txt");
	NO_MATCH("sub/", "sub"); /* a trailing '/' selects directories only (3.11) */
	NO_MATCH("*/", "sub");
	NO_MATCH("sub/*/", "sub/a");
	NO_MATCH("../x", "x");
	NO_MATCH("a.txt", "a.tx");
	NO_MATCH("a.txt", "");
}

TEST(compile_errors)
{
	struct glob_pat g;
	struct ja_err err = {0};
	CHECK(glob_compile(&g, "", &err) < 0 && err.code == EXIT_USAGE);
	CHECK(glob_compile(&g, "/abs/*.txt", &err) < 0 && err.code == EXIT_USAGE);
	CHECK(strstr(err.msg, "relative"));
	CHECK(glob_compile(&g, "a**", &err) < 0 && err.code == EXIT_USAGE);
	CHECK(strstr(err.msg, "whole path component"));
	CHECK(glob_compile(&g, "**a/b", &err) < 0);
	CHECK(glob_compile(&g, "x/***", &err) < 0);
	CHECK(glob_compile(&g, ".", &err) < 0);
	CHECK(glob_compile(&g, "./", &err) < 0);
	CHECK(glob_compile(&g, "**/x", &err) == 0);
	glob_release(&g);
}

/* Repeated double stars equal one: they must not try every split of a deep path. */
TEST(repeated_double_star_is_fast)
{
	char path[4096];
	size_t o = 0;
	clock_t t0 = clock();
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(path + o, sizeof(path) - o, "d/");
	snprintf(path + o, sizeof(path) - o, "file");
	CHECK(m("**/**/**/**/**/**/**/**/file", path) == 1);
	CHECK(m("**/**/**/**/**/**/**/**/nope", path) == 0);
	CHECK(m("**/d/**/d/**/d/**/nope", path) == 0);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

/* Reference: the plain recursive definition (try every split for '**'), used on short
 * random inputs to check the linear matcher. */
static int ref_match(char **parts, size_t n, char **comps, size_t k)
{
	if (!n)
		return !k;
	if (!strcmp(parts[0], "**")) {
		if (n == 1)
			return 0; /* directories only */
		for (size_t i = 0; i + 1 <= k; i++)
			if (ref_match(parts + 1, n - 1, comps + i, k - i))
				return 1;
		return 0;
	}
	if (!k)
		return 0;
	{
		struct glob_pat one = {.parts = parts, .n = 1};
		if (!glob_match(&one, comps[0], strlen(comps[0])))
			return 0;
	}
	return ref_match(parts + 1, n - 1, comps + 1, k - 1);
}

TEST(linear_matcher_agrees_with_the_recursive_definition)
{
	static const char *const pp[] = {"**", "*", "a", "b", "?", "[ab]", "a*"};
	static const char *const cc[] = {"a", "b", "ab", "c"};
	unsigned x = 12345;
	int bad = 0;
	for (int t = 0; t < 20000; t++) {
		char pat[128] = "", path[128] = "", *parts[8], *comps[8];
		char pbuf[8][8], cbuf[8][8];
		size_t n = 1 + (x = x * 1103515245 + 12345) % 5, k = 1 + (x >> 8) % 5;
		struct glob_pat g;
		struct ja_err err = {0};
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			snprintf(pbuf[i], sizeof(pbuf[i]), "%s", pp[(x >> 16) % 7]);
			parts[i] = pbuf[i];
			strcat(strcat(pat, i ? "/" : ""), pbuf[i]);
		}
		for (size_t i = 0; i < k; i++) {
			x = x * 1103515245 + 12345;
			snprintf(cbuf[i], sizeof(cbuf[i]), "%s", cc[(x >> 16) % 4]);
			comps[i] = cbuf[i];
			strcat(strcat(path, i ? "/" : ""), cbuf[i]);
		}
		if (glob_compile(&g, pat, &err) < 0)
			continue;
		if (glob_match(&g, path, strlen(path)) != ref_match(parts, n, comps, k)) {
			if (bad++ < 5)
				printf("# %s vs %s: %d\n", pat, path,
				       glob_match(&g, path, strlen(path)));
		}
		glob_release(&g);
	}
	CHECK(bad == 0);
}

static int sel(const struct globset *s, const char *p)
{
	return globset_selects(s, p, strlen(p));
}

TEST(globset_defaults_and_exclusions)
{
	struct globset s;
	struct ja_err err = {0};
	globset_init(&s);
	CHECK(sel(&s, "a") && sel(&s, "x/y/z") && sel(&s, ".h")); /* everything */
	CHECK(globset_add(&s, 1, "**/*.log", &err) == 0);	  /* excludes only: all but */
	CHECK(sel(&s, "a.txt") && !sel(&s, "a.log") && !sel(&s, "d/a.log"));
	CHECK(globset_add(&s, 0, "*.txt", &err) == 0);
	CHECK(globset_add(&s, 0, "**/nested_file", &err) == 0);
	CHECK(sel(&s, "a.txt") && !sel(&s, "d/a.txt") && sel(&s, "d/nested_file"));
	CHECK(globset_add(&s, 1, "d/*", &err) == 0);
	CHECK(!sel(&s, "d/nested_file") && sel(&s, "e/nested_file"));
	CHECK(globset_add(&s, 0, "", &err) < 0);
	globset_release(&s);
	CHECK(s.ninc == 0 && s.nexc == 0);
}

TEST(include_exclude_config)
{
	struct globset s;
	struct ja_err err = {0};
	char file[] = "/tmp/ja-glob-test-XXXXXX";
	int fd;
	/* deadline-cloud's data/glob_config.txt */
	const char *cfg = "{\"include\":[\"include.file\"],\"exclude\":[\"exclude.file\"]}";

	globset_init(&s);
	CHECK(globset_add_config(&s, cfg, &err) == 0);
	CHECK(s.ninc == 1 && s.nexc == 1);
	CHECK(sel(&s, "include.file") && !sel(&s, "exclude.file") && !sel(&s, "other"));
	globset_release(&s);

	/* whitespace first, unknown keys ignored, exclude alone */
	CHECK(globset_add_config(&s, "  \n{\"x\":{\"y\":[1]},\"exclude\":[\"*.tmp\"]}", &err) == 0);
	CHECK(s.ninc == 0 && s.nexc == 1 && sel(&s, "a") && !sel(&s, "a.tmp"));
	globset_release(&s);

	fd = mkstemp(file);
	CHECK(fd >= 0);
	CHECK(write(fd, cfg, strlen(cfg)) == (ssize_t)strlen(cfg));
	close(fd);
	CHECK(globset_add_config(&s, file, &err) == 0);
	CHECK(s.ninc == 1 && s.nexc == 1);
	globset_release(&s);
	unlink(file);

	CHECK(globset_add_config(&s, "{\"include\":[1]}", &err) < 0);
	globset_release(&s);
	CHECK(globset_add_config(&s, "{\"include\":\"*.txt\"}", &err) < 0);
	globset_release(&s);
	CHECK(globset_add_config(&s, "{\"include\":[\"a**\"]}", &err) < 0);
	CHECK(err.code == EXIT_USAGE);
	globset_release(&s);
	CHECK(globset_add_config(&s, "{\"include\":[]", &err) < 0);
	globset_release(&s);
	CHECK(globset_add_config(&s, "/nonexistent/ja/config.json", &err) < 0);
	CHECK(strstr(err.msg, "config.json"));
	globset_release(&s);
}

int main(void)
{
	RUN(star_stays_in_one_component);
	RUN(double_star_spans_directories);
	RUN(trailing_double_star_selects_no_files);
	RUN(question_mark_and_brackets);
	RUN(case_sensitive);
	RUN(literal_components_and_dots);
	RUN(compile_errors);
	RUN(repeated_double_star_is_fast);
	RUN(linear_matcher_agrees_with_the_recursive_definition);
	RUN(globset_defaults_and_exclusions);
	RUN(include_exclude_config);
	return unit_done();
}
