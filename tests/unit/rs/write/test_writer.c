/* Unit tests for rs/write/writer.c with the real SQLite store and journal in a
 * temporary directory: group commit (what queued while a batch committed goes in the
 * next, up to batch_max), items handed back (receipts) only once durable, the journal
 * while the store fails and its replay when it is back, and a row the store refuses
 * quarantined while the rest of its batch is stored (once, however often it is
 * resent). A second sqlite3 connection plays the DBA: it holds the write lock, or
 * adds triggers that fail every insert or refuse one row. The test thread plays rs's
 * loop thread (submit, take_done). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "journal.h"
#include "record.h"
#include "rs_metrics.h"
#include "store.h"
#include "writer.h"

#define MAXN 200

static char dir[64];
static rs_config_t cfg;
static rs_metrics_t m;
static rs_store_t *store;
static journal_t *journal;
static rs_writer_t *w;

/* notify: the writer thread says finished items wait on the done list */
static pthread_mutex_t nmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ncv = PTHREAD_COND_INITIALIZER;
static int notified;

/* items handed back so far, in order */
static rs_item_t *done[MAXN];
static size_t ndone;

static void notify(void *arg)
{
	pthread_mutex_lock(&nmu);
	notified = 1;
	pthread_cond_signal(&ncv);
	pthread_mutex_unlock(&nmu);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take what the writer handed back into done[], waiting up to ms for at least want
 * items in all. Returns how many there are. */
static size_t take(size_t want, int ms)
{
	int64_t end = now_ms() + ms;

	for (;;) {
		for (rs_item_t *it = writer_take_done(w), *n; it; it = n) {
			n = it->next;
			assert_true(ndone < MAXN);
			done[ndone++] = it;
		}
		if (ndone >= want || now_ms() >= end)
			return ndone;
		pthread_mutex_lock(&nmu);
		if (!notified) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&ncv, &nmu, &ts);
		}
		notified = 0;
		pthread_mutex_unlock(&nmu);
	}
}

/* Poll until metric reaches want (or ms pass); returns its value. */
static double wait_metric(metric_t *mt, double want, int ms)
{
	int64_t end = now_ms() + ms;
	while (metric_value(mt) < want && now_ms() < end) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return metric_value(mt);
}

static void submit_cdrs(const char *prefix, int n)
{
	char id[64], body[512], field[32], err[256];
	record_t r;

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		int len = snprintf(body, sizeof(body),
				   "{\"id\":\"%s\",\"schema\":1,\"call_id\":\"%s@h\","
				   "\"node\":\"rm-1\",\"start_ms\":1700000000000,"
				   "\"end_ms\":1700000001000,\"duration_ms\":0,"
				   "\"disposition\":\"rejected\",\"sip_status\":503,"
				   "\"ended_by\":\"rm\"}",
				   id, id);
		if (record_decode(body, (size_t)len, &r, field, sizeof(field), err, sizeof(err)))
			fail_msg("test record does not decode: %s", err);
		char receipt[80];
		snprintf(receipt, sizeof(receipt), "r-%s", id);
		rs_item_t *it = writer_item_new(RS_KIND_CDR, id, &r, body, (size_t)len, receipt,
						1000 + i);
		assert_non_null(it);
		writer_submit(w, it);
	}
}

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
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Run sql on a connection of its own; returns that connection (the caller closes
 * it), so a transaction can stay open. */
static sqlite3 *dba(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(cfg.sqlite_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	return db;
}

/* The writer and what it writes through, not yet started (tests queue first). */
static int setup(void **state)
{
	char err[512];

	snprintf(dir, sizeof(dir), "/tmp/test_writer.XXXXXX");
	assert_non_null(mkdtemp(dir));
	rs_config_defaults(&cfg);
	cfg.backend = RS_BACKEND_SQLITE;
	snprintf(cfg.sqlite_path, sizeof(cfg.sqlite_path), "%s/rs.db", dir);
	snprintf(cfg.journal_dir, sizeof(cfg.journal_dir), "%s/journal", dir);
	cfg.batch_max = 40;
	cfg.retry_ms = 50;
	assert_int_equal(rs_metrics_init(&m), 0);
	store = store_open(&cfg, err, sizeof(err));
	assert_non_null(store);
	assert_int_equal(store_migrate(store, err, sizeof(err)), 0);
	journal = journal_open(cfg.journal_dir, err, sizeof(err));
	assert_non_null(journal);
	w = writer_new(&cfg, store, journal, &m, notify, NULL);
	assert_non_null(w);
	ndone = 0;
	notified = 0;
	return 0;
}

static void start(void)
{
	char err[512];
	if (writer_start(w, err, sizeof(err)))
		fail_msg("writer_start: %s", err);
}

static int teardown(void **state)
{
	char cmd[128];

	writer_stop(w);
	for (int i = 0; i < 500 && !writer_finished(w); i++)
		take(0, 10);
	take(0, 0);
	writer_free(w);
	for (size_t i = 0; i < ndone; i++)
		free(done[i]);
	journal_close(journal);
	store_close(store);
	rs_metrics_free(&m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void assert_all_durable_in_order(const char *prefix, size_t from, size_t n)
{
	char id[64];
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s-%zu", prefix, i);
		assert_string_equal(done[from + i]->row.id, id);
		assert_int_equal(done[from + i]->durable, 1);
	}
}

/* 100 records queued before the thread runs: batches of batch_max (40, 40, 20), one
 * transaction each; every item back, durable, in submission order. */
static void test_group_commit(void **state)
{
	submit_cdrs("gc", 100);
	assert_int_equal(writer_inflight(w), 100);
	start();
	assert_int_equal(take(100, 5000), 100);
	assert_all_durable_in_order("gc", 0, 100);
	assert_int_equal(writer_inflight(w), 0);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 100);
	assert_int_equal(__atomic_load_n(&m.batch_n, __ATOMIC_RELAXED), 3);
	assert_int_equal(metric_value(m.batch_size), 3);
	assert_int_equal(metric_value(m.stored), 100);
	assert_int_equal(metric_value(m.journaled), 0);
	assert_true(writer_db_up(w));

	/* the same ids again: stored once, counted as duplicates */
	submit_cdrs("gc", 10);
	assert_int_equal(take(110, 5000), 110);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 100);
	assert_int_equal(wait_metric(m.duplicates, 10, 1000), 10);
	assert_int_equal(metric_value(m.stored), 100);
}

