/* Unit tests for rm/cluster/cluster_peer.c on a cluster with no links: a peer's
 * state sets the board's remote counts, deltas change them, a replay or an older
 * incarnation changes nothing and is counted, a new incarnation replaces the old
 * contribution, silence past dead_after_ms drops it, and a full table forgets the
 * peer down the longest (after a minute) for a new one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"

static struct cluster *cl_new(metrics_t **reg)
{
	struct cluster *cl = calloc(1, sizeof *cl);

	*reg = metrics_new();
	assert_int_equal(rm_metrics_init(&cl->mm, *reg), 0);
	cl->board = cluster_board_new();
	snprintf(cl->me, sizeof cl->me, "rm-a");
	cl->hb_ms = 150;
	cl->dead_ms = 850;
	return cl;
}

static void cl_free(struct cluster *cl, metrics_t *reg)
{
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		free(cl->peer[i].contrib);
		cluster_sess_set_free(cl->peer[i].sess);
	}
	free(cl->board);
	free(cl);
	metrics_free(reg);
}

static void frame(struct cluster *cl, enum cluster_type t, const char *from, uint64_t inc,
		  uint64_t seq, const char *body)
{
	struct cluster_msg m = { .cmd = STOMP_CMD_SEND, .type = t, .inc = inc, .seq = seq };

	snprintf(m.from, sizeof m.from, "%s", from);
	snprintf(m.to, sizeof m.to, "rm-a");
	m.body = body;
	m.body_len = body ? strlen(body) : 0;
	cluster_peer_frame(cl, &m, "127.0.0.9");
}

static int remote(struct cluster *cl, enum route_usage_kind k, const char *name)
{
	return cluster_board_remote(cl->board, k, name);
}

static struct peer *peer(struct cluster *cl, const char *node)
{
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++)
		if (cl->peer[i].used && strcmp(cl->peer[i].node, node) == 0)
			return &cl->peer[i];
	return NULL;
}

static void test_state_delta_replay(void **state)
{
	metrics_t *reg;
	struct cluster *cl = cl_new(&reg);

	frame(cl, CLUSTER_T_STATE, "rm-b", 100, 1, "t 5 acme\np 5 ivr\n");
	frame(cl, CLUSTER_T_STATE, "rm-c", 200, 1, "t 2 acme\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 7);
	assert_int_equal(peer(cl, "rm-b")->state, PEER_UP);
	frame(cl, CLUSTER_T_DELTA, "rm-b", 100, 2, "t 3 acme\np 0 ivr\nm 1 sip:x\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 5);
	assert_int_equal(remote(cl, ROUTE_USAGE_PROFILE, "ivr"), 0);
	assert_int_equal(remote(cl, ROUTE_USAGE_MCP, "sip:x"), 1);
	/* replayed (same seq), older seq, older incarnation: nothing changes */
	frame(cl, CLUSTER_T_DELTA, "rm-b", 100, 2, "t 9 acme\n");
	frame(cl, CLUSTER_T_STATE, "rm-b", 100, 1, "t 9 acme\n");
	frame(cl, CLUSTER_T_STATE, "rm-b", 99, 50, "t 9 acme\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 5);
	assert_int_equal(metric_value(cl->mm.cluster_dropped[CLUSTER_DROP_REPLAY]), 2);
	assert_int_equal(metric_value(cl->mm.cluster_dropped[CLUSTER_DROP_OLD_INCARNATION]), 1);
	/* restart: a new incarnation's state replaces the old contribution */
	frame(cl, CLUSTER_T_STATE, "rm-b", 101, 1, "p 1 ivr\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 2);
	assert_int_equal(remote(cl, ROUTE_USAGE_MCP, "sip:x"), 0);
	assert_int_equal(remote(cl, ROUTE_USAGE_PROFILE, "ivr"), 1);
	/* a restart announced by a heartbeat: old usage dropped, syncing until state */
	frame(cl, CLUSTER_T_HB, "rm-c", 201, 1, NULL);
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 0);
	assert_int_equal(peer(cl, "rm-c")->state, PEER_SYNCING);
	/* a delta before the state is not applied (the state will say it all) */
	frame(cl, CLUSTER_T_DELTA, "rm-c", 201, 2, "t 4 acme\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 0);
	/* a malformed state is refused whole */
	frame(cl, CLUSTER_T_STATE, "rm-c", 201, 3, "t 4 acme\nbad line\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 0);
	frame(cl, CLUSTER_T_STATE, "rm-c", 201, 4, "t 4 acme\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 4);
	assert_int_equal(peer(cl, "rm-c")->state, PEER_UP);
	cl_free(cl, reg);
}

static void test_death_and_forget(void **state)
{
	metrics_t *reg;
	struct cluster *cl = cl_new(&reg);
	char name[32];

	frame(cl, CLUSTER_T_STATE, "rm-b", 100, 1, "t 5 acme\n");
	int64_t now = cluster_mono_ms();
	cluster_peers_check(cl, now);
	assert_int_equal(metric_value(cl->mm.cluster_peers_up), 1);
	cluster_peers_check(cl, now + 851);
	assert_int_equal(peer(cl, "rm-b")->state, PEER_DOWN);
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 0);
	assert_int_equal(metric_value(cl->mm.cluster_deaths), 1);
	assert_int_equal(metric_value(cl->mm.cluster_peers_up), 0);
	/* the same incarnation again (a SIGCONT): syncing until its state comes */
	frame(cl, CLUSTER_T_HB, "rm-b", 100, 2, NULL);
	assert_int_equal(peer(cl, "rm-b")->state, PEER_SYNCING);
	frame(cl, CLUSTER_T_STATE, "rm-b", 100, 3, "t 5 acme\n");
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "acme"), 5);

	/* fill the table: a 17th node is refused while nobody is down for long */
	for (int i = 0; i < CLUSTER_MAX_PEERS - 1; i++) {
		snprintf(name, sizeof name, "n%d", i);
		frame(cl, CLUSTER_T_STATE, name, 1, 1, "t 1 other\n");
	}
	frame(cl, CLUSTER_T_STATE, "late", 1, 1, "t 1 other\n");
	assert_null(peer(cl, "late"));
	assert_int_equal(metric_value(cl->mm.cluster_dropped[CLUSTER_DROP_PEERS_FULL]), 1);
	/* n3 down for over a minute: forgotten for the newcomer */
	struct peer *n3 = peer(cl, "n3");
	n3->last_ms -= 70000;
	cluster_peers_check(cl, cluster_mono_ms());
	assert_int_equal(n3->state, PEER_DOWN);
	frame(cl, CLUSTER_T_STATE, "late", 1, 1, "t 1 other\n");
	assert_non_null(peer(cl, "late"));
	assert_null(peer(cl, "n3"));
	assert_int_equal(remote(cl, ROUTE_USAGE_TENANT, "other"), 15);
	cl_free(cl, reg);
}

