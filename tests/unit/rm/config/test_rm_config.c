/* Unit tests for rm/config/rm_config.c: defaults, the example file, and errors that name
 * the file, the key path and the reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rm_config.h"

#define MINIMAL                                                                      \
	"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:127.0.0.1:5070\"}]}]," \
	"\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}"

static char tmpdir[] = "/tmp/test_rm_config.XXXXXX";

/* Write json to TMPDIR/rm.json and load it; returns the rc, error in err. */
static int load_text(const char *json, struct rm_config *cfg, char *path, size_t plen,
		     char *err, size_t errlen)
{
	snprintf(path, plen, "%s/rm.json", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	return rm_config_load(path, cfg, err, errlen);
}

static void test_defaults(void **state)
{
	struct rm_config cfg;
	char err[512];
	(void)state;
	assert_int_equal(rm_config_parse(MINIMAL, "rm.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.node, "rm-1");
	assert_string_equal(cfg.sip_listen, "127.0.0.1");
	assert_int_equal(cfg.sip_port, 5060);
	assert_true(cfg.sip_udp && cfg.sip_tcp);
	assert_int_equal(cfg.n_sip_servers, 1);
	assert_string_equal(cfg.sip_servers[0], "sip:127.0.0.1:5090");
	assert_int_equal(cfg.lrgs[0].scheme, RM_SCHEME_ROUND_ROBIN);
	assert_int_equal(cfg.lrgs[0].members[0].max_ports, 100);
	assert_int_equal(cfg.lrgs[0].members[0].weight, 1);
	assert_int_equal(cfg.n_tenants, 1); /* implicit "default" */
	assert_string_equal(cfg.tenants[0].name, "default");
	assert_true(cfg.tenants[0].implicit);
	assert_int_equal(cfg.tenants[0].limits.l3, 0);
	assert_string_equal(cfg.profiles[0].tenant, "default");
	assert_string_equal(cfg.profiles[0].service_type, "voicexml");
	assert_false(cfg.has_default_profile);
	for (int r = 0; r < RM_REFUSE_COUNT; r++) {
		assert_int_equal(rm_config_reject(&cfg, (enum rm_refuse)r).code, 503);
		if (r == RM_REFUSE_OVERLOAD) /* shed: the SIP Server may retry soon */
			continue;
		assert_int_equal(rm_config_reject(&cfg, (enum rm_refuse)r).retry_after, 30);
	}
	assert_int_equal(rm_config_reject(&cfg, RM_REFUSE_OVERLOAD).retry_after, 2);
	assert_int_equal(cfg.overload_max_cps, -1);
	assert_int_equal(cfg.overload_max_pending, 1000);
	assert_int_equal(cfg.sip_udp_rmem, 4 << 20);
	assert_int_equal(cfg.ack_timeout_ms, 32000);
	assert_true(rm_config_is_failover_code(&cfg, 408));
	assert_true(rm_config_is_failover_code(&cfg, 500));
	assert_true(rm_config_is_failover_code(&cfg, 503));
	assert_false(rm_config_is_failover_code(&cfg, 486));
	assert_true(cfg.failover_on_timeout);
	assert_int_equal(cfg.max_attempts, 3);
	assert_int_equal(cfg.monitor_failures_to_down, 3);
	assert_int_equal(cfg.monitor_successes_to_up, 2);
	assert_int_equal(cfg.max_duration_s, 14400);
	assert_int_equal(cfg.http_port, 8300);
	assert_string_equal(cfg.http_listen, "127.0.0.1");
	assert_int_equal(cfg.billing_mode, RM_BILLING_STOMP);
	assert_string_equal(cfg.log_level, "info");
	assert_string_equal(cfg.log_file, "-");
	rm_config_free(&cfg);
	rm_config_free(&cfg); /* harmless twice */
}

static void test_example_file(void **state)
{
	struct rm_config cfg;
	char err[512], path[1024];
	const char *top = getenv("TOP");
	(void)state;
	snprintf(path, sizeof(path), "%s/etc/rm.json", top ? top : ".");
	int rc = rm_config_load(path, &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.n_lrgs, 2);
	assert_int_equal(cfg.lrgs[1].scheme, RM_SCHEME_WEIGHTED);
	assert_int_equal(cfg.lrgs[1].members[0].weight, 3);
	assert_int_equal(cfg.n_profiles, 4);
	const struct rm_profile *p = rm_config_profile(&cfg, "acme-conf");
	assert_non_null(p);
	assert_string_equal(p->id, "1002");
	assert_string_equal(cfg.lrgs[p->lrg_index].name, "conference");
	assert_string_equal(cfg.tenants[p->tenant_index].name, "acme");
	assert_int_equal(p->limits.l1, 40);
	assert_int_equal(p->limits.l3, 50);
	const struct rm_tenant *g = rm_config_tenant(&cfg, "globex");
	assert_non_null(g);
	assert_int_equal(g->limits.l1, 100); /* l1, l2 default to l3 */
	assert_int_equal(g->limits.l2, 100);
	assert_int_equal(cfg.n_dnis, 3);
	assert_true(cfg.has_default_profile);
	assert_string_equal(cfg.profiles[cfg.default_profile].name, "default");
	assert_int_equal(rm_config_reject(&cfg, RM_REFUSE_PROFILE_LIMIT).code, 486);
	assert_int_equal(rm_config_reject(&cfg, RM_REFUSE_PROFILE_LIMIT).retry_after, 0);
	assert_int_equal(rm_config_reject(&cfg, RM_REFUSE_NO_MCP_UP).code, 503);
	assert_int_equal(rm_config_reject(&cfg, RM_REFUSE_NO_MCP_UP).retry_after, 30);
	assert_int_equal(cfg.billing_mode, RM_BILLING_STOMP);
	rm_config_free(&cfg);
}

/* Each bad config and the exact message after "PATH: ". */
static const struct {
	const char *json;
	const char *msg;
} bad[] = {
	{"{\"lrgs\":[{\"name\":\"ivr\",\"scheme\":\"rr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "lrg \"ivr\".scheme: expected one of round-robin, least-used, least-percent, "
	 "weighted; got \"rr\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"nope\"}]}",
	 "profile \"p\".lrg: unknown lrg \"nope\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"},{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "profile \"p\".name: duplicate profile name"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]},"
	 "{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:b\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "lrg \"ivr\".name: duplicate group name"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"},{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "lrg \"ivr\".members[1].uri: duplicate member \"sip:a\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"http://a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "lrg \"ivr\".members[0].uri: expected a sip: URI; got \"http://a\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\",\"max_ports\":0}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "lrg \"ivr\".members[0].max_ports: "},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "lrg \"ivr\".members: must list at least one MCP"},
	{"{\"lrgs\":[{\"name\":\"a\",\"members\":[{\"uri\":\"sip:x\",\"max_ports\":5}]},"
	 "{\"name\":\"b\",\"members\":[{\"uri\":\"sip:x\",\"max_ports\":6}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"a\"}]}",
	 "lrg \"b\".members[0].max_ports: 6 differs from 5 given for the same MCP in lrg "
	 "\"a\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\",\"limits\":{\"l1\":5,\"l2\":3,"
	 "\"l3\":10}}]}",
	 "profile \"p\".limits.l2: must be >= l1 (5); got 3"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\",\"limits\":{\"l1\":5}}]}",
	 "profile \"p\".limits.l3: is 0 (unlimited) but l1/l2 are set; set l3 too"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"dnis\":{\"100\":\"q\"}}",
	 "dnis.\"100\": unknown profile \"q\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
	 "\"dnis\":{\"100\":\"p\",\"100\":\"p\"}}",
	 "dnis.100: duplicate key: given more than once in the same object; keep one"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"default_profile\":\"zz\"}",
	 "default_profile: unknown profile \"zz\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"tenants\":[{\"name\":\"t1\",\"profile\":\"p\"}],"
	 "\"profiles\":[{\"name\":\"p\",\"tenant\":\"t2\",\"lrg\":\"ivr\"}]}",
	 "tenant \"t1\".profile: profile \"p\" belongs to tenant \"t2\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"tenants\":[{\"name\":\"t1\"},{\"name\":\"t1\"}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}",
	 "tenant \"t1\".name: duplicate tenant name"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"id\":\"7\",\"lrg\":\"ivr\"},"
	 "{\"name\":\"q\",\"id\":\"7\",\"lrg\":\"ivr\"}]}",
	 "profile \"q\".id: duplicate id \"7\" (also profile \"p\")"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"reject\":{\"code\":200}}",
	 "reject.code: "},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
	 "\"reject\":{\"reasons\":{\"profile-limt\":{\"code\":486}}}}",
	 "reject.reasons.profile-limt: unknown key (did you mean \"profile-limit\"?)"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"failover\":{\"codes\":[503,\"x\"]}}",
	 "failover.codes: item 1: expected a SIP code 300..699"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"sip\":{\"transports\":[\"sctp\"]}}",
	 "sip.transports: expected one of udp, tcp; got \"sctp\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"billing\":{\"mode\":\"kafka\"}}",
	 "billing.mode: expected one of stomp, spool-only, off; got \"kafka\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
	 "\"billing\":{\"endpoints\":[\"localhost\"]}}",
	 "billing.endpoints: item 0: expected \"host:port\"; got \"localhost\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"monitr\":{}}",
	 "monitr: unknown key (did you mean \"monitor\"?)"},
	{"{\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}]}", "lrgs: "},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"session\":{\"max_duration_s\":-1}}",
	 "session.max_duration_s: "},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
	 "\"cluster\":{\"peers\":[\"rm-0.peers\"]}}",
	 "cluster.peers: item 0: expected \"host:port\"; got \"rm-0.peers\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"cluster\":{\"port\":0}}",
	 "cluster.port: "},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"cluster\":{\"peer\":[]}}",
	 "cluster.peer: unknown key"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"cluster\":{\"adopt\":\"keep\"}}",
	 "cluster.adopt: \"keep\" needs sip.advertise set to an address every node answers"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"sip\":{\"listen\":\"10.0.0.2\",\"advertise\":\"10.0.0.2\"},"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"cluster\":{\"adopt\":\"keep\"}}",
	 "cluster.adopt: \"keep\" needs sip.advertise set to an address every node answers"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"cluster\":{\"adopt\":\"hold\"}}",
	 "cluster.adopt: expected one of end, keep; got \"hold\""},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
	 "\"snmp\":{\"base_oid\":\"1.3.6.x\"}}",
	 "snmp.base_oid: expected a dotted numeric OID"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
	 "\"snmp\":{\"base_oid\":\"1.3.6.1.4.1.99999.1.1.1.1.1.1.1.1.1\"}}",
	 "snmp.base_oid: expected a dotted numeric OID"},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"snmp\":{\"enabled\":\"yes\"}}",
	 "snmp.enabled: "},
	{"{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
	 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"snmp\":{\"master\":\"\"}}",
	 "snmp.master: must not be empty"},
};

