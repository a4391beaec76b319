/*
 * store_pg: the PostgreSQL backend (libpq; it runs on the writer thread).
 *
 * Fast path, per batch and per table: COPY the rows into a session temp table
 * (ON COMMIT DELETE ROWS), then INSERT ... SELECT ... ON CONFLICT (id) DO NOTHING,
 * all in one transaction. COPY carries the rows in one stream; the INSERT ... SELECT
 * gives idempotency and the count of new rows. A lost connection is detected on the
 * next call and re-established (store_ping, or lazily by insert).
 *
 * Report rollups (rollup.h): the cdr INSERT ... SELECT returns the rows it added;
 * they are merged in memory (rollup_cache.h's rollup_batch), COPYed into the temp
 * table ru_item and folded in by rollup_apply_sql's statements (the dns' change
 * points COPYed straight into rollup_cp), in the same
 * transaction; the peaks of the buckets a call starts or ends in come from the
 * rollup_cache, or from one query over the buckets it does not hold (ru_miss). Several
 * rs on one database: a bucket's row is upserted (and so locked) before its peak is
 * recomputed; the upsert's answer tells whether another writer added to the bucket
 * since this one cached it (rollup_cache.h), and then the bucket is read again, under
 * READ COMMITTED after the lock, so it sees every committed call of that bucket:
 * concurrent batches cannot lose each other's calls.
 *
 * Never wait forever: the connection is non-blocking and every wait is bounded on
 * our side (connect: connect_timeout, default 3 s; any answer: statement_timeout_ms
 * + 0.5 s), so a server that accepts and never answers, or a paused one, costs at most
 * that long before the writer journals. The server also gets statement_timeout and
 * TCP keepalives, unless the conninfo (key=value or URL form) sets them.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_params.h"
#include "rollup.h"
#include "rollup_cache.h"
#include "store.h"
#include "store_schema.h"
#include "store_pg_int.h"
#include "util.h"


static const char *const schema_v1 = STORE_SCHEMA_V1("BIGINT", "JSON");
static const char *const schema_v2 = STORE_ROLLUP_DDL("BIGINT", "TEXT COLLATE \"C\"", "");
static const char *const schema_v3 = STORE_SCHEMA_V3;
static const char *const schema_v4 = STORE_PG_SCHEMA_V4;

/* Records the database refused (store_quarantine): created on every migration, so
 * a schema-1 database gets it without a version bump. */
static const char *const dead_letter_ddl =
	STORE_DEAD_LETTER_DDL("BYTEA", "BIGINT", "TIMESTAMPTZ NOT NULL DEFAULT now()");

static const char *const tables[3] = { "cdr", "events", "metrics" };

#define STR_(x) #x
#define STR(x) STR_(x)

static void pg_drop(pg_store_t *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
	s->staged = 0;
}

int pg_exec(pg_store_t *s, const char *sql, ExecStatusType want, PGresult **out,
		   char *err, size_t errlen);

/* Wait until the socket is readable (or writable too, when want_write), or the
 * deadline (monotonic us) passes; read what arrived. 1 ready, 0 deadline, -1 error.
 * Always watching for input keeps a long send from deadlocking with a server that
 * has something to say. */
static int pg_poll(pg_store_t *s, int want_write, int64_t deadline)
{
	/* want_write 2: only writable (a connection being set up). */
	struct pollfd p = { PQsocket(s->conn),
			    want_write == 2 ? POLLOUT : POLLIN | (want_write ? POLLOUT : 0), 0 };
	int64_t left = deadline - util_mono_us();

	if (p.fd < 0)
		return -1;
	if (left <= 0)
		return 0;
	int rc = poll(&p, 1, (int)((left + 999) / 1000));
	if (rc < 0)
		return errno == EINTR ? 1 : -1;
	if (rc > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)) &&
	    PQstatus(s->conn) == CONNECTION_OK && !PQconsumeInput(s->conn))
		return -1;
	return rc;
}

