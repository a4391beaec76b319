/* Unit tests for rm/ops/rm_snmp.c without a master: the collected snapshot follows the
 * metrics registry (written through rm_metrics.h's handles, as rm does) and the config,
 * each notification fires once per transition, and every scalar SNMP serves equals
 * the series /metrics renders under its documented name. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "rm_config.h"
#include "rm_metrics.h"
#include "rm_snmp.h"

#define CFG                                                                            \
	"{\"lrgs\":[{\"name\":\"ivr\",\"scheme\":\"weighted\",\"members\":["             \
	"{\"uri\":\"sip:a:5070\",\"max_ports\":10},{\"uri\":\"sip:b:5070\"}]},"          \
	"{\"name\":\"solo\",\"members\":[{\"uri\":\"sip:a:5070\",\"max_ports\":10}]}],"  \
	"\"tenants\":[{\"name\":\"t\",\"limits\":{\"l3\":5}}],"                          \
	"\"profiles\":[{\"name\":\"p\",\"tenant\":\"t\",\"lrg\":\"ivr\",\"limits\":{\"l3\":2}}]}"

struct seen {
	uint32_t notif[32];
	snmpsub_value_t first[32]; /* first varbind of each */
	size_t n;
};

static void record(void *arg, uint32_t notif, const snmpsub_value_t *vars, size_t n)
{
	struct seen *s = arg;

	assert_true(n >= 2 && n <= 3);
	if (s->n < 32) {
		s->notif[s->n] = notif;
		s->first[s->n] = vars[0];
		s->n++;
	}
}

static const snmpsub_value_t *find(const snmpsub_value_t *v, size_t n, const char *oid)
{
	uint32_t want[SNMPSUB_OID_MAX];
	int len = snmpsub_parse_oid(oid, want, SNMPSUB_OID_MAX);

	for (size_t i = 0; i < n; i++)
		if ((size_t)len == v[i].oid_len &&
		    memcmp(v[i].oid, want, (size_t)len * sizeof(uint32_t)) == 0)
			return &v[i];
	fail_msg("no %s in the snapshot", oid);
	return NULL;
}

static struct rm_snmp *setup_snmp(metrics_t *m, struct rm_config *cfg)
{
	char err[512];
	struct rm_snmp *s;

	if (rm_config_parse(CFG, "rm.json", cfg, err, sizeof err) != 0)
		fail_msg("%s", err);
	s = rm_snmp_new(NULL, m);
	assert_non_null(s);
	assert_int_equal(rm_snmp_configure(s, cfg, err, sizeof err), 0); /* disabled */
	return s;
}

