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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_many_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
