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

#define STORE_SCHEMA_VERSION 3

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
