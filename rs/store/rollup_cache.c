/* rollup_cache: a batch's rollup additions merged in memory, and the recent buckets'
 * change points kept between batches (see rollup_cache.h for why this stays exact). */
#include "rollup_cache.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static uint64_t hash_key(char scope, const char *skey, int64_t bucket_ms)
{
	uint64_t h = (14695981039346656037ULL ^ (unsigned char)scope) * 1099511628211ULL;
	h = hash_str(skey, h);
	h ^= (uint64_t)bucket_ms;
	h *= 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 29);
}

/* ---- rollup_batch ---- */

/* An item's slot: its key is interned, so its pointer stands for it. */
static uint64_t hash_item(const char *skey, int64_t bucket_ms)
{
	uint64_t h = ((uint64_t)(uintptr_t)skey ^ (uint64_t)bucket_ms) * 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 31);
}

/* A key of the batch: its interned name and the starts and ends of its calls, merged
 * into b->cps by rollup_batch_sort. The interned string is laid out as
 * [uint32 key index][scope][skey...\0] and skey points at skey: the same (scope,
 * skey) is the same pointer, and the pointer finds its key. */
struct rollup_bkey {
	const char *skey;
	int64_t *st, *en;
	size_t nst, nen, capst, capen;
};

static uint32_t key_index(const char *skey)
{
	uint32_t k;
	memcpy(&k, skey - 1 - sizeof(k), sizeof(k));
	return k;
}

rollup_batch_t *rollup_batch_new(void)
{
	return calloc(1, sizeof(rollup_batch_t));
}

void rollup_batch_reset(rollup_batch_t *b)
{
	for (size_t i = 0; i < b->strcap; i++) {
		free(b->strs[i]);
		b->strs[i] = NULL;
	}
	b->nstrs = 0;
	for (size_t i = 0; i < b->nkeys; i++) {
		free(b->keys[i].st);
		free(b->keys[i].en);
	}
	b->nkeys = 0;
	if (b->ih)
		memset(b->ih, 0, b->ihcap * sizeof(*b->ih));
	b->nitems = b->ncps = b->ncalls = 0;
}

void rollup_batch_free(rollup_batch_t *b)
{
	if (!b)
		return;
	rollup_batch_reset(b);
	free(b->strs);
	free(b->keys);
	free(b->ih);
	free(b->items);
	free(b->cps);
	free(b);
}

/* The interned (scope, skey) of the batch, made a key if new. NULL out of memory. */
static const char *intern_key(rollup_batch_t *b, char scope, const char *skey)
{
	const size_t hdr = sizeof(uint32_t) + 1;
	uint64_t h = hash_key(scope, skey, 0);

	if (2 * (b->nstrs + 1) > b->strcap) {
		size_t cap = b->strcap ? 2 * b->strcap : 64;
		char **t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < b->strcap; i++) {
			char *x = b->strs[i];
			if (!x)
				continue;
			size_t j = hash_key(x[hdr - 1], x + hdr, 0) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = x;
		}
		free(b->strs);
		b->strs = t;
		b->strcap = cap;
	}
	size_t j = h & (b->strcap - 1);
	for (; b->strs[j]; j = (j + 1) & (b->strcap - 1))
		if (b->strs[j][hdr - 1] == scope && !strcmp(b->strs[j] + hdr, skey))
			return b->strs[j] + hdr;
	if (b->nkeys == b->capkeys) {
		size_t cap = b->capkeys ? 2 * b->capkeys : 16;
		struct rollup_bkey *k = realloc(b->keys, cap * sizeof(*k));
		if (!k)
			return NULL;
		b->keys = k;
		b->capkeys = cap;
	}
	size_t n = strlen(skey);
	char *x = malloc(hdr + n + 1);
	if (!x)
		return NULL;
	uint32_t ki = (uint32_t)b->nkeys;
	memcpy(x, &ki, sizeof(ki));
	x[hdr - 1] = scope;
	memcpy(x + hdr, skey, n + 1);
	b->strs[j] = x;
	b->nstrs++;
	b->keys[b->nkeys++] = (struct rollup_bkey){ .skey = x + hdr };
	return x + hdr;
}

