/* Unit tests for rm/ops/rm_metrics.c: one set of handles per registry, whoever asks,
 * and the per-MCP/usage accessors create only what the writer publishes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "rm_metrics.h"

/* Two modules handed the same registry get the same handles: a count through one is
 * what the other reads. */
static void test_shared(void **state)
{
	metrics_t *reg = metrics_new();
	rm_metrics_t a, b;
	(void)state;

	assert_int_equal(rm_metrics_init(&a, reg), 0);
	assert_int_equal(rm_metrics_init(&b, reg), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_non_null(a.calls_active);
	assert_non_null(a.calls[REC_TIMED_OUT]);
	assert_null(a.rejects[RM_REFUSE_NONE]);
	assert_non_null(a.rejects[RM_REFUSE_COUNT - 1]);
	assert_null(a.ended[SESSION_END_NONE]);
	assert_non_null(a.ended[SESSION_END_RM]);
	assert_ptr_equal(rm_metrics_bad_request(&a, "max-forwards"),
			 rm_metrics_bad_request(&b, "max-forwards"));
	metric_add(a.failovers, 3);
	assert_true(metric_value(b.failovers) == 3);
	assert_int_equal(rm_metrics_init(&a, NULL), -1);
	metrics_free(reg);
}

static void test_mcp(void **state)
{
	metrics_t *reg = metrics_new();
	rm_metrics_t m;
	struct rm_metrics_mcp w, r;
	(void)state;

	assert_int_equal(rm_metrics_init(&m, reg), 0);
	rm_metrics_mcp_find(&m, "sip:a:5070", &r);
	assert_null(r.up);
	assert_null(r.active);
	assert_null(r.attempts);
	/* not probed yet: the load series exist, rm_mcp_up does not */
	assert_int_equal(rm_metrics_mcp(&m, "sip:a:5070", false, &w), 0);
	assert_null(w.up);
	rm_metrics_mcp_find(&m, "sip:a:5070", &r);
	assert_null(r.up);
	assert_ptr_equal(r.active, w.active);
	assert_ptr_equal(r.max_ports, w.max_ports);
	assert_ptr_equal(r.rtt, w.rtt);
	assert_ptr_equal(r.attempts, w.attempts);
	assert_int_equal(rm_metrics_mcp(&m, "sip:a:5070", true, &w), 0);
	rm_metrics_mcp_find(&m, "sip:a:5070", &r);
	assert_non_null(r.up);
	assert_ptr_equal(r.up, w.up);
	/* another MCP's series are its own */
	rm_metrics_mcp_find(&m, "sip:b:5070", &r);
	assert_null(r.active);

	assert_null(rm_metrics_profile_active(&m, "p", false));
	metric_t *p = rm_metrics_profile_active(&m, "p", true);
	assert_non_null(p);
	assert_ptr_equal(rm_metrics_profile_active(&m, "p", false), p);
	assert_null(rm_metrics_tenant_active(&m, "p", false)); /* a tenant is not a profile */
	assert_non_null(rm_metrics_lrg_active(&m, "ivr", true));
	metrics_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_mcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
