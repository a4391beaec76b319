/* cluster_board: the shared usage table (cluster_board.h). */
#include "cluster_board.h"

#include <stdlib.h>
#include <string.h>

struct cluster_board *cluster_board_new(void)
{
	struct cluster_board *b = calloc(1, sizeof(struct cluster_board));

	if (b)
		atomic_init(&b->units, CLUSTER_UNITS);
	return b;
}

/* FNV-1a over the kind and the name. */
static unsigned key_hash(enum route_usage_kind kind, const char *name)
{
	unsigned h = 2166136261u ^ (unsigned)kind;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

int cluster_board_find(struct cluster_board *b, enum route_usage_kind kind, const char *name,
		       bool add)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= RM_URI_MAX)
		return -1;
	unsigned h = key_hash(kind, name);
	for (unsigned probe = 0; probe < CLUSTER_BOARD_CAP; probe++) {
		unsigned i = (h + probe) & (CLUSTER_BOARD_CAP - 1);
		struct cluster_board_slot *s = &b->slot[i];
		int st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == 0) {
			if (!add)
				return -1;
			int expect = 0;
			if (atomic_compare_exchange_strong(&s->state, &expect, 1)) {
				s->kind = kind;
				memcpy(s->name, name, len + 1);
				atomic_fetch_add(&b->used, 1);
				atomic_store_explicit(&s->state, 2, memory_order_release);
				return (int)i;
			}
			st = expect; /* the other thread claimed it: look at what it writes */
		}
		while (st == 1)
			st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (s->kind == kind && strcmp(s->name, name) == 0)
			return (int)i;
	}
	if (add)
		atomic_fetch_add(&b->full, 1);
	return -1;
}

void cluster_board_local_add(struct cluster_board *b, enum route_usage_kind kind,
			     const char *name, int delta)
{
	int i = cluster_board_find(b, kind, name, true);

	if (i < 0)
		return;
	atomic_fetch_add(&b->slot[i].local, delta);
	atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
}

int cluster_board_remote(struct cluster_board *b, enum route_usage_kind kind, const char *name)
{
	int i = cluster_board_find(b, kind, name, false);

	return i < 0 ? 0 : atomic_load_explicit(&b->slot[i].remote, memory_order_relaxed);
}

static int hook_remote(void *arg, enum route_usage_kind kind, const char *name)
{
	return cluster_board_remote(arg, kind, name);
}

static void hook_local(void *arg, enum route_usage_kind kind, const char *name, int delta)
{
	cluster_board_local_add(arg, kind, name, delta);
}

static int hook_share(void *arg, int l3)
{
	struct cluster_board *b = arg;
	long units = atomic_load_explicit(&b->units, memory_order_relaxed);

	return (int)((long)l3 * units / ((long)b->strict_nodes * CLUSTER_UNITS));
}

void cluster_board_hook(struct cluster_board *b, struct route_usage_hook *h)
{
	h->remote = hook_remote;
	h->local = hook_local;
	h->share = b->strict_nodes > 0 ? hook_share : NULL;
	h->arg = b;
}