/* Make sure we hold a working connection. 0 / -1 with err. */
static int pg_connect(pg_store_t *s, char *err, size_t errlen)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int64_t deadline = util_mono_us() + (int64_t)s->p.connect_ms * 1000;

	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	pg_drop(s);
	s->conn = PQconnectStartParams(s->p.keys, s->p.vals, 0);
	if (!s->conn || PQstatus(s->conn) == CONNECTION_BAD)
		goto fail;
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED)
			goto fail;
		int rc = pg_poll(s, st == PGRES_POLLING_WRITING ? 2 : 0, deadline);
		if (rc == 0) {
			snprintf(err, errlen,
				 "postgresql: cannot connect: no answer within %d ms"
				 " (connect_timeout)",
				 s->p.connect_ms);
			pg_drop(s);
			return -1;
		}
		if (rc < 0)
			goto fail;
		st = PQconnectPoll(s->conn);
	}
	if (PQsetnonblocking(s->conn, 1))
		goto fail;
	PGresult *r = NULL;
	pg_exec(s, "SET client_min_messages = warning", PGRES_COMMAND_OK, &r, err, errlen);
	PQclear(r);
	return s->conn ? 0 : -1;
fail:;
	const char *m = s->conn ? PQerrorMessage(s->conn) : "out of memory";
	snprintf(err, errlen, "postgresql: cannot connect: %.*s", (int)strcspn(m, "\n"),
		 m);
	pg_drop(s);
	return -1;
}

/* Send what libpq holds and read until a whole result is there, within the answer
 * deadline. 0, or -1 with err (on our timeout s->timed_out is set). */
static int pg_io(pg_store_t *s, int64_t deadline, char *err, size_t errlen)
{
	for (;;) {
		int f = PQflush(s->conn);
		if (f < 0)
			break;
		if (f == 0 && !PQisBusy(s->conn))
			return 0;
		int rc = pg_poll(s, f == 1, deadline);
		if (rc == 0) {
			s->timed_out = 1;
			snprintf(err, errlen,
				 "postgresql: no answer within %d ms (server hung or paused?)",
				 s->p.answer_ms);
			return -1;
		}
		if (rc < 0)
			break;
	}
	const char *m = PQerrorMessage(s->conn);
	snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
	return -1;
}

static int64_t pg_deadline(const pg_store_t *s)
{
	/* No bound configured: a day stands for "wait". */
	return util_mono_us() + (int64_t)(s->p.answer_ms ? s->p.answer_ms : 86400000) * 1000;
}

/* Collect the results of what was sent, expecting want from each; the last result
 * goes to *out when out is set. -1 with err (and s->sqlstate) on failure; a timeout
 * drops the connection. Stops at PGRES_COPY_IN. */
static int pg_results(pg_store_t *s, ExecStatusType want, PGresult **out,
		      int64_t deadline, char *err, size_t errlen)
{
	PGresult *r, *last = NULL;
	int ok = 1;

	for (;;) {
		if (pg_io(s, deadline, err, errlen)) {
			PQclear(last);
			pg_drop(s);
			return -1;
		}
		if (!(r = PQgetResult(s->conn)))
			break;
		ExecStatusType st = PQresultStatus(r);
		if (st != want && ok) {
			const char *m = PQresultErrorMessage(r);
			const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
			snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", code ? code : "");
			ok = 0;
		}
		PQclear(last);
		last = r;
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT)
			break;
	}
	if (ok && out)
		*out = last;
	else
		PQclear(last);
	return ok ? 0 : -1;
}

/* Run sql (one or more statements) as pg_results. err may be NULL. */
int pg_exec(pg_store_t *s, const char *sql, ExecStatusType want, PGresult **out,
		   char *err, size_t errlen)
{
	char e[512];

	if (!err) {
		err = e;
		errlen = sizeof(e);
	}
	if (!s->conn || !PQsendQuery(s->conn, sql)) {
		const char *m = s->conn ? PQerrorMessage(s->conn) : "not connected";
		snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
		return -1;
	}
	return pg_results(s, want, out, pg_deadline(s), err, errlen);
}

/* Stream s->buf as COPY data, end it, and read the COPY's result. 0 / -1 with err. */
static int pg_copy_send(pg_store_t *s, char *err, size_t errlen)
{
	int64_t deadline = pg_deadline(s);
	size_t off = 0;
	int rc;

	while (off < s->len) {
		size_t n = s->len - off < (1u << 20) ? s->len - off : (1u << 20);
		rc = PQputCopyData(s->conn, s->buf + off, (int)n);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			off += n;
			continue;
		}
		if (PQflush(s->conn) < 0 || (rc = pg_poll(s, 1, deadline)) < 0)
			goto fail;
		if (rc == 0)
			goto timeout;
	}
	while ((rc = PQputCopyEnd(s->conn, NULL)) == 0) {
		if (PQflush(s->conn) < 0 || (rc = pg_poll(s, 1, deadline)) < 0)
			goto fail;
		if (rc == 0)
			goto timeout;
	}
	if (rc < 0)
		goto fail;
	return pg_results(s, PGRES_COMMAND_OK, NULL, deadline, err, errlen);
