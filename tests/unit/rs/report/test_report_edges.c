/* Unit tests for report_edges (rs/report/report_query.c): the answer's buckets for a
 * range, snapped out to bucket edges; days, weeks (from Monday) and months in a time
 * zone, including New York's 23-hour day and Kolkata's half-hour offset; ranges that
 * would need too many buckets are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "report_query.h"
#include "report_req.h"
#include "tz.h"

static int64_t t(const char *iso)
{
	int64_t ms;
	int local;
	assert_int_equal(report_parse_time(iso, &ms, &local), 0);
	return ms;
}

static void expect(enum report_gran g, const tz_t *z, const char *from, const char *to,
		   int n, const char *const *want)
{
	int64_t *e = NULL;
	int got = 0;
	assert_int_equal(report_edges(g, z, t(from), t(to), &e, &got), 0);
	assert_int_equal(got, n);
	for (int i = 0; i <= n; i++)
		if (e[i] != t(want[i])) {
			char s[40];
			report_fmt_time(e[i], s, sizeof(s));
			fail_msg("edge %d: %s, want %s", i, s, want[i]);
		}
	free(e);
}

static void test_fixed(void **state)
{
	static const char *const h[] = { "2026-03-07T10:00:00Z", "2026-03-07T11:00:00Z",
					 "2026-03-07T12:00:00Z" };
	expect(RG_HOUR, NULL, "2026-03-07T10:30:00Z", "2026-03-07T12:00:00Z", 2, h);
	expect(RG_HOUR, NULL, "2026-03-07T10:00:00Z", "2026-03-07T11:00:00.001Z", 2, h);
	static const char *const f[] = { "2026-03-07T10:00:00Z", "2026-03-07T10:05:00Z" };
	expect(RG_FIVE_MINUTES, NULL, "2026-03-07T10:04:59Z", "2026-03-07T10:01:00Z", 1, f);
}

static void test_zones(void **state)
{
	char err[200];
	tz_t *ny = tz_load("America/New_York", err, sizeof(err));
	tz_t *in = tz_load("Asia/Kolkata", err, sizeof(err));
	assert_non_null(ny);
	assert_non_null(in);
	static const char *const d[] = { "2026-03-07T05:00:00Z", "2026-03-08T05:00:00Z",
					 "2026-03-09T04:00:00Z", "2026-03-10T04:00:00Z" };
	expect(RG_DAY, ny, "2026-03-07T12:00:00Z", "2026-03-10T00:00:00Z", 3, d);
	static const char *const w[] = { "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z" };
	expect(RG_WEEK, NULL, "2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z", 1, w);
	static const char *const m[] = { "2026-02-28T18:30:00Z", "2026-03-31T18:30:00Z",
					 "2026-04-30T18:30:00Z" };
	expect(RG_MONTH, in, "2026-03-07T00:00:00Z", "2026-04-15T00:00:00Z", 2, m);
	static const char *const y[] = { "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z",
					 "2026-02-01T00:00:00Z" };
	expect(RG_MONTH, NULL, "2025-12-31T23:59:59Z", "2026-01-01T00:00:01Z", 2, y);
	tz_free(ny);
	tz_free(in);
}

static void test_too_many(void **state)
{
	int64_t *e = NULL;
	int n;
	assert_int_equal(report_edges(RG_FIVE_MINUTES, NULL, t("2025-01-01"), t("2026-01-01"),
				      &e, &n), -1);
	assert_int_equal(report_edges(RG_DAY, NULL, t("1970-01-01"), t("2026-01-01"), &e, &n),
			 -1);
	assert_int_equal(report_edges(RG_MONTH, NULL, t("1970-01-01"), t("2026-01-01"), &e, &n),
			 0);
	assert_int_equal(n, 672);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_too_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
