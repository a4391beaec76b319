/*
 * sqlite_ref: the raw SQLite reference for bench_rs.sh. Inserts the same COUNT CDRs
 * that stomp_load generates (same ids, same JSON, decoded with record_decode before
 * the clock starts) into rs's own cdr table (rs/store/store_schema.h), with one
 * prepared INSERT in a loop, BATCH rows a transaction, WAL, synchronous=FULL: what rs
 * does minus the network, the parsing and the receipts.
 *
 *   sqlite_ref DBFILE [COUNT] [BATCH]     prints "rows N seconds S rate R/s"
 *
 * libsqlite3 is loaded with dlopen so that this builds with the generic tools rule,
 * which links libcommon and cJSON only.
 */
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../rs/store/store_schema.h" /* the tools rule has no rs include path */
#include "record.h"
#include "util.h"

static struct {
	int (*open_v2)(const char *, sqlite3 **, int, const char *);
	int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *,
		    char **);
	int (*prepare_v2)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
	int (*bind_text)(sqlite3_stmt *, int, const char *, int, void (*)(void *));
	int (*bind_int64)(sqlite3_stmt *, int, sqlite3_int64);
	int (*bind_null)(sqlite3_stmt *, int);
	int (*step)(sqlite3_stmt *);
	int (*reset)(sqlite3_stmt *);
	int (*finalize)(sqlite3_stmt *);
	int (*close)(sqlite3 *);
	const char *(*errmsg)(sqlite3 *);
} sq;

static void load_sqlite(void)
{
	void *h = dlopen("libsqlite3.so.0", RTLD_NOW);
	if (!h) {
		fprintf(stderr, "sqlite_ref: %s\n", dlerror());
		exit(1);
	}
#define SYM(f, n)                                                                      \
	if (!(*(void **)&sq.f = dlsym(h, n))) {                                        \
		fprintf(stderr, "sqlite_ref: %s missing\n", n);                        \
		exit(1);                                                               \
	}
	SYM(open_v2, "sqlite3_open_v2");
	SYM(exec, "sqlite3_exec");
	SYM(prepare_v2, "sqlite3_prepare_v2");
	SYM(bind_text, "sqlite3_bind_text");
	SYM(bind_int64, "sqlite3_bind_int64");
	SYM(bind_null, "sqlite3_bind_null");
	SYM(step, "sqlite3_step");
	SYM(reset, "sqlite3_reset");
	SYM(finalize, "sqlite3_finalize");
	SYM(close, "sqlite3_close");
	SYM(errmsg, "sqlite3_errmsg");
}

/* Same generator as stomp_load's make_body (prefix "ref"). */
static int make_body(char *out, size_t cap, long long i)
{
	long long start = 1700000000000LL + i * 10;
	return snprintf(out, cap,
			"{\"id\":\"ref-%lld\",\"schema\":1,\"call_id\":\"%lld-call@10.0.0.1\","
			"\"session_id\":\"5f0c7a9e-0000-4000-8000-%012lld\",\"node\":\"rm-1\","
			"\"tenant\":\"acme\",\"profile\":\"acme-ivr\",\"service_type\":\"voicexml\","
			"\"lrg\":\"ivr\",\"mcp\":\"sip:127.0.0.1:5070\",\"caller\":\"5551234\","
			"\"dnis\":\"8005551000\",\"start_ms\":%lld,\"answer_ms\":%lld,"
			"\"end_ms\":%lld,\"duration_ms\":%d,\"disposition\":\"answered\","
			"\"sip_status\":200,\"ended_by\":\"caller\",\"attempts\":1,"
			"\"usage_level\":\"L1\"}",
			i, i, i, start, start + 100, start + 100 + 30000, 30000);
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_ref: %s: %s\n", what, sq.errmsg(db));
	exit(1);
}

static void opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v[0])
		sq.bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sq.bind_null(st, i);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sqlite_ref DBFILE [COUNT] [BATCH]\n");
		return 2;
	}
	long long n = argc > 2 ? atoll(argv[2]) : 200000;
	long long batch = argc > 3 ? atoll(argv[3]) : 5000;
	record_t *recs = malloc((size_t)n * sizeof(*recs));
	char **bodies = malloc((size_t)n * sizeof(*bodies));
	char buf[2048], field[64], err[256];
	for (long long i = 0; i < n; i++) {
		int len = make_body(buf, sizeof(buf), i);
		bodies[i] = strdup(buf);
		if (record_decode(buf, (size_t)len, &recs[i], field, sizeof(field), err,
				  sizeof(err))) {
			fprintf(stderr, "sqlite_ref: %s\n", err);
			return 1;
		}
	}
	load_sqlite();
	sqlite3 *db;
	sqlite3_stmt *st;
	if (sq.open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL))
		die(db, "open");
	if (sq.exec(db,
		    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		    STORE_SCHEMA_V1("INTEGER", "TEXT"),
		    NULL, NULL, NULL))
		die(db, "schema");
	if (sq.prepare_v2(db,
			  "INSERT OR IGNORE INTO cdr (" STORE_CDR_COLUMNS ") VALUES"
			  " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			  -1, &st, NULL))
		die(db, "prepare");
	int64_t t0 = util_mono_us();
	for (long long i = 0; i < n; i++) {
		const record_t *r = &recs[i];
		if (i % batch == 0 && sq.exec(db, "BEGIN", NULL, NULL, NULL))
			die(db, "BEGIN");
		sq.reset(st);
		sq.bind_text(st, 1, r->id, -1, SQLITE_STATIC);
		sq.bind_int64(st, 2, r->schema);
		sq.bind_text(st, 3, r->call_id, -1, SQLITE_STATIC);
		opt(st, 4, r->session_id);
		sq.bind_text(st, 5, r->node, -1, SQLITE_STATIC);
		opt(st, 6, r->tenant);
		opt(st, 7, r->profile);
		opt(st, 8, r->service_type);
		opt(st, 9, r->lrg);
		opt(st, 10, r->mcp);
		opt(st, 11, r->caller);
		opt(st, 12, r->dnis);
		sq.bind_int64(st, 13, r->start_ms);
		sq.bind_int64(st, 14, r->answer_ms);
		sq.bind_int64(st, 15, r->end_ms);
		sq.bind_int64(st, 16, r->duration_ms);
		sq.bind_text(st, 17, record_disposition_name(r->disposition), -1, SQLITE_STATIC);
		sq.bind_int64(st, 18, r->sip_status);
		sq.bind_text(st, 19, record_ended_by_name(r->ended_by), -1, SQLITE_STATIC);
		sq.bind_int64(st, 20, r->attempts);
		sq.bind_text(st, 21, record_usage_level_name(r->usage_level), -1, SQLITE_STATIC);
		sq.bind_text(st, 22, bodies[i], -1, SQLITE_STATIC);
		sq.bind_int64(st, 23, util_now_ms());
		if (sq.step(st) != SQLITE_DONE)
			die(db, "insert");
		if ((i + 1) % batch == 0 || i + 1 == n)
			if (sq.exec(db, "COMMIT", NULL, NULL, NULL))
				die(db, "COMMIT");
	}
	double secs = (util_mono_us() - t0) / 1e6;
	printf("rows %lld seconds %.3f rate %.0f/s\n", n, secs, n / secs);
	sq.finalize(st);
	sq.close(db);
	return 0;
}