static int adopted;
static char adopted_owner[64];
static int count_adopt(void *arg, struct cluster_adopt *a)
{
	struct cluster_sess cs;
	bool add;

	assert_int_equal(cluster_sess_parse(a->line, &add, &cs), 0);
	assert_true(add);
	snprintf(adopted_owner, sizeof adopted_owner, "%s", a->owner);
	adopted++;
	free(a);
	return 0;
}

static char *plus(const char *call_id)
{
	struct cluster_sess s = { .call_id = call_id, .from_tag = "f", .to_tag = "t",
				  .start_ms = 1, .answer_ms = 2, .from = "<sip:a@x>;tag=f",
				  .to = "<sip:b@x>;tag=t", .node = "rm-b" };
	return cluster_sess_add_line(&s);
}

/* Replicated sessions: sstate replaces, sess changes; a peer's death or restart
 * hands its calls to the adopt callback only on the lowest live node id. */
static void test_sessions(void **state)
{
	metrics_t *reg;
	struct cluster *cl = cl_new(&reg);
	char body[4096] = "";
	char *l;

	cl->adopt = count_adopt;
	adopted = 0;
	frame(cl, CLUSTER_T_STATE, "rm-b", 100, 1, "t 2 acme\n");
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		l = plus(id);
		strcat(body, l);
		free(l);
	}
	frame(cl, CLUSTER_T_SSTATE, "rm-b", 100, 2, body);
	assert_int_equal(cluster_sess_set_count(peer(cl, "rm-b")->sess), 3);
	l = cluster_sess_del_line("c1", "f");
	frame(cl, CLUSTER_T_SESS, "rm-b", 100, 3, l);
	free(l);
	assert_int_equal(cluster_sess_set_count(peer(cl, "rm-b")->sess), 2);
	frame(cl, CLUSTER_T_SESS, "rm-b", 100, 4, "+\tbroken\n"); /* malformed: resync */
	assert_false(peer(cl, "rm-b")->sess_synced);
	frame(cl, CLUSTER_T_SSTATE, "rm-b", 100, 5, body); /* the resync's full set */
	assert_int_equal(cluster_sess_set_count(peer(cl, "rm-b")->sess), 3);
	frame(cl, CLUSTER_T_STATE, "rm-c", 200, 1, "");

	/* rm-b dies; rm-a (me) is the lowest of rm-a, rm-c: it adopts the 3 calls */
	peer(cl, "rm-b")->last_ms -= 5000;
	cluster_peers_check(cl, cluster_mono_ms());
	assert_int_equal(peer(cl, "rm-b")->state, PEER_DOWN);
	assert_int_equal(adopted, 3);
	assert_string_equal(adopted_owner, "rm-b");
	assert_int_equal(metric_value(cl->mm.cluster_adopted), 3);
	assert_int_equal(cluster_sess_set_count(peer(cl, "rm-b")->sess), 0);

	/* rm-0 (lower than rm-a) is up: rm-c restarting orphans its call, rm-0's */
	frame(cl, CLUSTER_T_STATE, "rm-0", 300, 1, "");
	l = plus("c9");
	frame(cl, CLUSTER_T_SSTATE, "rm-c", 200, 2, l);
	free(l);
	assert_int_equal(cluster_sess_set_count(peer(cl, "rm-c")->sess), 1);
	frame(cl, CLUSTER_T_HB, "rm-c", 201, 1, NULL); /* new incarnation */
	assert_int_equal(adopted, 3);
	assert_int_equal(cluster_sess_set_count(peer(cl, "rm-c")->sess), 0);
	cl_free(cl, reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_delta_replay),
		cmocka_unit_test(test_death_and_forget),
		cmocka_unit_test(test_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
