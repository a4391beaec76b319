/* Unit tests for common/fdlimit.c (the split of the open-file budget) and
 * common/ratelog.c (one line a second, with the count held back). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "fdlimit.h"
#include "ratelog.h"

static void test_http_default(void **state)
{
	assert_int_equal(fdlimit_http_default(256), 24);
	assert_int_equal(fdlimit_http_default(1024), 120);
	assert_int_equal(fdlimit_http_default(64), 4);
	assert_int_equal(fdlimit_http_default(1 << 20), 1024);
}

static void test_plan_automatic(void **state)
{
	fdlimit_plan_t p;
	char err[512];

	assert_int_equal(fdlimit_plan(256, 0, 0, true, &p, err, sizeof err), 0);
	assert_int_equal(p.http, 24);
	assert_int_equal(p.stomp, 256 - FDLIMIT_RESERVE - 24);
	assert_int_equal(p.stomp + p.http + p.reserve, 256);
	/* No HTTP listener: STOMP gets it all. */
	assert_int_equal(fdlimit_plan(256, 0, 0, false, &p, err, sizeof err), 0);
	assert_int_equal(p.http, 0);
	assert_int_equal(p.stomp, 256 - FDLIMIT_RESERVE);
	/* A huge limit: STOMP stops at its maximum. */
	assert_int_equal(fdlimit_plan(1 << 20, 0, 0, true, &p, err, sizeof err), 0);
	assert_int_equal(p.stomp, FDLIMIT_STOMP_MAX);
	assert_int_equal(p.http, 1024);
}

static void test_plan_configured(void **state)
{
	fdlimit_plan_t p;
	char err[512];

	/* A configured STOMP cap squeezes the automatic HTTP share. */
	assert_int_equal(fdlimit_plan(1024, 950, 0, true, &p, err, sizeof err), 0);
	assert_int_equal(p.stomp, 950);
	assert_int_equal(p.http, 1024 - FDLIMIT_RESERVE - 950);
	assert_int_equal(fdlimit_plan(1024, 500, 100, true, &p, err, sizeof err), 0);
	assert_int_equal(p.stomp, 500);
	assert_int_equal(p.http, 100);
	/* The old default of 1024 under a limit of 1024 is refused, naming the keys. */
	assert_int_equal(fdlimit_plan(1024, 1024, 0, true, &p, err, sizeof err), -1);
	assert_non_null(strstr(err, "open-file limit is 1024"));
	assert_non_null(strstr(err, "stomp.max_connections"));
	assert_int_equal(fdlimit_plan(1024, 0, 2000, true, &p, err, sizeof err), -1);
	assert_non_null(strstr(err, "http.max_connections"));
	/* A limit below the reserve leaves nothing. */
	assert_int_equal(fdlimit_plan(32, 0, 0, true, &p, err, sizeof err), -1);
}

static void test_ratelog(void **state)
{
	ratelog_t r = { 0 };
	unsigned held = 99;

	assert_true(ratelog_allow(&r, 5000, 1000, &held));
	assert_int_equal(held, 0);
	for (int i = 0; i < 1000; i++)
		assert_false(ratelog_allow(&r, 5000 + i % 999, 1000, &held));
	assert_true(ratelog_allow(&r, 6000, 1000, &held));
	assert_int_equal(held, 1000);
	assert_false(ratelog_allow(&r, 6500, 1000, &held));
	assert_true(ratelog_allow(&r, 7000, 1000, &held));
	assert_int_equal(held, 1);
	/* A clock that went back does not silence it for good. */
	assert_true(ratelog_allow(&r, 10, 1000, &held));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_default),
		cmocka_unit_test(test_plan_automatic),
		cmocka_unit_test(test_plan_configured),
		cmocka_unit_test(test_ratelog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
