/* Unit tests for rs/store/pg_params.c: both conninfo forms get connect_timeout, TCP
 * keepalives and statement_timeout unless the user set them; the user's own values
 * win; a garbage conninfo is refused with a sentence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pg_params.h"

/* key's value is want (and present at all). */
static void eq(const pg_params_t *p, const char *key, const char *want)
{
	const char *v = pg_params_get(p, key);

	if (!v)
		fail_msg("%s: not set", key);
	assert_string_equal(v, want);
}

static void check_defaults(const char *conninfo)
{
	pg_params_t p;
	char err[256];

	assert_int_equal(pg_params_build(&p, conninfo, 5000, err, sizeof(err)), 0);
	eq(&p, "host", "127.0.0.1");
	eq(&p, "port", "5433");
	eq(&p, "dbname", "rs");
	eq(&p, "connect_timeout", "3");
	eq(&p, "keepalives", "1");
	eq(&p, "keepalives_idle", "10");
	eq(&p, "keepalives_interval", "5");
	eq(&p, "keepalives_count", "3");
	eq(&p, "options", "-c statement_timeout=5000");
	assert_int_equal(p.connect_ms, 3000);
	assert_int_equal(p.answer_ms, 5500);
	pg_params_free(&p);
}

static void test_key_value_form(void **state)
{
	check_defaults("host=127.0.0.1 port=5433 dbname=rs user=postgres");
}

static void test_url_form(void **state)
{
	/* What the helm chart passes in RS_PG_URL. */
	check_defaults("postgresql://postgres@127.0.0.1:5433/rs");
	check_defaults("postgres://postgres:secret@127.0.0.1:5433/rs?sslmode=disable");
}

static void test_user_values_win(void **state)
{
	pg_params_t p;
	char err[256];

	assert_int_equal(pg_params_build(&p,
					 "postgresql://u@127.0.0.1:5433/rs?connect_timeout=7"
					 "&keepalives_idle=60&options=-c%20search_path%3Dx",
					 3000, err, sizeof(err)),
			 0);
	eq(&p, "connect_timeout", "7");
	assert_int_equal(p.connect_ms, 7000);
	eq(&p, "keepalives_idle", "60");
	eq(&p, "keepalives_count", "3");
	eq(&p, "options", "-c search_path=x -c statement_timeout=3000");
	pg_params_free(&p);

	assert_int_equal(pg_params_build(&p, "host=h options='-c statement_timeout=9000'",
					 3000, err, sizeof(err)),
			 0);
	eq(&p, "options", "-c statement_timeout=9000");
	pg_params_free(&p);
}

static void test_garbage(void **state)
{
	pg_params_t p;
	char err[256] = "";

	assert_int_equal(pg_params_build(&p, "host=h nonsense", 3000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "conninfo"));
	assert_int_equal(pg_params_build(&p, "postgresql://h/rs?nosuchkey=1", 3000, err,
					 sizeof(err)),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_value_form),
		cmocka_unit_test(test_url_form),
		cmocka_unit_test(test_user_values_win),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
