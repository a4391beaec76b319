/* Unit tests for rm/cluster/cluster_board.c: keys are found again, local and remote
 * counts are separate, the generation moves on local changes only, a full board
 * refuses new keys, and two threads adding the same keys at once agree on slots. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_board.h"

static void test_keys_and_counts(void **state)
{
	struct cluster_board *b = cluster_board_new();
	struct route_usage_hook h;

	assert_non_null(b);
	cluster_board_hook(b, &h);
	assert_int_equal(cluster_board_find(b, ROUTE_USAGE_TENANT, "acme", false), -1);
	unsigned g0 = atomic_load(&b->generation);
	h.local(h.arg, ROUTE_USAGE_TENANT, "acme", +1);
	h.local(h.arg, ROUTE_USAGE_TENANT, "acme", +1);
	h.local(h.arg, ROUTE_USAGE_PROFILE, "acme", +1); /* same name, other kind */
	assert_int_equal(atomic_load(&b->generation), g0 + 3);
	int t = cluster_board_find(b, ROUTE_USAGE_TENANT, "acme", false);
	int p = cluster_board_find(b, ROUTE_USAGE_PROFILE, "acme", false);
	assert_true(t >= 0 && p >= 0 && t != p);
	assert_int_equal(atomic_load(&b->slot[t].local), 2);
	assert_int_equal(atomic_load(&b->slot[p].local), 1);
	assert_int_equal(h.remote(h.arg, ROUTE_USAGE_TENANT, "acme"), 0);
	atomic_store(&b->slot[t].remote, 7);
	assert_int_equal(h.remote(h.arg, ROUTE_USAGE_TENANT, "acme"), 7);
	assert_int_equal(h.remote(h.arg, ROUTE_USAGE_TENANT, "nobody"), 0);
	assert_int_equal(cluster_board_find(b, ROUTE_USAGE_TENANT, "", true), -1);
	free(b);
}

static void test_full(void **state)
{
	struct cluster_board *b = cluster_board_new();
	char name[32];

	for (int i = 0; i < CLUSTER_BOARD_CAP; i++) {
		snprintf(name, sizeof name, "k%d", i);
		assert_true(cluster_board_find(b, ROUTE_USAGE_MCP, name, true) >= 0);
	}
	assert_int_equal(cluster_board_find(b, ROUTE_USAGE_MCP, "one-more", true), -1);
	assert_int_equal(atomic_load(&b->full), 1);
	assert_true(cluster_board_find(b, ROUTE_USAGE_MCP, "k77", false) >= 0);
	free(b);
}

static struct cluster_board *race_b;
static int race_slot[2][256];

static void *adder(void *arg)
{
	int who = (int)(intptr_t)arg;
	char name[32];

	for (int i = 0; i < 256; i++) {
		snprintf(name, sizeof name, "n%d", i);
		race_slot[who][i] = cluster_board_find(race_b, ROUTE_USAGE_LRG, name, true);
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	pthread_t a, c;

	for (int round = 0; round < 50; round++) {
		race_b = cluster_board_new();
		pthread_create(&a, NULL, adder, (void *)0);
		pthread_create(&c, NULL, adder, (void *)1);
		pthread_join(a, NULL);
		pthread_join(c, NULL);
		for (int i = 0; i < 256; i++) {
			assert_true(race_slot[0][i] >= 0);
			assert_int_equal(race_slot[0][i], race_slot[1][i]);
		}
		assert_int_equal(atomic_load(&race_b->used), 256);
		free(race_b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_counts),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
