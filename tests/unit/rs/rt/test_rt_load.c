/* Unit tests for rs/rt/rt_load.c: real-time usage rebuilt from a real SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
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

static int event_body(char *body, size_t cap, const char *id, const char *type,
		      const char *call, long long start, long long ts)
{
	return snprintf(body, cap,
			"{\"id\":\"%s\",\"schema\":1,\"type\":\"%s\",\"node\":\"rm-1\","
			"\"call_id\":\"%s\",\"tenant\":\"acme\",\"start_ms\":%lld,"
			"\"ts_ms\":%lld}", id, type, call, start, ts);
}

/* Records still in the journal count: merged with the database's in time order (the
 * peak exact), a record in both (replayed, not yet cut) counted once, a torn tail
 * ignored. */
static void test_rebuild_with_journal(void **state)
{
	char dir[] = "/tmp/test_rt_load_j.XXXXXX", err[256], body[512], cmd[1200];
	rs_config_t cfg;
	long long now = util_now_ms();
	size_t ne, nc, ins;

	assert_non_null(mkdtemp(dir));
	rs_config_defaults(&cfg);
	snprintf(cfg.sqlite_path, sizeof cfg.sqlite_path, "%s/rs.db", dir);
	snprintf(cfg.journal_dir, sizeof cfg.journal_dir, "%s/journal", dir);
	rs_store_t *st = store_open(&cfg, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, err, sizeof err), 0);
	/* in the database: c1 from -5000, c2 from -4000 to -3500 */
	put_event(st, "e1", "call.start", "c1", now - 5000, now - 5000);
	put_event(st, "e2", "call.start", "c2", now - 4000, now - 4000);
	put_event(st, "e3", "call.end", "c2", now - 4000, now - 3500);
	store_close(st);
	/* in the journal: e1 again, c3 from -3000, c4 from -3800 to -1000 (its end
	 * only as a CDR); c4 overlaps c1 and c2: the peak is 3 at -3800 */
	journal_t *j = journal_open(cfg.journal_dir, err, sizeof err);
	assert_non_null(j);
	rs_row_t rows[4];
	char bodies[3][512];
	const char *ids[3] = { "e1", "e5", "e6" };
	int n0 = event_body(bodies[0], 512, "e1", "call.start", "c1", now - 5000, now - 5000);
	int n1 = event_body(bodies[1], 512, "e5", "call.start", "c3", now - 3000, now - 3000);
	int n2 = event_body(bodies[2], 512, "e6", "call.start", "c4", now - 3800, now - 3800);
	int lens[3] = { n0, n1, n2 };
	for (int i = 0; i < 3; i++)
		rows[i] = (rs_row_t){ .kind = RS_KIND_EVENT, .id = ids[i], .body = bodies[i],
				      .body_len = (size_t)lens[i], .received_ms = now - 100 };
	record_t r = { 0 };
	strcpy(r.id, "cdr-4");
	r.schema = 1;
	strcpy(r.call_id, "c4");
	strcpy(r.node, "rm-1");
	strcpy(r.tenant, "acme");
	r.start_ms = now - 3800;
	r.end_ms = now - 1000;
	r.sip_status = 487;
	r.disposition = REC_CANCELLED;
	int n = record_encode(&r, body, sizeof body);
	rows[3] = (rs_row_t){ .kind = RS_KIND_CDR, .id = r.id, .rec = &r, .body = body,
			      .body_len = (size_t)n, .received_ms = now - 100 };
	assert_int_equal(journal_append(j, rows, 4, err, sizeof err), 0);
	journal_close(j);
	/* a torn tail: half an entry */
	snprintf(cmd, sizeof cmd, "printf 'RSJ1xx' >> %s/rs.journal", cfg.journal_dir);
	assert_int_equal(system(cmd), 0);

	rt_usage_t *u = rt_usage_new();
	assert_int_equal(rt_load(u, &cfg, now, &ne, &nc, err, sizeof err), 0);
	assert_int_equal(ne, 5); /* e1's copy changes nothing */
	assert_int_equal(nc, 1);
	rt_stat_t *v;
	assert_int_equal(rt_usage_snapshot(u, RT_TENANT, NULL, now, NULL, &v), 1);
	assert_int_equal(v[0].in_progress, 2); /* c1, c3 */
	if ((now - 5000) / (24 * 3600000LL) == now / (24 * 3600000LL)) {
		assert_int_equal(v[0].arrivals_today, 4);
		assert_int_equal(v[0].peak_today, 3);
		assert_int_equal(v[0].peak_today_at, now - 3800);
	}
	free(v);
	rt_usage_free(u);
	(void)ins;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
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
		cmocka_unit_test(test_rebuild_with_journal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
