/* arena.h - bump allocator for many small strings that die together. */
#ifndef JA_ARENA_H
#define JA_ARENA_H
#include <stddef.h>

struct arena_block;
struct arena {
	struct arena_block *head;
	char *cur;
	size_t left;
};

void arena_init(struct arena *a);
void arena_release(struct arena *a); /* frees every block */
void *arena_alloc(struct arena *a, size_t n, size_t align);
/* Move every block of src into dst (src is left empty); pointers stay valid. */
void arena_adopt(struct arena *dst, struct arena *src);
/* Copy s[0..n) plus a NUL terminator into the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
#endif