static int item_grow(rollup_batch_t *b)
{
	size_t cap = b->capitems ? 2 * b->capitems : 256;
	rollup_item_t *p = realloc(b->items, cap * sizeof(*p));
	uint32_t *ih = calloc(2 * cap, sizeof(*ih));
	if (!p || !ih) {
		if (p)
			b->items = p;
		free(ih);
		return -1;
	}
	b->items = p;
	b->capitems = cap;
	free(b->ih);
	b->ih = ih;
	b->ihcap = 2 * cap;
	for (size_t i = 0; i < b->nitems; i++) {
		const rollup_item_t *it = &b->items[i];
		size_t j = hash_item(it->skey, it->bucket_ms) & (b->ihcap - 1);
		while (b->ih[j])
			j = (j + 1) & (b->ihcap - 1);
		b->ih[j] = (uint32_t)i + 1;
	}
	return 0;
}

/* rollup_call_keys' callbacks, given interned keys (so a pointer compare is a key
 * compare): sum items per bucket; keep each key's starts and ends apart. */
static int batch_on_item(void *arg, const rollup_item_t *it)
{
	rollup_batch_t *b = arg;
	if (b->nitems == b->capitems && item_grow(b))
		return -1;
	size_t j = hash_item(it->skey, it->bucket_ms) & (b->ihcap - 1);
	for (; b->ih[j]; j = (j + 1) & (b->ihcap - 1)) {
		rollup_item_t *o = &b->items[b->ih[j] - 1];
		if (o->skey == it->skey && o->bucket_ms == it->bucket_ms) {
			o->arrivals += it->arrivals;
			o->open_n += it->open_n;
			o->full_n += it->full_n;
			o->partial |= it->partial;
			return 0;
		}
	}
	b->items[b->nitems] = *it;
	b->ih[j] = (uint32_t)++b->nitems;
	return 0;
}

static int push_ms(int64_t **a, size_t *n, size_t *cap, int64_t ms)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		int64_t *p = realloc(*a, c * sizeof(*p));
		if (!p)
			return -1;
		*a = p;
		*cap = c;
	}
	(*a)[(*n)++] = ms;
	return 0;
}

static int batch_on_cp(void *arg, const rollup_cp_t *cp)
{
	rollup_batch_t *b = arg;
	struct rollup_bkey *k = &b->keys[key_index(cp->skey)];
	return cp->delta > 0 ? push_ms(&k->st, &k->nst, &k->capst, cp->ms)
			     : push_ms(&k->en, &k->nen, &k->capen, cp->ms);
}

int rollup_batch_add(rollup_batch_t *b, const char *tenant, const char *profile,
		     const char *dn, int64_t start_ms, int64_t end_ms)
{
	const char *keys[ROLLUP_NSCOPES];
	const char *names[ROLLUP_NSCOPES] = { "", tenant ? tenant : "", profile ? profile : "",
					      dn ? dn : "" };

	for (int i = 0; i < ROLLUP_NSCOPES; i++)
		if (!(keys[i] = intern_key(b, rollup_scopes[i], names[i])))
			return -1;
	if (end_ms < start_ms)
		end_ms = start_ms;
	b->ncalls++;
	return rollup_call_keys(keys, start_ms, end_ms, batch_on_item, batch_on_cp, b) ? -1 : 0;
}

static int cmp_key(char sa, const char *ka, int64_t ta, char sb, const char *kb,
		   int64_t tb)
{
	if (sa != sb)
		return sa < sb ? -1 : 1;
	int c = ka == kb ? 0 : strcmp(ka, kb);
	if (c)
		return c;
	return ta < tb ? -1 : ta > tb;
}

