/* Unit tests for rs/store/store_pg.c through the public store API, against a real
 * throwaway PostgreSQL 15 (scripts/pg-start, a few seconds) on a free loopback port:
 * schema, inserts idempotent on id with duplicates counted as n - inserted, a row the
 * database refuses (SQLSTATE class 23) reported as STORE_EROW with nothing of its
 * batch stored, any other failure as -1, the dead-letter table, and a server that
 * goes away and comes back (ping and insert fail, then reconnect), and a connection
 * the server killed (an ok ping must mean a working connection). A libpq
 * connection of the test's own plays the DBA. $TOP (set by tests/run) or the current
 * directory finds scripts/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "config.h"
#include "record.h"
#include "store.h"
#include "store_schema.h"

static char dir[64];
static int port;
static rs_config_t cfg;

static const char *top(void)
{
	const char *t = getenv("TOP");
	return t && t[0] ? t : ".";
}

static int pg_script(const char *what)
{
	char cmd[512];
	if (!strcmp(what, "pg-start"))
		snprintf(cmd, sizeof(cmd), "%s/scripts/pg-start %s/pg %d >%s/pg-start.log 2>&1",
			 top(), dir, port, dir);
	else
		snprintf(cmd, sizeof(cmd), "%s/scripts/pg-stop %s/pg >/dev/null 2>&1", top(), dir);
	return system(cmd);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

/* One server for the whole group (initdb takes seconds). */
static int group_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_store_pg.XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755)) /* the postgres user must reach DIR/pg */
		return -1;
	port = free_port();
	if (port < 0 || pg_script("pg-start")) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "cat %s/pg-start.log >&2", dir);
		if (system(cmd)) {
		}
		fprintf(stderr, "test_store_pg: scripts/pg-start failed\n");
		return -1;
	}
	rs_config_defaults(&cfg);
	cfg.backend = RS_BACKEND_POSTGRESQL;
	snprintf(cfg.pg_conninfo, sizeof(cfg.pg_conninfo),
		 "host=127.0.0.1 port=%d dbname=rs user=postgres", port);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	pg_script("pg-stop");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The DBA: run sql; the first value of its first row into out (if out). */
