/*
 * rollup: what one stored call adds to the report rollups (store_schema.h's
 * rollup_* tables), and the SQL both backends run to fold a batch of such additions
 * into them inside the batch's own transaction. Pure: no database handle here; the
 * backends own the connections (store_sqlite.c, store_pg.c).
 *
 * What is answered. For a bucket [B, B+G) and a set of calls (all, one tenant, one
 * profile, one dn, a dn prefix): arrivals = calls with B <= start_ms < B+G; peak =
 * the most calls in progress at any instant t in [B, B+G), a call being in progress
 * for start_ms <= t < end_ms (a call with end_ms == start_ms never is).
 *
 * Why this is exact. Arrivals add up across buckets and keys; peak does neither
 * (two tenants' peaks need not coincide), so rollups are kept per scope key: 'a' (all
 * calls, key ""), 't' tenant, 'p' profile, 'd' dn. Every filter the API allows but a
 * dn prefix is then one key, and its peak is read, not computed.
 *   The level of a key (calls in progress) is a step function that changes only at
 *   call starts (+1) and ends (-1): its change points, summed per millisecond. For
 *   dns, rollup_cp keeps them (the dn prefix answer reads them); for 'a', 't' and 'p'
 *   they are the starts and ends of the key's calls in cdr (indexes on start_ms and
 *   end_ms), not kept twice. rollup_5m keeps per 5-minute bucket: arrivals, open_at_start = the
 *   level at instant B (calls with start <= B < end), and peak = max of the level over
 *   [B, B+5min) = max(open_at_start, level after each change point inside (B, B+5min)).
 *   A new call changes a 5-minute bucket's level function in one of two ways:
 *     - it covers the whole bucket (start <= B, end >= B+5min): the level rises by 1
 *       everywhere, so open_at_start += 1 and peak += 1, exactly;
 *     - it starts or ends inside it (at most two buckets per call): the peak is
 *       recomputed from open_at_start and the bucket's change points (the highest
 *       running sum), which is exact whatever else the batch holds. The change
 *       points of recent buckets are kept in memory between batches, checked
 *       against the row the batch's own upsert returns, and read from the database
 *       only when that check fails (rollup_cache.h: why the check is enough). While
 *       a migration rolls up records already stored (cdr then holds calls not yet
 *       rolled up), every scope's change points go to rollup_cp and are read from it;
 *       the migration to schema 3 then keeps the dns' only.
 *   Coarser buckets (30 min, hour, day) are unions of 5-minute ones, so their peak is
 *   the max of their 5-minute peaks; since adding a call never lowers a level, the
 *   new coarse peak is max(old, new peaks of the 5-minute buckets the batch touched).
 *   WEEK, MONTH and days in a time zone are unions of the coarsest table whose buckets
 *   tile them (report_query.c): again sum of arrivals, max of peaks.
 *   A dn prefix is a range of 'd' keys: arrivals add up; its peak is computed from
 *   the level at the range's start (sum of open_at_start) and the change points of
 *   the keys in range (a running sum): exact, and as fast as the prefix is narrow.
 * Cost. A batch is merged in memory first (rollup_cache.h's rollup_batch): one
 * 5-minute and one coarse row per (key, bucket) the batch touches, one rollup_cp row
 * per (dn, millisecond); then one pass in memory over the points of each touched
 * bucket a call starts or ends in. What stays per call: 2 rows of rollup_cp (its dn's
 * start and end) and one cdr index entry (end_ms). A bucket not in memory costs one
 * read of its calls (cdr) or its dn's change points. A duplicate record id adds
 * nothing: only rows the INSERT actually added are rolled up.
 * Weak spot: rebuilding a bucket of 'a', 't' or 'p' from cdr needs its calls there.
 * With report.retention_days.raw shorter than .five_minutes, a call arriving for a
 * bucket older than the raw limit (whose other calls retention deleted) and not in
 * memory gets that bucket's peak from the calls left.
 */
#ifndef RS_ROLLUP_H
#define RS_ROLLUP_H

#include <stdint.h>

#define ROLLUP_5M_MS 300000LL

enum rollup_gran { ROLLUP_5M = 0, ROLLUP_30M, ROLLUP_HOUR, ROLLUP_DAY, ROLLUP_NGRAN };

/* Bucket width (ms) and table of each granularity. */
extern const int64_t rollup_gran_ms[ROLLUP_NGRAN];
extern const char *const rollup_table[ROLLUP_NGRAN];

/* The four scopes in the order rollup_call emits them. */
#define ROLLUP_NSCOPES 4
extern const char rollup_scopes[ROLLUP_NSCOPES]; /* 'a', 't', 'p', 'd' */

/* One 5-minute bucket a call touches, for one scope key. */
typedef struct rollup_item {
	char scope;
	const char *skey;
	int64_t bucket_ms;
	int arrivals; /* 1 in the bucket holding start_ms */
	int open_n;   /* 1 if the call is in progress at bucket_ms */
	int full_n;   /* 1 if the call covers the whole bucket */
	int partial;  /* 1 if the call starts or ends inside it: recompute its peak */
} rollup_item_t;

/* One change point: delta +1 at start_ms, -1 at end_ms. */
typedef struct rollup_cp {
	char scope;
	const char *skey;
	int64_t ms;
	int delta;
} rollup_cp_t;

typedef int (*rollup_item_fn)(void *arg, const rollup_item_t *it);
typedef int (*rollup_cp_fn)(void *arg, const rollup_cp_t *cp);

/* Emit what one call adds, for each of its four scope keys (NULL strings count as
 * ""). Requires 0 <= start_ms <= end_ms. Stops at, and returns, the first non-zero
 * answer of a callback; 0 when all were emitted. The strings passed are the caller's. */
int rollup_call(const char *tenant, const char *profile, const char *dn, int64_t start_ms,
		int64_t end_ms, rollup_item_fn on_item, rollup_cp_fn on_cp, void *arg);
/* The same with the four keys given (in rollup_scopes' order, none NULL); the
 * callbacks get these very pointers. */
int rollup_call_keys(const char *const keys[ROLLUP_NSCOPES], int64_t start_ms,
		     int64_t end_ms, rollup_item_fn on_item, rollup_cp_fn on_cp, void *arg);

/* The statements that fold the batch's staging tables (ru_item, ru_peak; see
 * rollup_stage_ddl) into the rollups, in order. dialect 0 = SQLite, 1 = PostgreSQL.
 * Returns the count and sets *sql to a static array. Between ROLLUP_SQL_5M (which
 * returns each touched row's scope, skey, bucket_ms, arrivals, open_at_start) and the
 * next, the backend fills ru_peak (scope, skey, bucket_ms, mx) from rollup_cache:
 * peak = open_at_start + max(0, mx). The dns' change points are the backends' own
 * (before ROLLUP_SQL_5M): SQLite upserts them (prepared, in key order), PostgreSQL
 * COPYs them into rollup_cp (append-only there, schema 5). */
#define ROLLUP_SQL_5M 0
int rollup_apply_sql(int dialect, const char *const **sql);

/* The staging tables (temporary, per connection; ru_miss lists the buckets
 * PostgreSQL loads from rollup_cp). PostgreSQL empties them at commit;
 * SQLite callers delete their rows before each batch (rollup_stage_clear). */
const char *rollup_stage_ddl(int dialect);
extern const char *const rollup_stage_clear;

#endif
