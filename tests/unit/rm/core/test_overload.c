/* Unit tests for rm/core/overload.c: fixed token bucket, in-flight guard, automatic rate
 * (cut on congestion, raise when calm, lift after a long calm), receive-queue guard,
 * refused-INVITE memory, kernel filter share and loop lag. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "overload.h"

/* Offer `n` INVITEs evenly over `ms` starting at t0; return how many were admitted. */
static unsigned offer(struct overload *o, unsigned n, int64_t t0, int64_t ms, size_t pending)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++)
		if (overload_admit(o, pending, 0, t0 + (int64_t)i * ms / n) == OVERLOAD_ADMIT)
			ok++;
	return ok;
}

static void test_fixed_rate(void **state)
{
	struct overload_params prm = { .max_cps = 50, .max_pending = 0 };
	struct overload o;
	(void)state;

	overload_init(&o, &prm, 1000);
	/* 4x the rate for 3 s: about 3 s of tokens plus the initial burst (10) */
	unsigned ok = offer(&o, 600, 1000, 3000, 0);
	assert_in_range(ok, 145, 165);
	assert_int_equal(o.shed, 600 - ok);
	/* below the rate everything passes */
	ok = offer(&o, 40, 5000, 1000, 0);
	assert_int_equal(ok, 40);
	/* shedding by a fixed rate is not congestion */
	assert_false(overload_busy_since(&o, 1000));
	overload_signal(&o, true, 6000);
	assert_true(overload_busy_since(&o, 5000));
	assert_false(overload_busy_since(&o, 6001));
	assert_int_equal((int)overload_rate(&o), 50);
}

static void test_pending_guard(void **state)
{
	struct overload_params prm = { .max_cps = -1, .max_pending = 100 };
	struct overload o;
	(void)state;

	overload_init(&o, &prm, 1);
	assert_int_equal(overload_admit(&o, 99, 0, 10), OVERLOAD_ADMIT);
	assert_int_equal(overload_admit(&o, 100, 0, 11), OVERLOAD_PENDING);
	assert_string_equal(overload_verdict_name(OVERLOAD_PENDING), "pending");
	/* no rate limit at all */
	assert_int_equal(offer(&o, 100000, 20, 1000, 0), 100000);
	assert_true(overload_rate(&o) == 0);
	/* off: congestion changes nothing */
	overload_signal(&o, true, 2000);
	assert_true(overload_rate(&o) == 0);
}

static void test_auto(void **state)
{
	struct overload_params prm = { .max_cps = 0, .max_pending = 0 };
	struct overload o;
	int64_t t = 1000;
	(void)state;

	overload_init(&o, &prm, t);
	/* unlimited while calm: 1000 calls in a second all pass */
	assert_int_equal(offer(&o, 1000, t, 1000, 0), 1000);
	t += 1000;
	overload_signal(&o, false, t);
	assert_true(overload_rate(&o) == 0);
	/* congestion: 90% of what was admitted in the last full second */
	overload_signal(&o, true, t + 10);
	assert_in_range((long)overload_rate(&o), 899, 901);
	/* a second signal within the same second does not cut again */
	overload_signal(&o, true, t + 500);
	assert_in_range((long)overload_rate(&o), 899, 901);
	/* next second, still congested, nothing admitted meanwhile: cut, but not
	 * below 70% of the calm second's 1000 */
	overload_signal(&o, true, t + 1100);
	assert_in_range((long)overload_rate(&o), 699, 701);
	/* 2000 offered in the next second: about the limit gets through */
	unsigned ok = offer(&o, 2000, t + 1200, 1000, 0);
	assert_in_range(ok, 680, 860);
	/* calm seconds raise it by 10% each */
	overload_signal(&o, false, t + 2300);
	assert_in_range((long)overload_rate(&o), 769, 771);
	/* never below the floor */
	for (int i = 0; i < 100; i++)
		overload_signal(&o, true, t + 3000 + i * 1000);
	assert_true(overload_rate(&o) >= OVERLOAD_MIN_CPS);
	/* long calm, nothing shed: lifted */
	overload_signal(&o, false, t + 103000 + OVERLOAD_CALM_MS);
	assert_true(overload_rate(&o) == 0);
}

/* A burst after an idle second: the cut follows the current second's admissions. */
static void test_auto_burst(void **state)
{
	struct overload_params prm = { .max_cps = 0, .max_pending = 0 };
	struct overload o;
	(void)state;

	overload_init(&o, &prm, 1000);
	overload_signal(&o, false, 2000); /* an idle second */
	assert_int_equal(offer(&o, 400, 2000, 500, 0), 400); /* 800/s for half a second */
	overload_signal(&o, true, 2500);
	assert_in_range((long)overload_rate(&o), 700, 730);
}

