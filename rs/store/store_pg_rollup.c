/*
 * store_pg_rollup: the report rollups of the calls a PostgreSQL batch added
 * (store_pg.c's header says how they fit the batch's transaction; rollup.h and
 * rollup_cache.h say what is kept and why the cache can be trusted).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"

/* A bucket of the batch the cache did not hold, with its row as upserted. */
typedef struct ru_miss {
	const rollup_item_t *it;
	int64_t arrivals, open;
} ru_miss_t;

static int miss_cmp(const void *a, const void *b)
{
	const rollup_item_t *x = ((const ru_miss_t *)a)->it, *y = ((const ru_miss_t *)b)->it;
	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	int c = strcmp(x->skey, y->skey); /* bytewise, as COLLATE "C" orders */
	if (c)
		return c;
	return x->bucket_ms < y->bucket_ms ? -1 : x->bucket_ms > y->bucket_ms;
}

/* The missed buckets' change points (this batch's included), in (scope, skey,
 * bucket_ms, ms) order: a dn's from rollup_cp, the others' from the calls in cdr
 * (+1 at each start inside the bucket, -1 at each end inside, calls of no length
 * left out). %s: while backfilling, the condition leaving out the calls after the
 * chunk's last (ru_upto), else "". */
#define RU_CALLS_KEY                                                                   \
	" AND c.end_ms > c.start_ms AND (m.scope = 'a'"                                \
	" OR (m.scope = 't' AND coalesce(c.tenant, '') COLLATE \"C\" = m.skey)"       \
	" OR (m.scope = 'p' AND coalesce(c.profile, '') COLLATE \"C\" = m.skey))"
static const char *const ru_load_sql =
	"SELECT m.scope, m.skey, m.bucket_ms, x.ms, x.d FROM ru_miss m CROSS JOIN LATERAL ("
	" SELECT c.start_ms AS ms, 1 AS d FROM cdr c WHERE m.scope <> 'd'%s"
	" AND c.start_ms > m.bucket_ms AND c.start_ms < m.bucket_ms + 300000" RU_CALLS_KEY
	" UNION ALL SELECT c.end_ms, -1 FROM cdr c WHERE m.scope <> 'd'%s"
	" AND c.end_ms > m.bucket_ms AND c.end_ms < m.bucket_ms + 300000" RU_CALLS_KEY
	" UNION ALL SELECT r.ms, r.delta FROM rollup_cp r WHERE m.scope = 'd'"
	" AND r.scope = m.scope AND r.skey = m.skey AND r.ms > m.bucket_ms"
	" AND r.ms < m.bucket_ms + 300000 AND r.delta <> 0) x"
	" ORDER BY m.scope, m.skey, m.bucket_ms, x.ms";

