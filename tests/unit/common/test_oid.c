/* Unit tests for common/oid.c: the one dotted-OID parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "oid.h"

static void test_parse(void **state)
{
	uint32_t o[16];
	(void)state;

	assert_int_equal(oid_parse("1.3.6.1.4.1.99999.1", o, 16), 8);
	assert_int_equal(o[0], 1);
	assert_int_equal(o[6], 99999);
	assert_int_equal(o[7], 1);
	assert_int_equal(oid_parse(".1.3", o, 16), 2); /* a leading dot, as net-snmp */
	assert_int_equal(oid_parse("4294967295", o, 16), 1);
	assert_int_equal(o[0], 4294967295u);
	assert_int_equal(oid_parse("1.2.3", o, 2), -1); /* more parts than room */
	assert_int_equal(oid_parse("1.2", o, 2), 2);
}

static void test_refused(void **state)
{
	static const char *const bad[] = { "", ".", "1.", "1..2", "a.1", "1.-2", "1.+2",
					   " 1.2", "1.2 ", "4294967296", "1.99999999999999999999",
					   "1,2", NULL };
	uint32_t o[16];
	(void)state;

	for (int i = 0; bad[i]; i++) {
		if (oid_parse(bad[i], o, 16) != -1 || oid_parts(bad[i]) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	assert_int_equal(oid_parts(NULL), -1);
}

static void test_parts(void **state)
{
	(void)state;
	assert_int_equal(oid_parts("1.3.6.1.4.1.99999.1"), 8);
	assert_int_equal(oid_parts("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20"), 20);
	assert_int_equal(oid_parts(".1"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