/* The limit never falls below 70% of what rm admitted in a calm second. */
static void test_auto_floor(void **state)
{
	struct overload_params prm = { .max_cps = 0, .max_pending = 0 };
	struct overload o;
	(void)state;

	overload_init(&o, &prm, 1000);
	offer(&o, 500, 1000, 1000, 0); /* 500 in a calm second */
	overload_signal(&o, false, 2000);
	offer(&o, 10, 2000, 1000, 0);
	for (int i = 0; i < 30; i++)
		overload_signal(&o, true, 5000 + i * 1000);
	assert_in_range((long)overload_rate(&o), 349, 351);
}

/* The receive-queue guard: over max_queue bytes every new INVITE is refused. */
static void test_queue_guard(void **state)
{
	struct overload_params prm = { .max_cps = -1, .max_pending = 0, .max_queue = 1000 };
	struct overload o;
	(void)state;

	overload_init(&o, &prm, 1);
	assert_int_equal(overload_admit(&o, 0, 1000, 10), OVERLOAD_ADMIT);
	assert_int_equal(overload_admit(&o, 0, 1001, 11), OVERLOAD_QUEUE);
	assert_string_equal(overload_verdict_name(OVERLOAD_QUEUE), "queue");
	assert_int_equal(o.shed, 1);
	assert_int_equal(overload_queue_limit(8 << 20), 1 << 20);
	assert_int_equal(overload_queue_limit(4096), 65536);
}

/* Refused INVITEs are recalled by Call-ID + branch for OVERLOAD_MEMORY_MS. */
static void test_memory(void **state)
{
	static struct overload_memory m;
	uint64_t k = overload_key("call-1@h", "z9hG4bK1");
	(void)state;

	assert_true(k != overload_key("call-1@h", "z9hG4bK2"));
	assert_true(overload_key("ab", "c") != overload_key("a", "bc"));
	assert_false(overload_recall(&m, k, 100));
	overload_remember(&m, k, 100);
	assert_true(overload_recall(&m, k, 100 + OVERLOAD_MEMORY_MS));
	assert_false(overload_recall(&m, k, 101 + OVERLOAD_MEMORY_MS));
	assert_false(overload_recall(&m, overload_key("call-2@h", "z9hG4bK1"), 200));
}

/* The kernel filter's share: engaged past four times the limit (half the buffer),
 * halved while over twice it, raised in between, lifted once the queue guard holds the
 * queue at the limit, re-engaged near the last share. */
static void test_filter(void **state)
{
	struct overload_filter f = { OVERLOAD_FILTER_OFF, 0 };
	const uint32_t q = 1000;
	(void)state;

	/* past the queue guard's limit, even twice it, the 503s suffice: not engaged */
	assert_int_equal(overload_filter_next(&f, 2001, q, false), OVERLOAD_FILTER_OFF);
	assert_int_equal(overload_filter_next(&f, 4000, q, true), OVERLOAD_FILTER_OFF);
	assert_int_equal(overload_filter_next(&f, 4001, q, false), OVERLOAD_FILTER_OFF / 2);
	/* between ticks an INVITE only engages it */
	assert_int_equal(overload_filter_next(&f, 9000, q, false), OVERLOAD_FILTER_OFF / 2);
	assert_int_equal(overload_filter_next(&f, 2001, q, true), OVERLOAD_FILTER_OFF / 4);
	for (int i = 0; i < 20; i++)
		overload_filter_next(&f, 3000, q, true);
	assert_int_equal(f.accept, OVERLOAD_FILTER_MIN);
	/* between the limit and twice it: raised by a quarter (and the minimum) */
	assert_int_equal(overload_filter_next(&f, 1500, q, true),
			 OVERLOAD_FILTER_MIN + OVERLOAD_FILTER_MIN / 4 + OVERLOAD_FILTER_MIN);
	/* at the limit: lifted at once, and re-engaged at twice the last share */
	uint32_t last = f.accept;
	assert_int_equal(overload_filter_next(&f, 1000, q, true), OVERLOAD_FILTER_OFF);
	assert_int_equal(overload_filter_next(&f, 4001, q, false), last * 2);
	/* no limit: never engaged */
	assert_int_equal(overload_filter_next(&f, 1u << 30, 0, true), OVERLOAD_FILTER_OFF);
}

static void test_lag(void **state)
{
	(void)state;
	assert_int_equal(overload_lag_ms(0, 5000, 100), 0);
	assert_int_equal(overload_lag_ms(1000, 1100, 100), 0);
	assert_int_equal(overload_lag_ms(1000, 1050, 100), 0);
	assert_int_equal(overload_lag_ms(1000, 1450, 100), 350);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_rate),
		cmocka_unit_test(test_pending_guard),
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_auto_burst),
		cmocka_unit_test(test_auto_floor),
		cmocka_unit_test(test_queue_guard),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_lag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