/* The sections the helm chart renders (cluster, snmp, json logging, 0.0.0.0), and
 * RM_NODE_NAME replacing "node". */
static void test_cluster_snmp_env(void **state)
{
	static const char *const json =
		"{\"node\":\"file-node\",\"sip\":{\"listen\":\"0.0.0.0\"},"
		"\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a:5070\"}]}],"
		"\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],\"dnis\":{},"
		"\"cluster\":{\"listen\":\"0.0.0.0\",\"port\":9801,"
		"\"peers\":[\"gvp-rm-0.gvp-rm-peers.ns.svc:9801\",\"gvp-rm-1.x.svc:9801\"]},"
		"\"snmp\":{\"enabled\":true,\"master\":\"tcp:127.0.0.1:1705\","
		"\"base_oid\":\"1.3.6.1.4.1.424242.7\"},"
		"\"http\":{\"listen\":\"0.0.0.0\",\"port\":8300},"
		"\"logging\":{\"level\":\"info\",\"file\":\"-\",\"json\":true}}";
	struct rm_config cfg;
	char err[512];
	(void)state;

	unsetenv("RM_NODE_NAME");
	unsetenv("POD_IP");
	assert_int_equal(rm_config_parse(MINIMAL, "rm.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.sip_advertise, "127.0.0.1"); /* = sip.listen */
	assert_false(cfg.cluster_present);
	assert_int_equal(cfg.cluster_port, 9801);
	assert_int_equal(cfg.n_cluster_peers, 0);
	assert_false(cfg.snmp_enabled);
	assert_string_equal(cfg.snmp_master, "tcp:127.0.0.1:1705");
	assert_string_equal(cfg.snmp_base_oid, "1.3.6.1.4.1.99999.1");
	rm_config_free(&cfg);

	if (rm_config_parse(json, "rm.json", &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.node, "file-node");
	assert_true(cfg.cluster_present);
	assert_string_equal(cfg.cluster_listen, "0.0.0.0");
	assert_int_equal(cfg.n_cluster_peers, 2);
	assert_string_equal(cfg.cluster_peers[1], "gvp-rm-1.x.svc:9801");
	assert_true(cfg.snmp_enabled);
	assert_string_equal(cfg.snmp_base_oid, "1.3.6.1.4.1.424242.7");
	assert_true(cfg.log_json);
	rm_config_free(&cfg);
	/* sip.listen 0.0.0.0: POD_IP is advertised, an explicit sip.advertise wins */
	assert_int_equal(rm_config_parse(json, "rm.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.sip_advertise, "0.0.0.0"); /* no POD_IP: main warns */
	rm_config_free(&cfg);
	setenv("POD_IP", "10.1.2.3", 1);
	assert_int_equal(rm_config_parse(json, "rm.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.sip_advertise, "10.1.2.3");
	rm_config_free(&cfg);
	assert_int_equal(rm_config_parse(MINIMAL, "rm.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.sip_advertise, "127.0.0.1"); /* not a wildcard listen */
	rm_config_free(&cfg);
	char adv[1024];
	const char *at = strstr(json, "\"0.0.0.0\"}");
	snprintf(adv, sizeof adv, "%.*s\"0.0.0.0\",\"advertise\":\"rm.example\"%s",
		 (int)(at - json), json, at + strlen("\"0.0.0.0\""));
	if (rm_config_parse(adv, "rm.json", &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.sip_advertise, "rm.example");
	rm_config_free(&cfg);
	unsetenv("POD_IP");
	/* adopt "keep" with a shared advertised address */
	if (rm_config_parse("{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:a\"}]}],"
			    "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
			    "\"sip\":{\"listen\":\"0.0.0.0\",\"advertise\":\"rm.svc\"},"
			    "\"cluster\":{\"adopt\":\"keep\"}}", "rm.json", &cfg, err,
			    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(cfg.cluster_adopt_keep);
	rm_config_free(&cfg);

	setenv("RM_NODE_NAME", "gvp-rm-1", 1);
	assert_int_equal(rm_config_parse(json, "rm.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.node, "gvp-rm-1");
	rm_config_free(&cfg);
	setenv("RM_NODE_NAME", "", 1); /* empty: the file's node stays */
	assert_int_equal(rm_config_parse(json, "rm.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.node, "file-node");
	rm_config_free(&cfg);
	char longname[100];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	setenv("RM_NODE_NAME", longname, 1);
	assert_int_equal(rm_config_parse(json, "rm.json", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rm.json: node: RM_NODE_NAME is longer than 63"));
	unsetenv("RM_NODE_NAME");
}

static void test_errors_name_file_key_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rm_config cfg;
		char err[512], path[256], want[1024];
		int rc = load_text(bad[i].json, &cfg, path, sizeof(path), err, sizeof(err));
		snprintf(want, sizeof(want), "%s: %s", path, bad[i].msg);
		if (rc != -1 || strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: rc %d\n got: %s\nwant: %s", i, rc, err, want);
		assert_int_equal(cfg.n_lrgs, 0); /* zeroed on failure */
		rm_config_free(&cfg);
	}
}

static void test_file_errors(void **state)
{
	struct rm_config cfg;
	char err[512], path[256];
	(void)state;
	assert_int_equal(rm_config_load("/nonexistent/rm.json", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/rm.json: "));
	assert_int_equal(load_text("{\n\"lrgs\": [\n}", &cfg, path, sizeof(path), err,
				   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":3:1: expected a value"));
}

static void test_defaults_json_round_trips(void **state)
{
	struct rm_config cfg;
	char err[512];
	(void)state;
	char *js = rm_config_defaults_json();
	assert_non_null(js);
	int rc = rm_config_parse(js, "defaults", &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s\n%s", err, js);
	assert_int_equal(cfg.max_attempts, 3);
	assert_int_equal(cfg.reject[RM_REFUSE_DRAINING].code, 503);
	rm_config_free(&cfg);
	free(js);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rm_refuse_name(RM_REFUSE_PROFILE_LIMIT), "profile-limit");
	assert_string_equal(rm_refuse_name(RM_REFUSE_TENANT_LIMIT), "tenant-limit");
	assert_string_equal(rm_refuse_name(RM_REFUSE_NO_MCP_UP), "no-mcp-up");
	assert_string_equal(rm_refuse_name(RM_REFUSE_MCP_CAPACITY), "mcp-capacity");
	assert_string_equal(rm_refuse_name(RM_REFUSE_DRAINING), "draining");
	assert_string_equal(rm_refuse_name(RM_REFUSE_NO_PROFILE), "no-profile");
	assert_string_equal(rm_refuse_name(RM_REFUSE_COUNT), "?");
	assert_string_equal(rm_scheme_name(RM_SCHEME_LEAST_PERCENT), "least-percent");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[256];
	(void)state;
	snprintf(path, sizeof(path), "%s/rm.json", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_errors_name_file_key_reason),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_defaults_json_round_trips),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cluster_snmp_env),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
