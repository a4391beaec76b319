/*
 * store_pg: the PostgreSQL backend (libpq, blocking; it runs on the writer thread).
 *
 * Fast path, per batch and per table: COPY the rows into a session temp table
 * (ON COMMIT DELETE ROWS), then INSERT ... SELECT ... ON CONFLICT (id) DO NOTHING,
 * all in one transaction. COPY carries the rows in one stream; the INSERT ... SELECT
 * gives idempotency and the count of new rows. A lost connection is detected on the
 * next call and re-established (store_ping, or lazily by insert).
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

typedef struct pg_store {
	rs_store_t base;
	PGconn *conn;
	char conninfo[1100];
	int staged;   /* temp tables exist on this connection */
	int migrated; /* schema checked since this process started */
	char *buf;  /* COPY text buffer */
	size_t len, cap;
} pg_store_t;

static const char *const schema_v1 =
	"CREATE TABLE IF NOT EXISTS cdr ("
	" id TEXT PRIMARY KEY, schema INTEGER NOT NULL, call_id TEXT NOT NULL,"
	" session_id TEXT, node TEXT NOT NULL, tenant TEXT, profile TEXT,"
	" service_type TEXT, lrg TEXT, mcp TEXT, caller TEXT, dnis TEXT,"
	" start_ms BIGINT NOT NULL, answer_ms BIGINT, end_ms BIGINT NOT NULL,"
	" duration_ms BIGINT NOT NULL, disposition TEXT NOT NULL,"
	" sip_status INTEGER NOT NULL, ended_by TEXT NOT NULL, attempts INTEGER NOT NULL,"
	" usage_level TEXT, body JSON NOT NULL, received_ms BIGINT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS cdr_start_ms ON cdr(start_ms);"
	"CREATE INDEX IF NOT EXISTS cdr_tenant ON cdr(tenant, start_ms);"
	"CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body JSON NOT NULL,"
	" received_ms BIGINT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS metrics (id TEXT PRIMARY KEY, body JSON NOT NULL,"
	" received_ms BIGINT NOT NULL);";

static const char *const tables[3] = { "cdr", "events", "metrics" };

static void pg_drop(pg_store_t *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
	s->staged = 0;
}

/* Make sure we hold a working connection. 0 / -1 with err. */
static int pg_connect(pg_store_t *s, char *err, size_t errlen)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	pg_drop(s);
	s->conn = PQconnectdb(s->conninfo);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
		const char *m = s->conn ? PQerrorMessage(s->conn) : "out of memory";
		snprintf(err, errlen, "postgresql: cannot connect: %.*s",
			 (int)strcspn(m, "\n"), m);
		pg_drop(s);
		return -1;
	}
	PGresult *r = PQexec(s->conn, "SET client_min_messages = warning");
	PQclear(r);
	return 0;
}

/* Run sql expecting want; on failure fill err and return -1. */
static int pg_exec(pg_store_t *s, const char *sql, ExecStatusType want, PGresult **out,
		   char *err, size_t errlen)
{
	PGresult *r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != want) {
		const char *m = PQerrorMessage(s->conn);
		snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
		PQclear(r);
		return -1;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static int pg_migrate_once(pg_store_t *s, char *err, size_t errlen);

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
	if (version > 1) {
		snprintf(err, errlen,
			 "postgresql: database schema version %d is newer than this rs (1)",
			 version);
		goto fail;
	}
	if (version < 1 &&
	    (pg_exec(s, schema_v1, PGRES_COMMAND_OK, NULL, err, errlen) ||
	     pg_exec(s, "INSERT INTO rs_schema(version) VALUES (1)", PGRES_COMMAND_OK, NULL,
		     err, errlen)))
		goto fail;
	if (pg_exec(s, "COMMIT", PGRES_COMMAND_OK, NULL, err, errlen))
		return -1;
	s->migrated = 1;
	return 0;
fail:
	pg_exec(s, "ROLLBACK", PGRES_COMMAND_OK, NULL, NULL, 0);
	return -1;
}

/* The server may have been unreachable at start: migrate on first contact. */
static int pg_migrate_once(pg_store_t *s, char *err, size_t errlen)
{
	return s->migrated ? 0 : pg_migrate(&s->base, err, errlen);
}

static int buf_reserve(pg_store_t *s, size_t more)
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
static int put_field(pg_store_t *s, const char *v, size_t n, char sep)
{
	if (buf_reserve(s, 2 * n + 3))
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

static int put_str(pg_store_t *s, const char *v, char sep)
{
	return put_field(s, v, v ? strlen(v) : 0, sep);
}

static int put_opt(pg_store_t *s, const char *v, char sep)
{
	return put_str(s, v && v[0] ? v : NULL, sep);
}

static int put_int(pg_store_t *s, long long v, char sep)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", v);
	return put_field(s, t, (size_t)n, sep);
}

