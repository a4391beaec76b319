/*
 * store_sqlite: the embedded backend. One file in WAL mode, synchronous=FULL so a
 * committed batch survives power loss, prepared INSERT OR IGNORE statements.
 * Report rollups (rollup.h): each CDR the INSERT actually added (sqlite3_changes)
 * goes into the batch's rollup_batch (rollup_cache.h); before the same COMMIT its
 * change points are upserted into rollup_cp in key order, its merged items staged
 * in ru_item and folded in by rollup_apply_sql's statements, and the peaks of the
 * buckets a call starts or ends in come from the rollup_cache.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollup.h"
#include "rollup_cache.h"
#include "store.h"
#include "store_schema.h"

typedef struct sqlite_store {
	rs_store_t base;
	sqlite3 *db;
	sqlite3_stmt *ins[3]; /* by rs_kind */
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *dead; /* dead-letter insert */
	int rollups;        /* report.rollups: maintain them */
	sqlite3_stmt *ru_item, *ru_cp, *ru_clear[3];
	sqlite3_stmt *ru_apply[16];
	sqlite3_stmt *ru_points, *ru_peak; /* a bucket's change points; ru_peak insert */
	int ru_napply;
	rollup_batch_t *ru_batch;  /* the calls of the batch not yet applied */
	rollup_cache_t *ru_cache;  /* recent buckets' change points */
	rollup_point_t *ru_load;   /* a bucket being loaded */
	size_t ru_loadcap;
	sqlite3_stmt *ru_calls;    /* a bucket's change points from cdr */
	/* Backfilling: cdr holds calls not rolled up yet, those after (start_ms, id)
	 * (ru_upto_ms, ru_upto_id); bucket loads leave them out. INT64_MAX otherwise. */
	int64_t ru_upto_ms;
	char ru_upto_id[256]; /* record ids are at most 128 bytes */
} sqlite_store_t;

/* Records the database refused (store_quarantine); created on every migration. */
static const char *const dead_letter_ddl = STORE_DEAD_LETTER_DDL(
	"BLOB", "INTEGER", "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))");

static const char *const schema_v1 = STORE_SCHEMA_V1("INTEGER", "TEXT");
static const char *const schema_v2 = STORE_ROLLUP_DDL("INTEGER", "TEXT", " WITHOUT ROWID");
static const char *const schema_v3 = STORE_SCHEMA_V3;

static int fail_db(sqlite_store_t *s, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

static int sq_exec(sqlite_store_t *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int ru_prepare(sqlite_store_t *s, char *err, size_t errlen);
static int ru_add_call(sqlite_store_t *s, const char *tenant, const char *profile,
		       const char *dn, int64_t start_ms, int64_t end_ms, char *err,
		       size_t errlen);
static int ru_apply(sqlite_store_t *s, char *err, size_t errlen);
static void ru_forget(sqlite_store_t *s);

/* Version 1 -> 2: the rollup tables, filled from the records already stored, in the
 * migration's transaction, in (start_ms, id) order: a chunk's buckets are new or just
 * cached, and a bucket load reads only the calls up to the chunk's last (ru_upto). */
static int sq_backfill(sqlite_store_t *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (ru_prepare(s, err, errlen))
		return -1;
	/* One transaction writes every rollup row: a page cache of 2 MB spilled and
	 * re-read them all along. */
	if (sq_exec(s, "PRAGMA cache_size = -262144", err, errlen) ||
	    sq_exec(s, "PRAGMA temp.cache_size = -65536", err, errlen))
		return -1;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT tenant, profile, dnis, start_ms, end_ms, id FROM cdr"
			       " ORDER BY start_ms, id",
			       -1, &st, NULL) != SQLITE_OK)
		return fail_db(s, "reading records to roll up", err, errlen);
	while (!rc && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 5);
		s->ru_upto_ms = sqlite3_column_int64(st, 3);
		snprintf(s->ru_upto_id, sizeof(s->ru_upto_id), "%s", id ? id : "");
		rc = ru_add_call(s, (const char *)sqlite3_column_text(st, 0),
				 (const char *)sqlite3_column_text(st, 1),
				 (const char *)sqlite3_column_text(st, 2), s->ru_upto_ms,
				 sqlite3_column_int64(st, 4), err, errlen);
		if (!rc && s->ru_batch->ncalls >= 20000)
			rc = ru_apply(s, err, errlen);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != 0) {
		s->ru_upto_ms = INT64_MAX;
		return rc == -1 ? -1 : fail_db(s, "reading records to roll up", err, errlen);
	}
	rc = ru_apply(s, err, errlen);
	s->ru_upto_ms = INT64_MAX;
	return rc;
}

