/* Unit tests for rs/store/store_sqlite.c through the public store API, on a real
 * SQLite file in a temporary directory: the schema store_migrate makes (and refuses to
 * downgrade), decoded CDR columns, inserts idempotent on id with duplicates counted
 * as n - inserted, a row the database refuses reported as STORE_EROW with nothing of
 * its batch stored, any other failure as -1, and the dead-letter table. A second
 * sqlite3 connection plays the DBA: it reads what the store wrote and breaks the
 * database on purpose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "record.h"
#include "store.h"

static char dir[64];
static rs_config_t cfg;

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_store_sqlite.XXXXXX");
	assert_non_null(mkdtemp(dir));
	rs_config_defaults(&cfg);
	cfg.backend = RS_BACKEND_SQLITE;
	snprintf(cfg.sqlite_path, sizeof(cfg.sqlite_path), "%s/rs.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static rs_store_t *open_migrated(void)
{
	char err[512] = "";
	rs_store_t *s = store_open(&cfg, err, sizeof(err));
	assert_non_null(s);
	if (store_migrate(s, err, sizeof(err)))
		fail_msg("store_migrate: %s", err);
	return s;
}

/* The DBA's connection: one integer from sql (-1 when it returns no row). */
static long long q_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(cfg.sqlite_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The DBA's connection: one text value from sql into out ("" when none or NULL). */
static void q_text(const char *sql, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	out[0] = 0;
	assert_int_equal(sqlite3_open(cfg.sqlite_path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void dba(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(cfg.sqlite_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

/* A CDR row: bodies[i] holds its JSON, recs[i] the record decoded from it. */
struct cdrs {
	char ids[8][32];
	char bodies[8][512];
	record_t recs[8];
	rs_row_t rows[8];
};

static void make_cdrs(struct cdrs *c, int n, const char *prefix, const char *tenant)
{
	char field[32], err[256];

	for (int i = 0; i < n; i++) {
		char id[32]; /* formatted apart: c's own fields must not be snprintf's source */
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		memcpy(c->ids[i], id, sizeof(id));
		int len = snprintf(c->bodies[i], sizeof(c->bodies[i]),
				   "{\"id\":\"%s\",\"schema\":1,\"call_id\":\"%s@h\","
				   "\"node\":\"rm-1\",\"tenant\":\"%s\",\"start_ms\":1700000000000,"
				   "\"answer_ms\":1700000000100,\"end_ms\":1700000030100,"
				   "\"duration_ms\":30000,\"disposition\":\"answered\","
				   "\"sip_status\":200,\"ended_by\":\"caller\",\"attempts\":1}",
				   id, id, tenant);
		if (record_decode(c->bodies[i], (size_t)len, &c->recs[i], field, sizeof(field),
				  err, sizeof(err)))
			fail_msg("test record does not decode: %s", err);
		c->rows[i] = (rs_row_t){ RS_KIND_CDR, c->ids[i], &c->recs[i], c->bodies[i],
					 (size_t)len, 1000 + i };
	}
}

static void test_schema(void **state)
{
	char err[512] = "";
	rs_store_t *s = open_migrated();

	assert_int_equal(q_int("SELECT max(version) FROM rs_schema"), 5);
	static const char *const tables[] = { "cdr",        "events",     "metrics",
					      "cdr_dead_letter", "rollup_5m", "rollup_30m",
					      "rollup_hour", "rollup_day", "rollup_cp" };
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
			 tables[i]);
		if (q_int(sql) != 1)
			fail_msg("table %s missing after store_migrate", tables[i]);
	}
	assert_int_equal(store_ping(s, err, sizeof(err)), 0);
	/* migrating again changes nothing (and records no second version) */
	assert_int_equal(store_migrate(s, err, sizeof(err)), 0);
	assert_int_equal(q_int("SELECT count(*) FROM rs_schema"), 1);
	store_close(s);

	/* a database made by a newer rs is refused, with a sentence that says so */
	dba("INSERT INTO rs_schema(version) VALUES (6)");
	s = store_open(&cfg, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_migrate(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
	store_close(s);
}

/* A version-1 database (no rollups) with two records migrates to version 5 with the
 * rollups of those records: a call across the 5-minute edge and a zero-length one;
 * rollup_cp keeps the dns' change points only. */
static void test_migrate_v1(void **state)
{
	char err[512] = "";
	rs_store_t *s = open_migrated();
	store_close(s);
	dba("DROP TABLE rollup_5m; DROP TABLE rollup_30m; DROP TABLE rollup_hour;"
	    " DROP TABLE rollup_day; DROP TABLE rollup_cp; DELETE FROM rs_schema;"
	    " INSERT INTO rs_schema VALUES (1);"
	    "INSERT INTO cdr (id, schema, call_id, node, tenant, start_ms, end_ms, duration_ms,"
	    " disposition, sip_status, ended_by, attempts, body, received_ms) VALUES"
	    " ('m1', 1, 'c1', 'n', 'acme', 1000, 400000, 0, 'failed', 500, 'rm', 1, '{}', 1),"
	    " ('m2', 1, 'c2', 'n', NULL, 300000, 300000, 0, 'failed', 500, 'rm', 1, '{}', 1);");
	s = open_migrated();
	assert_int_equal(q_int("SELECT max(version) FROM rs_schema"), 5);
	assert_int_equal(q_int("SELECT count(*) FROM rollup_5m WHERE scope = 'a'"), 2);
	assert_int_equal(q_int("SELECT arrivals * 100 + open_at_start * 10 + peak FROM rollup_5m"
			       " WHERE scope = 'a' AND bucket_ms = 0"), 101);
	assert_int_equal(q_int("SELECT arrivals * 100 + open_at_start * 10 + peak FROM rollup_5m"
			       " WHERE scope = 'a' AND bucket_ms = 300000"), 111);
	assert_int_equal(q_int("SELECT arrivals * 10 + peak FROM rollup_hour WHERE scope = 't'"
			       " AND skey = 'acme'"), 11);
	assert_int_equal(q_int("SELECT sum(delta) * 10 + count(*) FROM rollup_cp WHERE scope = 'd'"), 2);
	assert_int_equal(q_int("SELECT count(*) FROM rollup_cp WHERE scope <> 'd'"), 0);
	assert_int_equal(store_ping(s, err, sizeof(err)), 0);
	store_close(s);
}

/* Brute force over the calls of one scope key (start[i], end[i]): a 5-minute bucket's
 * arrivals, calls in progress at b, and the most in progress at any instant of it. */
static void brute_bucket(const long long *st, const long long *en, int n, long long b,
			 long long *arr, long long *open, long long *peak)
{
	*arr = *open = 0;
	for (int i = 0; i < n; i++) {
		*arr += st[i] >= b && st[i] < b + 300000;
		*open += st[i] <= b && b < en[i];
	}
	*peak = *open;
	for (int k = 0; k < n; k++) { /* the level just after each start inside */
		long long t = st[k], lvl = 0;
		if (t <= b || t >= b + 300000 || en[k] <= t)
			continue;
		for (int i = 0; i < n; i++)
			lvl += st[i] <= t && t < en[i];
		if (lvl > *peak)
			*peak = lvl;
	}
}

/* A version-1 database of 30,000 calls migrates with rollups equal to a brute force:
 * the backfill reads them in chunks of 20,000 in (start_ms, id) order, and a bucket it
 * has not in memory is read back from cdr, which then also holds the calls of later
 * chunks (three calls share each start, so one start straddles the chunk edge; one
 * in 40 lasts hours). Checked: every bucket of scope 'a' and of tenant t1. (The
 * writer's cache keeps every bucket here, so no bucket is read back: that needs a
 * chunk touching more than ROLLUP_CACHE_ENTRIES buckets, too big for a unit test.) */
static void test_migrate_v1_chunks(void **state)
{
	enum { N = 30000 };
	static long long st[N], en[N];
	char sql[256];
	rs_store_t *s = open_migrated();
	store_close(s);
	dba("DROP TABLE rollup_5m; DROP TABLE rollup_30m; DROP TABLE rollup_hour;"
	    " DROP TABLE rollup_day; DROP TABLE rollup_cp; DELETE FROM rs_schema;"
	    " INSERT INTO rs_schema VALUES (1);"
	    "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < 29999)"
	    " INSERT INTO cdr (id, schema, call_id, node, tenant, profile, dnis, start_ms, end_ms,"
	    " duration_ms, disposition, sip_status, ended_by, attempts, body, received_ms)"
	    " SELECT printf('k%05d', 29999 - i), 1, 'c', 'n', 't' || (i % 2), 'p', '80' || (i % 3),"
	    " (i / 3) * 7001, (i / 3) * 7001 + CASE WHEN i % 40 = 0 THEN 3 * 3600000"
	    " ELSE (i * 7919) % 900000 END, 0, 'failed', 500, 'rm', 1, '{}', 1 FROM g;");
	s = open_migrated();
	assert_int_equal(q_int("SELECT max(version) FROM rs_schema"), 5);
	store_close(s);
	for (int i = 0; i < N; i++) {
		st[i] = (i / 3) * 7001LL;
		en[i] = st[i] + (i % 40 == 0 ? 3 * 3600000LL : (i * 7919LL) % 900000);
	}
	long long last = en[0];
	for (int i = 0; i < N; i++)
		if (en[i] > last)
			last = en[i];
	static long long s1[N], e1[N];
	int n1 = 0, checked = 0;
	for (int i = 1; i < N; i += 2) {
		s1[n1] = st[i];
		e1[n1++] = en[i];
	}
	for (long long b = 0; b < last; b += 300000) {
		long long arr, open, peak;
		brute_bucket(st, en, N, b, &arr, &open, &peak);
		snprintf(sql, sizeof(sql), "SELECT arrivals * 1000000 + open_at_start * 1000 + peak"
			 " FROM rollup_5m WHERE scope = 'a' AND bucket_ms = %lld", b);
		assert_int_equal(q_int(sql), arr || open || peak ? arr * 1000000 + open * 1000 + peak : -1);
		brute_bucket(s1, e1, n1, b, &arr, &open, &peak);
		snprintf(sql, sizeof(sql), "SELECT arrivals * 1000000 + open_at_start * 1000 + peak"
			 " FROM rollup_5m WHERE scope = 't' AND skey = 't1' AND bucket_ms = %lld", b);
		assert_int_equal(q_int(sql), arr || open || peak ? arr * 1000000 + open * 1000 + peak : -1);
		checked++;
	}
	assert_true(checked > 250);
	assert_int_equal(q_int("SELECT sum(arrivals) FROM rollup_day WHERE scope = 'a'"), N);
}

static void test_columns(void **state)
{
	char err[512] = "", v[256];
	struct cdrs c;
	size_t ins = 0;
	rs_store_t *s = open_migrated();

	make_cdrs(&c, 1, "col", "");
	assert_int_equal(store_insert_batch(s, c.rows, 1, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 1);
	q_text("SELECT call_id || '|' || node || '|' || disposition || '|' || ended_by ||"
	       " '|' || sip_status || '|' || duration_ms || '|' || answer_ms || '|' ||"
	       " received_ms FROM cdr WHERE id = 'col-0'",
	       v, sizeof(v));
	assert_string_equal(v, "col-0@h|rm-1|answered|caller|200|30000|1700000000100|1000");
	/* an empty optional string is stored as NULL, not '' */
	assert_int_equal(q_int("SELECT count(*) FROM cdr WHERE tenant IS NULL"), 1);
	/* the body is kept as received */
	q_text("SELECT body FROM cdr WHERE id = 'col-0'", v, sizeof(v));
	assert_string_equal(v, c.bodies[0]);
	store_close(s);
}

static void test_idempotent(void **state)
{
	char err[512] = "";
	struct cdrs c;
	size_t ins = 99;
	static const char ev[] = "{\"id\":\"ev-1\",\"schema\":1,\"type\":\"call.start\"}";
	static const char mt[] = "{\"id\":\"m-1\",\"schema\":1,\"calls\":3}";
	rs_store_t *s = open_migrated();

	make_cdrs(&c, 6, "dup", "t");
	c.rows[4] = (rs_row_t){ RS_KIND_EVENT, "ev-1", NULL, ev, sizeof(ev) - 1, 5 };
	c.rows[5] = (rs_row_t){ RS_KIND_METRIC, "m-1", NULL, mt, sizeof(mt) - 1, 6 };

	/* an empty batch is no transaction at all */
	assert_int_equal(store_insert_batch(s, c.rows, 0, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 0);
	assert_int_equal(store_insert_batch(s, c.rows, 3, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 3);
	/* the same three again: nothing new, three duplicates (n - inserted) */
	assert_int_equal(store_insert_batch(s, c.rows, 3, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 0);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 3);
	/* two old CDRs, one new CDR, an event and a metrics record: 3 new */
	assert_int_equal(store_insert_batch(s, c.rows + 1, 5, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 3);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 4);
	assert_int_equal(q_int("SELECT count(*) FROM events WHERE id = 'ev-1'"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM metrics WHERE id = 'm-1'"), 1);
	/* a duplicate id within one batch counts once */
	rs_row_t twice[2] = { c.rows[4], c.rows[4] };
	assert_int_equal(store_insert_batch(s, twice, 2, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 0);
	/* the first copy of a record wins: a resend with another body changes nothing */
	struct cdrs other;
	make_cdrs(&other, 1, "dup", "someone-else");
	assert_int_equal(store_insert_batch(s, other.rows, 1, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 0);
	assert_int_equal(q_int("SELECT count(*) FROM cdr WHERE tenant = 't'"), 4);
	store_close(s);
}

static void test_row_fault(void **state)
{
	char err[512] = "", v[256];
	struct cdrs c;
	size_t ins = 0;
	rs_store_t *s = open_migrated();

	/* the database refuses one row for what it holds (a trigger stands in for a
	 * constraint the row breaks) */
	dba("CREATE TRIGGER refuse BEFORE INSERT ON cdr WHEN NEW.id = 'rf-2'"
	    " BEGIN SELECT RAISE(ABORT, 'row refused by the test'); END");
	make_cdrs(&c, 4, "rf", "t");
	int rc = store_insert_batch(s, c.rows, 4, &ins, err, sizeof(err));
	assert_int_equal(rc, STORE_EROW);
	assert_non_null(strstr(err, "row refused by the test"));
	/* the batch is one transaction: its good rows are not stored either */
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 0);
	/* the rows around it go in once it is left out */
	assert_int_equal(store_insert_batch(s, c.rows, 2, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 2);

	/* the refused row goes to the dead-letter table, with why */
	assert_int_equal(store_quarantine(s, &c.rows[2], "row refused by the test", err,
					  sizeof(err)),
			 0);
	q_text("SELECT id || '|' || kind || '|' || error || '|' || received_ms FROM"
	       " cdr_dead_letter",
	       v, sizeof(v));
	assert_string_equal(v, "rf-2|cdr|row refused by the test|1002");
	q_text("SELECT CAST(body AS TEXT) FROM cdr_dead_letter", v, sizeof(v));
	assert_string_equal(v, c.bodies[2]);

	/* a failure that is not the row's (here an integer overflow in a trigger) is
	 * -1: the caller retries the batch later */
	dba("CREATE TABLE fault (x INTEGER); INSERT INTO fault VALUES (1);"
	    "CREATE TRIGGER fault BEFORE INSERT ON cdr WHEN (SELECT count(*) FROM fault) > 0"
	    " BEGIN SELECT abs(-9223372036854775807 - 1); END");
	rc = store_insert_batch(s, c.rows + 3, 1, &ins, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "overflow"));
	dba("DELETE FROM fault");
	assert_int_equal(store_insert_batch(s, c.rows + 3, 1, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 1);
	store_close(s);
}

static void test_open_error(void **state)
{
	char err[512] = "";

	snprintf(cfg.sqlite_path, sizeof(cfg.sqlite_path), "%s/no/such/dir/rs.db", dir);
	assert_null(store_open(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "no/such/dir/rs.db"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
