/* Unit tests for rs/rt/api_auth.c (the pure decision) and the api config section
 * (rs/config/config.c: api.tokens, env RS_API_TOKENS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "api_auth.h"

#define ADMIN "admin-token-0123456789"
#define ACME "acme-token-0123456789"

static int load(rs_config_t *c, const char *json, char *err, size_t len)
{
	cJSON *root = cJSON_Parse(json);
	assert_non_null(root);
	rs_config_defaults(c);
	int rc = rs_config_from_json(c, root, "rs.json", err, len);
	cJSON_Delete(root);
	return rc;
}

static void test_loopback(void **state)
{
	assert_true(api_auth_loopback("127.0.0.1"));
	assert_true(api_auth_loopback("127.8.9.10"));
	assert_true(api_auth_loopback("::1"));
	assert_true(api_auth_loopback("[::1]"));
	assert_true(api_auth_loopback("localhost"));
	assert_false(api_auth_loopback("0.0.0.0"));
	assert_false(api_auth_loopback("10.1.2.3"));
	assert_false(api_auth_loopback("::"));
	assert_false(api_auth_loopback("example.org"));
}

static void test_decide(void **state)
{
	rs_config_t c;
	char err[256], t[64];
	assert_int_equal(load(&c, "{\"api\":{\"tokens\":[{\"token\":\"" ADMIN "\",\"tenant\":\"*\"},"
				  "{\"token\":\"" ACME "\",\"tenant\":\"acme\"}]}}",
			      err, sizeof err), 0);
	assert_int_equal(c.api_ntokens, 2);
	/* anonymous: only on loopback, as admin */
	assert_true(api_auth_decide(&c, true, "", t, sizeof t));
	assert_string_equal(t, "");
	assert_false(api_auth_decide(&c, false, "", t, sizeof t));
	/* tokens: scope by tenant, anywhere */
	assert_true(api_auth_decide(&c, false, ADMIN, t, sizeof t));
	assert_string_equal(t, "");
	assert_true(api_auth_decide(&c, false, ACME, t, sizeof t));
	assert_string_equal(t, "acme");
	/* an unknown token is refused even on loopback; a prefix is not the token */
	assert_false(api_auth_decide(&c, true, "acme-token-012345678", t, sizeof t));
	assert_false(api_auth_decide(&c, true, ACME "x", t, sizeof t));
	assert_true(api_auth_sees("", "beta"));
	assert_true(api_auth_sees("acme", "acme"));
	assert_false(api_auth_sees("acme", "beta"));
}

static void test_config_errors(void **state)
{
	rs_config_t c;
	char err[256];
	assert_int_equal(load(&c, "{\"api\":{\"tokens\":[{\"token\":\"short\",\"tenant\":\"*\"}]}}",
			      err, sizeof err), -1);
	assert_non_null(strstr(err, "api.tokens[0].token"));
	assert_null(strstr(err, "short"));
	assert_int_equal(load(&c, "{\"api\":{\"tokens\":[{\"token\":\"" ACME "\"}]}}", err,
			      sizeof err), -1);
	assert_non_null(strstr(err, "api.tokens[0].tenant"));
	assert_int_equal(load(&c, "{\"api\":{\"tokenz\":[]}}", err, sizeof err), -1);
	assert_non_null(strstr(err, "tokenz"));
	assert_int_equal(load(&c, "{\"api\":{\"stream_max_subscribers\":0}}", err, sizeof err), -1);

	/* env replaces the file's tokens */
	assert_int_equal(load(&c, "{\"api\":{\"tokens\":[{\"token\":\"" ACME "\",\"tenant\":\"acme\"}]}}",
			      err, sizeof err), 0);
	assert_int_equal(rs_config_api_env(&c, "*:" ADMIN ",beta:beta-token-0123456789", err,
					   sizeof err), 0);
	assert_int_equal(c.api_ntokens, 2);
	assert_string_equal(c.api_tokens[0].tenant, "*");
	assert_string_equal(c.api_tokens[1].tenant, "beta");
	assert_int_equal(rs_config_api_env(&c, "", err, sizeof err), 0);
	assert_int_equal(c.api_ntokens, 2);
	assert_int_equal(rs_config_api_env(&c, "no-colon-token-0123456789", err, sizeof err), -1);
	assert_non_null(strstr(err, "RS_API_TOKENS"));
	assert_int_equal(rs_config_api_env(&c, "acme:tiny", err, sizeof err), -1);
	assert_null(strstr(err, "tiny"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
