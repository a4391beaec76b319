/* Unit tests for rm/billing/billing.c: items built from sessions and refused calls decode as
 * valid records (one id per build), events pass the envelope check; on the service
 * side (modes spool-only and off, a real spool in a temp directory) every item is
 * counted, spooled or counted lost when the spool is full, and the gauges follow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "billing.h"
#include "cdr.h"
#include "metrics.h"
#include "record.h"
#include "rm_config.h"
#include "session.h"

#define T0 1700000000000LL

static void fill_session(struct session *s, char *call_id)
{
	memset(s, 0, sizeof(*s));
	s->call_id = call_id;
	s->from_tag = (char *)"ft";
	snprintf(s->profile, sizeof(s->profile), "acme-ivr");
	snprintf(s->tenant, sizeof(s->tenant), "acme");
	snprintf(s->mcp_uri, sizeof(s->mcp_uri), "sip:127.0.0.1:5070");
	s->attempts = 1;
	s->start_ms = T0;
	s->answer_ms = T0 + 100;
	s->end_ms = T0 + 1100;
	s->final_status = 200;
	s->ended_by = SESSION_END_CALLER;
}

static void decode(const struct billing_item *it, record_t *r)
{
	char field[64] = "", err[256] = "";
	assert_int_equal(it->kind, BILLING_CDR);
	assert_int_equal(strlen(it->body), it->len);
	if (record_decode(it->body, it->len, r, field, sizeof(field), err, sizeof(err)))
		fail_msg("record_decode: %s: %s", field, err);
}

static void test_item_from_session(void **state)
{
	(void)state;
	struct session s;
	record_t a, b;
	fill_session(&s, (char *)"call-1@x");
	struct billing_item *i1 = billing_item_cdr(&s, "rm-a");
	struct billing_item *i2 = billing_item_cdr(&s, "rm-a");
	assert_non_null(i1);
	assert_non_null(i2);
	decode(i1, &a);
	decode(i2, &b);
	assert_string_equal(a.call_id, "call-1@x");
	assert_string_equal(a.node, "rm-a");
	assert_string_equal(a.tenant, "acme");
	assert_int_equal(a.duration_ms, 1000);
	assert_int_equal(a.disposition, REC_ANSWERED);
	assert_int_equal(i1->end_ms, T0 + 1100);
	assert_string_not_equal(a.id, b.id); /* a build is a new record: build once */
	free(i1);
	free(i2);

	struct billing_item *ev = billing_item_event(&s, "rm-a", CDR_EV_END);
	char id[129], field[64], err[256];
	assert_non_null(ev);
	assert_int_equal(ev->kind, BILLING_EVENT);
	assert_int_equal(record_check_envelope(ev->body, ev->len, id, sizeof(id), field,
					       sizeof(field), err, sizeof(err)), 0);
	assert_non_null(strstr(ev->body, "\"call.end\""));
	free(ev);

	s.call_id = (char *)"";
	assert_null(billing_item_cdr(&s, "rm-a"));
}

static void test_item_refused(void **state)
{
	(void)state;
	struct cdr_input in = { .call_id = "r-1", .start_ms = T0, .end_ms = T0,
				.final_status = 503, .ended_by = REC_BY_RM };
	record_t r;
	struct billing_item *it = billing_item_cdr_input(&in, NULL);
	assert_non_null(it);
	decode(it, &r);
	assert_int_equal(r.disposition, REC_REJECTED);
	assert_int_equal(r.sip_status, 503);
	assert_int_equal(r.ended_by, REC_BY_RM);
	free(it);
	in.call_id = NULL;
	assert_null(billing_item_cdr_input(&in, "rm"));
}

struct svc {
	char dir[64];
	struct rm_config cfg;
	metrics_t *m;
	struct event_base *base;
	struct billing *b;
};

static int setup(void **state)
{
	struct svc *v = calloc(1, sizeof(*v));
	snprintf(v->dir, sizeof(v->dir), "/tmp/test_billing.XXXXXX");
	if (!mkdtemp(v->dir))
		return -1;
	snprintf(v->cfg.file, sizeof(v->cfg.file), "rm.json");
	snprintf(v->cfg.billing_spool_dir, sizeof(v->cfg.billing_spool_dir), "%s/spool", v->dir);
	snprintf(v->cfg.billing_destination, sizeof(v->cfg.billing_destination), "%s", REC_DEST_CDR);
	v->cfg.billing_mode = RM_BILLING_SPOOL_ONLY;
	v->cfg.billing_spool_max_bytes = 1 << 20;
	v->m = metrics_new();
	v->base = event_base_new();
	*state = v;
	return v->m && v->base ? 0 : -1;
}