static void test_collect(void **state)
{
	metrics_t *m = metrics_new();
	struct rm_config cfg;
	struct rm_snmp *s = setup_snmp(m, &cfg);
	snmpsub_value_t v[64];
	rm_metrics_t rmm;
	struct rm_metrics_mcp a, b;
	(void)state;

	/* before any MCP is published: every value reads 0 / down, and SNMP does not
	 * invent the per-MCP series the SIP thread owns */
	size_t n = rm_snmp_collect(s, v, 64);
	assert_int_equal(n, 10 + 2 * 6 + 2 * 5);
	assert_int_equal(find(v, n, "1.9.0")->num, 0);
	assert_int_equal(find(v, n, "2.1.4.1")->num, 2);
	assert_int_equal(rm_metrics_init(&rmm, m), 0);
	rm_metrics_mcp_find(&rmm, "sip:a:5070", &a);
	assert_null(a.up);
	assert_null(a.active);
	assert_null(rm_metrics_lrg_active(&rmm, "ivr", false));

	metric_set(rmm.calls_active, 7);
	metric_add(rmm.calls[REC_ANSWERED], 11);
	metric_add(rmm.calls[REC_TIMED_OUT], 3);
	metric_add(rmm.rejects[RM_REFUSE_PROFILE_LIMIT], 4);
	metric_add(rmm.rejects[RM_REFUSE_DRAINING], 5);
	metric_add(rmm.failovers, 2);
	metric_set(rmm.spool_depth, 123);
	metric_set(rmm.spool_usage_percent, 250); /* clamped */
	assert_int_equal(rm_metrics_mcp(&rmm, "sip:a:5070", true, &a), 0);
	assert_int_equal(rm_metrics_mcp(&rmm, "sip:b:5070", false, &b), 0);
	assert_null(b.up); /* b not probed yet: no rm_mcp_up series */
	metric_set(a.up, 1);
	metric_set(a.active, 6);
	metric_set(a.rtt, 0.0126);
	metric_set(rm_metrics_lrg_active(&rmm, "ivr", true), 7);

	n = rm_snmp_collect(s, v, 64);
	assert_int_equal(find(v, n, "1.1.0")->num, 7);
	assert_int_equal(find(v, n, "1.1.0")->type, SNMPSUB_GAUGE32);
	assert_int_equal(find(v, n, "1.2.0")->num, 11);
	assert_int_equal(find(v, n, "1.2.0")->type, SNMPSUB_COUNTER64);
	assert_int_equal(find(v, n, "1.6.0")->num, 3);
	assert_int_equal(find(v, n, "1.7.0")->num, 9);
	assert_int_equal(find(v, n, "1.8.0")->num, 2);
	assert_int_equal(find(v, n, "1.9.0")->num, 123);
	assert_int_equal(find(v, n, "1.10.0")->num, 100);
	assert_string_equal(find(v, n, "2.1.2.1")->str, "sip:a:5070");
	assert_string_equal(find(v, n, "2.1.3.1")->str, "ivr,solo");
	assert_string_equal(find(v, n, "2.1.3.2")->str, "ivr");
	assert_int_equal(find(v, n, "2.1.4.1")->num, 1);
	assert_int_equal(find(v, n, "2.1.4.1")->type, SNMPSUB_INTEGER);
	assert_int_equal(find(v, n, "2.1.4.2")->num, 2); /* never published: down */
	assert_int_equal(find(v, n, "2.1.5.1")->num, 6);
	assert_int_equal(find(v, n, "2.1.6.1")->num, 10);  /* from config */
	assert_int_equal(find(v, n, "2.1.6.2")->num, 100); /* default max_ports */
	assert_int_equal(find(v, n, "2.1.7.1")->num, 13);
	assert_string_equal(find(v, n, "3.1.2.1")->str, "ivr");
	assert_string_equal(find(v, n, "3.1.3.1")->str, "weighted");
	assert_int_equal(find(v, n, "3.1.4.1")->num, 2);
	assert_int_equal(find(v, n, "3.1.5.1")->num, 1);
	assert_int_equal(find(v, n, "3.1.5.2")->num, 1);
	assert_int_equal(find(v, n, "3.1.6.1")->num, 7);

	/* a small buffer still reports the full count */
	assert_int_equal(rm_snmp_collect(s, v, 3), n);

	rm_snmp_free(s);
	rm_config_free(&cfg);
	metrics_free(m);
}

static void test_notifications(void **state)
{
	metrics_t *m = metrics_new();
	struct rm_config cfg;
	struct rm_snmp *s = setup_snmp(m, &cfg);
	struct seen seen = { 0 };
	rm_metrics_t rmm;
	struct rm_metrics_mcp ha, hb;
	(void)state;

	assert_int_equal(rm_metrics_init(&rmm, m), 0);
	assert_int_equal(rm_metrics_mcp(&rmm, "sip:a:5070", true, &ha), 0);
	assert_int_equal(rm_metrics_mcp(&rmm, "sip:b:5070", true, &hb), 0);
	metric_t *a = ha.up, *b = hb.up;
	metric_t *pa = rm_metrics_profile_active(&rmm, "p", true);
	metric_t *ta = rm_metrics_tenant_active(&rmm, "t", true);
	metric_t *hw = rmm.spool_high_water;

	metric_set(a, 1);
	metric_set(b, 1);
	rm_snmp_check(s, record, &seen); /* first look: records only */
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 0);

	metric_set(a, 0); /* a down: rmMcpDown(1) and solo all down (3) */
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.notif[0], 1);
	assert_string_equal(seen.first[0].str, "sip:a:5070");
	assert_int_equal(seen.notif[1], 3);
	assert_string_equal(seen.first[1].str, "solo");
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 2); /* once per transition */

	metric_set(a, 1);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.notif[2], 2); /* rmMcpUp */

	/* limits are not watched (a sample misses a short reach): route's admission
	 * edges are told, one notification each */
	metric_set(pa, 2);
	metric_set(ta, 5);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 3);
	struct rm_snmp_limit_event ep = { "t", "p", 2 }, et = { "t", "", 5 }, ex = { "x", "", 9 };
	rm_snmp_limit_reached(s, &ep, record, &seen); /* profile p reaches l3 = 2 */
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.notif[3], 4);
	assert_string_equal(seen.first[3].str, "t");
	rm_snmp_limit_reached(s, &ex, record, &seen); /* not a configured limit */
	assert_int_equal(seen.n, 4);
	rm_snmp_limit_reached(s, &et, record, &seen); /* tenant t reaches its l3 = 5 */
	assert_int_equal(seen.n, 5);
	assert_int_equal(seen.notif[4], 4);

	metric_set(hw, 1);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 6);
	assert_int_equal(seen.notif[5], 5);
	rm_snmp_check(s, record, &seen);
	metric_set(hw, 0);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 6); /* again only after falling below */
	metric_set(hw, 1);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 7);

	/* a reload rebuilds the tables and only records on the next look */
	char err[256];
	metric_set(b, 0);
	assert_int_equal(rm_snmp_configure(s, &cfg, err, sizeof err), 0);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 7);

	rm_snmp_free(s);
	rm_config_free(&cfg);
	metrics_free(m);
}