/* While another connection holds the write lock, the batch cannot commit: nothing
 * may come back (a receipt now would promise a record that is not stored). Once the
 * lock goes, the items come back durable and their rows are there. */
static void test_receipt_after_durable(void **state)
{
	start();
	sqlite3 *lock = dba("BEGIN IMMEDIATE");
	submit_cdrs("rd", 5);
	assert_int_equal(take(1, 600), 0);
	assert_int_equal(writer_inflight(w), 5);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 0);
	assert_int_equal(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	assert_int_equal(take(5, 4000), 5);
	assert_all_durable_in_order("rd", 0, 5);
	assert_int_equal(q_int("SELECT count(*) FROM cdr WHERE id LIKE 'rd-%'"), 5);
	/* in the database, not the journal: the lock was shorter than the busy timeout */
	assert_int_equal(metric_value(m.journaled), 0);
}

/* The database fails every insert while the DBA's fault table holds a row (a trigger
 * raises an integer overflow: an error that is not the row's fault). */
static const char fault_ddl[] =
	"CREATE TABLE fault (x INTEGER);"
	"CREATE TRIGGER fault BEFORE INSERT ON cdr WHEN (SELECT count(*) FROM fault) > 0"
	" BEGIN SELECT abs(-9223372036854775807 - 1); END";

/* The store fails: records are journaled, then receipted; none is in the database.
 * When it works again, the journal is replayed into it and emptied. */
static void test_journal_fallback(void **state)
{
	sqlite3_close(dba(fault_ddl));
	start();
	sqlite3_close(dba("INSERT INTO fault VALUES (1)"));
	submit_cdrs("jf", 12);
	assert_int_equal(take(12, 4000), 12);
	assert_all_durable_in_order("jf", 0, 12);
	assert_int_equal(metric_value(m.journaled), 12);
	assert_int_equal(metric_value(m.journal_depth), 12);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 0);
	assert_int_equal(metric_value(m.stored), 0);

	sqlite3_close(dba("DELETE FROM fault"));
	assert_int_equal(wait_metric(m.replayed, 12, 5000), 12);
	assert_int_equal(q_int("SELECT count(*) FROM cdr WHERE id LIKE 'jf-%'"), 12);
	assert_int_equal(wait_metric(m.stored, 12, 1000), 12);
	for (int i = 0; i < 200 && metric_value(m.journal_depth) != 0; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(metric_value(m.journal_depth), 0);
	assert_true(writer_db_up(w));

	/* and records go straight to the database again */
	submit_cdrs("jf2", 3);
	assert_int_equal(take(15, 4000), 15);
	assert_int_equal(q_int("SELECT count(*) FROM cdr WHERE id LIKE 'jf2-%'"), 3);
	assert_int_equal(metric_value(m.journaled), 12);
}

/* One row the database refuses: it goes to cdr_dead_letter, the other rows of its
 * batch are stored, and every item (the refused one too) comes back durable: it is
 * kept, so the sender must not resend it forever. */
static void test_quarantine(void **state)
{
	sqlite3_close(dba("CREATE TRIGGER refuse BEFORE INSERT ON cdr WHEN NEW.id = 'q-3'"
			  " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"));
	submit_cdrs("q", 8);
	start();
	assert_int_equal(take(8, 4000), 8);
	assert_all_durable_in_order("q", 0, 8);
	assert_int_equal(q_int("SELECT count(*) FROM cdr"), 7);
	assert_int_equal(q_int("SELECT count(*) FROM cdr WHERE id = 'q-3'"), 0);
	assert_int_equal(q_int("SELECT count(*) FROM cdr_dead_letter WHERE id = 'q-3' AND"
			       " error LIKE '%refused by the test%'"),
			 1);
	assert_int_equal(metric_value(m.quarantined), 1);
	assert_int_equal(metric_value(m.stored), 7);
	assert_int_equal(metric_value(m.duplicates), 0);
	assert_int_equal(metric_value(m.journaled), 0);
	assert_true(writer_db_up(w));

	/* The producer resends the batch (its RECEIPTs were lost): the good rows are
	 * duplicates, the refused one is refused (and counted) again, but it stays one
	 * row in cdr_dead_letter. */
	submit_cdrs("q", 8);
	assert_int_equal(take(16, 4000), 16);
	assert_int_equal(metric_value(m.duplicates), 7);
	assert_int_equal(metric_value(m.quarantined), 2);
	long long dl = q_int("SELECT count(*) FROM cdr_dead_letter WHERE id = 'q-3'");
	if (dl != 1)
		fail_msg("the resent record is %lld times in cdr_dead_letter", dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receipt_after_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
