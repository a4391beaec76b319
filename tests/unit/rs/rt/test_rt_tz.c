/* Unit tests for rs/rt/rt_tz.c: today and this hour in a time zone (real zone files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rt_tz.h"

#define H (3600LL * 1000)
/* 2026-01-01T00:00:00Z, 2026-03-29T00:00:00Z (Paris goes to summer time at 01:00Z) */
#define JAN1 1767225600000LL
#define MAR29 1774742400000LL

static void test_windows(void **state)
{
	char err[192];
	tz_t *k = tz_load("Asia/Kolkata", err, sizeof err), *p;
	assert_non_null(k);
	/* 20:00Z is 01:30 on Jan 2 in Kolkata: the day began 18:30Z, the hour 19:30Z */
	rt_window_t w = rt_tz_window(k, JAN1 + 20 * H);
	assert_int_equal(w.day_start, JAN1 + 18 * H + 30 * 60000);
	assert_int_equal(w.hour_start, JAN1 + 19 * H + 30 * 60000);
	/* 18:29:59.999Z is still Jan 1 there: the day began Dec 31 18:30Z */
	w = rt_tz_window(k, JAN1 + 18 * H + 30 * 60000 - 1);
	assert_int_equal(w.day_start, JAN1 - 6 * H + 30 * 60000 - 0 * H);
	tz_free(k);

	assert_non_null(p = tz_load("Europe/Paris", err, sizeof err));
	/* noon UTC on the day Paris springs forward: local midnight was 23:00Z (CET) */
	w = rt_tz_window(p, MAR29 + 12 * H + 5);
	assert_int_equal(w.day_start, MAR29 - 1 * H);
	assert_int_equal(w.hour_start, MAR29 + 12 * H);
	tz_free(p);

	/* no zone: UTC */
	w = rt_tz_window(NULL, JAN1 + 20 * H + 1234);
	assert_int_equal(w.day_start, JAN1);
	assert_int_equal(w.hour_start, JAN1 + 20 * H);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
