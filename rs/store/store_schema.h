/*
 * store_schema: the one definition of the tables rs stores into (schema version 3),
 * shared by both backends and by the bench's raw SQLite reference
 * (tests/tools/sqlite_ref.c). The two dialects differ only in a few types, passed as
 * macro arguments:
 *   STORE_SCHEMA_V1(I64, JSONT)      SQLite ("INTEGER", "TEXT"), PostgreSQL ("BIGINT",
 *                                    "JSON"): cdr with its indexes, events, metrics;
 *   STORE_DEAD_LETTER_DDL(BLOBT, I64, NOW)  records the database refused
 *                                    (store_quarantine), created on every migration.
 *   STORE_ROLLUP_DDL(I64, TEXTC, NOROWID)  version 2: the report rollups (rollup.h
 *                                    says what they hold and why that answers peaks
 *                                    exactly); TEXTC is a text type compared byte by
 *                                    byte (SQLite "TEXT", PostgreSQL 'TEXT COLLATE "C"')
 *                                    so that a dn prefix is a key range; NOROWID is
 *                                    " WITHOUT ROWID" on SQLite (clustered on the key).
 * A change here is a schema change: bump rs_schema's version (STORE_SCHEMA_VERSION)
 * and migrate.
 */
#ifndef RS_STORE_SCHEMA_H
#define RS_STORE_SCHEMA_H

/* The cdr columns in table order (INSERTs name them; COPY relies on the order). */
#define STORE_CDR_COLUMNS                                                              \
	"id, schema, call_id, session_id, node, tenant, profile, service_type, lrg,"   \
	" mcp, caller, dnis, start_ms, answer_ms, end_ms, duration_ms, disposition,"   \
	" sip_status, ended_by, attempts, usage_level, body, received_ms"
#define STORE_CDR_NCOLS 23

#define STORE_SCHEMA_V1(I64, JSONT)                                                    \
	"CREATE TABLE IF NOT EXISTS cdr ("                                             \
	" id TEXT PRIMARY KEY, schema INTEGER NOT NULL, call_id TEXT NOT NULL,"       \
	" session_id TEXT, node TEXT NOT NULL, tenant TEXT, profile TEXT,"            \
	" service_type TEXT, lrg TEXT, mcp TEXT, caller TEXT, dnis TEXT,"             \
	" start_ms " I64 " NOT NULL, answer_ms " I64 ", end_ms " I64 " NOT NULL,"      \
	" duration_ms " I64 " NOT NULL, disposition TEXT NOT NULL,"                    \
	" sip_status INTEGER NOT NULL, ended_by TEXT NOT NULL, attempts INTEGER NOT NULL," \
	" usage_level TEXT, body " JSONT " NOT NULL, received_ms " I64 " NOT NULL);"   \
	"CREATE INDEX IF NOT EXISTS cdr_start_ms ON cdr(start_ms);"                    \
	"CREATE INDEX IF NOT EXISTS cdr_tenant ON cdr(tenant, start_ms);"              \
	"CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body " JSONT " NOT NULL," \
	" received_ms " I64 " NOT NULL);"                                              \
	"CREATE TABLE IF NOT EXISTS metrics (id TEXT PRIMARY KEY, body " JSONT " NOT NULL," \
	" received_ms " I64 " NOT NULL);"

#define STORE_SCHEMA_VERSION 5

/* Version 3: rollup_cp keeps the change points of dns only (scope 'd', which the dn
 * prefix answer reads); those of 'a', 't' and 'p' are read from cdr when a bucket is
 * not in the writer's memory (rollup_cache.h), by start_ms (cdr_start_ms /
 * cdr_start_id) and by end_ms. */
#define STORE_SCHEMA_V3                                                                \
	"CREATE INDEX IF NOT EXISTS cdr_end_ms ON cdr(end_ms);"                        \
	"DELETE FROM rollup_cp WHERE scope <> 'd';"

/* One rollup table per granularity. rollup_5m keeps, besides arrivals and peak, the
 * number of calls in progress at the bucket's first instant (open_at_start); the
 * coarser ones keep arrivals and peak only. rollup_cp is the change-point table: the
 * net number of calls starting (+) and ending (-) at one millisecond, per scope key.
 * scope: 'a' every call (skey ""), 't' tenant, 'p' profile, 'd' dn (dnis). */
#define STORE_ROLLUP_TABLE(NAME, I64, TEXTC, NOROWID, EXTRA)                           \
	"CREATE TABLE IF NOT EXISTS " NAME " (scope TEXT NOT NULL, skey " TEXTC " NOT NULL," \
	" bucket_ms " I64 " NOT NULL, arrivals " I64 " NOT NULL, " EXTRA                 \
	" peak " I64 " NOT NULL, PRIMARY KEY (scope, skey, bucket_ms))" NOROWID ";"       \
	"CREATE INDEX IF NOT EXISTS " NAME "_bucket ON " NAME "(bucket_ms);"

