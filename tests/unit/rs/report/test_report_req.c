/* Unit tests for rs/report/report_req.c: the report API's parameters. Each refusal
 * names its parameter; times in ISO 8601 (with and without a zone) and epoch ms;
 * the format from format= or Accept; cursors round-trip and forged ones are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "report_req.h"

static int parse(enum report_kind k, const char *q, const char *accept, report_req_t *r,
		 char *param)
{
	char err[256];
	param[0] = 0;
	return report_req_parse(k, q, accept, 1772841600000LL, 1000, r, param, 32, err,
				sizeof(err));
}

static void refused(const char *q, const char *want)
{
	report_req_t r;
	char param[32];
	if (parse(REPORT_PEAKS, q, NULL, &r, param) != -1)
		fail_msg("accepted: %s", q);
	if (strcmp(param, want))
		fail_msg("%s: named \"%s\", want \"%s\"", q, param, want);
}

static void test_errors_name_the_parameter(void **state)
{
	refused(NULL, "from");
	refused("granularity=HOUR", "from");
	refused("from=", "from");
	refused("from=2026-13-01", "from");
	refused("from=2026-01-01T25:00:00Z", "from");
	refused("from=2026-01-01&to=soon", "to");
	refused("from=2026-01-01&granularity=hour", "granularity");
	refused("from=2026-01-01&granularity=YEAR", "granularity");
	refused("from=2026-01-01&tenant-id=a&app-id=b", "app-id");
	refused("from=2026-01-01&dn=1*&tenant-id=a", "dn");
	refused("from=2026-01-01&dn=1*2", "dn");
	refused("from=2026-01-01&tenant-id=", "tenant-id");
	refused("from=2026-01-01&tz=../etc/passwd", "tz");
	refused("from=2026-01-01&tz=/etc/localtime", "tz");
	refused("from=2026-01-01&format=pdf", "format");
	refused("from=2026-01-01&limit=0", "limit");
	refused("from=2026-01-01&limit=1001", "limit");
	refused("from=2026-01-01&limit=5x", "limit");
	refused("from=2026-01-01&cursor=abc", "cursor");
	refused("from=2026-01-01&cursor=12.", "cursor");
	refused("from=2026-01-01&tenant-id=%zz", "tenant-id");
}

static void test_values(void **state)
{
	report_req_t r;
	char param[32];

	assert_int_equal(parse(REPORT_PEAKS, "from=2026-03-07T00:00:00Z&granularity=DAY"
				"&tz=America/New_York&dn=800%2A&format=xml",
			       NULL, &r, param), 0);
	assert_int_equal(r.gran, RG_DAY);
	assert_true(r.from_ms == 1772841600000LL && !r.from_local);
	assert_true(r.to_ms == 1772841600000LL); /* default: now */
	assert_int_equal(r.filter, 'd');
	assert_int_equal(r.prefix, 1);
	assert_string_equal(r.fval, "800");
	assert_string_equal(r.tz, "America/New_York");
	assert_int_equal(r.format, RF_XML);
	assert_int_equal(parse(REPORT_DETAILS, "from=1000&to=2000&limit=7&app-id=ivr+1", NULL,
			       &r, param), 0);
	assert_true(r.from_ms == 1000 && r.to_ms == 2000 && r.limit == 7);
	assert_int_equal(r.filter, 'p');
	assert_string_equal(r.fval, "ivr 1");
	assert_int_equal(r.gran, RG_HOUR); /* default */
	assert_int_equal(parse(REPORT_SUMMARY, "from=2026-01-01", "text/csv, */*", &r, param), 0);
	assert_int_equal(r.format, RF_CSV);
	assert_int_equal(parse(REPORT_SUMMARY, "from=2026-01-01", "application/xml", &r, param), 0);
	assert_int_equal(r.format, RF_XML);
	assert_int_equal(parse(REPORT_SUMMARY, "from=2026-01-01&format=json", "text/csv", &r,
			       param), 0);
	assert_int_equal(r.format, RF_JSON);
}

static void test_times(void **state)
{
	int64_t ms;
	int local;
	char out[40];

	assert_int_equal(report_parse_time("2026-03-07T00:00:00Z", &ms, &local), 0);
	assert_true(ms == 1772841600000LL && !local);
	assert_int_equal(report_parse_time("2026-03-07T05:30:00+05:30", &ms, &local), 0);
	assert_true(ms == 1772841600000LL && !local);
	assert_int_equal(report_parse_time("2026-03-06T19:00:00-0500", &ms, &local), 0);
	assert_true(ms == 1772841600000LL);
	assert_int_equal(report_parse_time("2026-03-07", &ms, &local), 0);
	assert_true(ms == 1772841600000LL && local);
	assert_int_equal(report_parse_time("2026-03-07T00:00:00.25Z", &ms, &local), 0);
	assert_true(ms == 1772841600250LL);
	assert_int_equal(report_parse_time("2024-02-29T12:00", &ms, &local), 0);
	assert_true(ms == 1709208000000LL && local);
	assert_int_equal(report_parse_time("1772841600000", &ms, &local), 0);
	assert_true(ms == 1772841600000LL && !local);
	assert_int_equal(report_parse_time("2026-03-07T00:00:00Q", &ms, &local), -1);
	assert_int_equal(report_parse_time("2026-03-07X", &ms, &local), -1);
	report_fmt_time(1772841600000LL, out, sizeof(out));
	assert_string_equal(out, "2026-03-07T00:00:00Z");
	report_fmt_time(1709208000123LL, out, sizeof(out));
	assert_string_equal(out, "2024-02-29T12:00:00.123Z");
	report_fmt_time(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00Z");
}

static void test_cursor(void **state)
{
	char c[320], id[130];
	int64_t ms;

	report_cursor_encode(1772841600123LL, "R1-7&x=\"y\"", c, sizeof(c));
	assert_int_equal(report_cursor_decode(c, &ms, id, sizeof(id)), 0);
	assert_true(ms == 1772841600123LL);
	assert_string_equal(id, "R1-7&x=\"y\"");
	assert_int_equal(report_cursor_decode("5.00", &ms, id, sizeof(id)), -1); /* NUL */
	assert_int_equal(report_cursor_decode("-5.41", &ms, id, sizeof(id)), -1);
	assert_int_equal(report_cursor_decode("5.4", &ms, id, sizeof(id)), -1);
	assert_int_equal(report_cursor_decode("5.4G", &ms, id, sizeof(id)), -1);
}

static void test_paths(void **state)
{
	assert_int_equal(report_path_kind("/ems-rs/operations/peaks/RM"), REPORT_PEAKS);
	assert_int_equal(report_path_kind("/ems-rs/HIST/CDRs/RM/details"), REPORT_DETAILS);
	assert_int_equal(report_path_kind("/ems-rs/HIST/CDRs/RM/summary"), REPORT_SUMMARY);
	assert_int_equal(report_path_kind("/ems-rs/HIST/CDRs/RM/"), -1);
	assert_int_equal(report_path_kind("/ems-rs/operations/peaks/RM/x"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_name_the_parameter),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
