/* glob_fuzz.c - libFuzzer target for the pathlib-compatible glob matcher: the input is
 * "PATTERN\nPATH"; compiling and matching must never crash, hang or read out of bounds,
 * and a pattern that compiles must match itself when it has no wildcards. */
#include "core/glob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Letters, digits and '_' in non-empty components separated by single '/'. */
static int plain(const char *p)
{
	int prev_slash = 1;
	if (!*p)
		return 0;
	for (; *p; p++) {
		if (*p == '/') {
			if (prev_slash)
				return 0;
			prev_slash = 1;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9') || *p == '_') {
			prev_slash = 0;
		} else {
			return 0;
		}
	}
	return !prev_slash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *nl, *pat, *path;
	struct glob_pat g;
	struct ja_err err;
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	nl = memchr(buf, '\n', size);
	pat = buf;
	path = nl ? nl + 1 : buf + size;
	if (nl)
		*nl = 0;
	if (strlen(pat) > 512 || strlen(path) > 4096) {
		free(buf);
		return 0;
	}
	if (glob_compile(&g, pat, &err) == 0) {
		(void)glob_match(&g, path, strlen(path));
		if (plain(pat) && !glob_match(&g, pat, strlen(pat)))
			abort(); /* a literal path matches itself */
		glob_release(&g);
	}
	free(buf);
	return 0;
}
