/* rollup: what a call adds to the report rollups, and the SQL that folds it in
 * (see rollup.h for why this answers peaks exactly). */
#include "rollup.h"

const int64_t rollup_gran_ms[ROLLUP_NGRAN] = { ROLLUP_5M_MS, 1800000LL, 3600000LL,
					       86400000LL };
const char *const rollup_table[ROLLUP_NGRAN] = { "rollup_5m", "rollup_30m", "rollup_hour",
						 "rollup_day" };
const char rollup_scopes[ROLLUP_NSCOPES] = { 'a', 't', 'p', 'd' };

int rollup_call(const char *tenant, const char *profile, const char *dn, int64_t start_ms,
		int64_t end_ms, rollup_item_fn on_item, rollup_cp_fn on_cp, void *arg)
{
	const char *keys[ROLLUP_NSCOPES] = { "", tenant ? tenant : "", profile ? profile : "",
					     dn ? dn : "" };
	return rollup_call_keys(keys, start_ms, end_ms, on_item, on_cp, arg);
}

int rollup_call_keys(const char *const keys[ROLLUP_NSCOPES], int64_t start_ms,
		     int64_t end_ms, rollup_item_fn on_item, rollup_cp_fn on_cp, void *arg)
{
	int64_t first = start_ms / ROLLUP_5M_MS * ROLLUP_5M_MS;
	int rc;

	for (int s = 0; s < ROLLUP_NSCOPES; s++) {
		rollup_item_t it = { rollup_scopes[s], keys[s], first, 1, 0, 0, 0 };
		if (end_ms <= start_ms) {
			/* Never in progress: an arrival and nothing else. */
			if ((rc = on_item(arg, &it)))
				return rc;
			continue;
		}
		rollup_cp_t cp = { rollup_scopes[s], keys[s], start_ms, 1 };
		if ((rc = on_cp(arg, &cp)))
			return rc;
		cp.ms = end_ms;
		cp.delta = -1;
		if ((rc = on_cp(arg, &cp)))
			return rc;
		/* Every bucket holding an instant of [start_ms, end_ms). */
		for (int64_t b = first; b < end_ms; b += ROLLUP_5M_MS) {
			it.bucket_ms = b;
			it.arrivals = b == first;
			it.open_n = start_ms <= b;
			it.full_n = start_ms <= b && end_ms >= b + ROLLUP_5M_MS;
			it.partial = !it.full_n;
			if ((rc = on_item(arg, &it)))
				return rc;
		}
	}
	return 0;
}

/* Dialects differ in the two-argument max and in temporary tables. "a CROSS JOIN b
 * WHERE" is an inner join to PostgreSQL and, to SQLite, one that keeps a (the batch's
 * few staged rows) outside: without it SQLite may scan the whole rollup table per
 * batch (it has no statistics on temp tables). Every upsert takes
 * its rows in key order, and the statements run in the same order in every writer, so
 * several rs writing one PostgreSQL lock rollup rows in one global order: no deadlock
 * between them. */
#define APPLY_SQL(MAX2)                                                                \
	{                                                                              \
		"INSERT INTO rollup_5m (scope, skey, bucket_ms, arrivals, open_at_start, peak)" \
		" SELECT scope, skey, bucket_ms, sum(arrivals), sum(open_n), sum(full_n)" \
		" FROM ru_item WHERE true GROUP BY scope, skey, bucket_ms"             \
		" ORDER BY scope, skey, bucket_ms"                                     \
		" ON CONFLICT (scope, skey, bucket_ms) DO UPDATE"                      \
		" SET arrivals = rollup_5m.arrivals + excluded.arrivals,"              \
		" open_at_start = rollup_5m.open_at_start + excluded.open_at_start,"   \
		" peak = rollup_5m.peak + excluded.peak"                               \
		" RETURNING scope, skey, bucket_ms, arrivals, open_at_start",          \
		/* ru_peak: the backend's answer (rollup_cache.h) for each bucket a     \
		 * call of the batch starts or ends in. Rows already locked by the      \
		 * upsert above: no new lock order. */                                  \
		"UPDATE rollup_5m SET peak = open_at_start + " MAX2 "(0, (SELECT q.mx"  \
		" FROM ru_peak q WHERE q.scope = rollup_5m.scope"                      \
		" AND q.skey = rollup_5m.skey AND q.bucket_ms = rollup_5m.bucket_ms))" \
		" WHERE (scope, skey, bucket_ms) IN"                                   \
		" (SELECT scope, skey, bucket_ms FROM ru_peak)",                       \
		APPLY_COARSE(MAX2, "rollup_30m", "1800000"),                           \
		APPLY_COARSE(MAX2, "rollup_hour", "3600000"),                          \
		APPLY_COARSE(MAX2, "rollup_day", "86400000"),                          \
	}

#define APPLY_COARSE(MAX2, T, G)                                                       \
	"INSERT INTO " T " (scope, skey, bucket_ms, arrivals, peak)"                   \
	" SELECT i.scope, i.skey, i.bucket_ms / " G " * " G ", sum(i.arrivals),"        \
	" max(r.peak) FROM ru_item i CROSS JOIN rollup_5m r WHERE r.scope = i.scope"   \
	" AND r.skey = i.skey AND r.bucket_ms = i.bucket_ms"                           \
	" GROUP BY i.scope, i.skey, i.bucket_ms / " G " * " G                           \
	" ORDER BY i.scope, i.skey, i.bucket_ms / " G " * " G                           \
	" ON CONFLICT (scope, skey, bucket_ms) DO UPDATE"                              \
	" SET arrivals = " T ".arrivals + excluded.arrivals,"                          \
	" peak = " MAX2 "(" T ".peak, excluded.peak)"

static const char *const apply_sqlite[] = APPLY_SQL("max");
static const char *const apply_pg[] = APPLY_SQL("GREATEST");

int rollup_apply_sql(int dialect, const char *const **sql)
{
	*sql = dialect ? apply_pg : apply_sqlite;
	return (int)(sizeof(apply_sqlite) / sizeof(apply_sqlite[0]));
}

#define STAGE_DDL(I64, TEXTC, TEMP_SUFFIX)                                             \
	"CREATE TEMP TABLE IF NOT EXISTS ru_item (scope TEXT, skey " TEXTC ", bucket_ms " I64 \
	", arrivals " I64 ", open_n " I64 ", full_n " I64 ", partial " I64 ")" TEMP_SUFFIX ";" \
	"CREATE TEMP TABLE IF NOT EXISTS ru_peak (scope TEXT, skey " TEXTC ", bucket_ms " I64 \
	", mx " I64 ", PRIMARY KEY (scope, skey, bucket_ms))" TEMP_SUFFIX ";"       \
	"CREATE TEMP TABLE IF NOT EXISTS ru_miss (scope TEXT, skey " TEXTC ", bucket_ms " I64 \
	")" TEMP_SUFFIX ";"

const char *rollup_stage_ddl(int dialect)
{
	return dialect ? STAGE_DDL("BIGINT", "TEXT COLLATE \"C\"", " ON COMMIT DELETE ROWS")
		       : STAGE_DDL("INTEGER", "TEXT", "");
}

const char *const rollup_stage_clear =
	"DELETE FROM ru_item; DELETE FROM ru_peak; DELETE FROM ru_miss;";
