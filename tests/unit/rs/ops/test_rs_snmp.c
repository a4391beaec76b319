/* Unit tests for rs/ops/rs_snmp.c: the scalars come from the metrics, with the layout of
 * etc/mibs/README.md (BASE.2.1.N.0, types, rounding, clamping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "rs_metrics.h"
#include "rs_snmp.h"

static const snmpsub_value_t *find(const snmpsub_value_t *v, size_t n, uint32_t col)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].oid_len == 3 && v[i].oid[0] == 1 && v[i].oid[1] == col &&
		    v[i].oid[2] == 0)
			return &v[i];
	fail_msg("no scalar 1.%u.0", col);
	return NULL;
}

static void test_collect(void **state)
{
	rs_config_t cfg;
	rs_metrics_t m;
	snmpsub_value_t v[16];

	rs_config_defaults(&cfg);
	assert_int_equal(rs_metrics_init(&m), 0);
	/* Nothing yet: zeros, database down until the writer says otherwise. */
	assert_int_equal(rs_snmp_collect(&cfg, &m, v, 16), 9);
	assert_int_equal(find(v, 9, 1)->num, 0);
	assert_int_equal(find(v, 9, 6)->num, 2);
	assert_int_equal(find(v, 9, 8)->num, 0);

	metric_add(m.received, 1000);
	metric_add(m.stored, 900);
	metric_add(m.duplicates, 90);
	metric_add(m.rej_invalid, 3);
	metric_add(m.rej_dest, 2);
	metric_add(m.rej_full, 1);
	metric_add(m.rej_protocol, 4);
	metric_set(m.journal_depth, 17);
	metric_set(m.db_up, 1);
	metric_set(m.batch_last, 0.0126);
	m.batch_us_sum = 3000 + 1500; /* two batches: 3 ms and 1.5 ms -> mean 2.25 ms */
	m.batch_n = 2;
	metric_set(m.journal_max, 1000);
	metric_set(m.journal_bytes, 996);

	size_t n = rs_snmp_collect(&cfg, &m, v, 16);
	assert_int_equal(n, 9);
	assert_int_equal(find(v, n, 1)->type, SNMPSUB_COUNTER64);
	assert_int_equal(find(v, n, 1)->num, 1000 + 3 + 2 + 1); /* valid or not */
	assert_int_equal(find(v, n, 2)->num, 900);
	assert_int_equal(find(v, n, 3)->num, 90);
	assert_int_equal(find(v, n, 4)->num, 5); /* malformed: invalid + destination */
	assert_int_equal(find(v, n, 5)->type, SNMPSUB_GAUGE32);
	assert_int_equal(find(v, n, 5)->num, 17);
	assert_int_equal(find(v, n, 6)->type, SNMPSUB_INTEGER);
	assert_int_equal(find(v, n, 6)->num, 1);
	assert_int_equal(find(v, n, 7)->num, 13);
	assert_int_equal(find(v, n, 8)->num, 2);
	assert_int_equal(find(v, n, 9)->num, 99);
	/* Usage never above 100 (the journal may pass max_bytes by one batch). */
	metric_set(m.journal_bytes, 5000);
	rs_snmp_collect(&cfg, &m, v, 16);
	assert_int_equal(find(v, 9, 9)->num, 100);
	/* A short buffer: the count is still the whole. */
	assert_int_equal(rs_snmp_collect(&cfg, &m, v, 2), 9);
	rs_metrics_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
