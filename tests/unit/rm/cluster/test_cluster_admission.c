/* Unit tests for admission with the cluster board as route.h's usage hook
 * (rm/core/route.c + rm/cluster/cluster_board.c): the other nodes' calls count
 * against tenant and profile hard limits and against MCP ports; this node's own
 * admit/pick/release reach the board's local counts (tenant, profile, LRG, MCP);
 * strict shares cap this node at l3 / nodes whatever the peers say; the config's
 * cluster section is checked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_board.h"
#include "route.h"

static const char CFG[] =
	"{\"lrgs\": [{\"name\": \"g\", \"members\": [{\"uri\": \"sip:127.0.0.1:5070\", "
	"\"max_ports\": 4}]}],"
	" \"tenants\": [{\"name\": \"acme\", \"limits\": {\"l3\": 10}}],"
	" \"profiles\": [{\"name\": \"ivr\", \"tenant\": \"acme\", \"lrg\": \"g\","
	" \"limits\": {\"l3\": 8}}], \"default_profile\": \"ivr\"}";

struct fx {
	struct rm_config cfg;
	struct route_state *st;
	struct cluster_board *b;
	struct route_profile *p;
};

static void fx_init(struct fx *f, int strict_nodes)
{
	char err[256];
	struct route_usage_hook h;
	struct route_request rq = { 0 };
	struct route_match m;

	memset(f, 0, sizeof *f);
	assert_int_equal(rm_config_parse(CFG, "t.json", &f->cfg, err, sizeof err), 0);
	f->st = route_state_new(&f->cfg, err, sizeof err);
	assert_non_null(f->st);
	f->b = cluster_board_new();
	f->b->strict_nodes = strict_nodes;
	cluster_board_hook(f->b, &h);
	route_set_usage_hook(&h);
	assert_int_equal(route_select(f->st, &rq, &m), 0);
	f->p = m.profile;
}

static void fx_free(struct fx *f)
{
	route_set_usage_hook(NULL);
	route_state_free(f->st);
	rm_config_free(&f->cfg);
	free(f->b);
}

static void set_remote(struct fx *f, enum route_usage_kind k, const char *name, int n)
{
	int i = cluster_board_find(f->b, k, name, true);
	assert_true(i >= 0);
	atomic_store(&f->b->slot[i].remote, n);
}

static int local(struct fx *f, enum route_usage_kind k, const char *name)
{
	int i = cluster_board_find(f->b, k, name, false);
	return i < 0 ? 0 : atomic_load(&f->b->slot[i].local);
}

static void test_remote_counts(void **state)
{
	struct fx f;
	struct route_ticket t[10];

	fx_init(&f, 0);
	/* peers hold 7 of acme's 10: 3 more here, then tenant-limit */
	set_remote(&f, ROUTE_USAGE_TENANT, "acme", 7);
	for (int i = 0; i < 3; i++)
		assert_int_equal(route_admit(f.st, f.p, false, &t[i]), RM_REFUSE_NONE);
	assert_int_equal(route_admit(f.st, f.p, false, &t[3]), RM_REFUSE_TENANT_LIMIT);
	assert_int_equal(local(&f, ROUTE_USAGE_TENANT, "acme"), 3);
	assert_int_equal(local(&f, ROUTE_USAGE_PROFILE, "ivr"), 3);
	assert_int_equal(local(&f, ROUTE_USAGE_LRG, "g"), 3);
	/* the profile's 8: peers hold 5 of it, we hold 3 -> refused */
	set_remote(&f, ROUTE_USAGE_TENANT, "acme", 0);
	set_remote(&f, ROUTE_USAGE_PROFILE, "ivr", 5);
	assert_int_equal(route_admit(f.st, f.p, false, &t[3]), RM_REFUSE_PROFILE_LIMIT);
	/* MCP ports: 4, peers hold 3 of them: one pick, then capacity */
	set_remote(&f, ROUTE_USAGE_PROFILE, "ivr", 0);
	set_remote(&f, ROUTE_USAGE_MCP, "sip:127.0.0.1:5070", 3);
	assert_int_equal(route_pick(f.st, &t[0]), RM_REFUSE_NONE);
	assert_int_equal(local(&f, ROUTE_USAGE_MCP, "sip:127.0.0.1:5070"), 1);
	assert_int_equal(route_pick(f.st, &t[1]), RM_REFUSE_MCP_CAPACITY);
	/* release gives everything back, LRG included */
	for (int i = 0; i < 3; i++)
		route_release(&t[i]);
	assert_int_equal(local(&f, ROUTE_USAGE_TENANT, "acme"), 0);
	assert_int_equal(local(&f, ROUTE_USAGE_PROFILE, "ivr"), 0);
	assert_int_equal(local(&f, ROUTE_USAGE_LRG, "g"), 0);
	assert_int_equal(local(&f, ROUTE_USAGE_MCP, "sip:127.0.0.1:5070"), 0);
	fx_free(&f);
}

