/* Unit tests for rm's robustness pieces that are pure: resolve.c's host helpers,
 * watchdog_stalled, and the issue-10 configuration keys (rm_config_robust.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "resolve.h"
#include "rm_config.h"
#include "watchdog.h"

static void test_is_numeric(void **state)
{
	(void)state;
	assert_true(resolve_is_numeric("127.0.0.1"));
	assert_true(resolve_is_numeric("::1"));
	assert_true(resolve_is_numeric("[2001:db8::1]"));
	assert_false(resolve_is_numeric("services.example.com"));
	assert_false(resolve_is_numeric("127.0.0.1.example.com"));
	assert_false(resolve_is_numeric("1.2.3"));
	assert_false(resolve_is_numeric(""));
	assert_false(resolve_is_numeric("[::1"));
	assert_false(resolve_is_numeric(NULL));
}

static void test_uri_host(void **state)
{
	char h[64];
	(void)state;
	assert_int_equal(resolve_uri_host("sip:mcp.ns.svc:5070;transport=tcp", h, sizeof h), 0);
	assert_string_equal(h, "mcp.ns.svc");
	assert_int_equal(resolve_uri_host("sip:user@10.0.0.1", h, sizeof h), 0);
	assert_string_equal(h, "10.0.0.1");
	assert_int_equal(resolve_uri_host("sips:[::1]:5061", h, sizeof h), 0);
	assert_string_equal(h, "[::1]");
	assert_int_equal(resolve_uri_host("sip:host;lr", h, sizeof h), 0);
	assert_string_equal(h, "host");
	assert_int_equal(resolve_uri_host("tel:+1555", h, sizeof h), -1);
	assert_int_equal(resolve_uri_host("sip:", h, sizeof h), -1);
	assert_int_equal(resolve_uri_host("sip:[::1", h, sizeof h), -1);
	assert_int_equal(resolve_uri_host("sip:averyveryverylonghostname.example", h, 8), -1);
}

static void test_watchdog(void **state)
{
	char why[128] = "";
	(void)state;
	assert_false(watchdog_stalled(4999, 5, why, sizeof why));
	assert_false(watchdog_stalled(5000, 5, why, sizeof why));
	assert_true(watchdog_stalled(5001, 5, why, sizeof why));
	assert_non_null(strstr(why, "stalled for 5.0 s (limit 5 s)"));
	assert_false(watchdog_stalled(1000000, 0, why, sizeof why)); /* off */
	struct watchdog w;
	watchdog_init(&w, 1);
	assert_true(watchdog_age_ms(&w, watchdog_now_ms()) < 1000);
	assert_true(watchdog_age_ms(&w, watchdog_now_ms() + 3000) >= 3000);
}

#define LRGS(uri) "\"lrgs\":[{\"name\":\"g\",\"members\":[{\"uri\":\"" uri "\"}]}]," \
		  "\"profiles\":[{\"name\":\"p\",\"lrg\":\"g\"}]"

static void test_config(void **state)
{
	struct rm_config cfg;
	char err[512];
	(void)state;

	assert_int_equal(rm_config_parse("{" LRGS("sip:mcp.example:5070") "}", "t.json", &cfg,
					 err, sizeof err), 0);
	assert_false(cfg.dns_off);
	assert_int_equal(cfg.dns_timeout_ms, 2000);
	assert_int_equal(cfg.dns_cache_s, 30);
	assert_int_equal(cfg.dns_grace_s, 300);
	assert_int_equal(cfg.watchdog_s, 5);
	assert_int_equal(cfg.keepalive_s, 30);
	assert_int_equal(cfg.log_rate_per_s, 20);
	rm_config_free(&cfg);

	assert_int_equal(rm_config_parse("{\"sip\":{\"dns\":{\"timeout_ms\":500,\"cache_s\":5,"
					 "\"grace_s\":0}},\"http\":{\"watchdog_s\":0},"
					 "\"session\":{\"keepalive_s\":0},"
					 "\"logging\":{\"rate_per_s\":0}," LRGS("sip:1.2.3.4") "}",
					 "t.json", &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.dns_timeout_ms, 500);
	assert_int_equal(cfg.dns_cache_s, 5);
	assert_int_equal(cfg.dns_grace_s, 0);
	assert_int_equal(cfg.watchdog_s, 0);
	assert_int_equal(cfg.keepalive_s, 0);
	assert_int_equal(cfg.log_rate_per_s, 0);
	rm_config_free(&cfg);

	/* "off": numeric only */
	assert_int_equal(rm_config_parse("{\"sip\":{\"dns\":\"off\"}," LRGS("sip:1.2.3.4:5070") "}",
					 "t.json", &cfg, err, sizeof err), 0);
	assert_true(cfg.dns_off);
	rm_config_free(&cfg);
	assert_int_equal(rm_config_parse("{\"sip\":{\"dns\":\"off\"}," LRGS("sip:mcp.example") "}",
					 "t.json", &cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "mcp.example"));
	assert_int_equal(rm_config_parse("{\"sip\":{\"dns\":{\"mode\":\"off\"},\"sip_servers\":"
					 "[\"sip:switch.example:5090\"]}," LRGS("sip:1.2.3.4") "}",
					 "t.json", &cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "switch.example"));
	/* typos and bad values are named */
	assert_int_equal(rm_config_parse("{\"sip\":{\"dns\":{\"timeout\":5}}," LRGS("sip:1.2.3.4")
					 "}", "t.json", &cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "timeout"));
	assert_int_equal(rm_config_parse("{\"sip\":{\"dns\":\"maybe\"}," LRGS("sip:1.2.3.4") "}",
					 "t.json", &cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "dns"));
	assert_int_equal(rm_config_parse("{\"session\":{\"keepalive_s\":-1}," LRGS("sip:1.2.3.4")
					 "}", "t.json", &cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "keepalive_s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_numeric),
		cmocka_unit_test(test_uri_host),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
