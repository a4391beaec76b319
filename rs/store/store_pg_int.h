/*
 * store_pg_int: what the PostgreSQL backend's files share (store_pg.c: connection,
 * migration, the batch's COPY and merge; store_pg_rollup.c: the rollups of the calls
 * a batch added). Writer thread only.
 */
#ifndef RS_STORE_PG_INT_H
#define RS_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stddef.h>

#include "pg_params.h"
#include "rollup.h"
#include "rollup_cache.h"
#include "store.h"

typedef struct pg_store {
	rs_store_t base;
	PGconn *conn;
	pg_params_t p;      /* connection parameters, our bounds on waits */
	char sqlstate[6];   /* SQLSTATE of the last failed command ("" if none) */
	int timed_out;      /* the last failure was our own deadline */
	int staged;   /* temp tables exist on this connection */
	int migrated; /* schema checked since this process started */
	int rollups;  /* report.rollups */
	char *buf;  /* COPY text buffer */
	size_t len, cap;
	rollup_batch_t *ru_batch; /* the calls being rolled up */
	rollup_cache_t *ru_cache; /* recent buckets' change points */
	/* Backfilling: cdr holds calls not rolled up yet, those after (start_ms, id)
	 * (ru_upto_ms, ru_upto_id); bucket loads leave them out. */
	int ru_backfill;
	int64_t ru_upto_ms;
	char ru_upto_id[256]; /* record ids are at most 128 bytes */
} pg_store_t;

/* Run sql; its result must have status want (*out keeps it when out is not NULL).
 * 0, or -1 with err (SQLSTATE in s->sqlstate). */
int pg_exec(pg_store_t *s, const char *sql, ExecStatusType want, PGresult **out, char *err,
	    size_t errlen);
/* COPY s->buf into table (a line per row), unless it is empty. */
int pg_copy_in(pg_store_t *s, const char *table, char *err, size_t errlen);
/* s->buf, COPY text format: room for more bytes; a field and its separator. */
int pg_buf_reserve(pg_store_t *s, size_t more);
int pg_put_str(pg_store_t *s, const char *v, char sep);
int pg_put_int(pg_store_t *s, long long v, char sep);
int pg_put_scope(pg_store_t *s, char scope);

/* store_pg_rollup.c: roll up the calls of r (columns tenant, profile, dnis, start_ms,
 * end_ms; NULL is ""). 0 / -1 with err (the cache is then cleared: the transaction
 * will not commit). */
int pg_rollup_result(pg_store_t *s, PGresult *r, char *err, size_t errlen);

#endif
