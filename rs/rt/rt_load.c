/* rt_load: today's usage from the stored events and CDRs. See rt_load.h. */
#include "rt_load.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "journal.h"
#include "pg_params.h"

#define RT_LOAD_WINDOW_MS (RT_MAX_CALL_MS + RT_HOUR_MS)
#define RT_LOAD_JOURNAL_MAX_BYTES (256u << 20)

/* One time-ordered stream of the window's events (at their ts_ms) and CDRs (at their
 * end_ms, where the fallback ends the call): columns kind (0 event, 1 CDR), t, body,
 * node, call_id, tenant, mcp, start_ms. An event without ts_ms comes last. */
static const char sql_sqlite[] =
	"SELECT * FROM (SELECT 0 AS k, json_extract(body, '$.ts_ms') AS t, body, NULL,"
	" NULL, NULL, NULL, NULL, received_ms AS r FROM events WHERE received_ms >= ?1"
	" UNION ALL SELECT 1, end_ms, NULL, node, call_id, tenant, mcp, start_ms, received_ms"
	" FROM cdr WHERE start_ms >= ?1) ORDER BY t IS NULL, t, k, r";
static const char sql_pg[] =
	"SELECT * FROM (SELECT 0 AS k, CASE WHEN json_typeof(body->'ts_ms') = 'number' THEN"
	" (body->>'ts_ms')::numeric END AS t, body::text AS b, NULL AS n, NULL AS c,"
	" NULL AS te, NULL AS m, NULL::bigint AS s, received_ms AS r FROM events"
	" WHERE received_ms >= $1"
	" UNION ALL SELECT 1, end_ms, NULL, node, call_id, tenant, mcp, start_ms, received_ms"
	" FROM cdr WHERE start_ms >= $1) x ORDER BY t NULLS LAST, k, r";

/* One record to feed: an event body or a CDR's columns. */
struct item {
	int kind;     /* 0 event, 1 CDR */
	int64_t t;    /* ts_ms / end_ms; INT64_MAX when unknown */
	const char *body;
	size_t len;
	const record_t *rec;
};

/*
 * The journal's part (rt_load.h): the window's events and CDRs still in the journal,
 * copied and sorted by time, then merged into the database's stream.
 */
struct jl_item {
	int64_t t;
	size_t seq;   /* journal order, for equal t */
	int kind;
	size_t len;
	char *body;   /* events */
	record_t *rec; /* CDRs */
};

struct jl {
	int64_t since;
	struct jl_item *v;
	size_t n, cap, next; /* next: the first not fed yet */
	size_t bytes;
	bool oom;
};

static int64_t body_ts(const char *body, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "ts_ms");
	int64_t ts = cJSON_IsNumber(t) ? (int64_t)t->valuedouble : INT64_MAX;
	cJSON_Delete(o);
	return ts;
}

static int jl_take(void *arg, const rs_row_t *row)
{
	struct jl *j = arg;
	struct jl_item x = { .kind = row->kind == RS_KIND_CDR, .seq = j->n };
	char field[64], e[256];

	if (row->kind == RS_KIND_EVENT) {
		if (row->received_ms < j->since)
			return 0;
		if (!(x.body = malloc(row->body_len + 1)))
			goto oom;
		memcpy(x.body, row->body, row->body_len);
		x.body[row->body_len] = 0;
		x.len = row->body_len;
		x.t = body_ts(row->body, row->body_len);
	} else if (row->kind == RS_KIND_CDR) {
		if (!(x.rec = malloc(sizeof(*x.rec))))
			goto oom;
		if (record_decode(row->body, row->body_len, x.rec, field, sizeof field, e,
				  sizeof e) || x.rec->start_ms < j->since) {
			free(x.rec);
			return 0;
		}
		x.t = x.rec->end_ms;
		x.len = sizeof(*x.rec);
	} else {
		return 0;
	}
	if (j->bytes + x.len > RT_LOAD_JOURNAL_MAX_BYTES)
		goto oom;
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 256;
		struct jl_item *v = realloc(j->v, cap * sizeof(*v));
		if (!v)
			goto oom;
		j->v = v;
		j->cap = cap;
	}
	j->v[j->n++] = x;
	j->bytes += x.len;
	return 0;
oom:
	free(x.body);
	free(x.rec);
	j->oom = true;
	return 1;
}

static int jl_cmp(const void *a, const void *b)
{
	const struct jl_item *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void jl_free(struct jl *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->v[i].body);
		free(j->v[i].rec);
	}
	free(j->v);
}

static int jl_read(struct jl *j, const rs_config_t *cfg, int64_t since, char *err,
		   size_t errlen)
{
	memset(j, 0, sizeof(*j));
	j->since = since;
	if (journal_walk(cfg->journal_dir, jl_take, j, err, errlen))
		return -1;
	if (j->oom) {
		snprintf(err, errlen, "the journal's records do not fit in memory (%zu bytes"
			 " read)", j->bytes);
		return -1;
	}
	if (j->n > 1)
		qsort(j->v, j->n, sizeof(*j->v), jl_cmp);
	return 0;
}

/* Feed one record; counts it in ne or nc. The clock is the record's time (rt_usage.h:
 * fed in time order, every slot's peak is exact), now_ms when it has none. */