static int teardown(void **state)
{
	struct svc *v = *state;
	char cmd[128];
	billing_free(v->b);
	event_base_free(v->base);
	metrics_free(v->m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
	if (system(cmd) != 0)
		return -1;
	free(v);
	return 0;
}

static double val(struct svc *v, const char *name, int gauge)
{
	metric_t *h = gauge ? metrics_gauge(v->m, name, "", NULL)
			    : metrics_counter(v->m, name, "", NULL);
	assert_non_null(h);
	return metric_value(h);
}

static void done_cb(void *arg)
{
	*(int *)arg += 1;
}

static void take_calls(struct svc *v, int n)
{
	struct session s;
	char cid[32];
	for (int i = 0; i < n; i++) {
		snprintf(cid, sizeof(cid), "c-%d", i);
		fill_session(&s, cid);
		struct billing_item *ev = billing_item_event(&s, "rm", CDR_EV_START);
		struct billing_item *it = billing_item_cdr(&s, "rm");
		assert_non_null(ev);
		assert_non_null(it);
		billing_take(v->b, ev);
		billing_take(v->b, it);
	}
}

static void test_spool_only(void **state)
{
	struct svc *v = *state;
	char err[256] = "";
	int done = 0;

	v->b = billing_new(v->base, &v->cfg, v->m, err, sizeof(err));
	if (!v->b)
		fail_msg("billing_new: %s", err);
	take_calls(v, 10);
	billing_shutdown(v->b, 1000, done_cb, &done);
	assert_int_equal(done, 1); /* no publisher: at once */
	assert_int_equal(val(v, "rm_billing_records_total", 0), 10);
	assert_int_equal(val(v, "rm_billing_events_total", 0), 10);
	assert_int_equal(val(v, "rm_billing_lost_total", 0), 0);
	assert_int_equal(val(v, "rm_spool_depth", 1), 20);
	assert_true(val(v, "rm_spool_bytes", 1) > 0);
	billing_free(v->b);

	/* reopened: the same 20 entries are still there (replay set) */
	v->b = billing_new(v->base, &v->cfg, v->m, err, sizeof(err));
	assert_non_null(v->b);
	billing_shutdown(v->b, 0, done_cb, &done);
	assert_int_equal(val(v, "rm_spool_depth", 1), 20);
}

static void test_spool_full_counts_lost(void **state)
{
	struct svc *v = *state;
	char err[256] = "";
	int done = 0;

	v->cfg.billing_spool_max_bytes = 8192;
	v->b = billing_new(v->base, &v->cfg, v->m, err, sizeof(err));
	if (!v->b)
		fail_msg("billing_new: %s", err);
	take_calls(v, 100);
	billing_shutdown(v->b, 0, done_cb, &done);
	double lost = val(v, "rm_billing_lost_total", 0);
	double depth = val(v, "rm_spool_depth", 1);
	assert_int_equal(val(v, "rm_billing_records_total", 0), 100);
	assert_true(lost > 0);
	assert_true(depth < 200);
	/* every record is either kept or counted lost */
	assert_true(val(v, "rm_billing_events_lost_total", 0) + val(v, "rm_billing_events_total", 0) == 100);
	assert_true(val(v, "rm_spool_usage_percent", 1) >= 80);
	assert_int_equal(val(v, "rm_spool_high_water", 1), 1);
}

static void test_mode_off(void **state)
{
	struct svc *v = *state;
	char err[256] = "";
	int done = 0;

	v->cfg.billing_mode = RM_BILLING_OFF;
	v->b = billing_new(v->base, &v->cfg, v->m, err, sizeof(err));
	assert_non_null(v->b);
	take_calls(v, 3);
	billing_shutdown(v->b, 1000, done_cb, &done);
	assert_int_equal(done, 1);
	assert_int_equal(val(v, "rm_spool_depth", 1), 0);
	assert_int_equal(access(v->cfg.billing_spool_dir, F_OK), -1); /* never created */
}

static void test_bad_spool_dir(void **state)
{
	struct svc *v = *state;
	char err[256] = "";
	snprintf(v->cfg.billing_spool_dir, sizeof(v->cfg.billing_spool_dir),
		 "/proc/nonexistent/spool");
	v->b = billing_new(v->base, &v->cfg, v->m, err, sizeof(err));
	assert_null(v->b);
	assert_non_null(strstr(err, "spool"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_item_from_session),
		cmocka_unit_test(test_item_refused),
		cmocka_unit_test_setup_teardown(test_spool_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_full_counts_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_spool_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
