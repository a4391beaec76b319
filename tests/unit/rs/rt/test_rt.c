/* Unit tests for rs/rt/rt.c: the rebuild runs on its own thread, and what is fed
 * while it runs is kept and fed to the rebuilt numbers too (a real SQLite store and a
 * real libevent loop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "rt.h"
#include "store.h"
#include "util.h"

static int event_row(char *body, size_t cap, const char *id, const char *type,
		     const char *call, long long start)
{
	return snprintf(body, cap,
			"{\"id\":\"%s\",\"schema\":1,\"type\":\"%s\",\"node\":\"rm-1\","
			"\"call_id\":\"%s\",\"tenant\":\"acme\",\"start_ms\":%lld,\"ts_ms\":%lld}",
			id, type, call, start, start);
}

static void test_feed_during_rebuild(void **state)
{
	char dir[] = "/tmp/test_rt.XXXXXX", err[256], body[512], cmd[128];
	long long now = util_now_ms();
	rs_config_t cfg;
	size_t ins;

	assert_int_equal(evthread_use_pthreads(), 0);
	assert_non_null(mkdtemp(dir));
	rs_config_defaults(&cfg);
	snprintf(cfg.sqlite_path, sizeof cfg.sqlite_path, "%s/rs.db", dir);
	rs_store_t *st = store_open(&cfg, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, err, sizeof err), 0);
	/* stored before the start: c1 and c2 in progress */
	const char *ids[] = { "e1", "e2" }, *calls[] = { "c1", "c2" };
	for (int i = 0; i < 2; i++) {
		int n = event_row(body, sizeof body, ids[i], "call.start", calls[i], now - 5000);
		rs_row_t row = { .kind = RS_KIND_EVENT, .id = ids[i], .body = body,
				 .body_len = (size_t)n, .received_ms = now - 5000 };
		assert_int_equal(store_insert_batch(st, &row, 1, &ins, err, sizeof err), 0);
	}
	store_close(st);

	struct event_base *base = event_base_new();
	rt_t *r = rt_new(base, &cfg);
	assert_non_null(r);
	assert_true(rt_loading(r));
	/* fed before the rebuild is taken in: c3 and c4 start, c1 ends (by its CDR), and the
	 * stored c2 start comes again (a duplicate) */
	int n = event_row(body, sizeof body, "e3", "call.start", "c3", now - 1000);
	rs_row_t ev3 = { .kind = RS_KIND_EVENT, .id = "e3", .body = body, .body_len = (size_t)n };
	rt_feed(r, &ev3);
	char body4[512];
	n = event_row(body4, sizeof body4, "e4", "call.start", "c4", now - 900);
	rs_row_t ev4 = { .kind = RS_KIND_EVENT, .id = "e4", .body = body4, .body_len = (size_t)n };
	rt_feed(r, &ev4);
	char body2[512];
	n = event_row(body2, sizeof body2, "e2", "call.start", "c2", now - 5000);
	rs_row_t ev2 = { .kind = RS_KIND_EVENT, .id = "e2", .body = body2, .body_len = (size_t)n };
	rt_feed(r, &ev2);
	record_t c = { 0 };
	strcpy(c.id, "cdr-c1");
	strcpy(c.node, "rm-1");
	strcpy(c.call_id, "c1");
	strcpy(c.tenant, "acme");
	c.start_ms = now - 5000;
	rs_row_t cdr = { .kind = RS_KIND_CDR, .id = c.id, .rec = &c, .body = "{}", .body_len = 2 };
	rt_feed(r, &cdr);

	for (int i = 0; i < 100 && rt_loading(r); i++) {
		struct timeval tv = { 0, 50000 };
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_false(rt_loading(r));
	rt_stat_t *v;
	assert_int_equal(rt_usage_snapshot(rt_usage(r), RT_TENANT, "acme", util_now_ms(), NULL, &v), 1);
	assert_int_equal(v[0].in_progress, 3); /* c2 (stored), c3 and c4 (live); c1 ended */
	if ((now - 5000) / 86400000LL == util_now_ms() / 86400000LL)
		assert_int_equal(v[0].arrivals_today, 4);
	free(v);
	rt_free(r);
	event_base_free(base);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_during_rebuild),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
