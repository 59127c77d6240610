/* strmap.c - open-addressing string map with xxh3 hashes and linear probing. */
#include "strmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void strmap_init(struct strmap *m, size_t expect)
{
	size_t cap = 16;
	while (cap < expect * 2)
		cap *= 2;
	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->n = 0;
}

void strmap_release(struct strmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

static struct strmap_slot *probe(const struct strmap *m, const char *key, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	for (;;) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len)))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

size_t *strmap_get(const struct strmap *m, const char *key, size_t len)
{
	struct strmap_slot *s = probe(m, key, len, XXH3_64bits(key, len));
	return s->key ? &s->val : NULL;
}

static void grow(struct strmap *m)
{
	struct strmap_slot *old = m->slots;
	size_t oc = m->cap;
	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < oc; i++)
		if (old[i].key)
			*probe(m, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
}

size_t *strmap_put(struct strmap *m, const char *key, size_t len, int *found)
{
	uint64_t h = XXH3_64bits(key, len);
	struct strmap_slot *s;
	if ((m->n + 1) * 10 > m->cap * 7)
		grow(m);
	s = probe(m, key, len, h);
	*found = s->key != NULL;
	if (!s->key) {
		s->key = key;
		s->len = len;
		s->hash = h;
		s->val = 0;
		m->n++;
	}
	return &s->val;
}
