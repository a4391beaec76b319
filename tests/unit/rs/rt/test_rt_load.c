/* Unit tests for rs/rt/rt_load.c: real-time usage rebuilt from a real SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_load.h"
#include "store.h"
#include "util.h"

static void put_event(rs_store_t *st, const char *id, const char *type, const char *call,
		      long long start, long long ts)
{
	char body[512], err[256];
	size_t ins;
	int n = snprintf(body, sizeof body,
			 "{\"id\":\"%s\",\"schema\":1,\"type\":\"%s\",\"node\":\"rm-1\","
			 "\"call_id\":\"%s\",\"tenant\":\"acme\",\"start_ms\":%lld,"
			 "\"ts_ms\":%lld}", id, type, call, start, ts);
	rs_row_t row = { .kind = RS_KIND_EVENT, .id = id, .body = body,
			 .body_len = (size_t)n, .received_ms = 1 };
	row.received_ms = util_now_ms() - 100; /* all at once, as after a replay */
	assert_int_equal(store_insert_batch(st, &row, 1, &ins, err, sizeof err), 0);
}

static void test_rebuild(void **state)
{
	char dir[] = "/tmp/test_rt_load.XXXXXX", err[256];
	rs_config_t cfg;
	long long now = util_now_ms();
	size_t ne, nc;

	assert_non_null(mkdtemp(dir));
	rs_config_defaults(&cfg);
	snprintf(cfg.sqlite_path, sizeof cfg.sqlite_path, "%s/rs.db", dir);
	rs_store_t *st = store_open(&cfg, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, err, sizeof err), 0);
	/* Stored out of time order, all received at once: c3's start is stored before
	 * c2's start and end, though c2 ended before c3 started. Fed by ts_ms, the peak is
	 * 2 (c1 + c2, then c1 + c3), never 3. */
	put_event(st, "e1", "call.start", "c1", now - 5000, now - 5000);
	put_event(st, "e4", "call.start", "c3", now - 3000, now - 3000);
	put_event(st, "e2", "call.start", "c2", now - 4000, now - 4000);
	put_event(st, "e3", "call.end", "c2", now - 4000, now - 3500);
	/* c1's end was lost; its CDR is stored */
	char body[512];
	record_t r = { 0 };
	strcpy(r.id, "cdr-1");
	r.schema = 1;
	strcpy(r.call_id, "c1");
	strcpy(r.node, "rm-1");
	strcpy(r.tenant, "acme");
	r.start_ms = now - 5000;
	r.end_ms = now - 1000;
	r.sip_status = 487;
	r.disposition = REC_CANCELLED;
	int n = record_encode(&r, body, sizeof body);
	rs_row_t row = { .kind = RS_KIND_CDR, .id = r.id, .rec = &r, .body = body,
			 .body_len = (size_t)n, .received_ms = now };
	size_t ins;
	assert_int_equal(store_insert_batch(st, &row, 1, &ins, err, sizeof err), 0);
	store_close(st);

	rt_usage_t *u = rt_usage_new();
	assert_int_equal(rt_load(u, &cfg, now, &ne, &nc, err, sizeof err), 0);
	assert_int_equal(ne, 4);
	assert_int_equal(nc, 1);
	rt_stat_t *v;
	assert_int_equal(rt_usage_snapshot(u, RT_TENANT, NULL, now, NULL, &v), 1);
	assert_string_equal(v[0].name, "acme");
	assert_int_equal(v[0].in_progress, 1);
	assert_int_equal(v[0].peak_today >= 1, 1);
	if ((now - 5000) / (24 * 3600000LL) == now / (24 * 3600000LL)) {
		assert_int_equal(v[0].arrivals_today, 3);
		assert_int_equal(v[0].peak_today, 2);
	}
	free(v);
	rt_usage_free(u);

	/* A database that cannot be opened is an error, not a crash. */
	snprintf(cfg.sqlite_path, sizeof cfg.sqlite_path, "%s/missing/rs.db", dir);
	u = rt_usage_new();
	assert_int_equal(rt_load(u, &cfg, now, &ne, &nc, err, sizeof err), -1);
	assert_non_null(strstr(err, "missing"));
	rt_usage_free(u);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rebuild),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
