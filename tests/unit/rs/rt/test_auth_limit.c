/* Unit tests for rs/rt/auth_limit.c: the brake on token guessing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "auth_limit.h"

static size_t key4(const char *ip, unsigned char k[8])
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, ip, &a), 1);
	return auth_limit_key(AF_INET, &a, k);
}

static void test_block_and_expiry(void **state)
{
	auth_limit_t *l = auth_limit_new(42);
	unsigned char a[8], b[8];
	size_t na = key4("192.0.2.1", a), nb = key4("192.0.2.2", b);
	long long t = 1000000;

	for (int i = 1; i < AUTH_LIMIT_FAILURES; i++)
		assert_int_equal(auth_limit_fail(l, a, na, t + i), 0);
	assert_int_equal(auth_limit_blocked(l, a, na, t + 100), 0);
	/* the Nth failure within the window blocks the source, not another one */
	assert_int_equal(auth_limit_fail(l, a, na, t + 100), AUTH_LIMIT_BLOCK_MS);
	assert_int_equal(auth_limit_blocked(l, a, na, t + 100), AUTH_LIMIT_BLOCK_MS);
	assert_int_equal(auth_limit_blocked(l, a, na, t + 1100), AUTH_LIMIT_BLOCK_MS - 1000);
	assert_int_equal(auth_limit_blocked(l, b, nb, t + 100), 0);
	/* over at the end of the block */
	assert_int_equal(auth_limit_blocked(l, a, na, t + 100 + AUTH_LIMIT_BLOCK_MS), 0);
	/* failures spread wider than the window never block */
	for (int i = 0; i < 3 * AUTH_LIMIT_FAILURES; i++)
		assert_int_equal(auth_limit_fail(l, b, nb, t + i * (AUTH_LIMIT_WINDOW_MS / 5)), 0);
	auth_limit_free(l);
}

static void test_keys(void **state)
{
	unsigned char k1[8], k2[8], k3[8];
	struct in6_addr x, y, m;
	inet_pton(AF_INET6, "2001:db8:1:2::1", &x);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &y);
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &m);
	/* one /64 is one source; a v4-mapped address is its IPv4 one */
	assert_int_equal(auth_limit_key(AF_INET6, &x, k1), 8);
	assert_int_equal(auth_limit_key(AF_INET6, &y, k2), 8);
	assert_memory_equal(k1, k2, 8);
	assert_int_equal(auth_limit_key(AF_INET6, &m, k3), 4);
	assert_int_equal(key4("192.0.2.1", k1), 4);
	assert_memory_equal(k1, k3, 4);
	assert_int_equal(auth_limit_key(AF_UNIX, &m, k3), 0);
}

/* Many sources: the table stays bounded, a blocked source is not pushed out by a
 * handful of others, and every lookup answers. */
static void test_many_sources(void **state)
{
	auth_limit_t *l = auth_limit_new(7);
	unsigned char a[8], k[8];
	size_t na = key4("198.51.100.7", a);
	char ip[32];

	for (int i = 0; i < AUTH_LIMIT_FAILURES; i++)
		auth_limit_fail(l, a, na, 1000 + i);
	assert_true(auth_limit_blocked(l, a, na, 2000) > 0);
	for (int i = 0; i < 200; i++) { /* fewer than the table holds */
		snprintf(ip, sizeof ip, "203.0.113.%d", i);
		auth_limit_fail(l, k, key4(ip, k), 2000 + i);
	}
	assert_true(auth_limit_blocked(l, a, na, 3000) > 0);
	for (int i = 0; i < 100000; i++) { /* far more: still bounded, still answers */
		snprintf(ip, sizeof ip, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		auth_limit_fail(l, k, key4(ip, k), 4000 + i);
	}
	assert_int_equal(auth_limit_blocked(l, k, 0, 5000), 0);
	auth_limit_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_and_expiry),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_many_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
