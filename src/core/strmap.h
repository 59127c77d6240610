/* strmap.h - open-addressing map from byte strings to size_t values.
 * Keys are borrowed: the caller keeps them alive while the map is used. */
#ifndef JA_STRMAP_H
#define JA_STRMAP_H
#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	const char *key;
	size_t len;
	uint64_t hash;
	size_t val;
};
struct strmap {
	struct strmap_slot *slots;
	size_t cap, n;
};

void strmap_init(struct strmap *m, size_t expect);
void strmap_release(struct strmap *m);
/* Pointer to the value for key, or NULL. */
size_t *strmap_get(const struct strmap *m, const char *key, size_t len);
/* Insert or find: returns the value slot; *found says whether it existed. */
size_t *strmap_put(struct strmap *m, const char *key, size_t len, int *found);
#endif
