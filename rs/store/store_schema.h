/*
 * store_schema: the one definition of the tables rs stores into (schema version 1),
 * shared by both backends and by the bench's raw SQLite reference
 * (tests/tools/sqlite_ref.c). The two dialects differ only in a few types, passed as
 * macro arguments:
 *   STORE_SCHEMA_V1(I64, JSONT)      SQLite ("INTEGER", "TEXT"), PostgreSQL ("BIGINT",
 *                                    "JSON"): cdr with its indexes, events, metrics;
 *   STORE_DEAD_LETTER_DDL(BLOBT, I64, NOW)  records the database refused
 *                                    (store_quarantine), created on every migration.
 * A change here is a schema change: bump rs_schema's version and migrate.
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

#define STORE_DEAD_LETTER_DDL(BLOBT, I64, NOW)                                         \
	"CREATE TABLE IF NOT EXISTS cdr_dead_letter (id TEXT, kind TEXT NOT NULL,"    \
	" body " BLOBT " NOT NULL, error TEXT NOT NULL, received_ms " I64 ","           \
	" quarantined_at " NOW ")"

#endif