timeout:
	s->timed_out = 1;
	snprintf(err, errlen, "postgresql: COPY: no answer within %d ms", s->p.answer_ms);
	pg_drop(s);
	return -1;
fail:;
	const char *m = PQerrorMessage(s->conn);
	snprintf(err, errlen, "postgresql: COPY: %.*s", (int)strcspn(m, "\n"), m);
	pg_drop(s);
	return -1;
}

static int pg_migrate_once(pg_store_t *s, char *err, size_t errlen);
static int pg_stage_tables(pg_store_t *s, char *err, size_t errlen);

/* Version 1 -> 2 (inside the migration's transaction): the rollups of the records
 * already stored, read through a cursor 20,000 at a time in (start_ms, id) order: a
 * chunk's buckets are new or just cached, and a bucket load reads only the calls up
 * to the chunk's last (ru_upto). */
static int pg_backfill(pg_store_t *s, char *err, size_t errlen)
{
	PGresult *r = NULL;

	int rc = -1;

	if (pg_stage_tables(s, err, errlen) ||
	    pg_exec(s, "DECLARE rs_backfill NO SCROLL CURSOR FOR SELECT tenant, profile,"
		       " dnis, start_ms, end_ms, id FROM cdr ORDER BY start_ms, id COLLATE \"C\"",
		    PGRES_COMMAND_OK, NULL, err, errlen))
		return -1;
	s->ru_backfill = 1;
	for (;;) {
		if (pg_exec(s, "FETCH 20000 FROM rs_backfill", PGRES_TUPLES_OK, &r, err,
			    errlen))
			goto out;
		int n = PQntuples(r);
		if (n) {
			s->ru_upto_ms = strtoll(PQgetvalue(r, n - 1, 3), NULL, 10);
			snprintf(s->ru_upto_id, sizeof(s->ru_upto_id), "%s",
				 PQgetvalue(r, n - 1, 5));
		}
		int bad = n ? pg_rollup_result(s, r, err, errlen) : 0;
		PQclear(r);
		if (bad)
			goto out;
		if (!n)
			break;
		if (pg_exec(s, rollup_stage_clear, PGRES_COMMAND_OK, NULL, err, errlen))
			goto out;
	}
	rc = pg_exec(s, "CLOSE rs_backfill", PGRES_COMMAND_OK, NULL, err, errlen);
out:
	s->ru_backfill = 0;
	if (s->ru_cache)
		rollup_cache_clear(s->ru_cache);
	return rc;
}

