/* Unit tests for rs/write/quarantine.c with the real SQLite store in a temporary
 * directory: a batch with a row the database refuses is stored but for that row,
 * which goes to cdr_dead_letter once, also when the same batch comes again (a
 * resend after a lost RECEIPT, or the writer retrying a batch that failed half way),
 * and to DIR/rs.dead-letter when the dead-letter table refuses it too. A second
 * sqlite3 connection plays the DBA (triggers that refuse rows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "quarantine.h"
#include "record.h"
#include "store.h"

static char dir[64];
static rs_config_t cfg;
static rs_store_t *store;

static void dba(const char *sql)
{
	sqlite3 *db;
	char *e = NULL;

	assert_int_equal(sqlite3_open(cfg.sqlite_path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK)
		fail_msg("%s: %s", sql, e);
	sqlite3_close(db);
}

static long long q_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(cfg.sqlite_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int setup(void **state)
{
	char err[512] = "";

	snprintf(dir, sizeof(dir), "/tmp/test_quarantine.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	rs_config_defaults(&cfg);
	cfg.backend = RS_BACKEND_SQLITE;
	snprintf(cfg.sqlite_path, sizeof(cfg.sqlite_path), "%s/rs.db", dir);
	store = store_open(&cfg, err, sizeof(err));
	if (!store || store_migrate(store, err, sizeof(err))) {
		fprintf(stderr, "store: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct cdrs {
	char ids[4][32];
	char bodies[4][512];
	record_t recs[4];
	rs_row_t rows[4];
};

static void make_cdrs(struct cdrs *c, int n, const char *prefix)
{
	char field[32], err[256];

	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		memcpy(c->ids[i], id, sizeof(id));
		int len = snprintf(c->bodies[i], sizeof(c->bodies[i]),
				   "{\"id\":\"%s\",\"schema\":1,\"call_id\":\"%s@h\","
				   "\"node\":\"rm-1\",\"start_ms\":1700000000000,"
				   "\"end_ms\":1700000001000,\"duration_ms\":0,"
				   "\"disposition\":\"failed\",\"sip_status\":503,"
				   "\"ended_by\":\"rm\"}",
				   id, id);
		if (record_decode(c->bodies[i], (size_t)len, &c->recs[i], field, sizeof(field),
				  err, sizeof(err)))
			fail_msg("test record does not decode: %s", err);
		c->rows[i] = (rs_row_t){ RS_KIND_CDR, c->ids[i], &c->recs[i], c->bodies[i],
					 (size_t)len, 1000 + i };
	}
}

/* The same batch twice: the good rows are stored once (duplicates the second time),
 * the refused one is kept in cdr_dead_letter once. */
static void test_resend_dead_lettered(void **state)
{
	char err[512] = "";
	struct cdrs c;
	size_t ins = 0, q = 0;

	dba("CREATE TRIGGER refuse BEFORE INSERT ON cdr WHEN NEW.id = 'dl-1'"
	    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	make_cdrs(&c, 3, "dl");
	for (int round = 0; round < 2; round++)
		if (quarantine_insert(store, dir, c.rows, 3, &ins, &q, err, sizeof(err)))
			fail_msg("round %d: %s", round, err);
	assert_int_equal(ins, 2);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 2);
	long long dl = q_int("SELECT count(*) FROM cdr_dead_letter WHERE id = 'dl-1'");
	if (dl != 1)
		fail_msg("the resent record is %lld times in cdr_dead_letter", dl);
	assert_int_equal(q_int("SELECT count(*) FROM cdr_dead_letter"), 1);

	/* Another record under the same id (another body) is kept beside it. */
	c.bodies[1][strlen(c.bodies[1]) - 1] = ' ';
	assert_int_equal(quarantine_row(store, dir, &c.rows[1], "other", err, sizeof(err)), 0);
	assert_int_equal(q_int("SELECT count(*) FROM cdr_dead_letter WHERE id = 'dl-1'"), 2);
}

/* The dead-letter table refuses the row too: it goes to DIR/rs.dead-letter. */
static void test_dead_letter_file(void **state)
{
	char err[512] = "", path[128], line[4096];
	struct cdrs c;
	size_t ins = 0, q = 0;

	dba("CREATE TRIGGER refuse BEFORE INSERT ON cdr WHEN NEW.id = 'df-0'"
	    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
	    "CREATE TRIGGER refuse_dl BEFORE INSERT ON cdr_dead_letter"
	    " BEGIN SELECT RAISE(ABORT, 'dead letter refused too'); END");
	make_cdrs(&c, 2, "df");
	assert_int_equal(quarantine_insert(store, dir, c.rows, 2, &ins, &q, err, sizeof(err)), 0);
	assert_int_equal(ins, 1);
	assert_int_equal(q, 1);
	snprintf(path, sizeof(path), "%s/rs.dead-letter", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(strstr(line, "\"id\":\"df-0\""));
	assert_non_null(strstr(line, "refused by the test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resend_dead_lettered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_letter_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