/* Load the missed buckets into the cache and add their ru_peak lines to s->buf. */
static int pg_load_misses(pg_store_t *s, ru_miss_t *miss, size_t nmiss, char *err,
			  size_t errlen)
{
	char sql[4096], upto[700] = "";
	PGresult *r = NULL;
	rollup_point_t *p = NULL;
	size_t cap = 0, row = 0;
	int rc = -1;

	qsort(miss, nmiss, sizeof(*miss), miss_cmp);
	s->len = 0;
	for (size_t i = 0; i < nmiss; i++)
		if (pg_put_scope(s, miss[i].it->scope) || pg_put_str(s, miss[i].it->skey, '\t') ||
		    pg_put_int(s, miss[i].it->bucket_ms, '\n'))
			goto oom;
	if (s->ru_backfill) {
		char *id = PQescapeLiteral(s->conn, s->ru_upto_id, strlen(s->ru_upto_id));
		if (!id)
			goto oom;
		snprintf(upto, sizeof(upto),
			 " AND (c.start_ms < %lld OR (c.start_ms = %lld AND c.id COLLATE \"C\" <= %s))",
			 (long long)s->ru_upto_ms, (long long)s->ru_upto_ms, id);
		PQfreemem(id);
	}
	snprintf(sql, sizeof(sql), ru_load_sql, upto, upto);
	if (pg_copy_in(s, "ru_miss", err, errlen) ||
	    pg_exec(s, sql, PGRES_TUPLES_OK, &r, err, errlen))
		goto out;
	s->len = 0;
	int nrows = PQntuples(r);
	for (size_t i = 0; i < nmiss; i++) {
		const rollup_item_t *it = miss[i].it;
		size_t n = 0;
		int64_t mx;
		for (; (int)row < nrows; row++) {
			if (PQgetvalue(r, (int)row, 0)[0] != it->scope ||
			    strcmp(PQgetvalue(r, (int)row, 1), it->skey) ||
			    strtoll(PQgetvalue(r, (int)row, 2), NULL, 10) != it->bucket_ms)
				break;
			int32_t off = (int32_t)(strtoll(PQgetvalue(r, (int)row, 3), NULL, 10) -
						it->bucket_ms);
			int32_t d = (int32_t)atoi(PQgetvalue(r, (int)row, 4));
			if (n && p[n - 1].off == off) { /* rows come in ms order */
				if (!(p[n - 1].delta += d))
					n--;
				continue;
			}
			if (n == cap) {
				size_t c2 = cap ? 2 * cap : 4096;
				rollup_point_t *q = realloc(p, c2 * sizeof(*q));
				if (!q)
					goto oom;
				p = q;
				cap = c2;
			}
			p[n].off = off;
			p[n++].delta = d;
		}
		/* Out of memory for the cache only costs a reload next time. */
		rollup_cache_put(s->ru_cache, it->scope, it->skey, it->bucket_ms,
				 miss[i].arrivals, miss[i].open, p, n, &mx);
		if (pg_put_scope(s, it->scope) || pg_put_str(s, it->skey, '\t') ||
		    pg_put_int(s, it->bucket_ms, '\t') || pg_put_int(s, mx, '\n'))
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "postgresql: out of memory");
out:
	PQclear(r);
	free(p);
	return rc;
}

/* The statements after ROLLUP_SQL_5M joined, sent as one query (the last one's
 * status is the answer's; any failing one fails it). */
static char rest_sql[4096];
static pthread_once_t rest_once = PTHREAD_ONCE_INIT;

static void rest_init(void)
{
	const char *const *apply;
	int napply = rollup_apply_sql(1, &apply);
	size_t k = 0;
	for (int i = ROLLUP_SQL_5M + 1; i < napply && k < sizeof(rest_sql); i++)
		k += (size_t)snprintf(rest_sql + k, sizeof(rest_sql) - k, "%s;", apply[i]);
}

/* Fold s->ru_batch (sorted) into the rollups (rollup.h's statements, ru_peak from the
 * cache). 0 / -1 with err; the caller clears the cache on failure. */
