/* Unit tests for rs/ingest/peer_count.c: per-source connection counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "peer_count.h"

static void test_counts(void **state)
{
	peer_count_t *t = peer_count_new();
	unsigned char a[4] = { 127, 0, 0, 1 }, b[4] = { 127, 0, 0, 2 }, v6[16] = { 0 };

	assert_non_null(t);
	assert_int_equal(peer_count_get(t, a, 4), 0);
	for (unsigned i = 1; i <= 300; i++)
		assert_int_equal(peer_count_add(t, a, 4), i);
	assert_int_equal(peer_count_add(t, b, 4), 1);
	/* An IPv6 address whose first 4 bytes match is another key. */
	memcpy(v6, a, 4);
	assert_int_equal(peer_count_add(t, v6, 16), 1);
	assert_int_equal(peer_count_get(t, a, 4), 300);
	for (int i = 0; i < 299; i++)
		peer_count_del(t, a, 4);
	assert_int_equal(peer_count_get(t, a, 4), 1);
	peer_count_del(t, a, 4);
	assert_int_equal(peer_count_get(t, a, 4), 0);
	peer_count_del(t, a, 4); /* unknown: ignored */
	assert_int_equal(peer_count_get(t, b, 4), 1);
	assert_int_equal(peer_count_add(t, a, 0), 0);
	assert_int_equal(peer_count_add(t, a, 17), 0);
	peer_count_free(t);
}

/* Many distinct sources share chains; each keeps its own count. */
static void test_many_sources(void **state)
{
	peer_count_t *t = peer_count_new();

	for (unsigned i = 0; i < 20000; i++) {
		unsigned char k[4] = { 10, (unsigned char)(i >> 16), (unsigned char)(i >> 8),
				       (unsigned char)i };
		assert_int_equal(peer_count_add(t, k, 4), 1);
		assert_int_equal(peer_count_add(t, k, 4), 2);
	}
	for (unsigned i = 0; i < 20000; i += 2) {
		unsigned char k[4] = { 10, (unsigned char)(i >> 16), (unsigned char)(i >> 8),
				       (unsigned char)i };
		peer_count_del(t, k, 4);
		peer_count_del(t, k, 4);
	}
	unsigned char k0[4] = { 10, 0, 0, 0 }, k1[4] = { 10, 0, 0, 1 };
	assert_int_equal(peer_count_get(t, k0, 4), 0);
	assert_int_equal(peer_count_get(t, k1, 4), 2);
	peer_count_free(t);
}

/* Sources spread over the chains, so one source's lookup does not walk every other
 * source: 20000 IPv4 addresses of one /16 and 20000 IPv6 addresses of one /64
 * (differing in their last bytes only, as a fleet's or one attacker's would), each
 * counted apart from the others. */
static void test_spread(void **state)
{
	peer_count_t *t = peer_count_new();
	unsigned char v4[4] = { 10, 1, 0, 0 }, v6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 7 };

	for (unsigned i = 0; i < 20000; i++) {
		v4[2] = (unsigned char)(i >> 8);
		v4[3] = (unsigned char)i;
		v6[14] = (unsigned char)(i >> 8);
		v6[15] = (unsigned char)i;
		assert_int_equal(peer_count_add(t, v4, 4), 1);
		for (unsigned k = 0; k < i % 3; k++)
			peer_count_add(t, v6, 16);
		assert_int_equal(peer_count_add(t, v6, 16), i % 3 + 1);
	}
	/* 40000 keys in 4096 chains average under 10; a bad hash piles them up. */
	size_t longest = peer_count_longest_chain(t);
	if (longest > 40)
		fail_msg("longest chain %zu of 40000 sources: sources do not spread", longest);
	for (unsigned i = 0; i < 20000; i += 97) {
		v6[14] = (unsigned char)(i >> 8);
		v6[15] = (unsigned char)i;
		assert_int_equal(peer_count_get(t, v6, 16), i % 3 + 1);
	}
	peer_count_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_many_sources),
		cmocka_unit_test(test_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