static int sq_migrate(rs_store_t *b, char *err, size_t errlen)
{
	sqlite_store_t *s = (sqlite_store_t *)b;
	sqlite3_stmt *st = NULL;
	int version = 0;

	if (sq_exec(s, "CREATE TABLE IF NOT EXISTS rs_schema (version INTEGER NOT NULL)",
		    err, errlen))
		return -1;
	if (sqlite3_prepare_v2(s->db, "SELECT max(version) FROM rs_schema", -1, &st,
			       NULL) != SQLITE_OK)
		return fail_db(s, "reading schema version", err, errlen);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "sqlite: database schema version %d is newer than this rs (%d)",
			 version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (version == STORE_SCHEMA_VERSION)
		return sq_exec(s, dead_letter_ddl, err, errlen);
	if (sq_exec(s, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	if ((version < 1 && sq_exec(s, schema_v1, err, errlen)) ||
	    sq_exec(s, dead_letter_ddl, err, errlen) ||
	    (version < 2 && (sq_exec(s, schema_v2, err, errlen) ||
			     sq_exec(s, STORE_SQLITE_DETAILS_INDEX, err, errlen) ||
			     /* the end_ms index (v3) before the backfill's loads */
			     (version == 1 && (sq_exec(s, schema_v3, err, errlen) ||
					       sq_backfill(s, err, errlen))))) ||
	    (version < 3 && sq_exec(s, schema_v3, err, errlen)) ||
	    /* versions 4 and 5 changed PostgreSQL only (monthly partitions, rollup_cp
	     * append-only) */
	    sq_exec(s, "INSERT INTO rs_schema(version) VALUES (5)", err, errlen)) {
		sq_exec(s, "ROLLBACK", NULL, 0);
		ru_forget(s);
		return -1;
	}
	return sq_exec(s, "COMMIT", err, errlen);
}

/* A bucket's change points for scope ?3 key ?4, from the calls stored: +1 at each
 * start inside (?1, ?2), -1 at each end inside, calls of no length left out, and
 * calls after (?5, ?6) in (start_ms, id) order (ru_upto); summed per millisecond by
 * the caller. */
#define RU_CALLS_KEY                                                                   \
	" AND end_ms > start_ms AND (start_ms < ?5 OR (start_ms = ?5 AND id <= ?6))"   \
	" AND CASE ?3 WHEN 'a' THEN 1"                                                 \
	" WHEN 't' THEN coalesce(tenant, '') = ?4 WHEN 'p' THEN coalesce(profile, '') = ?4" \
	" ELSE coalesce(dnis, '') = ?4 END"
static const char *const ru_calls_sql =
	"SELECT start_ms, 1 FROM cdr WHERE start_ms > ?1 AND start_ms < ?2" RU_CALLS_KEY
	" UNION ALL SELECT end_ms, -1 FROM cdr WHERE end_ms > ?1 AND end_ms < ?2" RU_CALLS_KEY
	" ORDER BY 1";

/* The staging tables and statements of the rollups (once per connection). */
static int ru_prepare(sqlite_store_t *s, char *err, size_t errlen)
{
	static const char *const clear[3] = { "DELETE FROM ru_item", "DELETE FROM ru_peak",
					      "DELETE FROM ru_miss" };
	const char *const *sql;

	if (s->ru_item)
		return 0;
	if (!s->ru_batch && !(s->ru_batch = rollup_batch_new()))
		goto oom;
	if (!s->ru_cache && !(s->ru_cache = rollup_cache_new()))
		goto oom;
	if (sq_exec(s, rollup_stage_ddl(0), err, errlen))
		return -1;
	s->ru_napply = rollup_apply_sql(0, &sql);
	for (int i = 0; i < s->ru_napply; i++)
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &s->ru_apply[i], NULL) != SQLITE_OK)
			return fail_db(s, "preparing rollup statements", err, errlen);
	for (int i = 0; i < 3; i++)
		if (sqlite3_prepare_v2(s->db, clear[i], -1, &s->ru_clear[i], NULL) != SQLITE_OK)
			return fail_db(s, "preparing rollup statements", err, errlen);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT ms, delta FROM rollup_cp WHERE scope = ? AND skey = ?"
			       " AND ms > ? AND ms < ? AND delta <> 0 ORDER BY ms",
			       -1, &s->ru_points, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, ru_calls_sql, -1, &s->ru_calls, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO ru_peak VALUES (?,?,?,?)", -1, &s->ru_peak,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO rollup_cp (scope, skey, ms, delta) VALUES (?,?,?,?)"
			       " ON CONFLICT (scope, skey, ms) DO UPDATE"
			       " SET delta = rollup_cp.delta + excluded.delta",
			       -1, &s->ru_cp, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO ru_item VALUES (?,?,?,?,?,?,?)", -1,
			       &s->ru_item, NULL) != SQLITE_OK)
		return fail_db(s, "preparing rollup statements", err, errlen);
	return 0;
