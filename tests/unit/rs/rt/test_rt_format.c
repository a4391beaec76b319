/* Unit tests for rs/rt/rt_format.c: format choice and the three renderings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_format.h"

static void test_pick(void **state)
{
	enum rt_fmt f;
	assert_int_equal(rt_format_pick(NULL, NULL, &f), 0);
	assert_int_equal(f, RT_FMT_JSON);
	assert_int_equal(rt_format_pick(NULL, "text/csv", &f), 0);
	assert_int_equal(f, RT_FMT_CSV);
	assert_int_equal(rt_format_pick(NULL, "text/html, application/xml;q=0.9", &f), 0);
	assert_int_equal(f, RT_FMT_XML);
	assert_int_equal(rt_format_pick("json", "text/csv", &f), 0);
	assert_int_equal(f, RT_FMT_JSON);
	assert_int_equal(rt_format_pick("XML", NULL, &f), 0);
	assert_int_equal(f, RT_FMT_XML);
	assert_int_equal(rt_format_pick("yaml", NULL, &f), -1);
}

static void test_render(void **state)
{
	rt_stat_t v[2] = {
		{ RT_TENANT, "a,\"b\"", 1, 2, 3, 4, 1767225600000LL },
		{ RT_TENANT, "<x&y>", 0, 0, 0, 0, 1767225600000LL },
	};
	size_t len;
	char *s = rt_format_tenants(v, 2, RT_FMT_CSV, &len);
	assert_string_equal(s, "tenant,in_progress,arrivals_this_hour,arrivals_today,peak_today,"
			       "peak_today_at\r\n\"a,\"\"b\"\"\",1,2,3,4,2026-01-01T00:00:00Z\r\n"
			       "<x&y>,0,0,0,0,2026-01-01T00:00:00Z\r\n");
	assert_int_equal(len, strlen(s));
	free(s);
	s = rt_format_tenants(v + 1, 1, RT_FMT_XML, &len);
	assert_non_null(strstr(s, "<tenant name=\"&lt;x&amp;y&gt;\"><in_progress>0</in_progress>"));
	free(s);
	s = rt_format_tenants(v, 1, RT_FMT_JSON, &len);
	assert_string_equal(s, "{\"tenants\":[{\"tenant\":\"a,\\\"b\\\"\",\"in_progress\":1,"
			       "\"arrivals_this_hour\":2,\"arrivals_today\":3,\"peak_today\":4,"
			       "\"peak_today_at\":\"2026-01-01T00:00:00Z\"}]}");
	free(s);
	rt_stat_t c[1] = { { RT_MCP, "sip:m", 1, 1, 1, 1, 0 } };
	s = rt_format_components(c, 1, RT_FMT_JSON, &len);
	assert_non_null(strstr(s, "{\"components\":[{\"type\":\"MCP\",\"id\":\"sip:m\""));
	free(s);
	s = rt_format_components(NULL, 0, RT_FMT_XML, &len);
	assert_non_null(strstr(s, "<components></components>"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