static void feed(rt_usage_t *u, const struct item *it, int64_t now_ms, size_t *ne,
		 size_t *nc)
{
	char e[128];
	if (it->t < now_ms)
		now_ms = it->t;
	if (it->kind == 0) {
		if (rt_usage_event(u, it->body, it->len, now_ms, e, sizeof e) > 0)
			(*ne)++;
	} else {
		rt_usage_cdr(u, it->rec, now_ms);
		(*nc)++;
	}
}

/* Feed the journal's records that come before the database's next one, it (all that
 * are left when it is NULL). */
static void jl_feed_before(struct jl *j, rt_usage_t *u, const struct item *it,
			   int64_t now_ms, size_t *ne, size_t *nc)
{
	for (; j->next < j->n; j->next++) {
		const struct jl_item *x = &j->v[j->next];
		if (it && (x->t > it->t || (x->t == it->t && x->kind >= it->kind)))
			break;
		struct item ji = { .kind = x->kind, .t = x->t, .body = x->body, .len = x->len,
				   .rec = x->rec };
		feed(u, &ji, now_ms, ne, nc);
	}
}

/* A CDR row's columns as the fallback needs them. */
static void cdr_of(record_t *r, const char *node, const char *call_id, const char *tenant,
		   const char *mcp, int64_t start_ms)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof r->node, "%s", node ? node : "");
	snprintf(r->call_id, sizeof r->call_id, "%s", call_id ? call_id : "");
	snprintf(r->tenant, sizeof r->tenant, "%s", tenant ? tenant : "");
	snprintf(r->mcp, sizeof r->mcp, "%s", mcp ? mcp : "");
	r->start_ms = start_ms;
}

static int load_sqlite(rt_usage_t *u, const rs_config_t *cfg, struct jl *j,
		       int64_t now_ms, size_t *ne, size_t *nc, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	record_t rec;
	int rc;

	if (sqlite3_open_v2(cfg->sqlite_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql_sqlite, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, now_ms - RT_LOAD_WINDOW_MS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct item it = { .kind = sqlite3_column_int(st, 0), .rec = &rec };
		it.t = sqlite3_column_type(st, 1) == SQLITE_NULL ? INT64_MAX
								 : sqlite3_column_int64(st, 1);
		if (it.kind == 0) {
			it.body = (const char *)sqlite3_column_text(st, 2);
			it.len = (size_t)sqlite3_column_bytes(st, 2);
			if (!it.body)
				continue;
		} else {
			cdr_of(&rec, (const char *)sqlite3_column_text(st, 3),
			       (const char *)sqlite3_column_text(st, 4),
			       (const char *)sqlite3_column_text(st, 5),
			       (const char *)sqlite3_column_text(st, 6),
			       sqlite3_column_int64(st, 7));
		}
		jl_feed_before(j, u, &it, now_ms, ne, nc);
		feed(u, &it, now_ms, ne, nc);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	jl_feed_before(j, u, NULL, now_ms, ne, nc);
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

static int load_pg(rt_usage_t *u, const rs_config_t *cfg, struct jl *j, int64_t now_ms,
		   size_t *ne, size_t *nc, char *err, size_t errlen)
{
	pg_params_t p;
	PGresult *res = NULL;
	PGconn *c;
	char since[32];
	const char *args[1] = { since };
	record_t rec;

	if (pg_params_build(&p, cfg->pg_conninfo, cfg->pg_statement_timeout_ms, err, errlen))
		return -1;
	c = PQconnectdbParams(p.keys, p.vals, 0);
	pg_params_free(&p);
	if (!c || PQstatus(c) != CONNECTION_OK)
		goto fail;
	snprintf(since, sizeof since, "%lld", (long long)(now_ms - RT_LOAD_WINDOW_MS));
	res = PQexecParams(c, sql_pg, 1, NULL, args, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto fail;
	for (int i = 0; i < PQntuples(res); i++) {
		struct item it = { .kind = atoi(PQgetvalue(res, i, 0)), .rec = &rec };
		it.t = PQgetisnull(res, i, 1) ? INT64_MAX
					      : (int64_t)strtod(PQgetvalue(res, i, 1), NULL);
		if (it.kind == 0) {
			it.body = PQgetvalue(res, i, 2);
			it.len = (size_t)PQgetlength(res, i, 2);
		} else {
			cdr_of(&rec, PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
			       PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
			       strtoll(PQgetvalue(res, i, 7), NULL, 10));
		}
		jl_feed_before(j, u, &it, now_ms, ne, nc);
		feed(u, &it, now_ms, ne, nc);
	}
	jl_feed_before(j, u, NULL, now_ms, ne, nc);
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
	struct jl j;
	int rc;

	*nevents = *ncdrs = 0;
	/* the journal first: see rt_load.h for why this order misses nothing */
	if (jl_read(&j, cfg, now_ms - RT_LOAD_WINDOW_MS, err, errlen)) {
		jl_free(&j);
		return -1;
	}
	rc = cfg->backend == RS_BACKEND_SQLITE
		     ? load_sqlite(u, cfg, &j, now_ms, nevents, ncdrs, err, errlen)
		     : load_pg(u, cfg, &j, now_ms, nevents, ncdrs, err, errlen);
	jl_free(&j);
	return rc;
}