oom:
	snprintf(err, errlen, "sqlite: out of memory");
	return -1;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Stage what one new call adds. 0, or -1 with err. */
static int ru_add_call(sqlite_store_t *s, const char *tenant, const char *profile,
		       const char *dn, int64_t start_ms, int64_t end_ms, char *err,
		       size_t errlen)
{
	if (rollup_batch_add(s->ru_batch, tenant, profile, dn, start_ms, end_ms)) {
		snprintf(err, errlen, "sqlite: out of memory staging rollups");
		return -1;
	}
	return 0;
}

/* The batch did not commit: what it staged, and what the cache learnt from it, is
 * void. */
static void ru_forget(sqlite_store_t *s)
{
	if (s->ru_batch)
		rollup_batch_reset(s->ru_batch);
	if (s->ru_cache)
		rollup_cache_clear(s->ru_cache);
}

static void bind_scope(sqlite3_stmt *st, int i, char scope)
{
	char t[2] = { scope, 0 };
	sqlite3_bind_text(st, i, t, 1, SQLITE_TRANSIENT);
}

/* The batch's merged items into ru_item and the dns' change points into rollup_cp. */
static int ru_write_batch(sqlite_store_t *s)
{
	const rollup_batch_t *b = s->ru_batch;

	for (size_t i = 0; i < b->nitems; i++) {
		const rollup_item_t *it = &b->items[i];
		bind_scope(s->ru_item, 1, it->scope);
		sqlite3_bind_text(s->ru_item, 2, it->skey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ru_item, 3, it->bucket_ms);
		sqlite3_bind_int(s->ru_item, 4, it->arrivals);
		sqlite3_bind_int(s->ru_item, 5, it->open_n);
		sqlite3_bind_int(s->ru_item, 6, it->full_n);
		sqlite3_bind_int(s->ru_item, 7, it->partial);
		if (step_done(s->ru_item))
			return -1;
	}
	for (size_t i = 0; i < b->ncps; i++) {
		const rollup_cp_t *cp = &b->cps[i];
		if (cp->scope != 'd')
			continue;
		bind_scope(s->ru_cp, 1, cp->scope);
		sqlite3_bind_text(s->ru_cp, 2, cp->skey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ru_cp, 3, cp->ms);
		sqlite3_bind_int(s->ru_cp, 4, cp->delta);
		if (step_done(s->ru_cp))
			return -1;
	}
	return 0;
}

/* A bucket's change points (this batch's included) into the cache; *mx as
 * rollup_cache_put. A dn's come from rollup_cp, the others' from the calls in cdr. */