#define STORE_ROLLUP_DDL(I64, TEXTC, NOROWID)                                          \
	STORE_ROLLUP_TABLE("rollup_5m", I64, TEXTC, NOROWID,                           \
			   "open_at_start " I64 " NOT NULL,")                          \
	STORE_ROLLUP_TABLE("rollup_30m", I64, TEXTC, NOROWID, "")                      \
	STORE_ROLLUP_TABLE("rollup_hour", I64, TEXTC, NOROWID, "")                     \
	STORE_ROLLUP_TABLE("rollup_day", I64, TEXTC, NOROWID, "")                      \
	"CREATE TABLE IF NOT EXISTS rollup_cp (scope TEXT NOT NULL, skey " TEXTC         \
	" NOT NULL, ms " I64 " NOT NULL, delta " I64 " NOT NULL,"                        \
	" PRIMARY KEY (scope, skey, ms))" NOROWID ";"                                    \
	"CREATE INDEX IF NOT EXISTS rollup_cp_ms ON rollup_cp(ms);"

/* PostgreSQL, version 4: cdr partitioned by month of start_ms (UTC), so retention of
 * raw records drops whole months (rs_cdr_retention) instead of deleting rows one by
 * one. A unique index of a partitioned table must hold its partition key, and a
 * record re-sent with other times (another start_ms, perhaps another month) must still
 * be one record: so uniqueness of id moves to cdr_id (id primary key, start_ms of the
 * stored record), one narrow unpartitioned table. A batch inserts into cdr_id first
 * (ON CONFLICT DO NOTHING RETURNING id) and into cdr only the rows whose id that
 * returned: dedupe stays exact across partitions, at one index insert per record, as
 * the primary key of cdr cost before. The migration copies the records of an
 * unpartitioned cdr into the partitioned one, in the migration's transaction.
 *   rs_cdr_partition(ms) makes the month holding ms (cdr_YYYY_MM, [first ms of the
 *     month, first of the next)), under an advisory lock so two writers never race;
 *     the writer calls it for the months of each batch, in the batch's transaction.
 *   rs_cdr_retention(cut, lim) drops one month partition wholly before cut (and then
 *     answers lim, so the caller comes back), else deletes the lim oldest rows of cdr
 *     (in the month cut falls in; by start_ms, so cdr needs no index on id) and lim
 *     ids of cdr_id older than cut; answers how many went. Waits at most 2 s for a lock (a writer's batch): it is retried next pass. */
#define STORE_PG_MONTH_MS(TS) "(extract(epoch FROM " TS ") * 1000)::bigint"
#define STORE_PG_SCHEMA_V4                                                             \
	"DROP INDEX IF EXISTS cdr_start_ms; DROP INDEX IF EXISTS cdr_tenant;"           \
	"DROP INDEX IF EXISTS cdr_end_ms;"                                             \
	"ALTER TABLE cdr RENAME TO cdr_unpartitioned;"                                 \
	"CREATE TABLE cdr (LIKE cdr_unpartitioned INCLUDING DEFAULTS)"                 \
	" PARTITION BY RANGE (start_ms);"                                              \
	"CREATE INDEX cdr_start_ms ON cdr(start_ms);"                                  \
	"CREATE INDEX cdr_tenant ON cdr(tenant, start_ms);"                            \
	"CREATE INDEX cdr_end_ms ON cdr(end_ms);"                                      \
	"CREATE TABLE cdr_id (id TEXT PRIMARY KEY, start_ms BIGINT NOT NULL);"          \
	"CREATE INDEX cdr_id_start_ms ON cdr_id(start_ms);"                            \
	"CREATE OR REPLACE FUNCTION rs_cdr_partition(ms bigint) RETURNS void"          \
	" LANGUAGE plpgsql AS $f$ DECLARE"                                             \
	" lo timestamp := date_trunc('month', to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC');" \
	" name text := 'cdr_' || to_char(lo, 'YYYY_MM');"                              \
	" BEGIN"                                                                       \
	" IF to_regclass(name) IS NOT NULL THEN RETURN; END IF;"                        \
	" PERFORM pg_advisory_xact_lock(7262004);"                                     \
	" IF to_regclass(name) IS NOT NULL THEN RETURN; END IF;"                        \
	" EXECUTE format('CREATE TABLE %I PARTITION OF cdr FOR VALUES FROM (%s) TO (%s)'," \
	" name, " STORE_PG_MONTH_MS("lo") ", " STORE_PG_MONTH_MS("lo + interval '1 month'") ");" \
	" END $f$;"                                                                    \
	"CREATE OR REPLACE FUNCTION rs_cdr_retention(cut bigint, lim int) RETURNS bigint" \
	" LANGUAGE plpgsql AS $f$ DECLARE p record; n bigint; m bigint; t bigint;"     \
	" BEGIN"                                                                       \
	" SET LOCAL lock_timeout = '2s';"                                              \
	" FOR p IN SELECT c.relname AS name FROM pg_inherits i"                        \
	" JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'cdr'::regclass"   \
	" AND c.relname ~ '^cdr_[0-9]{4}_[0-9]{2}$' ORDER BY c.relname LOOP"            \
	" IF " STORE_PG_MONTH_MS("to_timestamp(substr(p.name, 5), 'YYYY_MM')::timestamp" \
				 " + interval '1 month'") " <= cut THEN"                 \
	" EXECUTE format('DROP TABLE %I', p.name); RETURN lim; END IF;"                 \
	" END LOOP;"                                                                   \
	" SELECT start_ms INTO t FROM cdr WHERE start_ms < cut ORDER BY start_ms"      \
	" OFFSET lim - 1 LIMIT 1;"                                                     \
	" DELETE FROM cdr WHERE start_ms < cut AND (t IS NULL OR start_ms <= t);"       \
	" GET DIAGNOSTICS n = ROW_COUNT;"                                              \
	" DELETE FROM cdr_id WHERE id IN (SELECT id FROM cdr_id WHERE start_ms < cut"   \
	" LIMIT lim FOR UPDATE SKIP LOCKED);"                                          \
	" GET DIAGNOSTICS m = ROW_COUNT;"                                              \
	" RETURN n + m;"                                                               \
	" END $f$;"
