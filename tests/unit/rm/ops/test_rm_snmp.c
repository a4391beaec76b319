/* Unit tests for rm/ops/rm_snmp.c without a master: the collected snapshot follows the
 * metrics registry and the config, and each notification fires once per transition. */
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
	(void)state;

	/* before anything is registered: every value reads 0 / down */
	size_t n = rm_snmp_collect(s, v, 64);
	assert_int_equal(n, 10 + 2 * 6 + 2 * 5);
	assert_int_equal(find(v, n, "1.9.0")->num, 0);
	assert_int_equal(find(v, n, "2.1.4.1")->num, 2);
	assert_int_equal(metrics_find(m, "rm_spool_depth", NULL), NULL); /* not invented */

	metric_set(metrics_gauge(m, "rm_calls_active", "", NULL), 7);
	metric_add(metrics_counter(m, "rm_calls_total", "", "disposition=answered"), 11);
	metric_add(metrics_counter(m, "rm_calls_total", "", "disposition=timed-out"), 3);
	metric_add(metrics_counter(m, "rm_rejects_total", "", "reason=profile-limit"), 4);
	metric_add(metrics_counter(m, "rm_rejects_total", "", "reason=draining"), 5);
	metric_add(metrics_counter(m, "rm_failovers_total", "", NULL), 2);
	metric_set(metrics_gauge(m, "rm_spool_depth", "", NULL), 123);
	metric_set(metrics_gauge(m, "rm_spool_usage_percent", "", NULL), 250); /* clamped */
	metric_set(metrics_gauge(m, "rm_mcp_up", "", "mcp=sip:a:5070"), 1);
	metric_set(metrics_gauge(m, "rm_mcp_active", "", "mcp=sip:a:5070"), 6);
	metric_set(metrics_gauge(m, "rm_mcp_options_rtt_seconds", "", "mcp=sip:a:5070"), 0.0126);
	metric_set(metrics_gauge(m, "rm_lrg_calls_active", "", "lrg=ivr"), 7);

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
	metric_t *a = metrics_gauge(m, "rm_mcp_up", "", "mcp=sip:a:5070");
	metric_t *b = metrics_gauge(m, "rm_mcp_up", "", "mcp=sip:b:5070");
	metric_t *pa = metrics_gauge(m, "rm_profile_calls_active", "", "profile=p");
	metric_t *ta = metrics_gauge(m, "rm_tenant_calls_active", "", "tenant=t");
	metric_t *hw = metrics_gauge(m, "rm_spool_high_water", "", NULL);
	(void)state;

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

	metric_set(pa, 1);
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 3);
	metric_set(pa, 2); /* profile p reaches l3 = 2 */
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.notif[3], 4);
	assert_string_equal(seen.first[3].str, "t");
	rm_snmp_check(s, record, &seen);
	assert_int_equal(seen.n, 4);
	metric_set(ta, 5); /* tenant t reaches its l3 = 5 */
	rm_snmp_check(s, record, &seen);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_notifications),
	};
	log_init("test", NULL, LOGL_ERROR, false, NULL, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
