/* Unit tests for common/backoff.c: doubling from min, the cap, max < min, jitter
 * bounded to a quarter more. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backoff.h"

static void test_doubles_then_caps(void **state)
{
	assert_int_equal(backoff_delay_ms(100, 5000, 0, false), 100);
	assert_int_equal(backoff_delay_ms(100, 5000, 1, false), 100);
	assert_int_equal(backoff_delay_ms(100, 5000, 2, false), 200);
	assert_int_equal(backoff_delay_ms(100, 5000, 3, false), 400);
	assert_int_equal(backoff_delay_ms(100, 5000, 6, false), 3200);
	assert_int_equal(backoff_delay_ms(100, 5000, 7, false), 5000);
	assert_int_equal(backoff_delay_ms(100, 5000, 4000000000u, false), 5000);
	assert_int_equal(backoff_delay_ms(300, 200, 5, false), 300); /* max < min */
}

static void test_jitter_bounded(void **state)
{
	for (int i = 0; i < 1000; i++) {
		unsigned d = backoff_delay_ms(400, 1000, 2, true);
		assert_true(d >= 800 && d <= 1000);
		d = backoff_delay_ms(400, 1000, 9, true);
		assert_true(d >= 1000 && d <= 1250);
	}
	assert_int_equal(backoff_delay_ms(3, 3, 1, true), 3); /* too small to jitter */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_then_caps),
		cmocka_unit_test(test_jitter_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