/* The value of the series `name` with label text `label` (NULL: none) in a /metrics
 * rendering; fails the test when /metrics has no such line. */
static double scraped(const char *text, const char *name, const char *label)
{
	char want[256];
	size_t wl = (size_t)snprintf(want, sizeof want, label ? "%s{%s} " : "%s ", name, label);

	for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
		if (strncmp(line, want, wl) == 0)
			return strtod(line + wl, NULL);
		if (!strchr(line, '\n'))
			break;
	}
	fail_msg("/metrics has no line \"%s\"", want);
	return 0;
}

/* Sum of every series of family `name` in a /metrics rendering (0 if none). */
static double scraped_sum(const char *text, const char *name)
{
	size_t nl = strlen(name);
	double sum = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, name, nl) == 0 && line[nl] == '{')
			sum += strtod(strchr(line, ' ') + 1, NULL);
	}
	return sum;
}

/* Every scalar of GVP-RM-MIB (BASE.1.1.x.0) against /metrics as a scraper reads it:
 * the series are written through the typed handles rm uses, so a series renamed in
 * rm_metrics.c (SNMP still reading it) or SNMP reading another handle both fail. The
 * names are the documented ones (README "Metrics", etc/mibs/README.md). */
static void test_scalars_agree(void **state)
{
	static const struct {
		const char *oid, *name, *label;
	} scalar[] = {
		{ "1.1.0", "rm_calls_active", NULL },
		{ "1.2.0", "rm_calls_total", "disposition=\"answered\"" },
		{ "1.3.0", "rm_calls_total", "disposition=\"cancelled\"" },
		{ "1.4.0", "rm_calls_total", "disposition=\"rejected\"" },
		{ "1.5.0", "rm_calls_total", "disposition=\"failed\"" },
		{ "1.6.0", "rm_calls_total", "disposition=\"timed-out\"" },
		{ "1.7.0", "rm_rejects_total", "*" }, /* the sum over reasons */
		{ "1.8.0", "rm_failovers_total", NULL },
		{ "1.9.0", "rm_spool_depth", NULL },
		{ "1.10.0", "rm_spool_usage_percent", NULL },
	};
	const size_t n_scalar = sizeof scalar / sizeof scalar[0];
	metrics_t *m = metrics_new();
	struct rm_config cfg;
	struct rm_snmp *s = setup_snmp(m, &cfg);
	snmpsub_value_t v[64];
	rm_metrics_t rmm;
	(void)state;

	/* a distinct value in every scalar series rm has */
	assert_int_equal(rm_metrics_init(&rmm, m), 0);
	metric_set(rmm.calls_active, 7);
	for (int d = 0; d < RM_METRICS_DISP; d++)
		metric_add(rmm.calls[d], 100 + (uint64_t)d);
	for (int r = 1; r < RM_REFUSE_COUNT; r++)
		metric_add(rmm.rejects[r], 1000 * (uint64_t)r);
	metric_add(rmm.failovers, 17);
	metric_set(rmm.spool_depth, 23);
	metric_set(rmm.spool_usage_percent, 42);

	char *text = metrics_render(m, NULL);
	size_t n = rm_snmp_collect(s, v, 64), scalars = 0;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) /* every BASE.1.1.x.0 is in the table above */
		scalars += v[i].oid_len == 3 && v[i].oid[0] == 1 && v[i].oid[2] == 0;
	assert_int_equal(scalars, n_scalar);
	for (size_t i = 0; i < n_scalar; i++) {
		const char *l = scalar[i].label;
		double want = l && strcmp(l, "*") == 0 ? scraped_sum(text, scalar[i].name)
						       : scraped(text, scalar[i].name, l);
		if (want == 0 || (double)find(v, n, scalar[i].oid)->num != want)
			fail_msg("SNMP %s = %lld, /metrics %s%s%s = %g", scalar[i].oid,
				 (long long)find(v, n, scalar[i].oid)->num, scalar[i].name,
				 l ? " " : "", l ? l : "", want);
	}
	free(text);
	rm_snmp_free(s);
	rm_config_free(&cfg);
	metrics_free(m);
}

