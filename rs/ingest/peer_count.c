/* peer_count: see peer_count.h. A chained hash table of fixed width: with one entry
 * per distinct source, 4096 chains keep lookups short for any realistic fleet. */
#include "peer_count.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

typedef struct entry {
	struct entry *next;
	unsigned count;
	unsigned char len;
	unsigned char addr[16];
} entry_t;

struct peer_count {
	entry_t *b[NBUCKETS];
};

/* FNV-1a over the address bytes. */
static size_t bucket(const void *addr, size_t len)
{
	const unsigned char *p = addr;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % NBUCKETS;
}

static entry_t **find(const peer_count_t *t, const void *addr, size_t len)
{
	entry_t **pe = (entry_t **)&t->b[bucket(addr, len)];

	for (; *pe; pe = &(*pe)->next)
		if ((*pe)->len == len && !memcmp((*pe)->addr, addr, len))
			break;
	return pe;
}

peer_count_t *peer_count_new(void)
{
	return calloc(1, sizeof(peer_count_t));
}

unsigned peer_count_add(peer_count_t *t, const void *addr, size_t len)
{
	if (len == 0 || len > 16)
		return 0;
	entry_t **pe = find(t, addr, len);
	if (!*pe) {
		entry_t *e = calloc(1, sizeof(*e));
		if (!e)
			return 0;
		e->len = (unsigned char)len;
		memcpy(e->addr, addr, len);
		*pe = e;
	}
	return ++(*pe)->count;
}

void peer_count_del(peer_count_t *t, const void *addr, size_t len)
{
	if (len == 0 || len > 16)
		return;
	entry_t **pe = find(t, addr, len), *e = *pe;
	if (!e)
		return;
	if (--e->count == 0) {
		*pe = e->next;
		free(e);
	}
}

unsigned peer_count_get(const peer_count_t *t, const void *addr, size_t len)
{
	if (len == 0 || len > 16)
		return 0;
	entry_t **pe = find(t, addr, len);
	return *pe ? (*pe)->count : 0;
}

size_t peer_count_longest_chain(const peer_count_t *t)
{
	size_t longest = 0;

	for (size_t i = 0; i < NBUCKETS; i++) {
		size_t n = 0;
		for (const entry_t *e = t->b[i]; e; e = e->next)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}

void peer_count_free(peer_count_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		for (entry_t *e = t->b[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	free(t);
}
