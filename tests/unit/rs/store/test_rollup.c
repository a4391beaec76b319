/* Unit tests for rs/store/rollup.c: what one call adds to the rollups. A call across
 * a 5-minute edge touches two buckets, both partial; a call covering whole buckets
 * adds to their peak directly; a zero-length call is an arrival and nothing else;
 * every call emits its four scope keys; a callback's error stops the expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "rollup.h"

typedef struct seen {
	rollup_item_t it[64];
	rollup_cp_t cp[64];
	int nit, ncp, stop_at;
} seen_t;

static int on_item(void *arg, const rollup_item_t *it)
{
	seen_t *s = arg;
	if (s->stop_at && s->nit + s->ncp == s->stop_at)
		return 7;
	s->it[s->nit++] = *it;
	return 0;
}

static int on_cp(void *arg, const rollup_cp_t *cp)
{
	seen_t *s = arg;
	if (s->stop_at && s->nit + s->ncp == s->stop_at)
		return 7;
	s->cp[s->ncp++] = *cp;
	return 0;
}

static void test_across_edge(void **state)
{
	seen_t s = { 0 };
	assert_int_equal(rollup_call("acme", NULL, "800", 1000, 400000, on_item, on_cp, &s), 0);
	assert_int_equal(s.nit, 8); /* 4 scopes x 2 buckets */
	assert_int_equal(s.ncp, 8);
	for (int i = 0; i < 8; i += 2) {
		assert_true(s.it[i].bucket_ms == 0 && s.it[i].arrivals == 1 &&
			    s.it[i].open_n == 0 && s.it[i].full_n == 0 && s.it[i].partial == 1);
		assert_true(s.it[i + 1].bucket_ms == 300000 && s.it[i + 1].arrivals == 0 &&
			    s.it[i + 1].open_n == 1 && s.it[i + 1].full_n == 0 &&
			    s.it[i + 1].partial == 1);
		assert_true(s.cp[i].ms == 1000 && s.cp[i].delta == 1);
		assert_true(s.cp[i + 1].ms == 400000 && s.cp[i + 1].delta == -1);
	}
	assert_int_equal(s.it[0].scope, 'a');
	assert_string_equal(s.it[0].skey, "");
	assert_int_equal(s.it[2].scope, 't');
	assert_string_equal(s.it[2].skey, "acme");
	assert_int_equal(s.it[4].scope, 'p');
	assert_string_equal(s.it[4].skey, ""); /* NULL profile */
	assert_int_equal(s.it[6].scope, 'd');
	assert_string_equal(s.it[6].skey, "800");
}

static void test_whole_buckets(void **state)
{
	seen_t s = { 0 };
	/* [0, 900000): three whole buckets; ends on an edge, so no fourth. */
	assert_int_equal(rollup_call("t", "p", "d", 0, 900000, on_item, on_cp, &s), 0);
	assert_int_equal(s.nit, 12);
	for (int i = 0; i < 3; i++)
		assert_true(s.it[i].bucket_ms == i * 300000 && s.it[i].open_n == 1 &&
			    s.it[i].full_n == 1 && s.it[i].partial == 0 &&
			    s.it[i].arrivals == (i == 0));
}

static void test_zero_length(void **state)
{
	seen_t s = { 0 };
	assert_int_equal(rollup_call("t", "p", "d", 299999, 299999, on_item, on_cp, &s), 0);
	assert_int_equal(s.nit, 4);
	assert_int_equal(s.ncp, 0);
	assert_true(s.it[0].bucket_ms == 0 && s.it[0].arrivals == 1 && s.it[0].open_n == 0 &&
		    s.it[0].full_n == 0 && s.it[0].partial == 0);
}

static void test_stops(void **state)
{
	seen_t s = { .stop_at = 3 };
	assert_int_equal(rollup_call("t", "p", "d", 0, 10, on_item, on_cp, &s), 7);
	assert_int_equal(s.nit + s.ncp, 3);
}

static void test_sql(void **state)
{
	const char *const *a, *const *b;
	int n = rollup_apply_sql(0, &a);
	assert_int_equal(rollup_apply_sql(1, &b), n);
	assert_non_null(strstr(a[ROLLUP_SQL_5M], "RETURNING"));
	assert_non_null(strstr(a[ROLLUP_SQL_5M + 1], "max(0, (SELECT q.mx"));
	assert_non_null(strstr(b[ROLLUP_SQL_5M + 1], "GREATEST(0, (SELECT q.mx"));
	assert_non_null(strstr(rollup_stage_ddl(1), "ON COMMIT DELETE ROWS"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_across_edge),
		cmocka_unit_test(test_whole_buckets),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_stops),
		cmocka_unit_test(test_sql),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