/* Then (it answers rows) the months of the records already stored, then their copy. */
#define STORE_PG_SCHEMA_V4_MONTHS                                                      \
	"SELECT rs_cdr_partition(min(start_ms)) FROM cdr_unpartitioned"                \
	" GROUP BY date_trunc('month', to_timestamp(start_ms / 1000.0) AT TIME ZONE 'UTC')"
#define STORE_PG_SCHEMA_V4_COPY                                                        \
	"INSERT INTO cdr SELECT * FROM cdr_unpartitioned;"                             \
	"INSERT INTO cdr_id SELECT id, start_ms FROM cdr_unpartitioned;"               \
	"DROP TABLE cdr_unpartitioned;"

/* The new records of cdr_stage (this batch) into cdr_id and cdr, each month made
 * first; answers the rows added (RETURNING). */
#define STORE_PG_CDR_INSERT(RETURNING)                                                 \
	"SELECT rs_cdr_partition(min(start_ms)) FROM cdr_stage"                        \
	" GROUP BY date_trunc('month', to_timestamp(start_ms / 1000.0) AT TIME ZONE 'UTC');" \
	"WITH new AS (INSERT INTO cdr_id (id, start_ms) SELECT DISTINCT ON (id) id, start_ms" \
	" FROM cdr_stage ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id)"           \
	" INSERT INTO cdr SELECT DISTINCT ON (s.id) s.* FROM cdr_stage s JOIN new USING (id)" \
	" ORDER BY s.id RETURNING " RETURNING

/* PostgreSQL, version 5: rollup_cp is append-only, several rows per (scope, skey,
 * ms) allowed (every reader sums their deltas), so a batch COPYs its change points
 * straight in: no staging table, no upsert; and its ms index is a BRIN (rows arrive
 * in about ms order; retention and wide dn prefixes read ranges of it). A unique key
 * and two B-trees made each point of a dn (two a call) a speculative insert or an
 * update plus two index insertions: ingest with rollups was 0.73x of ingest without
 * on the bench's one-dn load. SQLite keeps its key (its per-row upsert is cheap). */
#define STORE_PG_SCHEMA_V5                                                             \
	"ALTER TABLE rollup_cp DROP CONSTRAINT IF EXISTS rollup_cp_pkey;"              \
	"CREATE INDEX IF NOT EXISTS rollup_cp_key ON rollup_cp(scope, skey, ms);"      \
	"DROP INDEX IF EXISTS rollup_cp_ms;"                                           \
	"CREATE INDEX rollup_cp_ms ON rollup_cp USING brin (ms);"

/* SQLite, version 2: details pages and exports walk cdr in (start_ms, id) order; an
 * index in that order lets each page start where the last ended, without a sort.
 * (PostgreSQL keeps cdr_start_ms: it orders ids by the "C" collation, which no index
 * of the default collation gives, and sorts the few ties per page incrementally.) */
#define STORE_SQLITE_DETAILS_INDEX                                                     \
	"DROP INDEX IF EXISTS cdr_start_ms;"                                           \
	"CREATE INDEX IF NOT EXISTS cdr_start_id ON cdr(start_ms, id);"

#define STORE_DEAD_LETTER_DDL(BLOBT, I64, NOW)                                         \
	"CREATE TABLE IF NOT EXISTS cdr_dead_letter (id TEXT, kind TEXT NOT NULL,"    \
	" body " BLOBT " NOT NULL, error TEXT NOT NULL, received_ms " I64 ","           \
	" quarantined_at " NOW ")"

#endif
