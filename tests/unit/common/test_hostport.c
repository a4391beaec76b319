/* Unit tests for common/hostport.c: the one "host:port" parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hostport.h"

static void test_accepts(void **state)
{
	char host[64];
	int port = 0;

	assert_int_equal(hostport_split("127.0.0.1:61616", host, sizeof host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 61616);
	assert_int_equal(hostport_split("rs.voice.svc:1", host, sizeof host, &port), 0);
	assert_string_equal(host, "rs.voice.svc");
	assert_int_equal(port, 1);
	assert_int_equal(hostport_split("[::1]:65535", host, sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 65535);
	assert_true(hostport_valid("a:9801"));
}

static void test_refuses(void **state)
{
	const char *bad[] = { "", ":80", "host", "host:", "host:0", "host:65536", "host:80x",
			      "host:-1", "host: 80", "::1:80", "[::1]", "[]:80", "[::1:80",
			      "host:+80", NULL };
	for (int i = 0; bad[i]; i++) {
		if (hostport_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void test_host_too_long(void **state)
{
	char host[4];
	int port;

	assert_int_equal(hostport_split("abcd:80", host, sizeof host, &port), -1);
	assert_int_equal(hostport_split("abc:80", host, sizeof host, &port), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_host_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