static int ru_load(sqlite_store_t *s, const rollup_item_t *it, int64_t arrivals,
		   int64_t open, int64_t *mx)
{
	int from_cp = it->scope == 'd';
	sqlite3_stmt *st = from_cp ? s->ru_points : s->ru_calls;
	size_t n = 0;
	int rc;

	if (from_cp) {
		bind_scope(st, 1, it->scope);
		sqlite3_bind_text(st, 2, it->skey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, it->bucket_ms);
		sqlite3_bind_int64(st, 4, it->bucket_ms + ROLLUP_5M_MS);
	} else {
		sqlite3_bind_int64(st, 1, it->bucket_ms);
		sqlite3_bind_int64(st, 2, it->bucket_ms + ROLLUP_5M_MS);
		bind_scope(st, 3, it->scope);
		sqlite3_bind_text(st, 4, it->skey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, s->ru_upto_ms);
		sqlite3_bind_text(st, 6, s->ru_upto_id, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t off = (int32_t)(sqlite3_column_int64(st, 0) - it->bucket_ms);
		int32_t d = sqlite3_column_int(st, 1);
		if (n && s->ru_load[n - 1].off == off) { /* rows come in ms order */
			if (!(s->ru_load[n - 1].delta += d))
				n--;
			continue;
		}
		if (n == s->ru_loadcap) {
			size_t cap = s->ru_loadcap ? 2 * s->ru_loadcap : 4096;
			rollup_point_t *p = realloc(s->ru_load, cap * sizeof(*p));
			if (!p) {
				rc = SQLITE_NOMEM;
				break;
			}
			s->ru_load = p;
			s->ru_loadcap = cap;
		}
		s->ru_load[n].off = off;
		s->ru_load[n++].delta = d;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	/* Out of memory for the cache only costs a reload next time. */
	rollup_cache_put(s->ru_cache, it->scope, it->skey, it->bucket_ms, arrivals, open,
			 s->ru_load, n, mx);
	return 0;
}

/* Step the 5-minute upsert; for every bucket a call of the batch starts or ends in,
 * its mx (rollup_cache, or loaded) into ru_peak. */
static int ru_peaks(sqlite_store_t *s)
{
	sqlite3_stmt *st = s->ru_apply[ROLLUP_SQL_5M];
	int rc;

	/* SQLite makes every change at the first step; the rows are then read out, so
	 * reading rollup_cp in between is safe. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *scope = (const char *)sqlite3_column_text(st, 0);
		const char *skey = (const char *)sqlite3_column_text(st, 1);
		int64_t mx = 0;
		const rollup_item_t *it = rollup_batch_item(
			s->ru_batch, scope ? scope[0] : 0, skey ? skey : "",
			sqlite3_column_int64(st, 2));
		if (!it)
			continue; /* not possible: every row upserted is an item */
		int64_t arr = sqlite3_column_int64(st, 3), open = sqlite3_column_int64(st, 4);
		int hit = rollup_cache_update(s->ru_cache, s->ru_batch, it, arr, open, &mx);
		if (!it->partial)
			continue;
		if (hit != 1 && ru_load(s, it, arr, open, &mx))
			break;
		bind_scope(s->ru_peak, 1, it->scope);
		sqlite3_bind_text(s->ru_peak, 2, it->skey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ru_peak, 3, it->bucket_ms);
		sqlite3_bind_int64(s->ru_peak, 4, mx);
		if (step_done(s->ru_peak))
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Fold the staged additions into the rollups and empty the staging tables. */
static int ru_apply(sqlite_store_t *s, char *err, size_t errlen)
{
	if (!s->ru_batch->ncalls)
		return 0;
	if (rollup_batch_sort(s->ru_batch) || ru_write_batch(s))
		goto fail;
	for (int i = 0; i < s->ru_napply; i++)
		if (i == ROLLUP_SQL_5M ? ru_peaks(s) : step_done(s->ru_apply[i]))
			goto fail;
	for (int i = 0; i < 3; i++)
		if (step_done(s->ru_clear[i]))
			goto fail;
	rollup_batch_reset(s->ru_batch);
	/* Only the bound: a failure later (COMMIT) still clears the cache. */
	rollup_cache_end_batch(s->ru_cache);
	return 0;
fail:
	fail_db(s, "updating rollups", err, errlen);
	ru_forget(s);
	return -1;
}

static int prepare_all(sqlite_store_t *s, char *err, size_t errlen)
{
	static const char *const sql[3] = {
		"INSERT OR IGNORE INTO cdr (" STORE_CDR_COLUMNS ") VALUES"
		" (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT OR IGNORE INTO events (id, body, received_ms) VALUES (?,?,?)",
		"INSERT OR IGNORE INTO metrics (id, body, received_ms) VALUES (?,?,?)",
	};
	for (int i = 0; i < 3; i++)
		if (!s->ins[i] &&
		    sqlite3_prepare_v2(s->db, sql[i], -1, &s->ins[i], NULL) != SQLITE_OK)
			return fail_db(s, "preparing insert", err, errlen);
	if ((!s->begin && sqlite3_prepare_v2(s->db, "BEGIN IMMEDIATE", -1, &s->begin,
					     NULL) != SQLITE_OK) ||
	    (!s->commit &&
	     sqlite3_prepare_v2(s->db, "COMMIT", -1, &s->commit, NULL) != SQLITE_OK) ||
	    (!s->rollback &&
	     sqlite3_prepare_v2(s->db, "ROLLBACK", -1, &s->rollback, NULL) != SQLITE_OK))
		return fail_db(s, "preparing transaction statements", err, errlen);
	return 0;
}

/* Bind a text column; empty optional strings are stored as NULL. */
static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && v[0])
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_cdr(sqlite3_stmt *st, const rs_row_t *row)
{
	const record_t *r = row->rec;
	sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->schema);
	sqlite3_bind_text(st, 3, r->call_id, -1, SQLITE_STATIC);
	bind_opt(st, 4, r->session_id);
	sqlite3_bind_text(st, 5, r->node, -1, SQLITE_STATIC);
	bind_opt(st, 6, r->tenant);
	bind_opt(st, 7, r->profile);
	bind_opt(st, 8, r->service_type);
	bind_opt(st, 9, r->lrg);
	bind_opt(st, 10, r->mcp);
	bind_opt(st, 11, r->caller);
	bind_opt(st, 12, r->dnis);
	sqlite3_bind_int64(st, 13, r->start_ms);
	if (r->answer_ms)
		sqlite3_bind_int64(st, 14, r->answer_ms);
	else
		sqlite3_bind_null(st, 14);
	sqlite3_bind_int64(st, 15, r->end_ms);
	sqlite3_bind_int64(st, 16, r->duration_ms);
	sqlite3_bind_text(st, 17, record_disposition_name(r->disposition), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int(st, 18, r->sip_status);
	sqlite3_bind_text(st, 19, record_ended_by_name(r->ended_by), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 20, r->attempts);
	bind_opt(st, 21, record_usage_level_name(r->usage_level));
	sqlite3_bind_text(st, 22, row->body, (int)row->body_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 23, row->received_ms);
}

static int sq_insert(rs_store_t *b, const rs_row_t *rows, size_t n, size_t *inserted,
		     char *err, size_t errlen)
{
	sqlite_store_t *s = (sqlite_store_t *)b;
	size_t added = 0;

	if (prepare_all(s, err, errlen) || (s->rollups && ru_prepare(s, err, errlen)))
		return -1;
	sqlite3_reset(s->begin);
	if (sqlite3_step(s->begin) != SQLITE_DONE)
		return fail_db(s, "BEGIN", err, errlen);
	for (size_t i = 0; i < n; i++) {
		const rs_row_t *row = &rows[i];
		sqlite3_stmt *st = s->ins[row->kind];
		sqlite3_reset(st);
		if (row->kind == RS_KIND_CDR) {
			bind_cdr(st, row);
		} else {
			sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, row->body, (int)row->body_len, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, row->received_ms);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			/* The row's own fault: a constraint, a type, a size limit. */
			int code = sqlite3_errcode(s->db) & 0xff;
			fail_db(s, "insert", err, errlen);
			sqlite3_reset(st);
			if (s->rollups)
				ru_forget(s);
			sqlite3_reset(s->rollback);
			sqlite3_step(s->rollback);
			return code == SQLITE_CONSTRAINT || code == SQLITE_MISMATCH ||
					       code == SQLITE_TOOBIG || code == SQLITE_RANGE
				       ? STORE_EROW
				       : -1;
		}
		if (sqlite3_changes(s->db) == 1) {
			added++;
			if (row->kind == RS_KIND_CDR && s->rollups &&
			    ru_add_call(s, row->rec->tenant, row->rec->profile, row->rec->dnis,
					row->rec->start_ms, row->rec->end_ms, err, errlen))
				goto rollback;
		}
	}
	if (s->rollups && ru_apply(s, err, errlen))
		goto rollback;
	sqlite3_reset(s->commit);
	if (sqlite3_step(s->commit) != SQLITE_DONE) {
		fail_db(s, "COMMIT", err, errlen);
		if (s->rollups)
			ru_forget(s);
		sqlite3_reset(s->rollback);
		sqlite3_step(s->rollback);
		return -1;
	}
	*inserted = added;
	return 0;
rollback:
	/* The staging tables are temporary: ROLLBACK empties them too. */
	if (s->rollups)
		ru_forget(s);
	sqlite3_reset(s->rollback);
	sqlite3_step(s->rollback);
	return -1;
}

static int sq_quarantine(rs_store_t *b, const rs_row_t *row, const char *why,
			 char *err, size_t errlen)
{
	static const char *const kinds[3] = { "cdr", "event", "metric" };
	sqlite_store_t *s = (sqlite_store_t *)b;

	if (!s->dead &&
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO cdr_dead_letter (id, kind, body, error, received_ms)"
			       " SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM"
			       " cdr_dead_letter WHERE id = ?1 AND kind = ?2 AND body = ?3)",
			       -1, &s->dead, NULL) != SQLITE_OK)
		return fail_db(s, "preparing dead-letter insert", err, errlen);
	sqlite3_reset(s->dead);
	sqlite3_bind_text(s->dead, 1, row->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->dead, 2, kinds[row->kind <= RS_KIND_METRIC ? row->kind : 0], -1,
			  SQLITE_STATIC);
	sqlite3_bind_blob(s->dead, 3, row->body, (int)row->body_len, SQLITE_STATIC);
	sqlite3_bind_text(s->dead, 4, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->dead, 5, row->received_ms);
	if (sqlite3_step(s->dead) != SQLITE_DONE) {
		fail_db(s, "dead-letter insert", err, errlen);
		sqlite3_reset(s->dead);
		return -1;
	}
	sqlite3_reset(s->dead);
	return 0;
}