static void test_strict_share(void **state)
{
	struct fx f;
	struct route_ticket t[10];
	int n = 0;

	/* two nodes: the profile's 8 gives 4 here even with no peer in sight */
	fx_init(&f, 2);
	while (n < 10 && route_admit(f.st, f.p, false, &t[n]) == RM_REFUSE_NONE)
		n++;
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++)
		route_release(&t[i]);
	/* three nodes: acme's 10 -> 3, the profile's 8 -> 2: the smaller wins */
	fx_free(&f);
	fx_init(&f, 3);
	n = 0;
	while (n < 10 && route_admit(f.st, f.p, false, &t[n]) == RM_REFUSE_NONE)
		n++;
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		route_release(&t[i]);
	fx_free(&f);
}

static int parse(const char *cluster, char *err, size_t errlen, struct rm_config *cfg)
{
	char json[1024];

	snprintf(json, sizeof json,
		 "{\"lrgs\": [{\"name\": \"g\", \"members\": [{\"uri\": \"sip:127.0.0.1:5070\"}]}],"
		 " \"profiles\": [{\"name\": \"ivr\", \"lrg\": \"g\"}], \"cluster\": %s}", cluster);
	memset(cfg, 0, sizeof *cfg);
	int rc = rm_config_parse(json, "rm.json", cfg, err, errlen);
	return rc;
}

static void test_config(void **state)
{
	struct rm_config cfg;
	char err[512];

	unsetenv("RM_CLUSTER_KEY");
	assert_int_equal(parse("{\"peers\": [\"rm-1.rm:9801\"]}", err, sizeof err, &cfg), 0);
	assert_false(cfg.cluster_enabled); /* no key: standalone */
	assert_int_equal(cfg.cluster_dead_after_ms, 850);
	assert_int_equal(cfg.cluster_heartbeat_ms, 150);
	rm_config_free(&cfg);
	assert_int_equal(parse("{\"key\": \"0123456789abcdef\", \"limits\": \"strict\", "
			       "\"nodes\": 2}", err, sizeof err, &cfg), 0);
	assert_true(cfg.cluster_enabled);
	assert_true(cfg.cluster_strict);
	rm_config_free(&cfg);
	setenv("RM_CLUSTER_KEY", "from-the-environment-0123", 1);
	assert_int_equal(parse("{\"key\": \"0123456789abcdef\"}", err, sizeof err, &cfg), 0);
	assert_string_equal(cfg.cluster_key, "from-the-environment-0123");
	rm_config_free(&cfg);
	unsetenv("RM_CLUSTER_KEY");

	assert_int_equal(parse("{\"key\": \"short\"}", err, sizeof err, &cfg), -1);
	assert_non_null(strstr(err, "cluster.key: must be at least 16 bytes"));
	rm_config_free(&cfg);
	assert_int_equal(parse("{\"limits\": \"strict\"}", err, sizeof err, &cfg), -1);
	assert_non_null(strstr(err, "cluster.nodes"));
	rm_config_free(&cfg);
	assert_int_equal(parse("{\"limits\": \"loose\"}", err, sizeof err, &cfg), -1);
	assert_non_null(strstr(err, "expected one of normal, strict"));
	rm_config_free(&cfg);
	assert_int_equal(parse("{\"heartbeat_ms\": 500, \"dead_after_ms\": 900}", err, sizeof err,
			       &cfg), -1);
	assert_non_null(strstr(err, "more than two heartbeats"));
	rm_config_free(&cfg);
	assert_int_equal(parse("{\"node\": \"a:b\"}", err, sizeof err, &cfg), -1);
	assert_non_null(strstr(err, "cluster.node"));
	rm_config_free(&cfg);
	assert_int_equal(parse("{\"peers\": [\"nohost\"]}", err, sizeof err, &cfg), -1);
	rm_config_free(&cfg);
	/* a node listens too: TLS needs its certificate */
	assert_int_equal(parse("{\"tls\": {\"enabled\": true}}", err, sizeof err, &cfg), -1);
	assert_non_null(strstr(err, "cluster.tls.cert_file"));
	rm_config_free(&cfg);
	assert_int_equal(parse("{\"tls\": {\"enabled\": true, \"cert_file\": \"/nonexistent.crt\", "
			       "\"key_file\": \"/nonexistent.key\"}}", err, sizeof err, &cfg), -1);
	assert_non_null(strstr(err, "cluster.tls.cert_file"));
	rm_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_counts),
		cmocka_unit_test(test_strict_share),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