static int cmp_item(const void *a, const void *b)
{
	const rollup_item_t *x = a, *y = b;
	return cmp_key(x->scope, x->skey, x->bucket_ms, y->scope, y->skey, y->bucket_ms);
}

/* Change points sort by key pointer (one run per key, runs in no particular order)
 * then ms: integer compares only. */
static int cmp_cp(const void *a, const void *b)
{
	const rollup_cp_t *x = a, *y = b;
	uintptr_t p = (uintptr_t)x->skey, q = (uintptr_t)y->skey;
	if (p != q)
		return p < q ? -1 : 1;
	return x->ms < y->ms ? -1 : x->ms > y->ms;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_keyptr(const void *a, const void *b)
{
	uintptr_t p = (uintptr_t)((const struct rollup_bkey *)a)->skey;
	uintptr_t q = (uintptr_t)((const struct rollup_bkey *)b)->skey;
	return p < q ? -1 : p > q;
}

/* Calls usually come in start order, and their ends nearly so: check before sorting. */
static void sort_ms(int64_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (a[i] < a[i - 1]) {
			qsort(a, n, sizeof(*a), cmp_i64);
			return;
		}
}

int rollup_batch_sort(rollup_batch_t *b)
{
	size_t total = 0;

	qsort(b->items, b->nitems, sizeof(*b->items), cmp_item);
	if (b->ih)
		memset(b->ih, 0, b->ihcap * sizeof(*b->ih)); /* positions moved */
	for (size_t i = 0; i < b->nkeys; i++)
		total += b->keys[i].nst + b->keys[i].nen;
	if (total > b->capcps) {
		rollup_cp_t *p = realloc(b->cps, total * sizeof(*p));
		if (!p)
			return -1;
		b->cps = p;
		b->capcps = total;
	}
	/* Key runs in pointer order (cmp_cp); key_index is no longer used after this. */
	qsort(b->keys, b->nkeys, sizeof(*b->keys), cmp_keyptr);
	b->ncps = 0;
	for (size_t i = 0; i < b->nkeys; i++) {
		struct rollup_bkey *k = &b->keys[i];
		char scope = k->skey[-1];
		size_t x = 0, y = 0;
		sort_ms(k->st, k->nst);
		sort_ms(k->en, k->nen);
		while (x < k->nst || y < k->nen) {
			int64_t ms = y == k->nen || (x < k->nst && k->st[x] <= k->en[y]) ? k->st[x]
											 : k->en[y];
			int d = 0;
			for (; x < k->nst && k->st[x] == ms; x++)
				d++;
			for (; y < k->nen && k->en[y] == ms; y++)
				d--;
			if (d)
				b->cps[b->ncps++] = (rollup_cp_t){ scope, k->skey, ms, d };
		}
	}
	return 0;
}

const rollup_item_t *rollup_batch_item(const rollup_batch_t *b, char scope,
				       const char *skey, int64_t bucket_ms)
{
	size_t lo = 0, hi = b->nitems;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		const rollup_item_t *it = &b->items[m];
		int c = cmp_key(it->scope, it->skey, it->bucket_ms, scope, skey, bucket_ms);
		if (!c)
			return it;
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return NULL;
}

/* The batch's change points of it's key inside (B, B+5min): *first and the count.
 * it is one of the batch's own items (its skey is the interned pointer). */
static size_t batch_points(const rollup_batch_t *b, const rollup_item_t *it,
			   const rollup_cp_t **first)
{
	rollup_cp_t key = { it->scope, it->skey, it->bucket_ms, 0 };
	size_t lo = 0, hi = b->ncps, n = 0;
	while (lo < hi) { /* the first cp after (key, B) */
		size_t m = (lo + hi) / 2;
		if (cmp_cp(&b->cps[m], &key) <= 0)
			lo = m + 1;
		else
			hi = m;
	}
	*first = b->cps + lo;
	while (lo + n < b->ncps && b->cps[lo + n].skey == it->skey &&
	       b->cps[lo + n].ms < it->bucket_ms + ROLLUP_5M_MS)
		n++;
	return n;
}

/* ---- rollup_cache ---- */

typedef struct centry {
	struct centry *next; /* hash chain */
	char scope;
	char *skey;
	int64_t bucket_ms;
	int64_t arrivals, open; /* the row when last seen */
	rollup_point_t *p;
	size_t n, cap;
	uint64_t epoch; /* last batch that touched it */
} centry_t;

struct rollup_cache {
	centry_t **tab;
	size_t cap, n, points;
	uint64_t epoch;
};

rollup_cache_t *rollup_cache_new(void)
{
	rollup_cache_t *c = calloc(1, sizeof(*c));
	if (c && !(c->tab = calloc(c->cap = 1024, sizeof(*c->tab)))) {
		free(c);
		return NULL;
	}
	return c;
}

static void entry_free(rollup_cache_t *c, centry_t *e)
{
	c->points -= e->n;
	c->n--;
	free(e->skey);
	free(e->p);
	free(e);
}

/* Drop the entries for which keep() says no. */
static void cache_sweep(rollup_cache_t *c, int all)
{
	for (size_t i = 0; i < c->cap; i++) {
		centry_t **pp = &c->tab[i];
		while (*pp) {
			centry_t *e = *pp;
			if (all || e->epoch != c->epoch) {
				*pp = e->next;
				entry_free(c, e);
			} else {
				pp = &e->next;
			}
		}
	}
}

void rollup_cache_clear(rollup_cache_t *c)
{
	cache_sweep(c, 1);
}

void rollup_cache_free(rollup_cache_t *c)
{
	if (!c)
		return;
	rollup_cache_clear(c);
	free(c->tab);
	free(c);
}

static centry_t **cache_find(rollup_cache_t *c, char scope, const char *skey,
			     int64_t bucket_ms)
{
	centry_t **pp = &c->tab[hash_key(scope, skey, bucket_ms) & (c->cap - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->scope == scope && (*pp)->bucket_ms == bucket_ms &&
		    !strcmp((*pp)->skey, skey))
			break;
	return pp;
}

static int64_t points_mx(const rollup_point_t *p, size_t n)
{
	int64_t run = 0, mx = 0;
	for (size_t i = 0; i < n; i++) {
		run += p[i].delta;
		if (run > mx)
			mx = run;
	}
	return mx;
}

static int reserve(centry_t *e, size_t n)
{
	if (n <= e->cap)
		return 0;
	size_t cap = e->cap ? e->cap : 64;
	while (cap < n)
		cap *= 2;
	rollup_point_t *p = realloc(e->p, cap * sizeof(*p));
	if (!p)
		return -1;
	e->p = p;
	e->cap = cap;
	return 0;
}

/* Merge the batch's sorted points (ms) into e's sorted points, summing equal ones. */
static int entry_merge(rollup_cache_t *c, centry_t *e, const rollup_cp_t *q, size_t m)
{
	if (!m)
		return 0;
	if (reserve(e, e->n + m))
		return -1;
	/* From the back, so the common case (new points after the old) moves nothing. */
	size_t i = e->n, j = m, o = e->n + m;
	while (j > 0) {
		int32_t off = (int32_t)(q[j - 1].ms - e->bucket_ms);
		if (i > 0 && e->p[i - 1].off > off) {
			e->p[--o] = e->p[--i];
		} else if (i > 0 && e->p[i - 1].off == off) {
			e->p[--o] = e->p[--i];
			e->p[o].delta += q[--j].delta;
		} else {
			e->p[--o] = (rollup_point_t){ off, (int32_t)q[--j].delta };
		}
	}
	/* The rest of the old points are in place below o; close the gap (o - i) left
	 * by points that summed into old ones, dropping those that summed to zero. */
	size_t w = i;
	for (size_t r = o; r < e->n + m; r++)
		if (e->p[r].delta)
			e->p[w++] = e->p[r];
	c->points += w - e->n;
	e->n = w;
	return 0;
}

int rollup_cache_update(rollup_cache_t *c, const rollup_batch_t *b, const rollup_item_t *it,
			int64_t row_arrivals, int64_t row_open, int64_t *mx)
{
	centry_t **pp = cache_find(c, it->scope, it->skey, it->bucket_ms), *e = *pp;
	const rollup_cp_t *q;
	int64_t unused;

	if (!e) {
		/* The row holds this batch's calls only: no call before had a point inside
		 * (it would have added to arrivals or open_at_start), so the bucket's
		 * points are the batch's. A new bucket needs no read. */
		if (!it->partial || row_arrivals != it->arrivals || row_open != it->open_n)
			return 0;
		if (rollup_cache_put(c, it->scope, it->skey, it->bucket_ms, 0, 0, NULL, 0, &unused))
			return -1;
		e = *(pp = cache_find(c, it->scope, it->skey, it->bucket_ms));
	}
	if (row_arrivals != e->arrivals + it->arrivals || row_open != e->open + it->open_n)
		goto drop; /* someone else added to the bucket (or retention took it) */
	size_t m = batch_points(b, it, &q);
	if (entry_merge(c, e, q, m)) {
		*pp = e->next;
		entry_free(c, e);
		return -1;
	}
	e->arrivals = row_arrivals;
	e->open = row_open;
	e->epoch = c->epoch;
	*mx = points_mx(e->p, e->n);
	return 1;
drop:
	*pp = e->next;
	entry_free(c, e);
	return 0;
}

int rollup_cache_put(rollup_cache_t *c, char scope, const char *skey, int64_t bucket_ms,
		     int64_t row_arrivals, int64_t row_open, const rollup_point_t *p,
		     size_t n, int64_t *mx)
{
	centry_t **pp = cache_find(c, scope, skey, bucket_ms), *e;

	*mx = points_mx(p, n);
	if (*pp) {
		e = *pp;
		*pp = e->next;
		entry_free(c, e);
	}
	if (!(e = calloc(1, sizeof(*e))) || !(e->skey = strdup(skey)) || reserve(e, n)) {
		if (e)
			free(e->skey);
		free(e);
		return -1;
	}
	if (n)
		memcpy(e->p, p, n * sizeof(*p));
	e->n = n;
	e->scope = scope;
	e->bucket_ms = bucket_ms;
	e->arrivals = row_arrivals;
	e->open = row_open;
	e->epoch = c->epoch;
	pp = &c->tab[hash_key(scope, skey, bucket_ms) & (c->cap - 1)];
	e->next = *pp;
	*pp = e;
	c->n++;
	c->points += n;
	if (c->n > 2 * c->cap) { /* grow the table */
		size_t cap = 4 * c->cap;
		centry_t **t = calloc(cap, sizeof(*t));
		if (t) {
			for (size_t i = 0; i < c->cap; i++)
				while (c->tab[i]) {
					centry_t *x = c->tab[i];
					c->tab[i] = x->next;
					size_t j = hash_key(x->scope, x->skey, x->bucket_ms) & (cap - 1);
					x->next = t[j];
					t[j] = x;
				}
			free(c->tab);
			c->tab = t;
			c->cap = cap;
		}
	}
	return 0;
}

void rollup_cache_end_batch(rollup_cache_t *c)
{
	if (c->points > ROLLUP_CACHE_POINTS || c->n > ROLLUP_CACHE_ENTRIES)
		cache_sweep(c, 0);
	if (c->points > ROLLUP_CACHE_POINTS || c->n > ROLLUP_CACHE_ENTRIES)
		cache_sweep(c, 1);
	c->epoch++;
}

size_t rollup_cache_points(const rollup_cache_t *c)
{
	return c->points;
}
