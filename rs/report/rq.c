/* rq: the report thread's database connection (see rq.h). */
#include "rq.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_params.h"

struct rq {
	int pg;
	sqlite3 *db;
	PGconn *conn;
	pg_params_t p;
};

rq_t *rq_open(const rs_config_t *cfg, char *err, size_t errlen)
{
	rq_t *q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->pg = cfg->backend == RS_BACKEND_POSTGRESQL;
	if (q->pg) {
		if (pg_params_build(&q->p, cfg->pg_conninfo, cfg->pg_statement_timeout_ms, err,
				    errlen)) {
			free(q);
			return NULL;
		}
		return q; /* connects on first use */
	}
	if (sqlite3_open_v2(cfg->sqlite_path, &q->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite: cannot open %s for reports: %s",
			 cfg->sqlite_path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
		rq_close(q);
		return NULL;
	}
	sqlite3_busy_timeout(q->db, 5000);
	return q;
}

void rq_close(rq_t *q)
{
	if (!q)
		return;
	if (q->db)
		sqlite3_close(q->db);
	if (q->conn)
		PQfinish(q->conn);
	if (q->pg)
		pg_params_free(&q->p);
	free(q);
}

int rq_is_pg(const rq_t *q)
{
	return q->pg;
}

static int sq_run(rq_t *q, const char *sql, int n, const char *const *params, rq_row_fn fn,
		  void *arg, long long *changes, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *vals[32];
	int rc;

	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(q->db));
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (params[i])
			sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int nc = sqlite3_column_count(st);
		if (nc > 32)
			nc = 32;
		for (int i = 0; i < nc; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		if (fn && fn(arg, nc, vals)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(q->db));
		sqlite3_finalize(st);
		return -1;
	}
	if (changes)
		*changes = sqlite3_changes(q->db);
	sqlite3_finalize(st);
	return 0;
}

/* '?' -> $1, $2 ... (the SQL we write has no '?' inside literals). */
static char *pg_sql(const char *sql)
{
	size_t n = strlen(sql), k = 0;
	char *out = malloc(n * 4 + 1);
	int i = 0;
	if (!out)
		return NULL;
	for (const char *p = sql; *p; p++) {
		if (*p == '?')
			k += (size_t)sprintf(out + k, "$%d", ++i);
		else
			out[k++] = *p;
	}
	out[k] = 0;
	return out;
}

static int pg_run(rq_t *q, const char *sql, int n, const char *const *params, rq_row_fn fn,
		  void *arg, long long *changes, char *err, size_t errlen)
{
	const char *vals[32];
	PGresult *r;
	char *text;

	if (!q->conn || PQstatus(q->conn) != CONNECTION_OK) {
		if (q->conn)
			PQfinish(q->conn);
		q->conn = PQconnectdbParams(q->p.keys, q->p.vals, 0);
		if (!q->conn || PQstatus(q->conn) != CONNECTION_OK) {
			const char *m = q->conn ? PQerrorMessage(q->conn) : "out of memory";
			snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
			return -1;
		}
	}
	if (!(text = pg_sql(sql))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = PQexecParams(q->conn, text, n, NULL, params, NULL, NULL, 0);
	free(text);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		const char *m = PQresultErrorMessage(r);
		snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
		PQclear(r);
		return -1;
	}
	int rows = PQntuples(r), nc = PQnfields(r);
	if (nc > 32)
		nc = 32;
	for (int i = 0; fn && i < rows; i++) {
		for (int c = 0; c < nc; c++)
			vals[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
		if (fn(arg, nc, vals))
			break;
	}
	if (changes)
		*changes = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

int rq_exec(rq_t *q, const char *sql, int n, const char *const *params, rq_row_fn fn,
	    void *arg, long long *changes, char *err, size_t errlen)
{
	return q->pg ? pg_run(q, sql, n, params, fn, arg, changes, err, errlen)
		     : sq_run(q, sql, n, params, fn, arg, changes, err, errlen);
}