static int pg_migrate(rs_store_t *b, char *err, size_t errlen)
{
	pg_store_t *s = (pg_store_t *)b;
	PGresult *r;
	int version;

	if (pg_connect(s, err, errlen))
		return -1;
	if (pg_exec(s, "CREATE TABLE IF NOT EXISTS rs_schema (version INTEGER NOT NULL)",
		    PGRES_COMMAND_OK, NULL, err, errlen))
		return -1;
	if (pg_exec(s, "BEGIN", PGRES_COMMAND_OK, NULL, err, errlen))
		return -1;
	/* Serialise concurrent migrations of several rs sharing one database. */
	if (pg_exec(s, "LOCK TABLE rs_schema IN EXCLUSIVE MODE", PGRES_COMMAND_OK, NULL,
		    err, errlen) ||
	    pg_exec(s, "SELECT coalesce(max(version), 0) FROM rs_schema", PGRES_TUPLES_OK,
		    &r, err, errlen))
		goto fail;
	version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "postgresql: database schema version %d is newer than this rs (%d)",
			 version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 1 && pg_exec(s, schema_v1, PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	if (version < 2 &&
	    (pg_exec(s, schema_v2, PGRES_COMMAND_OK, NULL, err, errlen) ||
	     /* the end_ms index (v3) before the backfill's loads */
	     (version == 1 && (pg_exec(s, schema_v3, PGRES_COMMAND_OK, NULL, err, errlen) ||
			       pg_backfill(s, err, errlen)))))
		goto fail;
	if (version < 3 && pg_exec(s, schema_v3, PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	if (version < 4 &&
	    (pg_exec(s, schema_v4, PGRES_COMMAND_OK, NULL, err, errlen) ||
	     pg_exec(s, STORE_PG_SCHEMA_V4_MONTHS, PGRES_TUPLES_OK, NULL, err, errlen) ||
	     pg_exec(s, STORE_PG_SCHEMA_V4_COPY, PGRES_COMMAND_OK, NULL, err, errlen)))
		goto fail;
	if (version < 5 && pg_exec(s, STORE_PG_SCHEMA_V5, PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	if (version < STORE_SCHEMA_VERSION &&
	    pg_exec(s, "INSERT INTO rs_schema(version) VALUES (" STR(STORE_SCHEMA_VERSION) ")",
		    PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	if (pg_exec(s, dead_letter_ddl, PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	if (pg_exec(s, "COMMIT", PGRES_COMMAND_OK, NULL, err, errlen))
		return -1;
	s->migrated = 1;
	return 0;
fail:
	pg_exec(s, "ROLLBACK", PGRES_COMMAND_OK, NULL, NULL, 0);
	s->staged = 0; /* temp tables made in the transaction are gone with it */
	return -1;
}

/* The server may have been unreachable at start: migrate on first contact. */
static int pg_migrate_once(pg_store_t *s, char *err, size_t errlen)
{
	return s->migrated ? 0 : pg_migrate(&s->base, err, errlen);
}

int pg_buf_reserve(pg_store_t *s, size_t more)
{
	if (s->len + more <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 65536;
	while (cap < s->len + more)
		cap *= 2;
	char *p = realloc(s->buf, cap);
	if (!p)
		return -1;
	s->buf = p;
	s->cap = cap;
	return 0;
}

/* Append one COPY text field (escaped), then the separator sep. NULL v = \N. */
static int pg_put_field(pg_store_t *s, const char *v, size_t n, char sep)
{
	if (pg_buf_reserve(s, 2 * n + 3))
		return -1;
	char *o = s->buf + s->len;
	if (!v) {
		*o++ = '\\';
		*o++ = 'N';
	} else {
		for (size_t i = 0; i < n; i++) {
			char c = v[i];
			switch (c) {
			case '\\': *o++ = '\\'; *o++ = '\\'; break;
			case '\n': *o++ = '\\'; *o++ = 'n'; break;
			case '\r': *o++ = '\\'; *o++ = 'r'; break;
			case '\t': *o++ = '\\'; *o++ = 't'; break;
			default: *o++ = c;
			}
		}
	}
	*o++ = sep;
	s->len = (size_t)(o - s->buf);
	return 0;
}

int pg_put_str(pg_store_t *s, const char *v, char sep)
{
	return pg_put_field(s, v, v ? strlen(v) : 0, sep);
}

static int pg_put_opt(pg_store_t *s, const char *v, char sep)
{
	return pg_put_str(s, v && v[0] ? v : NULL, sep);
}

int pg_put_int(pg_store_t *s, long long v, char sep)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", v);
	return pg_put_field(s, t, (size_t)n, sep);
}

static int pg_put_row(pg_store_t *s, const rs_row_t *row)
{
	int rc = 0;
	if (row->kind != RS_KIND_CDR) {
		rc |= pg_put_str(s, row->id, '\t');
		rc |= pg_put_field(s, row->body, row->body_len, '\t');
		rc |= pg_put_int(s, row->received_ms, '\n');
		return rc;
	}
	const record_t *r = row->rec;
	rc |= pg_put_str(s, row->id, '\t');
	rc |= pg_put_int(s, r->schema, '\t');
	rc |= pg_put_str(s, r->call_id, '\t');
	rc |= pg_put_opt(s, r->session_id, '\t');
	rc |= pg_put_str(s, r->node, '\t');
	rc |= pg_put_opt(s, r->tenant, '\t');
	rc |= pg_put_opt(s, r->profile, '\t');
	rc |= pg_put_opt(s, r->service_type, '\t');
	rc |= pg_put_opt(s, r->lrg, '\t');
	rc |= pg_put_opt(s, r->mcp, '\t');
	rc |= pg_put_opt(s, r->caller, '\t');
	rc |= pg_put_opt(s, r->dnis, '\t');
	rc |= pg_put_int(s, r->start_ms, '\t');
	if (r->answer_ms)
		rc |= pg_put_int(s, r->answer_ms, '\t');
	else
		rc |= pg_put_str(s, NULL, '\t');
	rc |= pg_put_int(s, r->end_ms, '\t');
	rc |= pg_put_int(s, r->duration_ms, '\t');
	rc |= pg_put_str(s, record_disposition_name(r->disposition), '\t');
	rc |= pg_put_int(s, r->sip_status, '\t');
	rc |= pg_put_str(s, record_ended_by_name(r->ended_by), '\t');
	rc |= pg_put_int(s, r->attempts, '\t');
	rc |= pg_put_opt(s, record_usage_level_name(r->usage_level), '\t');
	rc |= pg_put_field(s, row->body, row->body_len, '\t');
	rc |= pg_put_int(s, row->received_ms, '\n');
	return rc;
}

int pg_put_scope(pg_store_t *s, char scope)
{
	char t[2] = { scope, 0 };
	return pg_put_str(s, t, '\t');
}

/* COPY s->buf into table (a line per row), unless it is empty. */
int pg_copy_in(pg_store_t *s, const char *table, char *err, size_t errlen)
{
	char sql[64];
	if (!s->len)
		return 0;
	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", table);
	return pg_exec(s, sql, PGRES_COPY_IN, NULL, err, errlen) || pg_copy_send(s, err, errlen)
		       ? -1
		       : 0;
}

/* COPY the rows of one kind into its stage table and merge them. */
static int pg_merge_kind(pg_store_t *s, const rs_row_t *rows, size_t n, enum rs_kind k,
			 size_t *inserted, char *err, size_t errlen)
{
	char sql[256];
	PGresult *r;
	size_t count = 0;

	s->len = 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].kind != k)
			continue;
		if (pg_put_row(s, &rows[i])) {
			snprintf(err, errlen, "postgresql: out of memory");
			return -1;
		}
		count++;
	}
	if (!count)
		return 0;
	snprintf(sql, sizeof(sql), "COPY %s_stage FROM STDIN", tables[k]);
	if (pg_exec(s, sql, PGRES_COPY_IN, NULL, err, errlen) ||
	    pg_copy_send(s, err, errlen))
		return -1;
	if (k == RS_KIND_CDR) {
		/* The rows actually added (store_schema.h: cdr_id decides), and only those,
		 * go to the rollups. */
		if (pg_exec(s, s->rollups ? STORE_PG_CDR_INSERT("tenant, profile, dnis, start_ms, end_ms")
					  : STORE_PG_CDR_INSERT("1"),
			    PGRES_TUPLES_OK, &r, err, errlen))
			return -1;
		*inserted += (size_t)PQntuples(r);
		int rc = s->rollups ? pg_rollup_result(s, r, err, errlen) : 0;
		PQclear(r);
		return rc;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s SELECT * FROM %s_stage ON CONFLICT (id) DO NOTHING",
		 tables[k], tables[k]);
	if (pg_exec(s, sql, PGRES_COMMAND_OK, &r, err, errlen))
		return -1;
	*inserted += strtoul(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

/* Is the failure the batch's own (a row the server refuses) rather than the
 * server's? SQLSTATE classes 22 (data exception: invalid json, bad encoding, value
 * out of range), 23 (integrity: a CHECK, NOT NULL) and 54 (program limit: a value
 * too large), on a connection that still works. */
static int pg_row_fault(const pg_store_t *s)
{
	return s->conn && PQstatus(s->conn) == CONNECTION_OK && !s->timed_out &&
	       (!strncmp(s->sqlstate, "22", 2) || !strncmp(s->sqlstate, "23", 2) ||
		!strncmp(s->sqlstate, "54", 2));
}

/* The session's temp tables: a stage per kind and the rollups' staging tables. */
static int pg_stage_tables(pg_store_t *s, char *err, size_t errlen)
{
	if (s->staged)
		return 0;
	for (int k = 0; k < 3; k++) {
		char sql[200];
		snprintf(sql, sizeof(sql),
			 "CREATE TEMP TABLE IF NOT EXISTS %s_stage (LIKE %s)"
			 " ON COMMIT DELETE ROWS",
			 tables[k], tables[k]);
		if (pg_exec(s, sql, PGRES_COMMAND_OK, NULL, err, errlen))
			return -1;
	}
	if (pg_exec(s, rollup_stage_ddl(1), PGRES_COMMAND_OK, NULL, err, errlen))
		return -1;
	s->staged = 1;
	return 0;
}

static int pg_insert(rs_store_t *b, const rs_row_t *rows, size_t n, size_t *inserted,
		     char *err, size_t errlen)
{
	pg_store_t *s = (pg_store_t *)b;
	size_t added = 0;

	s->sqlstate[0] = '\0';
	s->timed_out = 0;
	if (pg_connect(s, err, errlen) || pg_migrate_once(s, err, errlen))
		goto fail;
	if (pg_stage_tables(s, err, errlen))
		goto fail;
	if (pg_exec(s, "BEGIN", PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	for (int k = 0; k < 3; k++)
		if (pg_merge_kind(s, rows, n, (enum rs_kind)k, &added, err, errlen))
			goto fail;
	if (pg_exec(s, "COMMIT", PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	*inserted = added;
	return 0;
fail:
	if (s->ru_cache) /* it may hold points of this batch, which did not commit */
		rollup_cache_clear(s->ru_cache);
	if (pg_row_fault(s)) {
		pg_exec(s, "ROLLBACK", PGRES_COMMAND_OK, NULL, NULL, 0);
		return STORE_EROW;
	}
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK && !s->timed_out)
		pg_exec(s, "ROLLBACK", PGRES_COMMAND_OK, NULL, NULL, 0);
	else
		pg_drop(s);
	return -1;
}

static int pg_quarantine(rs_store_t *b, const rs_row_t *row, const char *why,
			 char *err, size_t errlen)
{
	static const char *const kinds[3] = { "cdr", "event", "metric" };
	pg_store_t *s = (pg_store_t *)b;
	char received[32];
	const char *vals[5];
	int lens[5] = { 0, 0, (int)row->body_len, 0, 0 };
	int fmts[5] = { 0, 0, 1, 0, 0 }; /* the body goes as binary bytea */
	PGresult *r;

	s->timed_out = 0;
	if (pg_connect(s, err, errlen) || pg_migrate_once(s, err, errlen))
		return -1;
	snprintf(received, sizeof(received), "%lld", (long long)row->received_ms);
	vals[0] = row->id;
	vals[1] = kinds[row->kind <= RS_KIND_METRIC ? row->kind : 0];
	vals[2] = row->body;
	vals[3] = why;
	vals[4] = received;
	if (!PQsendQueryParams(s->conn,
			       "INSERT INTO cdr_dead_letter (id, kind, body, error, received_ms)"
			       " SELECT $1::text, $2::text, $3::bytea, $4::text, $5::bigint"
			       " WHERE NOT EXISTS (SELECT 1 FROM cdr_dead_letter"
			       " WHERE id = $1::text AND kind = $2::text AND body = $3::bytea)",
			       5, NULL, vals, lens, fmts, 0)) {
		const char *m = PQerrorMessage(s->conn);
		snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
		return -1;
	}
	if (pg_results(s, PGRES_COMMAND_OK, &r, pg_deadline(s), err, errlen))
		return -1;
	PQclear(r);
	return 0;
}

static int pg_ping(rs_store_t *b, char *err, size_t errlen)
{
	pg_store_t *s = (pg_store_t *)b;
	s->timed_out = 0;
	if (pg_connect(s, err, errlen))
		return -1;
	if (pg_migrate_once(s, err, errlen) ||
	    pg_exec(s, "SELECT 1", PGRES_TUPLES_OK, NULL, err, errlen)) {
		pg_drop(s);
		return -1;
	}
	return 0;
}

static void pg_close(rs_store_t *b)
{
	pg_store_t *s = (pg_store_t *)b;
	pg_drop(s);
	pg_params_free(&s->p);
	free(s->buf);
	rollup_batch_free(s->ru_batch);
	rollup_cache_free(s->ru_cache);
	free(s);
}

static const struct rs_store_ops pg_ops = { pg_migrate, pg_insert, pg_ping, pg_close,
					    pg_quarantine };

rs_store_t *store_pg_open(const rs_config_t *cfg, char *err, size_t errlen)
{
	pg_store_t *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "postgresql: out of memory");
		return NULL;
	}
	s->base.ops = &pg_ops;
	s->rollups = cfg->report_rollups;
	if (pg_params_build(&s->p, cfg->pg_conninfo, cfg->pg_statement_timeout_ms, err,
			    errlen)) {
		free(s);
		return NULL;
	}
	/* No connection yet: the writer thread connects (a hung server must not keep
	 * rs from listening). */
	return &s->base;
}
