/* Unit tests for rs/report/tz.c against the system's zone files: New York's offsets
 * either side of the 2026 DST changes, Kolkata's half-hour offset, local midnight to
 * UTC (including a day of 23 hours), and names that are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tz.h"

static void test_new_york(void **state)
{
	char err[200];
	tz_t *z = tz_load("America/New_York", err, sizeof(err));
	assert_non_null(z);
	/* 2026-03-08 07:00 UTC: EST -> EDT; 2026-11-01 06:00 UTC: back. */
	assert_int_equal(tz_offset(z, 1772953200 - 1), -5 * 3600);
	assert_int_equal(tz_offset(z, 1772953200), -4 * 3600);
	assert_int_equal(tz_offset(z, 1793512800 - 1), -4 * 3600);
	assert_int_equal(tz_offset(z, 1793512800), -5 * 3600);
	/* Local midnights: 2026-03-08 00:00 EST = 05:00 UTC, 03-09 00:00 EDT = 04:00 UTC. */
	int64_t d8 = 20520LL * 86400, d9 = 20521LL * 86400;
	assert_true(tz_to_utc(z, d8) == d8 + 5 * 3600);
	assert_true(tz_to_utc(z, d9) == d9 + 4 * 3600);
	assert_true(tz_to_utc(z, d9) - tz_to_utc(z, d8) == 23 * 3600);
	/* 02:30 on 03-08 does not exist: read with the offset before (= 07:30 UTC). */
	assert_true(tz_to_utc(z, d8 + 9000) == d8 + 9000 + 5 * 3600);
	/* 01:30 on 11-01 happens twice: the first. */
	int64_t n1 = 20758LL * 86400 + 5400;
	assert_true(tz_to_utc(z, n1) == n1 + 4 * 3600);
	tz_free(z);
}

static void test_kolkata_and_utc(void **state)
{
	char err[200];
	tz_t *z = tz_load("Asia/Kolkata", err, sizeof(err));
	assert_non_null(z);
	assert_int_equal(tz_offset(z, 1772841600), 5 * 3600 + 1800);
	assert_true(tz_to_utc(z, 20519LL * 86400) == 20519LL * 86400 - 19800);
	tz_free(z);
	z = tz_load("UTC", err, sizeof(err));
	assert_non_null(z);
	assert_int_equal(tz_offset(z, 1772841600), 0);
	assert_string_equal(tz_name(z), "UTC");
	tz_free(z);
}

static void test_refused(void **state)
{
	char err[200];
	assert_null(tz_load("Mars/Olympus", err, sizeof(err)));
	assert_null(tz_load("../../etc/passwd", err, sizeof(err)));
	assert_null(tz_load("/etc/localtime", err, sizeof(err)));
	assert_null(tz_load("", err, sizeof(err)));
	assert_null(tz_load("America", err, sizeof(err))); /* a directory */
	assert_int_equal(tz_name_ok("Etc/GMT+5"), 1);
	assert_int_equal(tz_name_ok("a;b"), 0);
	assert_int_equal(tz_name_ok("a\nb"), 0);
	/* a space is the '+' of an unencoded query: read as '+', still refused if unknown */
	assert_null(tz_load("a b", err, sizeof(err)));
	tz_t *z = tz_load("Etc/GMT 5", err, sizeof(err));
	assert_non_null(z);
	assert_string_equal(tz_name(z), "Etc/GMT+5");
	assert_int_equal(tz_offset(z, 1767225600), -5 * 3600);
	tz_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_york),
		cmocka_unit_test(test_kolkata_and_utc),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
