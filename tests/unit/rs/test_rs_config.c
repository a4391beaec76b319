/* Unit tests for rs/config.c: defaults, overrides, and errors naming file/key/reason. */
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
