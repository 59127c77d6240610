/* arena.h - bump allocator for many small strings that die together. */
#ifndef JA_ARENA_H
#define JA_ARENA_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct arena_block;
struct arena {
	struct arena_block *head;
	char *cur;
	size_t left;
};

void arena_init(struct arena *a);
void arena_release(struct arena *a); /* frees every block */
/* Move every block of src into dst (src is left empty); pointers stay valid. */
void arena_adopt(struct arena *dst, struct arena *src);

/* arena_alloc when the current block is full: a new block. */
void *arena_alloc_block(struct arena *a, size_t n, size_t align);

/* n bytes aligned to align (a power of two).  Inline: a manifest makes millions. */
static inline void *arena_alloc(struct arena *a, size_t n, size_t align)
{
	uintptr_t p = (uintptr_t)a->cur, q = (p + align - 1) & ~(uintptr_t)(align - 1);
	size_t pad = (size_t)(q - p);
	if (!a->cur || a->left < n + pad)
		return arena_alloc_block(a, n, align);
	a->cur += pad + n;
	a->left -= pad + n;
	return (void *)q;
}

/* Copy s[0..n) plus a NUL terminator into the arena. */
static inline char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1, 1);
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}
#endif