static void dba(const char *sql, char *out, size_t cap)
{
	PGconn *c = PQconnectdb(cfg.pg_conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("DBA connection: %s", PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	if (out) {
		out[0] = 0;
		if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	PQfinish(c);
}

static long long q_int(const char *sql)
{
	char v[64];
	dba(sql, v, sizeof(v));
	return v[0] ? atoll(v) : -1;
}

/* Each test starts on empty tables. */
static int setup(void **state)
{
	char err[512] = "";
	rs_store_t *s = store_open(&cfg, err, sizeof(err));
	assert_non_null(s);
	if (store_migrate(s, err, sizeof(err)))
		fail_msg("store_migrate: %s", err);
	store_close(s);
	dba("SET client_min_messages = warning; TRUNCATE cdr, events, metrics, cdr_dead_letter,"
	    " rollup_5m, rollup_30m, rollup_hour, rollup_day, rollup_cp;"
	    "DROP TRIGGER IF EXISTS refuse ON cdr; DROP TABLE IF EXISTS fault", NULL, 0);
	return 0;
}

struct cdrs {
	char ids[8][32];
	char bodies[8][512];
	record_t recs[8];
	rs_row_t rows[8];
};

static void make_cdrs(struct cdrs *c, int n, const char *prefix)
{
	char field[32], err[256];

	for (int i = 0; i < n; i++) {
		char id[32]; /* formatted apart: c's own fields must not be snprintf's source */
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		memcpy(c->ids[i], id, sizeof(id));
		int len = snprintf(c->bodies[i], sizeof(c->bodies[i]),
				   "{\"id\":\"%s\",\"schema\":1,\"call_id\":\"%s@h\","
				   "\"node\":\"rm-1\",\"tenant\":\"t\",\"start_ms\":1700000000000,"
				   "\"answer_ms\":1700000000100,\"end_ms\":1700000030100,"
				   "\"duration_ms\":30000,\"disposition\":\"answered\","
				   "\"sip_status\":200,\"ended_by\":\"caller\",\"attempts\":1}",
				   id, id);
		if (record_decode(c->bodies[i], (size_t)len, &c->recs[i], field, sizeof(field),
				  err, sizeof(err)))
			fail_msg("test record does not decode: %s", err);
		c->rows[i] = (rs_row_t){ RS_KIND_CDR, c->ids[i], &c->recs[i], c->bodies[i],
					 (size_t)len, 1000 + i };
	}
}

static rs_store_t *open_store(void)
{
	char err[512] = "";
	rs_store_t *s = store_open(&cfg, err, sizeof(err));
	assert_non_null(s);
	return s;
}

static void test_schema(void **state)
{
	char err[512] = "";
	rs_store_t *s = open_store();

	assert_int_equal(store_migrate(s, err, sizeof(err)), 0); /* again: no change */
	assert_int_equal(q_int("SELECT max(version) FROM rs_schema"), 5);
	assert_int_equal(q_int("SELECT count(*) FROM rs_schema"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM information_schema.tables WHERE"
			       " table_name IN ('cdr', 'events', 'metrics', 'cdr_dead_letter',"
			       " 'rollup_5m', 'rollup_30m', 'rollup_hour', 'rollup_day',"
			       " 'rollup_cp')"),
			 9);
	assert_int_equal(store_ping(s, err, sizeof(err)), 0);
	store_close(s);
}

/* A version-1 database (no rollups) with two records migrates to version 5 with the
 * rollups of those records: a call across the 5-minute edge and a zero-length one;
 * rollup_cp keeps the dns' change points only. */
static void test_migrate_v1(void **state)
{
	char err[512] = "";
	dba("DROP TABLE rollup_5m, rollup_30m, rollup_hour, rollup_day, rollup_cp, cdr, cdr_id;"
	    " DELETE FROM rs_schema; INSERT INTO rs_schema VALUES (1);" STORE_SCHEMA_V1("BIGINT", "JSON")
	    "INSERT INTO cdr (id, schema, call_id, node, tenant, start_ms, end_ms, duration_ms,"
	    " disposition, sip_status, ended_by, attempts, body, received_ms) VALUES"
	    " ('m1', 1, 'c1', 'n', 'acme', 1000, 400000, 0, 'failed', 500, 'rm', 1, '{}', 1),"
	    " ('m2', 1, 'c2', 'n', NULL, 300000, 300000, 0, 'failed', 500, 'rm', 1, '{}', 1);", NULL, 0);
	rs_store_t *s = open_store();
	if (store_migrate(s, err, sizeof(err)))
		fail_msg("store_migrate: %s", err);
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
	/* the records moved into the partitioned cdr, their ids into cdr_id */
	assert_int_equal(q_int("SELECT count(*) FROM cdr_1970_01"), 2);
	assert_int_equal(q_int("SELECT count(*) FROM cdr_id"), 2);
	assert_int_equal(store_ping(s, err, sizeof(err)), 0);
	store_close(s);
}

/* Brute force over calls (st[i], en[i]): a 5-minute bucket's arrivals, calls in
 * progress at b, and the most in progress at any instant of it. */
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

/* A version-1 database of 30,000 calls migrates with rollups equal to a brute force
 * (as test_store_sqlite's): the backfill reads them 20,000 at a time in (start_ms,
 * id) order; three calls share each start, so one start straddles the chunk edge; one
 * in 40 lasts hours. Checked: every 5-minute bucket of scope 'a' and of tenant t1. */
static void test_migrate_v1_chunks(void **state)
{
	enum { N = 30000 };
	static long long st[N], en[N], s1[N], e1[N];
	char err[512] = "";
	int n1 = 0, checked = 0;

	dba("DROP TABLE rollup_5m, rollup_30m, rollup_hour, rollup_day, rollup_cp, cdr, cdr_id;"
	    " DELETE FROM rs_schema; INSERT INTO rs_schema VALUES (1);" STORE_SCHEMA_V1("BIGINT", "JSON")
	    "INSERT INTO cdr (id, schema, call_id, node, tenant, profile, dnis, start_ms, end_ms,"
	    " duration_ms, disposition, sip_status, ended_by, attempts, body, received_ms)"
	    " SELECT 'k' || lpad((29999 - i)::text, 5, '0'), 1, 'c', 'n', 't' || (i % 2), 'p',"
	    " '80' || (i % 3), (i / 3) * 7001, (i / 3) * 7001 + CASE WHEN i % 40 = 0"
	    " THEN 3 * 3600000 ELSE (i * 7919) % 900000 END, 0, 'failed', 500, 'rm', 1, '{}', 1"
	    " FROM generate_series(0, 29999) i;", NULL, 0);
	rs_store_t *s = open_store();
	if (store_migrate(s, err, sizeof(err)))
		fail_msg("store_migrate: %s", err);
	store_close(s);
	for (int i = 0; i < N; i++) {
		st[i] = (i / 3) * 7001LL;
		en[i] = st[i] + (i % 40 == 0 ? 3 * 3600000LL : (i * 7919LL) % 900000);
		if (i % 2) {
			s1[n1] = st[i];
			e1[n1++] = en[i];
		}
	}
	PGconn *c = PQconnectdb(cfg.pg_conninfo);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, "SELECT scope, bucket_ms, arrivals, open_at_start, peak FROM"
				" rollup_5m WHERE scope = 'a' OR (scope = 't' AND skey = 't1')"
				" ORDER BY scope, bucket_ms");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(r); i++) {
		long long b = atoll(PQgetvalue(r, i, 1)), arr, open, peak;
		if (PQgetvalue(r, i, 0)[0] == 'a')
			brute_bucket(st, en, N, b, &arr, &open, &peak);
		else
			brute_bucket(s1, e1, n1, b, &arr, &open, &peak);
		if (arr != atoll(PQgetvalue(r, i, 2)) || open != atoll(PQgetvalue(r, i, 3)) ||
		    peak != atoll(PQgetvalue(r, i, 4)))
			fail_msg("%s bucket %lld: %s %s %s, brute force %lld %lld %lld",
				 PQgetvalue(r, i, 0), b, PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
				 PQgetvalue(r, i, 4), arr, open, peak);
		checked++;
	}
	PQclear(r);
	PQfinish(c);
	assert_true(checked > 500);
	assert_int_equal(q_int("SELECT sum(arrivals) FROM rollup_day WHERE scope = 'a'"), N);
	assert_int_equal(q_int("SELECT count(*) FROM rollup_cp WHERE scope <> 'd'"), 0);
}

static void test_idempotent(void **state)
{
	char err[512] = "", v[256];
	struct cdrs c;
	size_t ins = 99;
	static const char ev[] = "{\"id\":\"ev-1\",\"schema\":1,\"type\":\"call.start\"}";
	rs_store_t *s = open_store();

	make_cdrs(&c, 5, "dup");
	c.rows[4] = (rs_row_t){ RS_KIND_EVENT, "ev-1", NULL, ev, sizeof(ev) - 1, 5 };
	assert_int_equal(store_insert_batch(s, c.rows, 3, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 3);
	assert_int_equal(store_insert_batch(s, c.rows, 3, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 0); /* three duplicates: n - inserted */
	assert_int_equal(store_insert_batch(s, c.rows + 1, 4, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 2);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 4);
	assert_int_equal(q_int("SELECT count(*) FROM events"), 1);
	dba("SELECT call_id || '|' || disposition || '|' || ended_by || '|' || duration_ms"
	    " || '|' || received_ms FROM cdr WHERE id = 'dup-0'",
	    v, sizeof(v));
	assert_string_equal(v, "dup-0@h|answered|caller|30000|1000");
	store_close(s);
}

static void test_row_fault(void **state)
{
	char err[512] = "", v[256];
	struct cdrs c;
	size_t ins = 0;
	rs_store_t *s = open_store();

	dba("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	    " IF NEW.id = 'rf-2' THEN RAISE EXCEPTION 'row refused by the test'"
	    " USING ERRCODE = 'check_violation'; END IF;"
	    " IF EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'fault') THEN"
	    " RAISE EXCEPTION 'database fault by the test'; END IF;"
	    " RETURN NEW; END $$;"
	    "CREATE TRIGGER refuse BEFORE INSERT ON cdr FOR EACH ROW EXECUTE FUNCTION refuse()",
	    NULL, 0);
	make_cdrs(&c, 4, "rf");
	assert_int_equal(store_insert_batch(s, c.rows, 4, &ins, err, sizeof(err)), STORE_EROW);
	assert_non_null(strstr(err, "row refused by the test"));
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 0); /* one transaction */
	assert_int_equal(store_insert_batch(s, c.rows, 2, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 2);

	assert_int_equal(store_quarantine(s, &c.rows[2], "row refused by the test", err,
					  sizeof(err)),
			 0);
	dba("SELECT id || '|' || kind || '|' || error FROM cdr_dead_letter", v, sizeof(v));
	assert_string_equal(v, "rf-2|cdr|row refused by the test");
	/* the same record refused again (resent, or its batch retried): no second row */
	assert_int_equal(store_quarantine(s, &c.rows[2], "refused again", err, sizeof(err)), 0);
	assert_int_equal(q_int("SELECT count(*) FROM cdr_dead_letter WHERE id = 'rf-2'"), 1);

	/* a failure that is not the row's (SQLSTATE P0001) is -1: retry later */
	dba("CREATE TABLE fault (x int)", NULL, 0);
	assert_int_equal(store_insert_batch(s, c.rows + 3, 1, &ins, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "database fault by the test"));
	dba("DROP TABLE fault; DROP TRIGGER refuse ON cdr; DROP FUNCTION refuse()", NULL, 0);
	assert_int_equal(store_insert_batch(s, c.rows + 3, 1, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 1);
	store_close(s);
}

/* Ping up to max times, 100 ms apart (the store may wait out a back-off). The number
 * of pings it took, or -1 (err says why). */
static int ping_until_ok(rs_store_t *s, int max, char *err, size_t errlen)
{
	for (int i = 1; i <= max; i++) {
		if (store_ping(s, err, errlen) == 0)
			return i;
		usleep(100000);
	}
	return -1;
}

/* The server stops: ping and insert answer -1 (nothing stored); it comes back: the
 * same store reconnects and the batch goes in. */
static void test_server_away(void **state)
{
	char err[512] = "";
	struct cdrs c;
	size_t ins = 0;
	rs_store_t *s = open_store();

	make_cdrs(&c, 2, "away");
	assert_int_equal(store_ping(s, err, sizeof(err)), 0);
	assert_int_equal(pg_script("pg-stop"), 0);
	assert_int_equal(store_ping(s, err, sizeof(err)), -1);
	assert_true(err[0] != 0);
	assert_int_equal(store_insert_batch(s, c.rows, 2, &ins, err, sizeof(err)), -1);
	assert_int_equal(pg_script("pg-start"), 0);
	if (ping_until_ok(s, 50, err, sizeof(err)) < 0)
		fail_msg("no ok ping in 5 s: %s", err);
	assert_int_equal(store_insert_batch(s, c.rows, 2, &ins, err, sizeof(err)), 0);
	assert_int_equal(ins, 2);
	assert_int_equal(q_int("SELECT count(*) FROM cdr WHERE id LIKE 'away-%'"), 2);
	store_close(s);
}

/* The server stays up but kills the store's connection (a DBA, a failover, an idle
 * timeout in between): libpq still says CONNECTION_OK, so only a query shows it.
 * store_ping may answer -1 once, but never "ok" on the dead connection: an ok ping
 * means the next insert goes through at once. */
static void test_dead_connection(void **state)
{
	char err[512] = "";
	struct cdrs c;
	size_t ins = 0;
	rs_store_t *s = open_store();

	make_cdrs(&c, 1, "dead");
	assert_int_equal(store_ping(s, err, sizeof(err)), 0);
	assert_int_equal(q_int("SELECT count(*) FROM (SELECT pg_terminate_backend(pid)"
			       " FROM pg_stat_activity WHERE datname = 'rs'"
			       " AND pid <> pg_backend_pid()) t"), 1);
	int tries = ping_until_ok(s, 20, err, sizeof(err));
	if (tries < 0)
		fail_msg("no ok ping in 2 s: %s", err);
	if (store_insert_batch(s, c.rows, 1, &ins, err, sizeof(err)))
		fail_msg("ping said ok (after %d pings) on a dead connection; insert: %s",
			 tries, err);
	assert_int_equal(ins, 1);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_schema, setup),
		cmocka_unit_test_setup(test_migrate_v1, setup),
		cmocka_unit_test_setup(test_migrate_v1_chunks, setup),
		cmocka_unit_test_setup(test_idempotent, setup),
		cmocka_unit_test_setup(test_row_fault, setup),
		cmocka_unit_test_setup(test_dead_connection, setup),
		cmocka_unit_test_setup(test_server_away, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