/* A fake cluster: the peer table rm_snmp reads through rm_snmp_set_peers. */
static struct rm_snmp_peer fake_peers[3];
static size_t n_fake_peers;
static size_t fake_peers_fn(void *arg, struct rm_snmp_peer *out, size_t cap)
{
	for (size_t i = 0; i < n_fake_peers && i < cap; i++)
		out[i] = fake_peers[i];
	return n_fake_peers;
}

static void set_peer(size_t i, const char *node, int state, int64_t sessions)
{
	snprintf(fake_peers[i].node, sizeof fake_peers[i].node, "%s", node);
	snprintf(fake_peers[i].address, sizeof fake_peers[i].address, "10.0.0.%zu:9801", i + 2);
	fake_peers[i].state = state;
	fake_peers[i].heartbeat_age_ms = 42;
	fake_peers[i].sessions = sessions;
	if (i >= n_fake_peers)
		n_fake_peers = i + 1;
}

/* The peer table (BASE.1.5.1.c.i) and rmPeerDown (6) / rmPeerUp (7): a peer seen at
 * the first look is recorded only; one that joins later is "up" once; a syncing
 * peer sends nothing; down after up sends down, up after down sends up. */
static void test_peers(void **state)
{
	metrics_t *m = metrics_new();
	struct rm_config cfg;
	struct rm_snmp *s = setup_snmp(m, &cfg);
	struct seen seen = { 0 };
	snmpsub_value_t v[256];
	(void)state;

	n_fake_peers = 0;
	set_peer(0, "rm-b", 1, 7);
	rm_snmp_set_peers(s, fake_peers_fn, NULL);
	size_t n = rm_snmp_collect(s, v, 256);
	assert_true(n <= 256);
	assert_string_equal(find(v, n, "5.1.2.1")->str, "rm-b");
	assert_string_equal(find(v, n, "5.1.3.1")->str, "10.0.0.2:9801");
	assert_int_equal(find(v, n, "5.1.4.1")->num, 1);
	assert_int_equal(find(v, n, "5.1.5.1")->num, 42);
	assert_int_equal(find(v, n, "5.1.6.1")->num, 7);

	rm_snmp_check(s, record, &seen); /* first look: rm-b found up, a join */
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.notif[0], 7);
	assert_string_equal(seen.first[0].str, "rm-b");
	set_peer(1, "rm-c", 3, 0); /* joins: syncing, nothing yet */
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 1);
	set_peer(1, "rm-c", 1, 0); /* up: rmPeerUp */
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.notif[1], 7);
	assert_string_equal(seen.first[1].str, "rm-c");
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 2);
	set_peer(0, "rm-b", 2, 0); /* rm-b down */
	rm_snmp_check(s, record, &seen);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.notif[2], 6);
	assert_string_equal(seen.first[2].str, "rm-b");
	set_peer(0, "rm-b", 3, 0); /* restarted: syncing, then up */
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 3);
	set_peer(0, "rm-b", 1, 0);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.notif[3], 7);

	rm_snmp_set_peers(s, NULL, NULL); /* cluster off: no rows */
	n = rm_snmp_collect(s, v, 256);
	for (size_t i = 0; i < n; i++)
		assert_false(v[i].oid_len >= 1 && v[i].oid[0] == 5);
	rm_snmp_free(s);
	rm_config_free(&cfg);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_notifications),
		cmocka_unit_test(test_scalars_agree),
		cmocka_unit_test(test_peers),
	};
	log_init("test", NULL, LOGL_ERROR, false, NULL, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
