/* Unit tests for rs/config/config.c: defaults, overrides, and errors naming file/key/reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "config.h"

static int load(rs_config_t *c, const char *json, char *err, size_t errlen)
{
	cJSON *root = cJSON_Parse(json);
	assert_non_null(root);
	rs_config_defaults(c);
	int rc = rs_config_from_json(c, root, "rs.json", err, errlen);
	cJSON_Delete(root);
	return rc;
}

static void test_defaults(void **state)
{
	rs_config_t c;
	char err[256] = "";
	assert_int_equal(load(&c, "{}", err, sizeof(err)), 0);
	assert_int_equal(c.stomp_port, 61616);
	assert_int_equal(c.http_port, 8080);
	assert_int_equal(c.backend, RS_BACKEND_SQLITE);
	assert_string_equal(c.sqlite_path, "rs.db");
	assert_string_equal(c.stomp_listen, "127.0.0.1");
}

static void test_overrides(void **state)
{
	rs_config_t c;
	char err[256] = "";
	assert_int_equal(load(&c,
			      "{\"stomp\":{\"port\":1234,\"login\":\"u\",\"passcode\":\"p\"},"
			      "\"storage\":{\"backend\":\"postgresql\",\"postgresql\":"
			      "{\"conninfo\":\"host=x\"}},\"journal\":{\"max_bytes\":8192},"
			      "\"log\":{\"level\":\"debug\"}}",
			      err, sizeof(err)),
			 0);
	assert_int_equal(c.stomp_port, 1234);
	assert_string_equal(c.stomp_login, "u");
	assert_int_equal(c.backend, RS_BACKEND_POSTGRESQL);
	assert_string_equal(c.pg_conninfo, "host=x");
	assert_int_equal(c.journal_max_bytes, 8192);
	assert_string_equal(c.log_level, "debug");
}

static void expect_error(const char *json, const char *key)
{
	rs_config_t c;
	char err[256] = "";
	assert_int_equal(load(&c, json, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rs.json"));
	if (!strstr(err, key))
		fail_msg("error \"%s\" does not name %s", err, key);
}

static void test_errors(void **state)
{
	expect_error("{\"stomp\":{\"port\":0}}", "stomp.port");
	expect_error("{\"stomp\":{\"port\":\"x\"}}", "stomp.port");
	expect_error("{\"storage\":{\"backend\":\"mysql\"}}", "storage.backend");
	expect_error("{\"writer\":{\"batch_max\":0}}", "writer.batch_max");
	expect_error("{\"journal\":{\"dir\":\"\"}}", "journal.dir");
	expect_error("{\"bogus\":1}", "bogus");
	expect_error("{\"stomp\":{\"prot\":1}}", "prot");
	expect_error("{\"log\":{\"level\":\"loud\"}}", "log.level");
	expect_error("{\"stomp\":{\"port\":8080},\"http\":{\"port\":8080}}", "http.port");
}

static void test_broker_snmp(void **state)
{
	rs_config_t c;
	char err[256] = "";
	assert_int_equal(load(&c, "{}", err, sizeof(err)), 0);
	assert_int_equal(c.broker_mode, RS_BROKER_LISTEN);
	assert_false(c.snmp_enabled);
	assert_string_equal(c.snmp_master, "tcp:127.0.0.1:1705");
	assert_string_equal(c.snmp_base_oid, "1.3.6.1.4.1.99999.1");
	assert_int_equal(c.broker_ndests, 3);
	assert_int_equal(c.journal_high_water_percent, 80);
	assert_int_equal(load(&c,
			      "{\"broker\":{\"mode\":\"consume\",\"endpoints\":[\"mq-0:61613\","
			      "\"10.0.0.2:61616\"],\"login\":\"u\",\"passcode\":\"p\","
			      "\"destinations\":[\"/queue/gvp.cdr\"],\"prefetch\":50},"
			      "\"snmp\":{\"enabled\":true,\"master\":\"tcp:10.0.0.1:705\","
			      "\"base_oid\":\"1.3.6.1.4.1.4242\"}}",
			      err, sizeof(err)),
			 0);
	assert_int_equal(c.broker_mode, RS_BROKER_CONSUME);
	assert_int_equal(c.broker_nendpoints, 2);
	assert_string_equal(c.broker_endpoints[1], "10.0.0.2:61616");
	assert_string_equal(c.broker_login, "u");
	assert_int_equal(c.broker_ndests, 1);
	assert_string_equal(c.broker_dests[0], "/queue/gvp.cdr");
	assert_int_equal(c.broker_prefetch, 50);
	assert_true(c.snmp_enabled);
	assert_string_equal(c.snmp_base_oid, "1.3.6.1.4.1.4242");

	expect_error("{\"broker\":{\"mode\":\"consume\"}}", "broker.endpoints");
	expect_error("{\"broker\":{\"mode\":\"pull\"}}", "broker.mode");
	expect_error("{\"broker\":{\"endpoints\":[\"nohost\"]}}", "broker.endpoints[0]");
	expect_error("{\"broker\":{\"endpoints\":[\"h:0\"]}}", "broker.endpoints[0]");
	expect_error("{\"broker\":{\"endpoints\":[\"h:1\",7]}}", "broker.endpoints[1]");
	expect_error("{\"broker\":{\"endpoints\":\"h:1\"}}", "broker.endpoints");
	expect_error("{\"broker\":{\"destinations\":[\"/queue/x\"]}}",
		     "broker.destinations[0]");
	expect_error("{\"broker\":{\"destinations\":[\"/queue/gvp.cdr\",\"/queue/gvp.cdr\"]}}",
		     "broker.destinations[1]");
	expect_error("{\"broker\":{\"destinations\":[]}}", "broker.destinations");
	expect_error("{\"broker\":{\"prefetch\":0}}", "broker.prefetch");
	expect_error("{\"broker\":{\"reconnect_min_ms\":500,\"reconnect_max_ms\":100}}",
		     "broker.reconnect_max_ms");
	expect_error("{\"broker\":{\"bogus\":1}}", "bogus");
	expect_error("{\"snmp\":{\"base_oid\":\"1.3.x\"}}", "snmp.base_oid");
	expect_error("{\"snmp\":{\"base_oid\":\"1..3\"}}", "snmp.base_oid");
	expect_error("{\"snmp\":{\"base_oid\":\"\"}}", "snmp.base_oid");
	expect_error("{\"snmp\":{\"enabled\":\"yes\"}}", "snmp.enabled");
	expect_error("{\"snmp\":{\"master\":\"\"}}", "snmp.master");
	expect_error("{\"journal\":{\"high_water_percent\":101}}", "journal.high_water_percent");
}

/* RS_PG_URL replaces the conninfo; an empty PostgreSQL conninfo needs it. */
static void test_pg_url_env(void **state)
{
	rs_config_t c;
	char err[256] = "";
	const char *js = "{\"storage\":{\"backend\":\"postgresql\",\"postgresql\":"
			 "{\"conninfo\":\"\"}}}";
	cJSON *root = cJSON_Parse(js);

	rs_config_defaults(&c);
	assert_int_equal(rs_config_from_json_env(&c, root, "rs.json", NULL, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "storage.postgresql.conninfo"));
	assert_non_null(strstr(err, "RS_PG_URL"));
	rs_config_defaults(&c);
	assert_int_equal(rs_config_from_json_env(&c, root, "rs.json", "", err, sizeof(err)), -1);
	rs_config_defaults(&c);
	assert_int_equal(rs_config_from_json_env(&c, root, "rs.json",
						 "postgresql://u:p@db:5432/rs", err, sizeof(err)),
			 0);
	assert_string_equal(c.pg_conninfo, "postgresql://u:p@db:5432/rs");
	cJSON_Delete(root);

	/* It also wins over a conninfo that is set, and applies without a file. */
	rs_config_defaults(&c);
	assert_int_equal(rs_config_apply_env(&c, "postgresql://x/rs", err, sizeof(err)), 0);
	assert_string_equal(c.pg_conninfo, "postgresql://x/rs");
	rs_config_defaults(&c);
	c.backend = RS_BACKEND_POSTGRESQL;
	c.pg_conninfo[0] = 0;
	assert_int_equal(rs_config_apply_env(&c, NULL, err, sizeof(err)), -1);
}

static void test_missing_file(void **state)
{
	rs_config_t c;
	char err[256] = "";
	rs_config_defaults(&c);
	assert_int_equal(rs_config_load(&c, "/nonexistent/rs.json", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/rs.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_broker_snmp),
		cmocka_unit_test(test_pg_url_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
