/* rt_load: today's usage from the stored events and CDRs. See rt_load.h. */
#include "rt_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "pg_params.h"

#define RT_LOAD_WINDOW_MS (RT_MAX_CALL_MS + RT_HOUR_MS)

static const char sql_events_sqlite[] =
	"SELECT body FROM events WHERE received_ms >= ?1"
	" ORDER BY json_extract(body, '$.ts_ms'), received_ms";
static const char sql_cdrs_sqlite[] =
	"SELECT node, call_id, tenant, mcp, start_ms FROM cdr WHERE start_ms >= ?1"
	" ORDER BY end_ms";
static const char sql_events_pg[] =
	"SELECT body FROM events WHERE received_ms >= $1 ORDER BY"
	" CASE WHEN json_typeof(body->'ts_ms') = 'number' THEN (body->>'ts_ms')::numeric"
	" END NULLS LAST, received_ms";
static const char sql_cdrs_pg[] =
	"SELECT node, call_id, tenant, mcp, start_ms FROM cdr WHERE start_ms >= $1"
	" ORDER BY end_ms";

/* A CDR row's columns as the fallback needs them. */
static void feed_cdr(rt_usage_t *u, const char *node, const char *call_id,
		     const char *tenant, const char *mcp, int64_t start_ms, int64_t now_ms)
{
	record_t r;
	memset(&r, 0, sizeof(r));
	snprintf(r.node, sizeof r.node, "%s", node ? node : "");
	snprintf(r.call_id, sizeof r.call_id, "%s", call_id ? call_id : "");
	snprintf(r.tenant, sizeof r.tenant, "%s", tenant ? tenant : "");
	snprintf(r.mcp, sizeof r.mcp, "%s", mcp ? mcp : "");
	r.start_ms = start_ms;
	rt_usage_cdr(u, &r, now_ms);
}

static int load_sqlite(rt_usage_t *u, const rs_config_t *cfg, int64_t now_ms, size_t *ne,
		       size_t *nc, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char e[128];
	int rc;

	if (sqlite3_open_v2(cfg->sqlite_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql_events_sqlite, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, now_ms - RT_LOAD_WINDOW_MS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *b = (const char *)sqlite3_column_text(st, 0);
		if (b && rt_usage_event(u, b, (size_t)sqlite3_column_bytes(st, 0), now_ms, e,
					sizeof e) > 0)
			(*ne)++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, sql_cdrs_sqlite, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, now_ms - RT_LOAD_WINDOW_MS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		feed_cdr(u, (const char *)sqlite3_column_text(st, 0),
			 (const char *)sqlite3_column_text(st, 1),
			 (const char *)sqlite3_column_text(st, 2),
			 (const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4),
			 now_ms);
		(*nc)++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
fail:
	snprintf(err, errlen, "sqlite %s: %s", cfg->sqlite_path,
		 db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return -1;
}

static int load_pg(rt_usage_t *u, const rs_config_t *cfg, int64_t now_ms, size_t *ne,
		   size_t *nc, char *err, size_t errlen)
{
	pg_params_t p;
	PGresult *res = NULL;
	PGconn *c;
	char since[32], e[128];
	const char *args[1] = { since };

	if (pg_params_build(&p, cfg->pg_conninfo, cfg->pg_statement_timeout_ms, err, errlen))
		return -1;
	c = PQconnectdbParams(p.keys, p.vals, 0);
	pg_params_free(&p);
	if (!c || PQstatus(c) != CONNECTION_OK)
		goto fail;
	snprintf(since, sizeof since, "%lld", (long long)(now_ms - RT_LOAD_WINDOW_MS));
	res = PQexecParams(c, sql_events_pg, 1, NULL, args, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto fail;
	for (int i = 0; i < PQntuples(res); i++)
		if (rt_usage_event(u, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0),
				   now_ms, e, sizeof e) > 0)
			(*ne)++;
	PQclear(res);
	res = PQexecParams(c, sql_cdrs_pg, 1, NULL, args, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto fail;
	for (int i = 0; i < PQntuples(res); i++) {
		feed_cdr(u, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			 PQgetvalue(res, i, 3), strtoll(PQgetvalue(res, i, 4), NULL, 10),
			 now_ms);
		(*nc)++;
	}
	PQclear(res);
	PQfinish(c);
	return 0;
fail:
	if (c) {
		const char *m = PQerrorMessage(c);
		snprintf(err, errlen, "postgresql: %.*s", (int)strcspn(m, "\n"), m);
	} else {
		snprintf(err, errlen, "postgresql: out of memory");
	}
	PQclear(res);
	PQfinish(c);
	return -1;
}

int rt_load(rt_usage_t *u, const rs_config_t *cfg, int64_t now_ms, size_t *nevents,
	    size_t *ncdrs, char *err, size_t errlen)
{
	*nevents = *ncdrs = 0;
	return cfg->backend == RS_BACKEND_SQLITE
		       ? load_sqlite(u, cfg, now_ms, nevents, ncdrs, err, errlen)
		       : load_pg(u, cfg, now_ms, nevents, ncdrs, err, errlen);
}