static int put_row(pg_store_t *s, const rs_row_t *row)
{
	int rc = 0;
	if (row->kind != RS_KIND_CDR) {
		rc |= put_str(s, row->id, '\t');
		rc |= put_field(s, row->body, row->body_len, '\t');
		rc |= put_int(s, row->received_ms, '\n');
		return rc;
	}
	const record_t *r = row->rec;
	rc |= put_str(s, row->id, '\t');
	rc |= put_int(s, r->schema, '\t');
	rc |= put_str(s, r->call_id, '\t');
	rc |= put_opt(s, r->session_id, '\t');
	rc |= put_str(s, r->node, '\t');
	rc |= put_opt(s, r->tenant, '\t');
	rc |= put_opt(s, r->profile, '\t');
	rc |= put_opt(s, r->service_type, '\t');
	rc |= put_opt(s, r->lrg, '\t');
	rc |= put_opt(s, r->mcp, '\t');
	rc |= put_opt(s, r->caller, '\t');
	rc |= put_opt(s, r->dnis, '\t');
	rc |= put_int(s, r->start_ms, '\t');
	if (r->answer_ms)
		rc |= put_int(s, r->answer_ms, '\t');
	else
		rc |= put_str(s, NULL, '\t');
	rc |= put_int(s, r->end_ms, '\t');
	rc |= put_int(s, r->duration_ms, '\t');
	rc |= put_str(s, record_disposition_name(r->disposition), '\t');
	rc |= put_int(s, r->sip_status, '\t');
	rc |= put_str(s, record_ended_by_name(r->ended_by), '\t');
	rc |= put_int(s, r->attempts, '\t');
	rc |= put_opt(s, store_usage_level_name(r->usage_level), '\t');
	rc |= put_field(s, row->body, row->body_len, '\t');
	rc |= put_int(s, row->received_ms, '\n');
	return rc;
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
		if (put_row(s, &rows[i])) {
			snprintf(err, errlen, "postgresql: out of memory");
			return -1;
		}
		count++;
	}
	if (!count)
		return 0;
	snprintf(sql, sizeof(sql), "COPY %s_stage FROM STDIN", tables[k]);
	if (pg_exec(s, sql, PGRES_COPY_IN, NULL, err, errlen))
		return -1;
	if (PQputCopyData(s->conn, s->buf, (int)s->len) != 1 ||
	    PQputCopyEnd(s->conn, NULL) != 1) {
		snprintf(err, errlen, "postgresql: COPY: %s", PQerrorMessage(s->conn));
		return -1;
	}
	int ok = 1;
	while ((r = PQgetResult(s->conn))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && ok) {
			const char *m = PQerrorMessage(s->conn);
			snprintf(err, errlen, "postgresql: COPY: %.*s", (int)strcspn(m, "\n"), m);
			ok = 0;
		}
		PQclear(r);
	}
	if (!ok)
		return -1;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s SELECT * FROM %s_stage ON CONFLICT (id) DO NOTHING",
		 tables[k], tables[k]);
	if (pg_exec(s, sql, PGRES_COMMAND_OK, &r, err, errlen))
		return -1;
	*inserted += strtoul(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

static int pg_insert(rs_store_t *b, const rs_row_t *rows, size_t n, size_t *inserted,
		     char *err, size_t errlen)
{
	pg_store_t *s = (pg_store_t *)b;
	size_t added = 0;

	if (pg_connect(s, err, errlen) || pg_migrate_once(s, err, errlen))
		goto fail;
	if (!s->staged) {
		for (int k = 0; k < 3; k++) {
			char sql[200];
			snprintf(sql, sizeof(sql),
				 "CREATE TEMP TABLE IF NOT EXISTS %s_stage (LIKE %s)"
				 " ON COMMIT DELETE ROWS",
				 tables[k], tables[k]);
			if (pg_exec(s, sql, PGRES_COMMAND_OK, NULL, err, errlen))
				goto fail;
		}
		s->staged = 1;
	}
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
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		pg_exec(s, "ROLLBACK", PGRES_COMMAND_OK, NULL, NULL, 0);
	else
		pg_drop(s);
	return -1;
}

static int pg_ping(rs_store_t *b, char *err, size_t errlen)
{
	pg_store_t *s = (pg_store_t *)b;
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
	free(s->buf);
	free(s);
}

static const struct rs_store_ops pg_ops = { pg_migrate, pg_insert, pg_ping, pg_close };

rs_store_t *store_pg_open(const rs_config_t *cfg, char *err, size_t errlen)
{
	pg_store_t *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "postgresql: out of memory");
		return NULL;
	}
	s->base.ops = &pg_ops;
	/* Bound how long a dead server can stall the writer on connect. */
	snprintf(s->conninfo, sizeof(s->conninfo), "%s%s", cfg->pg_conninfo,
		 strstr(cfg->pg_conninfo, "connect_timeout") ||
				 !strncmp(cfg->pg_conninfo, "postgres", 8)
			 ? ""
			 : " connect_timeout=3");
	pg_connect(s, err, errlen); /* unreachable now is fine: we retry */
	return &s->base;
}
