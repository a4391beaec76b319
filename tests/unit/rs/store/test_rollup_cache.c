/* Unit tests for rs/store/rollup_cache.c against a brute force: a batch merges its
 * items and change points (net zero dropped); over many batches of random calls in a
 * few buckets, every peak the cache answers (or a load answers, when it does not hold
 * the bucket) equals the highest running sum of all the bucket's points; a call added
 * behind the cache's back (another writer) makes it answer "load", never a stale mx. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rollup_cache.h"

static void test_batch_merge(void **state)
{
	rollup_batch_t *b = rollup_batch_new();
	assert_non_null(b);
	/* Two calls of one tenant, the second starting when the first ends (net zero). */
	assert_int_equal(rollup_batch_add(b, "acme", NULL, "800", 1000, 5000), 0);
	assert_int_equal(rollup_batch_add(b, "acme", NULL, "800", 5000, 9000), 0);
	assert_int_equal(rollup_batch_sort(b), 0);
	const rollup_item_t *it = rollup_batch_item(b, 't', "acme", 0);
	assert_non_null(it);
	assert_int_equal(it->arrivals, 2);
	assert_int_equal(it->partial, 1);
	int n = 0;
	for (size_t i = 0; i < b->ncps; i++)
		if (b->cps[i].scope == 't') {
			assert_true(b->cps[i].ms == 1000 || b->cps[i].ms == 9000);
			n++;
		}
	assert_int_equal(n, 2); /* 5000 summed to zero and dropped */
	assert_null(rollup_batch_item(b, 't', "beta", 0));
	rollup_batch_free(b);
}

/* The "database" of one key's bucket [W, 2W): counters and every point, by ms - W. */
#define W 300000
typedef struct db {
	int64_t arrivals, open;
	int delta[W];
} db_t;

static void db_add(db_t *d, int64_t s, int64_t e)
{
	if (e <= s)
		e = s;
	s -= W;
	e -= W;
	if (s >= 0 && s < W)
		d->arrivals++;
	if (s <= 0 && e > 0)
		d->open++;
	if (e > s) {
		if (s > 0 && s < W)
			d->delta[s]++;
		if (e > 0 && e < W)
			d->delta[e]--;
	}
}

static int64_t db_mx(const db_t *d, rollup_point_t *p, size_t *n)
{
	int64_t run = 0, mx = 0;
	*n = 0;
	for (int ms = 1; ms < W; ms++)
		if (d->delta[ms]) {
			p[(*n)++] = (rollup_point_t){ ms, d->delta[ms] };
			run += d->delta[ms];
			if (run > mx)
				mx = run;
		}
	return mx;
}

static void test_cache_exact(void **state)
{
	db_t *d = calloc(1, sizeof(*d));
	rollup_point_t *p = malloc(W * sizeof(*p));
	rollup_cache_t *c = rollup_cache_new();
	rollup_batch_t *b = rollup_batch_new();
	int hits = 0, loads = 0;
	srand(7);
	for (int batch = 0; batch < 60; batch++) {
		rollup_batch_reset(b);
		int ncalls = 1 + rand() % 20;
		for (int i = 0; i < ncalls; i++) {
			int64_t s = W + rand() % (W + 20000) - 10000, e = s + rand() % 200000;
			if (rand() % 10 == 0)
				e = s; /* no length */
			if ((s < W && e <= W) || s >= 2 * W)
				continue; /* not in [W, 2W): the test watches one bucket */
			assert_int_equal(rollup_batch_add(b, "t", "p", "d", s, e), 0);
			db_add(d, s, e);
		}
		/* Another writer, now and then: a call the cache does not see. */
		int foreign = batch % 13 == 5;
		if (foreign)
			db_add(d, W + 1000 + batch, W + 90000 + batch);
		assert_int_equal(rollup_batch_sort(b), 0);
		const rollup_item_t *it = rollup_batch_item(b, 'a', "", W);
		if (!it)
			continue;
		size_t n;
		int64_t want = db_mx(d, p, &n), mx = -1;
		int hit = rollup_cache_update(c, b, it, d->arrivals, d->open, &mx);
		if (foreign && it->partial)
			assert_int_not_equal(hit, 1);
		if (!it->partial)
			continue;
		if (hit == 1) {
			hits++;
		} else {
			loads++;
			assert_int_equal(rollup_cache_put(c, 'a', "", W, d->arrivals, d->open, p, n,
							  &mx),
					 0);
		}
		assert_int_equal(mx, want);
		rollup_cache_end_batch(c);
	}
	assert_true(hits > 20 && loads >= 4); /* both paths ran */
	rollup_cache_clear(c);
	assert_int_equal(rollup_cache_points(c), 0);
	rollup_batch_free(b);
	rollup_cache_free(c);
	free(p);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_merge),
		cmocka_unit_test(test_cache_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
