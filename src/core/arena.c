/* arena.c - bump allocator. */
#include "arena.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	max_align_t data[];
};

#define ARENA_BLOCK (1u << 20)

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->cur = NULL;
	a->left = 0;
}

void arena_release(struct arena *a)
{
	while (a->head) {
		struct arena_block *n = a->head->next;
		free(a->head);
		a->head = n;
	}
	arena_init(a);
}

void *arena_alloc_block(struct arena *a, size_t n, size_t align)
{
	int big = n + align > ARENA_BLOCK / 4;
	size_t sz = big ? n + align : ARENA_BLOCK;
	struct arena_block *b = xmalloc(sizeof(*b) + sz);
	uintptr_t q;
	if (big && a->head) {
		/* a big allocation gets its own block behind the current one */
		b->next = a->head->next;
		a->head->next = b;
		return b->data;
	}
	b->next = a->head;
	a->head = b;
	a->cur = (char *)b->data;
	a->left = sz;
	q = (uintptr_t)a->cur; /* max_align_t-aligned: no padding for any align used */
	a->cur += n;
	a->left -= n;
	return (void *)q;
}

void arena_adopt(struct arena *dst, struct arena *src)
{
	struct arena_block *last = src->head;
	if (!last)
		return;
	while (last->next)
		last = last->next;
	if (dst->head) {
		/* behind dst's current block, which keeps serving allocations */
		last->next = dst->head->next;
		dst->head->next = src->head;
	} else {
		dst->head = src->head;
		dst->cur = src->cur;
		dst->left = src->left;
	}
	arena_init(src);
}