static int sq_ping(rs_store_t *b, char *err, size_t errlen)
{
	sqlite_store_t *s = (sqlite_store_t *)b;
	return sq_exec(s, "SELECT 1 FROM rs_schema LIMIT 1", err, errlen);
}

static void sq_close(rs_store_t *b)
{
	sqlite_store_t *s = (sqlite_store_t *)b;
	for (int i = 0; i < 3; i++)
		sqlite3_finalize(s->ins[i]);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->dead);
	sqlite3_finalize(s->ru_item);
	sqlite3_finalize(s->ru_cp);
	sqlite3_finalize(s->ru_points);
	sqlite3_finalize(s->ru_calls);
	sqlite3_finalize(s->ru_peak);
	for (int i = 0; i < 3; i++)
		sqlite3_finalize(s->ru_clear[i]);
	for (int i = 0; i < s->ru_napply; i++)
		sqlite3_finalize(s->ru_apply[i]);
	rollup_batch_free(s->ru_batch);
	rollup_cache_free(s->ru_cache);
	free(s->ru_load);
	sqlite3_close(s->db);
	free(s);
}

static const struct rs_store_ops sqlite_ops = { sq_migrate, sq_insert, sq_ping, sq_close,
						sq_quarantine };

rs_store_t *store_sqlite_open(const rs_config_t *cfg, char *err, size_t errlen)
{
	sqlite_store_t *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "sqlite: out of memory");
		return NULL;
	}
	s->base.ops = &sqlite_ops;
	s->rollups = cfg->report_rollups;
	s->ru_upto_ms = INT64_MAX;
	if (sqlite3_open_v2(cfg->sqlite_path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite: cannot open %s: %s", cfg->sqlite_path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sq_exec(s, "PRAGMA journal_mode=WAL", err, errlen) ||
	    sq_exec(s, "PRAGMA synchronous=FULL", err, errlen))
		goto fail;
	return &s->base;
fail:
	sqlite3_close(s->db);
	free(s);
	return NULL;
}