static int pg_rollup_apply(pg_store_t *s, char *err, size_t errlen)
{
	const rollup_batch_t *b = s->ru_batch;
	const char *const *apply;
	rollup_apply_sql(1, &apply);
	PGresult *r = NULL;
	ru_miss_t *miss = NULL;
	size_t nmiss = 0;
	char *peaks = NULL;
	size_t npeaks = 0;

	s->len = 0;
	for (size_t i = 0; i < b->nitems; i++) {
		const rollup_item_t *it = &b->items[i];
		if (pg_put_scope(s, it->scope) || pg_put_str(s, it->skey, '\t') ||
		    pg_put_int(s, it->bucket_ms, '\t') || pg_put_int(s, it->arrivals, '\t') ||
		    pg_put_int(s, it->open_n, '\t') || pg_put_int(s, it->full_n, '\t') ||
		    pg_put_int(s, it->partial, '\n'))
			goto oom;
	}
	if (pg_copy_in(s, "ru_item", err, errlen))
		return -1;
	s->len = 0;
	for (size_t i = 0; i < b->ncps; i++) {
		const rollup_cp_t *cp = &b->cps[i];
		if (cp->scope != 'd')
			continue;
		if (pg_put_scope(s, cp->scope) || pg_put_str(s, cp->skey, '\t') ||
		    pg_put_int(s, cp->ms, '\t') || pg_put_int(s, cp->delta, '\n'))
			goto oom;
	}
	/* Straight in: rollup_cp takes several rows per point (schema version 5). */
	if (pg_copy_in(s, "rollup_cp", err, errlen) ||
	    pg_exec(s, apply[ROLLUP_SQL_5M], PGRES_TUPLES_OK, &r, err, errlen))
		return -1;
	/* The cache's answers go to s->buf as ru_peak lines; the misses are loaded after. */
	int n = PQntuples(r);
	if (n && !(miss = malloc((size_t)n * sizeof(*miss))))
		goto oom;
	s->len = 0;
	for (int i = 0; i < n; i++) {
		const rollup_item_t *it = rollup_batch_item(b, PQgetvalue(r, i, 0)[0],
							    PQgetvalue(r, i, 1),
							    strtoll(PQgetvalue(r, i, 2), NULL, 10));
		if (!it)
			continue; /* not possible: every row upserted is an item */
		int64_t arr = strtoll(PQgetvalue(r, i, 3), NULL, 10);
		int64_t open = strtoll(PQgetvalue(r, i, 4), NULL, 10), mx = 0;
		int hit = rollup_cache_update(s->ru_cache, b, it, arr, open, &mx);
		if (!it->partial)
			continue;
		if (hit != 1) {
			miss[nmiss++] = (ru_miss_t){ it, arr, open };
			continue;
		}
		if (pg_put_scope(s, it->scope) || pg_put_str(s, it->skey, '\t') ||
		    pg_put_int(s, it->bucket_ms, '\t') || pg_put_int(s, mx, '\n'))
			goto oom;
	}
	PQclear(r);
	r = NULL;
	if (nmiss) {
		/* Keep the cache's lines while the misses use the buffer. */
		if (s->len && !(peaks = malloc(s->len)))
			goto oom;
		if (s->len)
			memcpy(peaks, s->buf, s->len);
		npeaks = s->len;
		if (pg_load_misses(s, miss, nmiss, err, errlen) ||
		    pg_buf_reserve(s, npeaks))
			goto fail;
		if (npeaks)
			memcpy(s->buf + s->len, peaks, npeaks);
		s->len += npeaks;
	}
	if (pg_copy_in(s, "ru_peak", err, errlen))
		goto fail;
	/* The peaks' update and the coarse upserts in one round trip. */
	pthread_once(&rest_once, rest_init);
	if (pg_exec(s, rest_sql, PGRES_COMMAND_OK, NULL, err, errlen))
		goto fail;
	free(miss);
	free(peaks);
	rollup_cache_end_batch(s->ru_cache);
	return 0;
oom:
	snprintf(err, errlen, "postgresql: out of memory");
fail:
	PQclear(r);
	free(miss);
	free(peaks);
	return -1;
}

/* Roll up the calls of r (columns tenant, profile, dnis, start_ms, end_ms; NULL is
 * ""). 0 / -1 with err (the cache is then cleared: the transaction will not commit). */
int pg_rollup_result(pg_store_t *s, PGresult *r, char *err, size_t errlen)
{
	int n = PQntuples(r);

	if (!n)
		return 0;
	if ((!s->ru_batch && !(s->ru_batch = rollup_batch_new())) ||
	    (!s->ru_cache && !(s->ru_cache = rollup_cache_new()))) {
		snprintf(err, errlen, "postgresql: out of memory");
		return -1;
	}
	rollup_batch_reset(s->ru_batch);
	for (int i = 0; i < n; i++) {
		long long st = strtoll(PQgetvalue(r, i, 3), NULL, 10);
		long long en = strtoll(PQgetvalue(r, i, 4), NULL, 10);
		if (rollup_batch_add(s->ru_batch, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
				     PQgetvalue(r, i, 2), st, en)) {
			snprintf(err, errlen, "postgresql: out of memory");
			goto fail;
		}
	}
	if (rollup_batch_sort(s->ru_batch)) {
		snprintf(err, errlen, "postgresql: out of memory");
		goto fail;
	}
	if (pg_rollup_apply(s, err, errlen))
		goto fail;
	rollup_batch_reset(s->ru_batch);
	return 0;
fail:
	rollup_batch_reset(s->ru_batch);
	rollup_cache_clear(s->ru_cache);
	return -1;
}

